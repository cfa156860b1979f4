#!/usr/bin/env bash
# Headless Chromium for the console tests, from Debian's packages (Playwright's own download fails here).
#   scripts/browser.sh install    install Debian's chromium when /usr/bin/chromium is absent
set -euo pipefail
case "${1:-}" in
  install)
    if [ -x /usr/bin/chromium ]; then exit 0; fi
    echo "Chromium not found: installing Debian's chromium package…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends chromium >&2
    [ -x /usr/bin/chromium ] || { echo "Chromium installation failed: /usr/bin/chromium is missing" >&2; exit 1; }
    ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
