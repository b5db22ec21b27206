#!/usr/bin/env bash
# Runs the immudb-node compatibility test against the given immudb binary.
# Usage: run.sh <path to immudb>
set -euo pipefail
IMMUDB_BIN="$(realpath "$1")"
export IMMUDB_BIN
cd "$(dirname "$0")"
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "compat: $tool not found (run scripts/install-deps.sh)" >&2; exit 1; }
done
# ctest runs compat_node and compat_node_callback at once; `npm ci` empties
# node_modules first, so the check and the install happen under one lock.
(
  flock 9
  if [ ! -f node_modules/.compat-installed ]; then
    npm ci --no-audit --no-fund
    touch node_modules/.compat-installed
  fi
) 9>"${TMPDIR:-/tmp}/immudb-compat-npm.lock"
exec node --test compat.test.js
