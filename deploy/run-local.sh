#!/usr/bin/env bash
# Runs the web server (daphne) and the worker (qcluster) together for `make run`, and stops
# both on Ctrl-C. Production uses the systemd units instead.
set -euo pipefail
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
BIND=${BIND:-127.0.0.1}
# A worker busy in a capture shift would otherwise hold the stop for up to two minutes;
# frames are written atomically, so cutting a shift short loses at most the frame in flight.
STOP_GRACE_SECONDS=${STOP_GRACE_SECONDS:-8}

"$PY" manage.py qcluster &
worker=$!
"$PY" -m daphne -b "$BIND" -p "$PORT" imgserv_site.asgi:application &
web=$!

stop() {
  trap - INT TERM
  echo "Stopping imgserv…"
  kill -TERM "$web" "$worker" 2>/dev/null || true
  for _ in $(seq "$STOP_GRACE_SECONDS"); do
    kill -0 "$web" 2>/dev/null || kill -0 "$worker" 2>/dev/null || break
    sleep 1
  done
  # The worker's own processes are its children; take them with it if it lingers.
  pkill -KILL -P "$worker" 2>/dev/null || true
  kill -KILL "$web" "$worker" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "Stopped."
}
trap stop INT TERM

echo "imgserv is starting on http://$BIND:$PORT/ (admin at /admin/). Press Ctrl-C to stop."
echo "The demo camera's first sequence appears within two minutes."
# Whichever process ends first (a crash, or Ctrl-C) stops the other.
wait -n "$web" "$worker" || true
stop
