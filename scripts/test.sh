#!/usr/bin/env bash
# The whole suite, on SQLite and on a throw-away PostgreSQL (every database test is parametrized over both).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/browser.sh install
exec bash scripts/with-pg.sh .venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@"
