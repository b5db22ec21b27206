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
if [ ! -d node_modules/immudb-node ]; then
  npm ci --no-audit --no-fund
fi
exec node --test compat.test.js
