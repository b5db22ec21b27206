#!/usr/bin/env bash
# Server load: runs immudb-load against build/bin/immudb (synced, fresh temp
# data directory, free loopback port) and against immudb-echo-server (bare
# gRPC, fixed replies), then prints one table with the ratios immudb/echo,
# set/echo-set and verifiableget/get, each server's CPU time (and immudb's thread context
# switches) per call, the load tool's own CPU time per call against each, and
# immudb's memory. By default immudb-load runs its lean HTTP/2 client
# (--api h2: one thread speaks gRPC's protocol through libnghttp2 and drives
# every client, each its own connection, one call in flight) for both
# servers; for the read workloads it polls 50 us before it sleeps.
#
#   bench/load.sh [--duration SEC] [--keys N] [--clients N] [--api API]
#                 [--poll-us US] [--bin DIR] [--check]
#
#   --duration  seconds per workload (default 10)
#   --keys      key space of get and verifiableget (default 10000)
#   --clients   the concurrent clients of the multi-client runs (default 32)
#   --api       immudb-load's client for every run: h2 (default) | cq | callback | sync
#   --poll-us   with --api h2: how long the client polls after the last
#               socket event before it sleeps, in every run (default: 50 for
#               get and verifiableget, 0 for set: a server that reads on one
#               thread leaves the other CPU to the polling client and is
#               spared waking it for each reply, but Set's commit and queue
#               threads need both CPUs)
#   --bin       directory of immudb, immudb-load, immudb-echo-server
#               (default: build/bin next to this script)
#   --check     then also make 200 verifiableset and 200 verifiableget calls
#               with --verify against immudb (every proof checked), through
#               each client API of immudb-load (cq, callback, sync, h2)
#
# Both servers are stopped by PID when the script ends. Exit status 0 when
# every run made calls and none failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$here/../build/bin"
duration=10
keys=10000
clients=32
api=h2
poll_us=""
check=0

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { echo "load.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="${2:-}"; shift 2 ;;
    --keys) keys="${2:-}"; shift 2 ;;
    --clients) clients="${2:-}"; shift 2 ;;
    --api) api="${2:-}"; shift 2 ;;
    --poll-us) poll_us="${2:-}"; shift 2 ;;
    --bin) bin="${2:-}"; shift 2 ;;
    --check) check=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[[ "$duration" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--duration must be a number of seconds"
[[ "$keys" =~ ^[1-9][0-9]*$ ]] || die "--keys must be a positive integer"
[[ "$clients" =~ ^[1-9][0-9]*$ ]] || die "--clients must be a positive integer"
[[ "$api" =~ ^(cq|callback|sync|h2)$ ]] || die "--api must be cq, callback, sync or h2"
[[ -z "$poll_us" || "$poll_us" =~ ^[0-9]+$ ]] || die "--poll-us must be a number of microseconds"
# api_args WORKLOAD: the client flags of a run of WORKLOAD.
api_args() {
  local poll="$poll_us"
  if [ -z "$poll" ]; then
    case "$1" in get|verifiableget) poll=50 ;; *) poll=0 ;; esac
  fi
  if [ "$api" = h2 ]; then echo "--api h2 --poll-us $poll"; else echo "--api $api"; fi
}
for b in immudb immudb-load immudb-echo-server; do
  [ -x "$bin/$b" ] || die "$bin/$b not found (build it first)"
done

work="$(mktemp -d "${TMPDIR:-/tmp}/immudb-load.XXXXXX")"
immudb_pid=""
echo_pid=""

stop_pid() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$immudb_pid"
  stop_pid "$echo_pid"
  rm -rf "$work"
}
trap cleanup EXIT

# wait_port LOG PID: prints the port the server logged, or fails.
wait_port() {
  local log="$1" pid="$2" port=""
  for _ in $(seq 1 300); do
    port="$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)"
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "server exited before listening"; }
    sleep 0.1
  done
  cat "$log" >&2
  die "server did not listen within 30 s"
}

"$bin/immudb" --dir "$work/data" --address 127.0.0.1 --port 0 --synced=true \
  --metrics-server=false --web-server=false >"$work/immudb.log" 2>&1 &
immudb_pid=$!
immudb_port="$(wait_port "$work/immudb.log" "$immudb_pid")"

"$bin/immudb-echo-server" --address 127.0.0.1 --port 0 >"$work/echo.log" 2>&1 &
echo_pid=$!
echo_port="$(wait_port "$work/echo.log" "$echo_pid")"

failed=0
# run NAME PORT PID WORKLOAD CLIENTS: one immudb-load run; its kv line goes
# to $work/NAME.kv.
run() {
  local name="$1" port="$2" pid="$3" workload="$4" n="$5"
  # shellcheck disable=SC2046 # api_args prints whole flags and numbers.
  if ! "$bin/immudb-load" --port "$port" $(api_args "$workload") --workload "$workload" --clients "$n" \
      --duration "$duration" --keys "$keys" --server-pid "$pid" --format kv \
      >"$work/$name.kv" 2>"$work/$name.err"; then
    failed=1
    echo "load.sh: run $name failed:" >&2
    cat "$work/$name.err" >&2
  fi
}

runs=("set-$clients set $clients" "set-1 set 1" "get-$clients get $clients"
      "verifiableget-$clients verifiableget $clients")
for r in "${runs[@]}"; do
  read -r name workload n <<<"$r"
  run "immudb-$name" "$immudb_port" "$immudb_pid" "$workload" "$n"
  run "echo-$name" "$echo_port" "$echo_pid" "$workload" "$n"
done

# field FILE KEY: the value of KEY in a kv line (empty when missing).
field() { tr ' ' '\n' <"$1" 2>/dev/null | sed -n "s/^$2=//p" | head -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.3f", a / b }'; }

echo
echo "immudb load ($duration s per run, synced, 16-byte keys, 100-byte values, loopback, --api $api${poll_us:+ --poll-us $poll_us})"
printf '%-18s %7s %12s %9s %9s %9s %7s %12s %9s %12s %9s %8s %9s %9s %9s\n' workload clients \
  "immudb op/s" "p50 us" "p99 us" "p99.9 us" errors "echo op/s" "echo p50" "immudb/echo" \
  "cpu us/op" "cs/op" "echo cpu" "load cpu" "load@echo"
for r in "${runs[@]}"; do
  read -r name workload n <<<"$r"
  f="$work/immudb-$name.kv"
  e="$work/echo-$name.kv"
  printf '%-18s %7s %12s %9s %9s %9s %7s %12s %9s %12s %9s %8s %9s %9s %9s\n' "$workload" "$n" \
    "$(field "$f" ops_per_s)" "$(field "$f" p50_us)" "$(field "$f" p99_us)" \
    "$(field "$f" p999_us)" "$(field "$f" errors)" "$(field "$e" ops_per_s)" \
    "$(field "$e" p50_us)" "$(ratio "$(field "$f" ops_per_s)" "$(field "$e" ops_per_s)")" \
    "$(field "$f" server_cpu_us_per_op)" "$(field "$f" server_cs_per_op)" \
    "$(field "$e" server_cpu_us_per_op)" "$(field "$f" client_cpu_us_per_op)" \
    "$(field "$e" client_cpu_us_per_op)"
  ops="$(field "$f" ops)"
  if [ -z "$ops" ] || [ "$ops" = 0 ] || [ -z "$(field "$e" ops)" ] || [ "$(field "$e" ops)" = 0 ]; then
    failed=1
  fi
done
echo
echo "set/echo-set ($clients clients):        $(ratio "$(field "$work/immudb-set-$clients.kv" ops_per_s)" \
  "$(field "$work/echo-set-$clients.kv" ops_per_s)")"
echo "verifiableget/get ($clients clients):   $(ratio \
  "$(field "$work/immudb-verifiableget-$clients.kv" ops_per_s)" \
  "$(field "$work/immudb-get-$clients.kv" ops_per_s)")"
last="$work/immudb-verifiableget-$clients.kv"
awk -v rss="$(field "$last" rss_kib)" -v hwm="$(field "$last" hwm_kib)" \
  'BEGIN { if (rss == "" || rss < 0) print "immudb RSS: unknown";
           else printf "immudb RSS at the end: VmRSS %.1f MiB, VmHWM (peak) %.1f MiB\n", rss / 1024, hwm / 1024 }'
if [ "$check" = 1 ]; then
  # Each workload through each of the tool's client APIs; two queues for the
  # cq runs here.
  for workload in verifiableset verifiableget; do
    for check_api in "cq --threads 2" callback sync h2; do
      # shellcheck disable=SC2086 # $check_api is the flag's value and, for cq, --threads.
      if "$bin/immudb-load" --port "$immudb_port" --workload "$workload" --clients 4 --num 200 \
          --keys "$keys" --verify --api $check_api --format kv >"$work/check-$workload.kv" \
          2>"$work/check.err" && grep -q ' ops=200 errors=0 ' "$work/check-$workload.kv"; then
        echo "check: 200 verified $workload calls (--api ${check_api%% *}): ok"
      else
        failed=1
        echo "load.sh: check of $workload with --verify --api $check_api failed:" >&2
        cat "$work/check.err" >&2
      fi
    done
  done
fi
exit "$failed"
