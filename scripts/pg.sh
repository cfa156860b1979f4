#!/usr/bin/env bash
# Throw-away PostgreSQL for the test suite and benchmarks.
#   scripts/pg.sh install         install Debian's postgresql if no server binaries are found
#   scripts/pg.sh start DIR       initdb into DIR, start on a free loopback port, print the URL
#   scripts/pg.sh stop DIR        stop the server started in DIR and remove DIR
set -euo pipefail

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
  done
  return 1
}

run_as() {  # run a command as the unprivileged server owner (PostgreSQL refuses to run as root)
  if [ "$(id -u)" = "0" ]; then
    runuser -u "$PGOWNER" -- "$@"
  else
    "$@"
  fi
}

owner() {
  if [ "$(id -u)" != "0" ]; then id -un; return; fi
  if id postgres >/dev/null 2>&1; then echo postgres; return; fi
  useradd --system --no-create-home --shell /usr/sbin/nologin rhippg 2>/dev/null || true
  echo rhippg
}

cmd=${1:-}
case "$cmd" in
  install)
    if find_bindir >/dev/null; then exit 0; fi
    echo "PostgreSQL server not found: installing Debian's postgresql package…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    find_bindir >/dev/null || { echo "PostgreSQL installation failed: no initdb found" >&2; exit 1; }
    ;;
  start)
    dir=${2:?usage: pg.sh start DIR}
    bindir=$(find_bindir) || { echo "no PostgreSQL server binaries; run scripts/pg.sh install" >&2; exit 1; }
    PGOWNER=$(owner)
    mkdir -p "$dir"
    chown "$PGOWNER" "$dir" 2>/dev/null || true
    chmod 700 "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    run_as "$bindir/initdb" -D "$dir/data" -U rhip -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    run_as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >&2 || { cat "$dir/server.log" >&2; exit 1; }
    run_as "$bindir/createdb" -h 127.0.0.1 -p "$port" -U rhip rhip
    echo "postgresql://rhip@127.0.0.1:$port/rhip"
    ;;
  stop)
    dir=${2:?usage: pg.sh stop DIR}
    bindir=$(find_bindir) || exit 0
    PGOWNER=$(owner)
    [ -d "$dir/data" ] && run_as "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 install | start DIR | stop DIR" >&2; exit 2;;
esac
