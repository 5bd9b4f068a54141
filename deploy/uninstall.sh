#!/usr/bin/env bash
# Removes imgserv from the camera server: stops and removes the systemd units, the nginx site,
# the logrotate rule, the `imgserv` command and the installed code (/opt/imgserv).
#
#   sudo deploy/uninstall.sh           keeps the data (database, frames, keys), the settings
#                                      (/etc/imgserv) and the service user: a later install.sh
#                                      picks them up again as they were
#   sudo deploy/uninstall.sh --purge   removes those too (asks first; --yes does not)
#   deploy/uninstall.sh --dry-run      say what would be done
#   PREFIX=/tmp/root deploy/uninstall.sh   remove the files of a staged install only
set -euo pipefail
SCRIPT_NAME=imgserv-uninstall
DEPLOY=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/lib.sh
. "$DEPLOY/lib.sh"

PURGE=0
YES=0
for arg in "$@"; do
  case "$arg" in
    --purge) PURGE=1 ;;
    --yes) YES=1 ;;
    --dry-run) DRY_RUN=1 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die 2 "unknown argument: $arg (see --help)" ;;
  esac
done
if system && [ "$(id -u)" -ne 0 ]; then die 2 "run as root (sudo), or with --dry-run"; fi
load_layout

if [ "$PURGE" = 1 ] && [ "$YES" = 0 ] && [ "$DRY_RUN" = 0 ]; then
  [ -t 0 ] || die 2 "--purge deletes $DATA_DIR for good: add --yes to confirm without a terminal"
  printf 'This deletes the database, every frame and sequence, the keys and the settings in\n'
  printf '%s and %s. Type "purge" to go on: ' "$DATA_DIR" "$(dirname "$ENV_FILE")"
  read -r answer
  [ "$answer" = purge ] || die 1 "nothing was removed"
fi

if system && has_systemd; then
  say "stopping and disabling the services"
  systemctl disable --now "$TARGET" "${SERVICES[@]}" 2>/dev/null || true
fi
for unit in "$TARGET" "${SERVICES[@]}"; do
  run rm -f "$PREFIX/etc/systemd/system/$unit"
done
if system && has_systemd; then
  systemctl daemon-reload
  systemctl reset-failed "$TARGET" "${SERVICES[@]}" 2>/dev/null || true
fi

say "removing the nginx site, the logrotate rule and $BIN_PATH"
run rm -f "$PREFIX/etc/nginx/sites-enabled/imgserv" "$PREFIX/etc/nginx/sites-available/imgserv" \
  "$PREFIX/etc/logrotate.d/imgserv" "$PREFIX$BIN_PATH"
if [ "${SAVED[NGINX_DEFAULT_DISABLED]:-0}" = 1 ] &&
  [ -f "$PREFIX/etc/nginx/sites-available/default" ] &&
  [ ! -e "$PREFIX/etc/nginx/sites-enabled/default" ]; then
  say "putting Debian's stock nginx site back"
  run ln -s /etc/nginx/sites-available/default "$PREFIX/etc/nginx/sites-enabled/default"
fi
if system && command -v nginx > /dev/null && has_systemd && systemctl is-active --quiet nginx; then
  nginx -t -q && systemctl reload nginx
fi

say "removing the installed code in $IMGSRV_ROOT"
run rm -rf "$PREFIX$IMGSRV_ROOT"

if [ "$PURGE" = 1 ]; then
  say "purging $DATA_DIR and $(dirname "$ENV_FILE")"
  run rm -rf "$PREFIX$DATA_DIR" "$PREFIX$ENV_FILE" "$PREFIX$CONF_FILE"
  run rmdir --ignore-fail-on-non-empty "$PREFIX$(dirname "$ENV_FILE")"
  if system && id "$IMGSRV_USER" > /dev/null 2>&1; then run userdel "$IMGSRV_USER"; fi
else
  say "kept: the data in $DATA_DIR, the settings in $ENV_FILE and the user $IMGSRV_USER" \
    "(--purge removes them)"
fi
say "done"
