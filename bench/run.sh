#!/usr/bin/env bash
# kiln's benchmark, in one command: kiln against Kapitan and the write floor, for
# N = 10, 100, 1,000 and 5,000 applications x 2 environments. Writes bench/RESULTS.md
# (the measured part, between its markers) and bench/results.json.
#
#   bench/run.sh                              # everything (about half an hour on 2 cores)
#   bench/run.sh --sizes 10,100 --runs 3      # a quick look; see bench/bench.py --help
#
# Installs what it needs when missing: hyperfine and GNU time (apt), Kapitan (PyPI, in
# a venv under ~/.cache/kiln-bench, or set KAPITAN=/path/to/kapitan). kubectl (for the
# `kubectl kustomize` figures) is used when it is on PATH. kiln is built in release
# mode (with line tables, for profiles) unless KILN=/path/to/kiln is set.
# Not part of CI: benchmarks are never timed tests.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "$@"
}

missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]} (apt)" >&2
  apt_install "${missing[@]}"
fi

if [ -z "${KAPITAN:-}" ]; then
  if command -v kapitan >/dev/null; then
    KAPITAN="$(command -v kapitan)"
  else
    venv="${XDG_CACHE_HOME:-$HOME/.cache}/kiln-bench/venv"
    if [ ! -x "$venv/bin/kapitan" ]; then
      echo "bench: installing Kapitan (PyPI) into $venv" >&2
      python3 -m venv "$venv" || { apt_install python3-venv && python3 -m venv "$venv"; }
      "$venv/bin/pip" install -q --upgrade pip
      "$venv/bin/pip" install -q kapitan
    fi
    KAPITAN="$venv/bin/kapitan"
  fi
fi

if [ -z "${KILN:-}" ]; then
  (cd "$repo" && cargo build --release -q)
  KILN="$repo/target/release/kiln"
fi

command -v kubectl >/dev/null || echo "bench: kubectl is not on PATH; the kustomize figures are skipped" >&2

BENCH_CMDLINE="$*" exec python3 "$here/bench.py" --kiln "$KILN" --kapitan "$KAPITAN" "$@"
