#!/usr/bin/env bash
# The pre-commit verifier side by side with detect-secrets (PyPI) and git-secrets (Debian, if
# installed) on the repository bench/gen.py (copy of ../shared/bench/gen.py) builds: 20,006 tracked files, 50 staged,
# 6 planted secrets. Prints a Markdown table: median wall time, peak memory, planted secrets
# caught, findings outside the planted files.
#
# Usage: bench/verify.sh            (SPX=path to a binary with `verify`; default target/release/spx)
#        REPO=dir bench/verify.sh   (reuse a generated repository)
set -euo pipefail
cd "$(dirname "$0")/.."
GEN=${SPX_GEN:-bench/gen.py}
if [ -z "${SPX:-}" ]; then
  cargo build --release --quiet
  SPX=$PWD/target/release/spx
fi
command -v detect-secrets-hook >/dev/null || { echo "detect-secrets-hook missing: pip install detect-secrets" >&2; exit 2; }
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
REPO=${REPO:-$W/repo}
[ -d "$REPO/.git" ] || python3 "$GEN" repo "$REPO"
cd "$REPO"
mapfile -t STAGED < <(git diff --cached --name-only)
mapfile -t PLANTED < PLANTED
R=${R:-7}

# median wall time in ms of a command run R times (after one warm-up); exit status ignored
med() {
  "$@" >/dev/null 2>&1 || true
  for _ in $(seq "$R"); do
    local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000 ))
  done | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}
mem() { { /usr/bin/time -f '%M' "$@" >/dev/null 2>"$W/err" || true; }; tail -1 "$W/err" | awk '{printf "%.1f", $1/1024}'; }

# caught / extra from a list of reported paths on stdin
score() {
  sort -u > "$W/paths"
  local caught=0 p
  for p in "${PLANTED[@]}"; do grep -qxF "$p" "$W/paths" && caught=$((caught + 1)); done
  local extra; extra=$(grep -cvxF -f PLANTED "$W/paths" || true)
  echo "$caught $extra"
}

spx_paths() { "$SPX" verify "$@" --format json 2>/dev/null | python3 -c 'import json,sys; [print(f["path"]) for f in json.load(sys.stdin)["findings"]]'; }
ds_paths() { detect-secrets-hook "${STAGED[@]}" 2>/dev/null | sed -n 's/^Location: *\(.*\):[0-9]*$/\1/p'; }

row() { printf "| %s | %s | %s | %s | %s |\n" "$@"; }
echo "files tracked: $(git ls-files | wc -l), staged: ${#STAGED[@]}, planted: ${#PLANTED[@]}"
echo
echo "| tool | wall ms (median of $R) | peak MiB | planted caught | other findings |"
echo "|---|---:|---:|---:|---:|"
read -r c x < <(spx_paths --staged | score)
row "spx verify --staged" "$(med "$SPX" verify --staged)" "$(mem "$SPX" verify --staged)" "$c/6" "$x"
read -r c x < <(ds_paths | score)
row "detect-secrets-hook (same ${#STAGED[@]} files)" "$(med detect-secrets-hook "${STAGED[@]}")" "$(mem detect-secrets-hook "${STAGED[@]}")" "$c/6" "$x"
if command -v git-secrets >/dev/null; then
  row "git-secrets --scan --cached" "$(med git secrets --scan --cached)" "$(mem git secrets --scan --cached)" "-" "-"
fi
read -r c x < <(spx_paths --all | score)
row "spx verify --all ($(git ls-files | wc -l) files)" "$(med "$SPX" verify --all)" "$(mem "$SPX" verify --all)" "$c/6" "$x"
read -r c x < <(spx_paths --history | score)
row "spx verify --history (HEAD only: planted files are not committed)" "$(med "$SPX" verify --history)" "$(mem "$SPX" verify --history)" "$c/6" "$x"
