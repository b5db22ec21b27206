#!/usr/bin/env bash
# Runs immudb-bench and RocksDB's db_bench on this machine, in this run, with
# equivalent settings, and prints both rates and their ratio. Builds nothing:
# run `make build` (or set BIN) first; db_bench comes from rocksdb-tools
# (scripts/install-deps.sh).
#
# Environment:
#   NUM           unsynced fills and reads: ops in total       [200000]
#   SYNC_NUM      synced fills: ops in total                   [NUM/4]
#   THREADS       writers of the synced fills                  [128]
#   READ_THREADS  readers                                      [nproc]
#   DURATION      cap per workload, seconds                    [120]
#   BIN           the immudb-bench binary                      [build/bin/immudb-bench]
#   DB_BENCH      the db_bench binary                          [db_bench]
#   DB_BENCH_PRELOAD  LD_PRELOAD of db_bench  [the jemalloc BIN links, if any]
#
# Settings that make the two comparable (also printed):
# - Keys 16 bytes, values 100 bytes, one key per write/transaction.
# - db_bench runs --num (or --writes/--reads) ops in EACH thread; we pass
#   total/threads so both tools do the same total. Its fillsync draws keys
#   from num/1000 keys, so we pass num = total*1000 to keep that range equal
#   to the total, and --writes for the op count.
# - db_bench compresses with snappy by default; our store does not compress,
#   so db_bench runs with --compression_type=none.
# - Both tools allocate with the same malloc: immudb-bench links jemalloc as
#   the server does (CMake IMMUDB_JEMALLOC), so db_bench runs with that same
#   library in LD_PRELOAD (DB_BENCH_PRELOAD; empty when BIN uses glibc's).
# - readrandom reads random keys from the NUM keys fillseq wrote; readtx reads
#   random transactions (header, entries, values) from the NUM 1-entry
#   transactions fillnosync committed; get reads random keys of the NUM keys
#   dbfill wrote through the database layer (key index on), in the same run.
set -euo pipefail

NUM="${NUM:-200000}"
SYNC_NUM="${SYNC_NUM:-$((NUM / 4))}"
THREADS="${THREADS:-128}"
READ_THREADS="${READ_THREADS:-$(nproc)}"
DURATION="${DURATION:-120}"
# BIN, DB_BENCH and DB_BENCH_CMD (db_bench with immudb-bench's jemalloc);
# ours_rate, dbb_rate and ratio.
source "$(dirname "$0")/tools.sh"

TMP="$(mktemp -d /tmp/immudb-compare-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
# No --duration for db_bench: with it, db_bench ignores the op count and runs
# for the whole duration.
COMMON_DBB=(--key_size=16 --value_size=100 --compression_type=none --histogram=0 --statistics=0)
COMMON_OURS=(--key_size=16 --value_size=100 --duration="$DURATION")

echo "compare.sh: $(nproc) CPUs, $(uname -r), data under $TMP"
echo "  synced 1-entry writes: $SYNC_NUM in total, $THREADS threads"
echo "  unsynced 1-entry writes: $NUM in total, 1 thread; random reads: $NUM in total," \
  "$READ_THREADS threads"
echo "  db_bench counts ops per thread: it gets --writes/--reads = total/threads;" \
  "rates below are totals over all threads"
echo "  db_bench: --compression_type=none (the store does not compress)"
if [ -n "$DB_BENCH_PRELOAD" ]; then
  echo "  allocator: immudb-bench links jemalloc; db_bench runs with LD_PRELOAD=$DB_BENCH_PRELOAD"
else
  echo "  allocator: immudb-bench links no jemalloc; db_bench runs as installed"
fi
echo

# run OUT CMD...: runs CMD with its output in OUT; shows the result lines.
run() {
  local out="$1"
  shift
  echo "\$ $*"
  local rc=0
  "$@" > "$out" 2>&1 || rc=$?
  grep -E "ops/s;|micros/op|peak RSS|rror|lag at end" "$out" || true
  if [ "$rc" != 0 ]; then
    echo "compare.sh: command failed ($rc); output in $out:" >&2
    tail -20 "$out" >&2
    exit "$rc"
  fi
}

run "$TMP/ours_sync.txt" "$BIN" --benchmarks=fillsync --num="$SYNC_NUM" --threads="$THREADS" \
  --db="$TMP/immudb-sync" "${COMMON_OURS[@]}"
run "$TMP/ours.txt" "$BIN" --benchmarks=fillnosync,readtx --num="$NUM" --threads=1 \
  --read_threads="$READ_THREADS" --db="$TMP/immudb" "${COMMON_OURS[@]}"
rm -rf "$TMP/immudb-sync" "$TMP/immudb"
# The database (key index on) for the Get rows: NUM 1-entry txs, NUM keys.
run "$TMP/ours_dbfill.txt" "$BIN" --benchmarks=dbfill --num="$NUM" --threads="$THREADS" \
  --db="$TMP/immudb-db" "${COMMON_OURS[@]}"

per_thread_sync=$(((SYNC_NUM + THREADS - 1) / THREADS))
per_thread_read=$(((NUM + READ_THREADS - 1) / READ_THREADS))
run "$TMP/dbb_sync.txt" "${DB_BENCH_CMD[@]}" --benchmarks=fillsync --sync=1 --threads="$THREADS" \
  --num=$((SYNC_NUM * 1000)) --writes="$per_thread_sync" --db="$TMP/rocksdb-sync" \
  "${COMMON_DBB[@]}"
rm -rf "$TMP/rocksdb-sync"
run "$TMP/dbb_seq.txt" "${DB_BENCH_CMD[@]}" --benchmarks=fillseq --sync=0 --threads=1 --num="$NUM" \
  --db="$TMP/rocksdb" "${COMMON_DBB[@]}"
# Random point reads over the same number of keys, ours and RocksDB's back to
# back, with READ_THREADS threads and then with 1.
run "$TMP/ours_get.txt" "$BIN" --benchmarks=get --num="$NUM" --read_threads="$READ_THREADS" \
  --db="$TMP/immudb-db" "${COMMON_OURS[@]}"
run "$TMP/dbb_read.txt" "${DB_BENCH_CMD[@]}" --benchmarks=readrandom --use_existing_db=1 \
  --threads="$READ_THREADS" --num="$NUM" --reads="$per_thread_read" --db="$TMP/rocksdb" \
  "${COMMON_DBB[@]}"
run "$TMP/ours_get1.txt" "$BIN" --benchmarks=get --num="$NUM" --read_threads=1 \
  --db="$TMP/immudb-db" "${COMMON_OURS[@]}"
run "$TMP/dbb_read1.txt" "${DB_BENCH_CMD[@]}" --benchmarks=readrandom --use_existing_db=1 \
  --threads=1 --num="$NUM" --reads="$NUM" --db="$TMP/rocksdb" "${COMMON_DBB[@]}"

row() {  # label, ours, rocksdb
  printf "%-56s %14s %14s %8s\n" "$1" "${2:-n/a}" "${3:-n/a}" "$(ratio "$2" "$3")"
}

echo
printf "%-56s %14s %14s %8s\n" "workload (total ops/s over all threads)" "immudb" "RocksDB" \
  "ratio"
row "synced 1-entry writes, $THREADS threads (fillsync)" \
  "$(ours_rate fillsync < "$TMP/ours_sync.txt")" "$(dbb_rate fillsync < "$TMP/dbb_sync.txt")"
row "unsynced 1-entry writes, 1 thread (fillnosync/fillseq)" \
  "$(ours_rate fillnosync/1 < "$TMP/ours.txt")" "$(dbb_rate fillseq < "$TMP/dbb_seq.txt")"
row "random reads, $READ_THREADS threads (readtx/readrandom)" \
  "$(ours_rate readtx < "$TMP/ours.txt")" "$(dbb_rate readrandom < "$TMP/dbb_read.txt")"
row "random Get, $READ_THREADS threads (get/readrandom, $NUM keys)" \
  "$(ours_rate get < "$TMP/ours_get.txt")" "$(dbb_rate readrandom < "$TMP/dbb_read.txt")"
row "random Get, 1 thread (get/readrandom, $NUM keys)" \
  "$(ours_rate get < "$TMP/ours_get1.txt")" "$(dbb_rate readrandom < "$TMP/dbb_read1.txt")"
echo "ratio = immudb / RocksDB (above 1: immudb is faster)"
echo "get = Database::Get through the key index (value read from the value log and checked)"
