#!/usr/bin/env bash
# Side-by-side timings of spx and real sops 3.11: encrypt / decrypt / decrypt --extract at
# several sizes, plus peak memory of decrypt. Workloads from bench/gen.py (a copy of ../shared/bench/gen.py) (or
# SPX_GEN=path). Usage: bench/core.sh [N ...]   (default: 10 1000 10000 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
GEN=${SPX_GEN:-bench/gen.py}
SIZES=${*:-10 1000 10000 100000}
export SOPS_DISABLE_VERSION_CHECK=1
cargo build --release --quiet
SPX=$PWD/target/release/spx
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
age-keygen -o "$W/key.txt" 2>/dev/null
export SOPS_AGE_KEY_FILE=$W/key.txt
PUB=$(age-keygen -y "$W/key.txt")
GEN=$(realpath "$GEN"); cd "$W"   # no .sops.yaml here: both tools use --age

# median wall time in ms of a command run R times (after one warm-up)
med() {
  local r=$1; shift
  "$@" >/dev/null 2>&1
  for _ in $(seq "$r"); do
    local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000 ))
  done | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.1f", $1/1024}'; }

printf "| keys | tool | encrypt ms | decrypt ms | extract ms | decrypt peak MiB |\n|---:|---|---:|---:|---:|---:|\n"
for n in $SIZES; do
  python3 "$GEN" yaml "$n" "$W/p$n.yaml"
  r=7; [ "$n" -ge 10000 ] && r=3
  sops encrypt --age "$PUB" "$W/p$n.yaml" > "$W/e$n.yaml"
  for tool in sops spx; do
    if [ $tool = sops ]; then T=sops; else T=$SPX; fi
    enc=$(med $r $T encrypt --age "$PUB" "$W/p$n.yaml")
    dec=$(med $r $T decrypt "$W/e$n.yaml")
    ext=$(med $r $T decrypt --extract '["service_0"]["key_0"]' "$W/e$n.yaml")
    mem=$(peak $T decrypt "$W/e$n.yaml")
    printf "| %s | %s | %s | %s | %s | %s |\n" "$n" "$tool" "$enc" "$dec" "$ext" "$mem"
  done
done
