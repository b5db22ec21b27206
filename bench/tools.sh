# Sourced by the scripts that run immudb-bench beside RocksDB's db_bench:
# finds immudb-bench (BIN) and db_bench (DB_BENCH), stops with a hint when one
# is missing, and sets DB_BENCH_CMD, db_bench with the jemalloc immudb-bench
# links, if any, in LD_PRELOAD (DB_BENCH_PRELOAD overrides it, empty for
# none), so that both tools allocate with the same malloc. Also defines
# ours_rate, dbb_rate and ratio for reading their results.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/build/bin/immudb-bench}"
DB_BENCH="${DB_BENCH:-db_bench}"
if [ ! -x "$BIN" ]; then
  echo "$(basename "$0"): $BIN not found; run 'make build' or set BIN" >&2
  exit 1
fi
if ! command -v "$DB_BENCH" >/dev/null 2>&1; then
  echo "$(basename "$0"): db_bench not found; run scripts/install-deps.sh (rocksdb-tools)" >&2
  exit 1
fi
if [ -z "${DB_BENCH_PRELOAD+set}" ]; then
  DB_BENCH_PRELOAD="$(ldd "$BIN" | awk '/libjemalloc/ { print $3; exit }')"
fi
if [ -n "$DB_BENCH_PRELOAD" ]; then
  DB_BENCH_CMD=(env "LD_PRELOAD=$DB_BENCH_PRELOAD" "$DB_BENCH")
else
  DB_BENCH_CMD=("$DB_BENCH")
fi

# Rate from an immudb-bench line "<name> : ... <rate> ops/s; ..." on stdin.
ours_rate() { awk -v n="$1" '$1 == n { for (i = 2; i <= NF; i++) if ($i == "ops/s;") print $(i-1) }'; }
# Rate from a db_bench line "<name> : ... <rate> ops/sec ..." on stdin.
dbb_rate() { awk -v n="$1" '$1 == n { for (i = 2; i <= NF; i++) if ($i == "ops/sec") print $(i-1) }'; }
# ratio A B: A / B to two places; "n/a" when either is missing or B is 0.
ratio() {
  if [ -n "$1" ] && [ -n "$2" ] && [ "$2" != "0" ]; then
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
  else
    printf "n/a"
  fi
}
