#!/usr/bin/env bash
# fuzz/run.sh [SECONDS] -- fuzz kiln's whole pipeline (fuzz_targets/pipeline.rs) with
# libFuzzer for SECONDS (default 60), then print the run's figures.
#
# - Installs cargo-fuzz from crates.io when it is missing.
# - Works on the stable toolchain: cargo fuzz needs nightly flags (-Z sanitizer), which
#   RUSTC_BOOTSTRAP=1 allows; a nightly toolchain is used as is.
# - Seeds from every model in the repository, each turned into one input (files
#   joined by `#%% NAME` marker lines): tests/bad_inputs (the base with each case laid
#   over it), tests/golden/*/environments and environments/.
# - New inputs go to fuzz/corpus/pipeline, crashes to fuzz/artifacts/pipeline; the log
#   of the last run is fuzz/last-run.log. Exit status 1 when a crash was found.
#
# Environment: FUZZ_JOBS (parallel fuzzing processes, default 1), FUZZ_ARGS (more
# libFuzzer flags). Not part of .ci/run: a fuzz run is done by hand (see README.md).
set -euo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
if ! rustc --version | grep -q nightly; then
  export RUSTC_BOOTSTRAP=1
fi

seeds="$here/seeds"
corpus="$here/corpus/pipeline"
rm -rf "$seeds"
mkdir -p "$seeds" "$corpus" "$here/artifacts/pipeline"

# seed OUT DIR... : one input from the YAML files of the DIRs (a later DIR's file
# replaces an earlier one of the same name).
seed() {
  local out="$1" dir f rel
  shift
  declare -A files=()
  for dir in "$@"; do
    [ -d "$dir" ] || continue
    while IFS= read -r -d '' f; do
      rel="${f#"$dir"/}"
      files["$rel"]="$f"
    done < <(find "$dir" -type f -name '*.yaml' -print0)
  done
  : >"$out"
  while IFS= read -r rel; do
    [ -n "$rel" ] || continue
    printf '#%%%% %s\n' "${rel%.yaml}" >>"$out"
    cat "${files[$rel]}" >>"$out"
    if [ -s "${files[$rel]}" ] && [ "$(tail -c1 "${files[$rel]}" | wc -l)" -eq 0 ]; then
      echo >>"$out"
    fi
  done < <(printf '%s\n' "${!files[@]}" | sort)
}

n=0
base="$repo/tests/bad_inputs/base/environments"
for case in "$repo"/tests/bad_inputs/*/; do
  name="$(basename "$case")"
  if [ "$name" = base ]; then
    seed "$seeds/bad-input-base" "$base"
  else
    seed "$seeds/bad-input-$name" "$base" "$case/environments"
  fi
  n=$((n + 1))
done
for case in "$repo"/tests/golden/*/; do
  seed "$seeds/golden-$(basename "$case")" "$case/environments"
  n=$((n + 1))
done
seed "$seeds/reference" "$repo/environments"
n=$((n + 1))
# The reference model with its lock (the output stage then compares and writes out/),
# and with a hostile pending list naming files outside out/.
{ cat "$seeds/reference"; echo '#%% out/kiln.lock'; cat "$repo/out/kiln.lock"; } >"$seeds/reference-lock"
{
  cat "$seeds/reference"
  echo '#%% out/.kiln.lock.pending'
  printf '%064d  -  ../../victim.txt\n%064d  dev  /tmp/victim.txt\n' 0 0
} >"$seeds/reference-hostile-lock"
n=$((n + 2))
echo "fuzz/run.sh: $n seeds; fuzzing for ${seconds}s" >&2

log="$here/last-run.log"
status=0
# -timeout: an input taking 10 s is a hang; -max_len: the largest seed (a
# 100,000-deep nesting case) fits.
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=131072 -print_final_stats=1
  -dict="$here/pipeline.dict")
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
  # libFuzzer then writes each job's log to ./fuzz-N.log.
  args+=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
fi
# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
cargo fuzz run pipeline --release "$corpus" "$seeds" -- "${args[@]}" ${FUZZ_ARGS:-} 2>&1 |
  tee "$log" || status=$?

echo
echo "== fuzz run: ${seconds}s requested"
grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added)' "$log" || true
crashes=$(find "$here/artifacts/pipeline" -type f | wc -l)
echo "corpus: $(find "$corpus" -type f | wc -l) inputs; crash/timeout artifacts: $crashes"
if [ "$crashes" -gt 0 ] || [ "$status" -ne 0 ]; then
  echo "fuzz/run.sh: findings in fuzz/artifacts/pipeline (reproduce: cargo fuzz run pipeline FILE)" >&2
  exit 1
fi
