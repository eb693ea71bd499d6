#!/usr/bin/env bash
# Seals the reference model's secrets (environments/sealed/*.yaml) for the throwaway
# test controller certificate in src/secrets/test_data/, with placeholder values, so
# the committed out/ holds real SealedSecrets that the CRD schema checks cover.
#
# A fake `op` answers every 1Password reference with a placeholder derived from it;
# hand-entered keys get placeholders through KILN_<SECRET>_<KEY>. Never use this for a
# real cluster: seal with `kiln seal --cert <your controller's cert>` instead.
# Usage: tools/seal-reference.sh [kiln seal options, e.g. --rotate]
set -euo pipefail
cd "$(dirname "$0")/.."
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
cat >"$fake/op" <<'OP'
#!/usr/bin/env bash
# fake op: `op read [--no-newline] op://vault/item/field` -> a placeholder
ref="${*: -1}"
printf 'placeholder-%s' "$(printf '%s' "$ref" | sha256sum | cut -c1-16)"
OP
chmod +x "$fake/op"
export PATH="$fake:$PATH"
export KILN_GITLAB_REGISTRY_USERNAME="gitlab+deploy-token-1"
export KILN_VM_SSH_KEY_KNOWN_HOSTS="192.168.1.50 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderPlaceholderPlaceholderPlaceholder"
cargo run -q -- seal --cert src/secrets/test_data/cert2048.pem "$@"
