#!/usr/bin/env bash
# Run a command with a throw-away PostgreSQL: RHIP_TEST_PG_URL is set for it, and the server is removed after.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/pg.sh" install
pgdir=$(mktemp -d /tmp/rhip-pg.XXXXXX)
cleanup() { bash "$here/pg.sh" stop "$pgdir"; }
trap cleanup EXIT
RHIP_TEST_PG_URL=$(bash "$here/pg.sh" start "$pgdir")
export RHIP_TEST_PG_URL
echo "PostgreSQL for this run: $RHIP_TEST_PG_URL" >&2
"$@"
