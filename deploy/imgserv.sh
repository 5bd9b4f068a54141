#!/usr/bin/env bash
# imgserv: the installed instance's manage.py, run as the service user with the installed
# settings (@ENV_FILE@), whatever the caller's environment holds. deploy/install.sh fills in
# the placeholders and installs this as /usr/local/bin/imgserv.
#
#   sudo imgserv camera list            any manage.py command: doctor, camera, publish, shell…
#   sudo imgserv changepassword admin
#   imgserv status                      systemctl status of imgserv.target and both units
#   imgserv logs [-f] [--since today]   journalctl -u 'imgserv*' with those options
set -euo pipefail

SERVICE_USER=@USER@
APP_DIR=@APP_DIR@
VENV=@VENV@
DATA_DIR=@DATA_DIR@
ENV_FILE=@ENV_FILE@

case "${1:-}" in
  status) shift; exec systemctl status --no-pager imgserv.target imgserv-web.service \
    imgserv-worker.service "$@" ;;
  logs) shift; exec journalctl -u 'imgserv*' "$@" ;;
esac

# Nothing from the caller's environment reaches the settings: a stray DATABASE_URL or DEBUG
# in a root shell would otherwise beat the installed file.
command=(env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$DATA_DIR" LANG="${LANG:-C.UTF-8}"
  TERM="${TERM:-dumb}" IMGSRV_ENV_FILE="$ENV_FILE" IMGSRV_DATA_DIR="$DATA_DIR"
  "$VENV/bin/python" "$APP_DIR/manage.py" "$@")
# Files it makes stay readable by nginx's group (media, static) and nobody else.
umask 027
if [ "$(id -u)" = 0 ]; then
  # The service user may not be able to enter the caller's folder (root's home).
  runuser -u "$SERVICE_USER" -- test -x "$PWD" 2>/dev/null || cd /
  exec runuser -u "$SERVICE_USER" -- "${command[@]}"
elif [ "$(id -un)" = "$SERVICE_USER" ]; then
  exec "${command[@]}"
fi
echo "imgserv: run it as root (sudo imgserv $*) or as $SERVICE_USER." >&2
exit 1
