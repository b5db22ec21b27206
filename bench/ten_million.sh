#!/usr/bin/env bash
# The key index's read targets at 10 million keys, in one run on this
# machine: random Get against RocksDB's readrandom on the same number of keys,
# VerifiableGet p99 at 10M against 10k, the index rebuild of 10M txs, and the
# peak RSS of each with default settings, with a "result:" line for each
# ratio a target names. It starts with `memlat`, the costs of fresh memory
# and of random loads here, which these figures follow (docs/benchmarks.md).
# Builds nothing: run `make build` (or set BIN) first; db_bench comes from
# rocksdb-tools (scripts/install-deps.sh). About 10 GB of disk under DIR and
# about 4 minutes with 2 rounds; run it on an otherwise idle machine.
#
# Environment:
#   DIR       where the stores go (removed at the end unless KEEP=1)  [mktemp]
#   ROUNDS    rounds of the read comparisons                          [2]
#   BIN       the immudb-bench binary               [build/bin/immudb-bench]
#   DB_BENCH  the db_bench binary                                  [db_bench]
#   DB_BENCH_PRELOAD  LD_PRELOAD of db_bench  [the jemalloc BIN links, if any]
set -euo pipefail

ROUNDS="${ROUNDS:-2}"
# BIN, DB_BENCH and DB_BENCH_CMD (db_bench with immudb-bench's jemalloc);
# ours_rate, dbb_rate and ratio.
source "$(dirname "$0")/tools.sh"
DIR="${DIR:-$(mktemp -d /tmp/immudb-10m-XXXXXX)}"
if [ "${KEEP:-0}" != 1 ]; then trap 'rm -rf "$DIR"' EXIT; fi
mkdir -p "$DIR"
D10M="$DIR/immudb-10m" D10K="$DIR/immudb-10k" R10M="$DIR/rocksdb-10m"

DBB_COMMON=(--key_size=16 --value_size=100 --compression_type=none --histogram=0 --statistics=0)
TIME=(/usr/bin/time -f "peak RSS %M KB, wall %e s")
[ -x /usr/bin/time ] || TIME=()

# run CMD...: runs CMD and shows its result lines (also kept in LAST_OUT);
# stops the script on failure.
LAST_OUT=""
run() {
  local out rc=0
  out="$("$@" 2>&1)" || rc=$?
  LAST_OUT="$out"
  grep -E "ops/s;|micros/op|peak RSS|rebuilt|lag at end|^memlat" <<<"$out" || true
  if [ "$rc" != 0 ]; then
    echo "ten_million.sh: command failed ($rc): $*" >&2
    tail -20 <<<"$out" >&2
    exit "$rc"
  fi
}
# Reads every file of the stores once, so that reads start from the page
# cache rather than the disk.
warm() { find "$@" -type f -exec cat {} + >/dev/null; }
# "p50 p99" of each verifiableget line in $1, one pass a line.
p50_p99() {
  grep "^verifiableget " <<<"$1" | sed -E 's/.*p50 ([0-9.]+) p99 ([0-9.]+).*/\1 \2/'
}

echo "ten_million.sh: $(nproc) CPUs, $(uname -r), $(date -u +%FT%TZ), data under $DIR"
run "$BIN" --benchmarks=memlat
echo "== fills"
run "${TIME[@]}" "$BIN" --benchmarks=dbfill --threads=1 --num=10000000 --duration=0 \
  --db="$D10M" --keep
run "$BIN" --benchmarks=dbfill --threads=1 --num=10000 --duration=0 --db="$D10K" --keep
run "${DB_BENCH_CMD[@]}" --benchmarks=fillseq --sync=0 --threads=1 --num=10000000 --db="$R10M" \
  "${DBB_COMMON[@]}"
for round in $(seq "$ROUNDS"); do
  echo "== round $round: random Get (1M calls) against readrandom (1M reads), 10M keys"
  for t in 2 1; do
    warm "$D10M" "$R10M"
    run "${TIME[@]}" "$BIN" --benchmarks=get --num=1000000 --read_threads="$t" --db="$D10M" \
      --keep --duration=60
    get_ops="$(ours_rate get <<<"$LAST_OUT")"
    run "${DB_BENCH_CMD[@]}" --benchmarks=readrandom --use_existing_db=1 --threads="$t" \
      --num=10000000 --reads=$((1000000 / t)) --db="$R10M" "${DBB_COMMON[@]}"
    echo "result: round $round, $t threads: get / readrandom $(ratio "$get_ops" \
      "$(dbb_rate readrandom <<<"$LAST_OUT")")"
  done
  echo "== round $round: VerifiableGet, 1 thread, 3 passes of 200k calls in one process"
  warm "$D10K" "$D10M"
  echo "-- 10k keys"
  run "$BIN" --benchmarks=verifiableget,verifiableget,verifiableget --num=200000 \
    --read_threads=1 --db="$D10K" --keep --duration=30
  small="$(p50_p99 "$LAST_OUT")"
  echo "-- 10M keys"
  run "${TIME[@]}" "$BIN" --benchmarks=verifiableget,verifiableget,verifiableget \
    --num=200000 --read_threads=1 --db="$D10M" --keep --duration=30
  # Pass by pass: the 10M p99 over the 10k p99, and the same for the medians.
  pass=0
  while read -r s50 s99 && read -r l50 l99 <&3; do
    pass=$((pass + 1))
    echo "result: round $round, pass $pass: p99 10M / 10k $(ratio "$l99" "$s99")," \
      "p50 10M / 10k $(ratio "$l50" "$s50")"
  done <<<"$small" 3< <(p50_p99 "$LAST_OUT")
done
echo "== index rebuild of the 10M txs"
run "${TIME[@]}" "$BIN" --benchmarks=dbrebuild --num=1000 --duration=0 --db="$D10M" --keep
echo "ten_million.sh: done $(date -u +%FT%TZ)"
