#!/usr/bin/env bash
# spx sync over SSH: 10 hosts (10 real OpenSSH sshd on 127.0.0.1, one per "host") with 100 keys
# each (50 shared + 50 per host), parallel (--jobs 10) against one host after another (--jobs 1),
# then an unchanged re-sync, which must open no write and run no command on any host.
#
# Why a latency mode: bare loopback SSH has no round-trip cost, so it is CPU-bound (on a 2-core
# machine the client and all 10 sshd share the two cores), which understates what parallelism
# buys against real hosts, where each of a sync's dozens of SSH/SFTP round trips waits on the
# network. The kernel here has no netem (`tc qdisc ... netem` is unavailable), so the delay is
# added in user space: bench/delay_proxy.py forwards 127.0.0.1:proxy -> 127.0.0.1:sshd and holds
# every chunk LATENCY_MS in each direction (25 ms one way = 50 ms round trip, a VPS in another
# region). Each value in $LATENCY_MS (default "0 25"; 0 = straight to the sshd ports) gets its own
# rows, and spx's targets (and known_hosts, as [127.0.0.1]:proxy-port) point at the proxy ports.
# No traffic leaves 127.0.0.1.
#
# Restart commands: none (pure SSH/SFTP cost), and `sleep S` for each S in $RESTART_S standing in
# for `docker compose up -d` (seconds on a real VPS). The last column is spx's own CPU time
# (user+sys) in the parallel run. Prints a Markdown table of median wall times (R runs, default 5).
#
# Usage: bench/sync.sh          (SPX=path to a binary; default: target/release/spx, built)
#        LATENCY_MS=0 R=3 RESTART_S= bench/sync.sh    (bare loopback only, 3 runs, no restarts)
# Needs: /usr/sbin/sshd, ssh-keygen, sops, age-keygen (bash scripts/test.sh installs them), python3.
# Root (for /run/sshd) or an sshd that runs as the current user.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SPX:-}" ]; then
  cargo build --release --quiet
  SPX=$PWD/target/release/spx
fi
R=${R:-5}
HOSTS=${HOSTS:-10}
KEYS=${KEYS:-100}
RESTART_S=${RESTART_S-0.5 2}
LATENCY_MS=${LATENCY_MS:-0 25}
BENCH=$PWD/bench
export SOPS_DISABLE_VERSION_CHECK=1
W=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
USER_NAME=$(id -un)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ssh-keygen -q -t ed25519 -N '' -f "$W/client"
cp "$W/client.pub" "$W/authorized_keys"
: > "$W/known_hosts"
PORTS=()
for i in $(seq 0 $((HOSTS - 1))); do
  d=$W/sshd$i; mkdir -p "$d" "$W/remote/h$i"
  ssh-keygen -q -t ed25519 -N '' -f "$d/host"
  cat > "$d/config" <<EOF
ListenAddress 127.0.0.1
HostKey $d/host
PidFile none
UsePAM no
StrictModes no
AuthorizedKeysFile $W/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF
  port=$(free_port)
  /usr/sbin/sshd -D -e -f "$d/config" -p "$port" 2> "$d/log" &
  PIDS+=($!)
  PORTS+=("$port")
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$d/host.pub")" >> "$W/known_hosts"
done
for i in $(seq 0 $((HOSTS - 1))); do
  for _ in $(seq 100); do grep -q "Server listening" "$W/sshd$i/log" && break; sleep 0.05; done
done

# One delay proxy per nonzero latency, HOSTS ports each: PROXY_PORTS[ms] = "p0 p1 ...". The proxy
# reads its stdin, a pipe this shell holds open, so it ends with the script even on SIGKILL.
declare -A PROXY_PORTS
for ms in $LATENCY_MS; do
  [ "$ms" = 0 ] && continue
  pairs=(); for p in "${PORTS[@]}"; do pairs+=("0:$p"); done
  exec {pfd}> >(exec python3 "$BENCH/delay_proxy.py" --delay-ms "$ms" "${pairs[@]}" > "$W/proxy$ms.out")
  PIDS+=($!)
  for _ in $(seq 100); do grep -q "^READY" "$W/proxy$ms.out" 2>/dev/null && break; sleep 0.05; done
  read -r ready ports < "$W/proxy$ms.out"
  [ "$ready" = READY ] || { echo "delay proxy ($ms ms) did not start" >&2; exit 1; }
  PROXY_PORTS[$ms]=$ports
  i=0
  for p in $ports; do
    echo "[127.0.0.1]:$p $(cut -d' ' -f1,2 "$W/sshd$i/host.pub")" >> "$W/known_hosts"
    i=$((i + 1))
  done
done

# Sources: 50 shared keys, 50 per host, encrypted by the real sops.
mkdir -p "$W/repo/secrets"
cd "$W/repo"
age-keygen -o key.txt 2>/dev/null
PUB=$(grep -o 'age1[0-9a-z]*' key.txt | head -1)
export SOPS_AGE_KEY_FILE=$PWD/key.txt
half=$((KEYS / 2))
python3 - "$half" "$HOSTS" <<'EOF'
import json, secrets, sys
half, hosts = int(sys.argv[1]), int(sys.argv[2])
json.dump({f"shared_key_{k}": secrets.token_urlsafe(24) for k in range(half)},
          open("secrets/shared.sops.yaml", "w"))
for h in range(hosts):
    json.dump({f"host_key_{k}": secrets.token_urlsafe(24) + " $x 'q'" for k in range(half)},
              open(f"secrets/h{h}.sops.yaml", "w"))
EOF
for f in secrets/*.sops.yaml; do sops encrypt -i --age "$PUB" "$f"; done

config() { # $1: restart command or empty; $2: one-way delay in ms (0: the sshd ports)
  local ports=("${PORTS[@]}")
  if [ "$2" != 0 ]; then read -r -a ports <<< "${PROXY_PORTS[$2]}"; fi
  {
    echo "creation_rules:"
    echo "  - path_regex: secrets/.*"
    echo "    age: $PUB"
    echo "spx:"
    echo "  sync:"
    for i in $(seq 0 $((HOSTS - 1))); do
      echo "    h$i:"
      echo "      ssh: $USER_NAME@127.0.0.1:${ports[$i]}"
      echo "      known_hosts: $W/known_hosts"
      echo "      env_file: $W/remote/h$i/.env"
      echo "      sources: [secrets/shared.sops.yaml, secrets/h$i.sops.yaml]"
      if [ -n "$1" ]; then echo "      restart: $1"; fi
    done
  } > .sops.yaml
}
export SPX_SSH_KEY_FILE=$W/client
unset SSH_AUTH_SOCK

fresh() { rm -f "$W"/remote/h*/.env "$W"/remote/h*/.env.bak; }
# median wall seconds of: fresh state, then spx sync with the given args
med_first() {
  for _ in $(seq "$R"); do
    fresh
    local s e; s=$(date +%s%N); "$SPX" sync "$@" > "$W/out" 2>&1 || { cat "$W/out" >&2; exit 1; }; e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1e6}'
}
med_again() {
  for _ in $(seq "$R"); do
    local s e; s=$(date +%s%N); "$SPX" sync "$@" > "$W/out" 2>&1 || { cat "$W/out" >&2; exit 1; }; e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1e6}'
}

echo "spx sync: $HOSTS hosts (one sshd each, 127.0.0.1) x $KEYS keys, median of $R runs, $(nproc) cores"
echo "Added one-way delay: 0 = straight to the sshd ports (CPU-bound loopback); N ms = through"
echo "bench/delay_proxy.py, every chunk held N ms each way (round trip 2N ms), like a distant host."
echo
echo "| added delay (one way / round trip) | restart command | --jobs 1 (s) | --jobs $HOSTS (s) | speed-up | unchanged re-sync, --jobs $HOSTS (s) | spx CPU, --jobs $HOSTS (s) |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
restarts=("")
for r in $RESTART_S; do restarts+=("sleep $r"); done
for ms in $LATENCY_MS; do
for restart in "${restarts[@]}"; do
  config "$restart" "$ms"
  seq_t=$(med_first --jobs 1)
  par_t=$(med_first --jobs "$HOSTS")
  # Unchanged re-sync: count commands started and file changes across all hosts.
  before_cmds=$(cat "$W"/sshd*/log | grep -c "Starting session: command" || true)
  stamp=$(stat -c '%i %Y %Z' "$W"/remote/h*/.env | md5sum)
  again_t=$(med_again --jobs "$HOSTS")
  after_cmds=$(cat "$W"/sshd*/log | grep -c "Starting session: command" || true)
  stamp2=$(stat -c '%i %Y %Z' "$W"/remote/h*/.env | md5sum)
  if [ "$before_cmds" != "$after_cmds" ] || [ "$stamp" != "$stamp2" ] || ls "$W"/remote/h*/.env.bak >/dev/null 2>&1; then
    echo "unchanged re-sync wrote or ran something on a host" >&2; exit 1
  fi
  grep -q "0 updated, 0 would change, $HOSTS unchanged, 0 failed" "$W/out" || { cat "$W/out"; exit 1; }
  fresh
  /usr/bin/time -f '%U %S' -o "$W/time" "$SPX" sync --jobs "$HOSTS" >/dev/null 2>&1
  cpu=$(awk '{printf "%.2f", $1 + $2}' "$W/time")
  speed=$(awk -v a="$seq_t" -v b="$par_t" 'BEGIN {printf "%.1fx", a/b}')
  if [ "$ms" = 0 ]; then lat="none (bare loopback)"; else lat="$ms ms / $(awk -v m="$ms" 'BEGIN {print 2 * m}') ms"; fi
  echo "| $lat | ${restart:-none} | $seq_t | $par_t | $speed | $again_t | $cpu |"
done
done
echo
echo "Unchanged re-syncs: 0 commands started and 0 files changed on all $HOSTS hosts, in every row (checked from sshd logs and inode/mtime/ctime)."
