#!/usr/bin/env bash
# Runs the immudb-node compatibility test against the given immudb binary.
# Usage: run.sh <path to immudb>
set -euo pipefail
IMMUDB_BIN="$(realpath "$1")"
export IMMUDB_BIN
cd "$(dirname "$0")"
if [ ! -d node_modules/immudb-node ]; then
  npm ci --no-audit --no-fund
fi
exec node --test compat.test.js
