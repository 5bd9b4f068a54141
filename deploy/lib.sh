# shellcheck shell=bash
# Shared by deploy/install.sh, update.sh and uninstall.sh (sourced, not run).
#
# Layout of an installation:
#   /opt/imgserv/releases/<time>-<hash>/{app,venv}   one folder per version, each complete with its
#                                                    own venv, so a rollback is a symlink switch
#   /opt/imgserv/current -> releases/<…>             what the systemd units and `imgserv` run
#   /opt/imgserv/app, venv -> current/app, venv      stable paths (older installs used these)
#   /etc/imgserv/env                                 the settings (secrets included), kept
#   /etc/imgserv/install.conf                        the layout and installer answers (no secrets)
#   /var/lib/imgserv                                 the data: database, media, keys, logs
#
# A release folder is complete only once it holds `.complete`; anything else in releases/ is a
# build that was interrupted, never run, and is removed by the next install or update.

# The layout. install.conf remembers what an installation used; the environment overrides.
LAYOUT_VARS=(IMGSRV_USER IMGSRV_ROOT DATA_DIR ENV_FILE WEB_PORT HTTP_PORT SERVER_NAME NGINX_USER
  BIN_PATH)
LAYOUT_DEFAULTS=(imgserv /opt/imgserv /var/lib/imgserv /etc/imgserv/env 8000 80 _ www-data
  /usr/local/bin/imgserv)
CONF_FILE=${CONF_FILE:-/etc/imgserv/install.conf}
PREFIX=${PREFIX:-}
PYTHON=${PYTHON:-python3}
KEEP_RELEASES=${KEEP_RELEASES:-3}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-120}
DRY_RUN=${DRY_RUN:-0}
SERVICES=(imgserv-web.service imgserv-worker.service)
# nginx's one-second copy of the loops (deploy/nginx/camera-server.conf); Debian's nginx
# package makes /var/lib/nginx, and nginx makes this folder in it.
NGINX_CACHE=/var/lib/nginx/imgserv
TARGET=imgserv.target

say() { echo "${SCRIPT_NAME:-imgserv}: $*"; }
warn() { echo "${SCRIPT_NAME:-imgserv}: $*" >&2; }
die() {  # die CODE MESSAGE
  local code=$1
  shift
  warn "$*"
  exit "$code"
}
run() { if [ "$DRY_RUN" = 1 ]; then say "would run: $*"; else "$@"; fi; }
staged() { [ -n "$PREFIX" ]; }
# Only a real run (not dry, not staged) touches users, packages, the database and services.
system() { [ "$DRY_RUN" = 0 ] && ! staged; }
has_systemd() { [ -d /run/systemd/system ]; }

declare -A SAVED=()
load_saved() {  # read install.conf (written by save_conf with printf %q) into SAVED
  local file=$PREFIX$CONF_FILE line
  [ -f "$file" ] || return 0
  while IFS= read -r line; do
    [[ $line =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]] || continue
    eval "SAVED[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}"
  done < "$file"
}
installed_before() { [ -f "$PREFIX$CONF_FILE" ]; }

load_layout() {  # the environment, else install.conf, else the default
  local i var
  load_saved
  for i in "${!LAYOUT_VARS[@]}"; do
    var=${LAYOUT_VARS[$i]}
    if [ -z "${!var:-}" ]; then
      printf -v "$var" '%s' "${SAVED[$var]:-${LAYOUT_DEFAULTS[$i]}}"
    fi
  done
  APP_DIR=$IMGSRV_ROOT/current/app
  VENV=$IMGSRV_ROOT/current/venv
  RELEASES=$IMGSRV_ROOT/releases
}

python_version_ok() {  # fails, saying why, unless $PYTHON is 3.11 or newer
  local version
  if ! version=$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
  then
    warn "imgserv needs Python 3.11 or newer, and '$PYTHON' cannot be run here."
    return 1
  fi
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    warn "imgserv needs Python 3.11 or newer; '$PYTHON' is Python $version." \
      "Debian 12 and Ubuntu 24.04 have it; or set PYTHON=/path/to/python3.11 (or newer)."
    return 1
  fi
}

render() {  # render TEMPLATE DEST: fill in the @PLACEHOLDERS@; CHANGED=1 when DEST changed
  local template=$1 dest=$2
  if [ "$DRY_RUN" = 1 ]; then say "would write $dest from $template"; return; fi
  mkdir -p "$(dirname "$dest")"
  sed -e "s|@USER@|$IMGSRV_USER|g" -e "s|@APP_DIR@|$APP_DIR|g" -e "s|@VENV@|$VENV|g" \
      -e "s|@DATA_DIR@|$DATA_DIR|g" -e "s|@ENV_FILE@|$ENV_FILE|g" \
      -e "s|@WEB_PORT@|$WEB_PORT|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" \
      -e "s|@SERVER_NAME@|$SERVER_NAME|g" -e "s|@CONF_FILE@|$CONF_FILE|g" \
      -e "s|@NGINX_CACHE@|$NGINX_CACHE|g" \
      "$template" > "$dest.tmp"
  # An unchanged file is left alone (same checksum, same time), so a re-run changes nothing.
  if cmp -s "$dest.tmp" "$dest"; then rm -f "$dest.tmp"; return; fi
  chmod --reference="$template" "$dest.tmp"
  mv -f "$dest.tmp" "$dest"
  # shellcheck disable=SC2034  # read by the scripts that source this file
  CHANGED=1
}

tree_hash() {  # a hash of the names and contents of the files under DIR
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum &&
    find . -type l -printf '%p -> %l\n' | LC_ALL=C sort) | sha256sum | cut -c1-12
}

current_release() {  # the release `current` points at (relative to IMGSRV_ROOT), or nothing
  local link=$PREFIX$IMGSRV_ROOT/current
  if [ -L "$link" ]; then readlink "$link"; fi
}

link_atomically() {  # link_atomically TARGET LINK: a rename, so there is never no LINK
  run ln -sfn "$1" "$2.new"
  run mv -Tf "$2.new" "$2"
}

# build_release SOURCE: copy SOURCE (without what its .gitignore files leave out) into a new
# release folder with its own venv. Sets NEW to the release ("releases/<time>-<hash>"), or to
# nothing when that code is what `current` runs already.
build_release() {
  local source=$1 hash stamp dir previous
  previous=$(current_release)
  NEW=
  remove_incomplete_releases
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  dir=$PREFIX$RELEASES/$stamp-copy
  BUILDING=$dir
  run mkdir -p "$dir/app"
  # Owned by root and readable by the service user, whoever owned the source.
  run rsync -a --delete --no-owner --no-group --chmod=D755,Fa+r,Fgo-w \
    --exclude /.git --exclude /.env --exclude /.venv --filter=':- .gitignore' "$source/" "$dir/app/"
  if [ "$DRY_RUN" = 1 ]; then NEW=releases/$stamp-dry-run; BUILDING=; return; fi
  hash=$(tree_hash "$dir/app")
  if [ -n "$previous" ] && [ "$(cat "$PREFIX$IMGSRV_ROOT/$previous/.source-hash" 2>/dev/null)" = "$hash" ]
  then
    rm -rf "$dir"
    BUILDING=
    say "the code is unchanged ($previous)"
    return
  fi
  NEW=releases/$stamp-$hash
  mv "$dir" "$PREFIX$IMGSRV_ROOT/$NEW"
  dir=$PREFIX$IMGSRV_ROOT/$NEW
  BUILDING=$dir
  say "building release $stamp-$hash from $source"
  if system; then build_venv "$dir" "$previous"; fi
  echo "$hash" > "$dir/.source-hash"
  touch "$dir/.complete"
  BUILDING=
}

build_venv() {  # build_venv RELEASE_DIR PREVIOUS: the release's own venv
  local dir=$1 previous=$2 old
  old=$IMGSRV_ROOT/$previous/venv
  if [ -n "$previous" ] && [ -x "$old/bin/python" ] &&
    cmp -s "$dir/app/requirements.txt" "$IMGSRV_ROOT/$previous/app/requirements.txt"; then
    # Same requirements: hard links to the previous venv's files (pip replaces files, it never
    # writes into them) take seconds and no network; the scripts' #! lines name the new venv.
    say "same requirements: linking the previous release's venv"
    cp -al "$old" "$dir/venv"
    { grep -rlI --null "$old" "$dir/venv/bin" || true; } | xargs -0r sed -i "s|$old|$dir/venv|g"
  else
    "$PYTHON" -m venv "$dir/venv"
  fi
  "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$dir/app/requirements.txt"
  "$dir/venv/bin/python" -m compileall -q -j 0 "$dir/app" > /dev/null
}

remove_incomplete_releases() {
  local dir
  for dir in "$PREFIX$RELEASES"/*/; do
    if [ ! -d "$dir" ] || [ -e "$dir/.complete" ]; then continue; fi
    say "removing an interrupted build: $dir"
    run rm -rf "$dir"
  done
}

prune_releases() {  # keep the KEEP_RELEASES newest complete releases, current always included
  local current dir kept=0
  current=$(basename "$(current_release)")
  while IFS= read -r dir; do
    [ -e "$PREFIX$RELEASES/$dir/.complete" ] || continue
    kept=$((kept + 1))
    if [ "$kept" -gt "$KEEP_RELEASES" ] && [ "$dir" != "$current" ]; then
      say "removing old release $dir"
      run rm -rf "$PREFIX$RELEASES/$dir"
    fi
  done < <(find "$PREFIX$RELEASES" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null |
    LC_ALL=C sort -r)
}

switch_to() {  # switch_to RELEASE: point `current` (and the stable app/venv links) at it
  local root=$PREFIX$IMGSRV_ROOT
  link_atomically "$1" "$root/current"
  for name in app venv; do
    if [ -L "$root/$name" ] || [ ! -e "$root/$name" ]; then
      [ "$(readlink "$root/$name" 2>/dev/null)" = "current/$name" ] ||
        link_atomically "current/$name" "$root/$name"
    fi
  done
}

# adopt_legacy: an install by an older install.sh has real app/ and venv/ folders; they become
# the release to roll back to.
adopt_legacy() {
  local root=$PREFIX$IMGSRV_ROOT legacy
  [ -d "$root/app" ] && [ ! -L "$root/app" ] && [ ! -L "$root/current" ] || return 0
  legacy=releases/00000000T000000Z-legacy
  say "moving the previous installation's app and venv to $root/$legacy"
  run mkdir -p "$root/$legacy"
  run mv "$root/app" "$root/$legacy/app"
  if [ -d "$root/venv" ] && [ ! -L "$root/venv" ]; then run mv "$root/venv" "$root/$legacy/venv"; fi
  if [ "$DRY_RUN" = 0 ]; then touch "$root/$legacy/.complete"; fi
  switch_to "$legacy"
}

# manage RELEASE ARGS…: that release's manage.py, as the service user, with the installed
# settings and nothing from the caller's environment.
manage() {
  local release=$IMGSRV_ROOT/$1
  shift
  (cd / && umask 027 && runuser -u "$IMGSRV_USER" -- env -i PATH=/usr/local/bin:/usr/bin:/bin \
    HOME="$DATA_DIR" LANG=C.UTF-8 IMGSRV_ENV_FILE="$ENV_FILE" IMGSRV_DATA_DIR="$DATA_DIR" \
    "$release/venv/bin/python" "$release/app/manage.py" "$@")
}

# render_system_files RELEASE: the units, the nginx site, the logrotate rule and the `imgserv`
# command, from that release's templates. CHANGED=1 when any file changed.
render_system_files() {
  local deploy=$PREFIX$IMGSRV_ROOT/$1/app/deploy unit
  for unit in "${SERVICES[@]}" "$TARGET"; do
    render "$deploy/systemd/$unit" "$PREFIX/etc/systemd/system/$unit"
  done
  render "$deploy/nginx/camera-server.conf" "$PREFIX/etc/nginx/sites-available/imgserv"
  run mkdir -p "$PREFIX/etc/nginx/sites-enabled"
  [ "$(readlink "$PREFIX/etc/nginx/sites-enabled/imgserv" 2>/dev/null)" = ../sites-available/imgserv ] ||
    link_atomically ../sites-available/imgserv "$PREFIX/etc/nginx/sites-enabled/imgserv"
  render "$deploy/logrotate.conf" "$PREFIX/etc/logrotate.d/imgserv"
  render "$deploy/imgserv.sh" "$PREFIX$BIN_PATH"
}

units_exist() { [ -f "/etc/systemd/system/$TARGET" ] || [ -f "/etc/systemd/system/${SERVICES[0]}" ]; }

stop_services() {
  has_systemd && units_exist || return 0
  say "stopping the services"
  systemctl stop "$TARGET" "${SERVICES[@]}" 2>/dev/null || true
}

start_services() {  # enable and (re)start the target with both units
  if ! has_systemd; then
    say "systemd is not running here: start the units yourself"
    return 0
  fi
  systemctl daemon-reload
  systemctl enable --quiet "$TARGET" "${SERVICES[@]}"
  say "starting the services"
  systemctl restart "$TARGET" "${SERVICES[@]}"
  reload_nginx
}

reload_nginx() {
  command -v nginx > /dev/null || return 0
  nginx -t -q || return 1
  if has_systemd; then
    if systemctl is-active --quiet nginx; then systemctl reload nginx; else systemctl start nginx; fi
  fi
}

health_url() {
  if command -v nginx > /dev/null && has_systemd && systemctl is-active --quiet nginx; then
    echo "http://127.0.0.1:$HTTP_PORT/health"
  else
    echo "http://127.0.0.1:$WEB_PORT/health"
  fi
}

# wait_healthy: /health answers 200 (through nginx when it runs) within HEALTH_TIMEOUT seconds.
wait_healthy() {
  has_systemd || return 0
  local url deadline answer=""
  url=$(health_url)
  deadline=$((SECONDS + HEALTH_TIMEOUT))
  say "waiting for $url"
  while [ "$SECONDS" -lt "$deadline" ]; do
    if answer=$("$PYTHON" - "$url" 2>&1 <<'EOF'
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as reply:
        print(reply.status, reply.read(300).decode(errors="replace"))
except urllib.error.HTTPError as exc:
    print(exc.code, exc.read(300).decode(errors="replace"))
    sys.exit(1)
except OSError as exc:
    print(exc)
    sys.exit(1)
EOF
    ); then
      say "healthy: $answer"
      return 0
    fi
    sleep 2
  done
  warn "not healthy after ${HEALTH_TIMEOUT}s: $answer"
  return 1
}

sqlite_database() {  # the SQLite file of the installed settings; nothing for PostgreSQL
  local url
  url=$(sed -n 's/^[[:space:]]*DATABASE_URL=//p' "$ENV_FILE" 2>/dev/null | tail -1)
  case "$url" in
    "") echo "$DATA_DIR/imgserv.sqlite3" ;;
    sqlite:///*) echo "/${url#sqlite:///}" ;;
  esac
}

backup_database() {  # a consistent copy of the SQLite database before migrating; sets BACKUP
  local db
  BACKUP=
  db=$(sqlite_database)
  if [ -z "$db" ]; then
    say "DATABASE_URL is not SQLite: no backup is taken; a rollback restores the code only"
    return 0
  fi
  [ -f "$db" ] || return 0
  BACKUP=$DATA_DIR/backups/before-$(date -u +%Y%m%dT%H%M%SZ).sqlite3
  say "backing up the database to $BACKUP"
  install -d -o "$IMGSRV_USER" -g "$IMGSRV_USER" -m 0700 "$DATA_DIR/backups"
  (cd / && runuser -u "$IMGSRV_USER" -- "$PYTHON" -c '
import sqlite3, sys
source, copy = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with copy:
    source.backup(copy)
' "$db" "$BACKUP") || return 1
  # shellcheck disable=SC2012  # names are ours: before-<time>.sqlite3
  ls -1t "$DATA_DIR"/backups/before-*.sqlite3 | tail -n +4 | xargs -r rm -f
}

restore_database() {
  local db
  [ -n "${BACKUP:-}" ] || return 0
  db=$(sqlite_database)
  say "restoring the database from $BACKUP"
  # The WAL and shared-memory files belong to the database being replaced.
  rm -f "$db-wal" "$db-shm"
  runuser -u "$IMGSRV_USER" -- cp "$BACKUP" "$db.restore"
  mv -f "$db.restore" "$db"
}

# activate NEW PREVIOUS: stop, back up, migrate, collect static files, switch, start, check
# /health. On any failure, or an interrupt, everything goes back to PREVIOUS, which runs again.
activate() {
  local new=$1 previous=$2
  STAGE=stopping
  ROLLBACK_TO=$previous
  trap 'rollback interrupted; exit 130' INT TERM HUP
  stop_services
  STAGE=migrating
  # Called as `activate … || …`, so errexit is off in here: every step is checked.
  backup_database || { rollback "the database backup failed"; return 1; }
  say "migrating the database"
  manage "$new" migrate --noinput -v0 || { rollback "migrate failed"; return 1; }
  STAGE=static
  manage "$new" collectstatic --noinput -v0 || { rollback "collectstatic failed"; return 1; }
  if [ -n "${AFTER_MIGRATE:-}" ]; then
    "$AFTER_MIGRATE" "$new" || { rollback "$AFTER_MIGRATE failed"; return 1; }
  fi
  STAGE=switched
  if ! { switch_to "$new" && render_system_files "$new"; }; then
    rollback "switching to $new failed"
    return 1
  fi
  start_services || { rollback "the services did not start"; return 1; }
  wait_healthy || { rollback "/health did not answer 200"; return 1; }
  trap - INT TERM HUP
  ROLLBACK_TO=
  say "running $new"
}

rollback() {  # rollback REASON
  local reason=$1 previous=$ROLLBACK_TO
  trap '' INT TERM HUP
  if [ -z "$previous" ]; then
    warn "$reason; there is no earlier release to go back to"
    return 0
  fi
  warn "$reason: rolling back to $previous"
  stop_services
  case "$STAGE" in migrating | static | switched) restore_database ;; esac
  if [ "$STAGE" = switched ]; then
    switch_to "$previous"
    render_system_files "$previous"
  fi
  case "$STAGE" in static | switched)
    manage "$previous" collectstatic --noinput -v0 || warn "collectstatic of $previous failed" ;;
  esac
  if start_services && wait_healthy; then
    warn "rolled back: $previous is running again"
  else
    warn "rolled back to $previous, but it is not healthy either: see journalctl -u 'imgserv*'"
  fi
  trap - INT TERM HUP
  ROLLBACK_TO=
}

discard_failed() {  # discard_failed RELEASE: a release that failed goes, unless it is running
  [ "$(current_release)" != "$1" ] || return 0
  say "removing the failed release $1"
  rm -rf "$PREFIX$IMGSRV_ROOT/${1:?}"
}

# On an interrupt while building, the half-built release goes; nothing was stopped.
cleanup_build() {
  if [ -n "${BUILDING:-}" ] && [ -d "$BUILDING" ]; then
    warn "interrupted: removing the unfinished $BUILDING; the running version was not touched"
    rm -rf "$BUILDING"
  fi
}
