#!/usr/bin/env bash
# Installs imgserv on the camera server: a dedicated user, the app and its venv, the settings
# file, the systemd units for the web server and the worker, and the nginx site for the LAN.
#
#   sudo deploy/install.sh             install or upgrade (safe to re-run)
#   deploy/install.sh --dry-run        say what would be done, change nothing
#   PREFIX=/tmp/root deploy/install.sh write the files under a staging root only (no users,
#                                      no pip, no systemctl): for packaging and tests
#
# Re-running keeps /etc/imgserv/env as it is (settings and secrets); settings that a newer
# version adds are appended with their defaults. Override any of these from the environment:
set -euo pipefail

IMGSRV_USER=${IMGSRV_USER:-imgserv}
APP_DIR=${APP_DIR:-/opt/imgserv/app}
VENV=${VENV:-/opt/imgserv/venv}
DATA_DIR=${DATA_DIR:-/var/lib/imgserv}
ENV_FILE=${ENV_FILE:-/etc/imgserv/env}
WEB_PORT=${WEB_PORT:-8000}
HTTP_PORT=${HTTP_PORT:-80}
SERVER_NAME=${SERVER_NAME:-_}
NGINX_USER=${NGINX_USER:-www-data}
PREFIX=${PREFIX:-}
DRY_RUN=0

for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
STAGED=$([ -n "$PREFIX" ] && echo 1 || echo 0)

say() { echo "imgserv-install: $*"; }
run() {
  if [ "$DRY_RUN" = 1 ]; then say "would run: $*"; else "$@"; fi
}
# Only a real install (not dry, not staged, as root) touches users, services and packages.
system() { [ "$DRY_RUN" = 0 ] && [ "$STAGED" = 0 ]; }

render() {  # render TEMPLATE DEST: fill in the @PLACEHOLDERS@ of a deploy/ template
  local template=$1 dest=$2
  if [ "$DRY_RUN" = 1 ]; then say "would write $dest from $template"; return; fi
  mkdir -p "$(dirname "$dest")"
  sed -e "s|@USER@|$IMGSRV_USER|g" -e "s|@APP_DIR@|$APP_DIR|g" -e "s|@VENV@|$VENV|g" \
      -e "s|@DATA_DIR@|$DATA_DIR|g" -e "s|@ENV_FILE@|$ENV_FILE|g" \
      -e "s|@WEB_PORT@|$WEB_PORT|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" \
      -e "s|@SERVER_NAME@|$SERVER_NAME|g" "$template" > "$dest.tmp"
  mv -f "$dest.tmp" "$dest"
}

ensure_user() {
  if id "$IMGSRV_USER" >/dev/null 2>&1; then return; fi
  say "creating system user $IMGSRV_USER"
  run useradd --system --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin \
    "$IMGSRV_USER"
}

install_app() {
  say "installing the app into $PREFIX$APP_DIR"
  run mkdir -p "$PREFIX$APP_DIR"
  run rsync -a --delete --exclude .git --exclude .venv --exclude data --exclude '__pycache__' \
    --exclude .env "$SOURCE/" "$PREFIX$APP_DIR/"
  if system; then
    [ -x "$VENV/bin/python" ] || run python3 -m venv "$VENV"
    run "$VENV/bin/pip" install --quiet --upgrade pip
    run "$VENV/bin/pip" install --quiet -r "$APP_DIR/requirements.txt"
  fi
}

data_dirs() {
  # The data folder is the service's alone; nginx may read media and static files only, via
  # their setgid group (new files inherit it, and the units' UMask keeps them group-readable).
  run mkdir -p "$PREFIX$DATA_DIR/media" "$PREFIX$DATA_DIR/static" "$PREFIX$DATA_DIR/publishing"
  if system; then
    run chown "$IMGSRV_USER:$IMGSRV_USER" "$DATA_DIR" "$DATA_DIR/publishing"
    run chmod 0711 "$DATA_DIR"
    run chmod 0700 "$DATA_DIR/publishing"
    run chown "$IMGSRV_USER:$NGINX_USER" "$DATA_DIR/media" "$DATA_DIR/static"
    run chmod 2750 "$DATA_DIR/media" "$DATA_DIR/static"
  fi
}

setting() {  # setting KEY VALUE: append KEY=VALUE unless the file already sets KEY
  local file=$1 key=$2 value=$3
  if grep -Eq "^[[:space:]]*#?[[:space:]]*$key=" "$file" 2>/dev/null; then return; fi
  if [ "$DRY_RUN" = 1 ]; then say "would add $key to $file"; return; fi
  printf '%s=%s\n' "$key" "$value" >> "$file"
}

env_file() {
  local file=$PREFIX$ENV_FILE
  if [ -f "$file" ]; then
    say "keeping the settings in $file"
  else
    say "writing $file"
    run mkdir -p "$(dirname "$file")"
    if [ "$DRY_RUN" = 0 ]; then
      (umask 077 && printf '# imgserv settings (see .env.example). Kept across re-installs.\n' > "$file")
    fi
  fi
  setting "$file" IMGSRV_DATA_DIR "$DATA_DIR"
  setting "$file" SECRET_KEY "$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
  setting "$file" ALLOWED_HOSTS "$(hostname -f 2>/dev/null || hostname),localhost,127.0.0.1"
  setting "$file" DEBUG false
  # nginx (deploy/nginx/camera-server.conf) sends the media files the web process picks.
  setting "$file" MEDIA_ACCEL_PREFIX /internal-media/
  if system; then
    run chown "root:$IMGSRV_USER" "$file"
    run chmod 0640 "$file"
  fi
}

units() {
  for unit in imgserv-web.service imgserv-worker.service; do
    render "$SOURCE/deploy/systemd/$unit" "$PREFIX/etc/systemd/system/$unit"
  done
  render "$SOURCE/deploy/nginx/camera-server.conf" "$PREFIX/etc/nginx/sites-available/imgserv"
  run mkdir -p "$PREFIX/etc/nginx/sites-enabled"
  run ln -sfn ../sites-available/imgserv "$PREFIX/etc/nginx/sites-enabled/imgserv"
}

migrate() {
  system || return 0
  local manage=(runuser -u "$IMGSRV_USER" -- env "IMGSRV_DATA_DIR=$DATA_DIR"
    "$VENV/bin/python" "$APP_DIR/manage.py")
  (set -a && . "$ENV_FILE" && set +a && cd "$APP_DIR" && "${manage[@]}" migrate --noinput -v0 &&
    "${manage[@]}" collectstatic --noinput -v0)
}

start() {
  system || return 0
  if [ -d /run/systemd/system ]; then
    run systemctl daemon-reload
    run systemctl enable imgserv-web.service imgserv-worker.service
    run systemctl restart imgserv-web.service imgserv-worker.service
  else
    say "systemd is not running here: start the units yourself"
  fi
  if command -v nginx >/dev/null; then
    run nginx -t
    if [ -d /run/systemd/system ]; then run systemctl reload nginx; fi
  fi
}

if [ "$DRY_RUN" = 0 ] && [ "$STAGED" = 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "Run as root (sudo), or with --dry-run or PREFIX=… to stage the files." >&2
  exit 1
fi
if system; then "$SOURCE/deploy/system-packages.sh" "$SOURCE/deploy/system-packages.txt"; fi
if system; then ensure_user; fi
install_app
data_dirs
env_file
units
migrate
start
say "done"
