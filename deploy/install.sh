#!/usr/bin/env bash
# Installs imgserv on the camera server: the runtime packages, a dedicated user, the app as a
# release with its own venv, the settings, the systemd units (imgserv.target), the nginx site,
# the `imgserv` command, the admin login and the first camera.
#
#   sudo deploy/install.sh                    asks (with defaults) for the admin login, the first
#                                             camera, its location and units, and optionally the
#                                             public server, domain and e-mail
#   sudo deploy/install.sh --non-interactive  takes the answers from the environment or flags:
#       ADMIN_USER (admin), ADMIN_PASSWORD or ADMIN_PASSWORD_FILE (needed by a first install),
#       CAMERA_NAME (Camera 1), CAMERA_URL (needed by a first install: rtsp://…, http(s)://…,
#       onvif://host[:port] or demo:), CAMERA_USER, CAMERA_PASSWORD or CAMERA_PASSWORD_FILE,
#       LATITUDE and LONGITUDE (both or neither), TIME_ZONE (this machine's), UNITS (auto: US
#       units in the United States; metric; us), PUBLIC_SERVER (user@host), PUBLIC_DOMAIN and
#       PUBLIC_EMAIL (kept for setting up the public server).
#       Each is also a flag: --camera-url URL, --admin-password-file FILE, --time-zone ZONE …
#       A missing or bad value stops the run before it changes anything, naming the variable.
#   deploy/install.sh --check                 check the answers, print them (secrets masked)
#   deploy/install.sh --dry-run               say what would be done, change nothing
#   PREFIX=/tmp/root deploy/install.sh        write the files under a staging root only (no
#                                             users, pip, database or systemctl): for tests
#
# A re-run asks nothing and keeps the settings (/etc/imgserv/env), the answers
# (/etc/imgserv/install.conf), the data and every password. Settings that a newer version adds
# are appended to the env file with their defaults. Changed code becomes a new release, as with
# deploy/update.sh, and is rolled back if it does not come up healthy.
# Layout overrides: IMGSRV_USER IMGSRV_ROOT DATA_DIR ENV_FILE WEB_PORT HTTP_PORT SERVER_NAME
# NGINX_USER BIN_PATH PYTHON (see deploy/lib.sh).
set -euo pipefail
umask 022
SCRIPT_NAME=imgserv-install
DEPLOY=$(cd "$(dirname "$0")" && pwd)
SOURCE=$(dirname "$DEPLOY")
# shellcheck source=deploy/lib.sh
. "$DEPLOY/lib.sh"

# The answers kept in install.conf, and the secrets, which never are.
ANSWERS=(ADMIN_USER CAMERA_NAME CAMERA_URL CAMERA_USER LATITUDE LONGITUDE TIME_ZONE UNITS
  PUBLIC_SERVER PUBLIC_DOMAIN PUBLIC_EMAIL)
SECRETS=(ADMIN_PASSWORD CAMERA_PASSWORD ADMIN_PASSWORD_FILE CAMERA_PASSWORD_FILE)
declare -A GIVEN=()
for var in "${ANSWERS[@]}" "${SECRETS[@]}"; do
  if [ -n "${!var+x}" ]; then GIVEN[$var]=1; fi
done

MODE=auto
CHECK_ONLY=0
while [ $# -gt 0 ]; do
  arg=$1
  shift
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    --check) CHECK_ONLY=1 ;;
    --interactive) MODE=interactive ;;
    --non-interactive | --yes) MODE="batch" ;;
    -h | --help) sed -n '2,29p' "$0"; exit 0 ;;
    --*)
      name=${arg#--}
      value=
      if [[ $name == *=* ]]; then
        value=${name#*=}
        name=${name%%=*}
      elif [ $# -gt 0 ]; then
        value=$1
        shift
      else
        die 2 "$arg needs a value"
      fi
      var=$(echo "$name" | tr 'a-z-' 'A-Z_')
      case " ${ANSWERS[*]} ADMIN_PASSWORD_FILE CAMERA_PASSWORD_FILE " in
        *" $var "*) printf -v "$var" '%s' "$value"; GIVEN[$var]=1 ;;
        *) die 2 "unknown option: $arg (see --help)" ;;
      esac
      ;;
    *) die 2 "unknown argument: $arg (see --help)" ;;
  esac
done

load_layout
if [ "$MODE" = auto ]; then
  MODE="batch"
  if [ -t 0 ] && [ -t 1 ] && system && [ "$CHECK_ONLY" = 0 ]; then MODE=interactive; fi
fi
FIRST=1
if installed_before; then FIRST=0; fi

# --- Answers: what was given, else what the first install was told, else the default ----------

system_time_zone() {
  local zone
  zone=$(cat /etc/timezone 2>/dev/null || true)
  if [ -z "$zone" ] && [ -L /etc/localtime ]; then
    zone=$(readlink /etc/localtime | sed 's|.*/zoneinfo/||')
  fi
  echo "${zone:-UTC}"
}

resolve() {  # resolve VAR DEFAULT
  local var=$1 default=$2
  if [ -n "${GIVEN[$var]:-}" ]; then return; fi
  printf -v "$var" '%s' "${SAVED[$var]-$default}"
}

# Each check prints why a value is refused, and fails; it is silent for a good one.
check_admin_user() {
  [[ $1 =~ ^[A-Za-z0-9@.+_-]{1,150}$ ]] ||
    echo "a user name is 1–150 letters, digits and @ . + - _"
}
check_password() {
  [ ${#1} -ge 8 ] || { echo "at least 8 characters, please"; return; }
  [[ $1 =~ [[:cntrl:]] ]] && echo "no control characters, please"
  return 0
}
check_camera_password() {
  [[ $1 =~ [[:cntrl:]] ]] && echo "no control characters, please"
  return 0
}
check_camera_name() {
  [[ $1 =~ [^[:space:]] ]] || { echo "a name is needed"; return; }
  [ ${#1} -le 100 ] || { echo "at most 100 characters"; return; }
  [[ $1 =~ [[:cntrl:]] ]] && echo "no control characters, please"
  return 0
}
check_camera_url() {
  local url=$1 netloc
  case "$url" in
    demo:) return ;;
    rtsp://* | rtsps://* | http://* | https://* | onvif://*) ;;
    *) echo "use rtsp://…, http(s)://… (a JPEG snapshot), onvif://host[:port] or demo:"; return ;;
  esac
  netloc=${url#*://}
  netloc=${netloc%%/*}
  if [[ $netloc == *@* ]]; then
    echo "put the user name and password in their own answers (CAMERA_USER, CAMERA_PASSWORD)," \
      "not in the URL"
  elif ! [[ $netloc =~ ^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$ ]]; then
    echo "'$netloc' is not a host name or address (with an optional :port)"
  elif [[ $url =~ [[:space:][:cntrl:]] ]]; then
    echo "no spaces in a URL"
  fi
  return 0
}
check_camera_user() {
  [[ $1 =~ ^[^[:space:][:cntrl:]:@]{0,100}$ ]] || echo "no spaces, ':' or '@', at most 100"
  return 0
}
check_number() {  # check_number VALUE LOW HIGH
  [[ $1 =~ ^-?[0-9]{1,3}(\.[0-9]+)?$ ]] && awk -v v="$1" -v lo="$2" -v hi="$3" \
    'BEGIN { exit !(v >= lo && v <= hi) }' || echo "a number from $2 to $3, e.g. 39.7392"
  return 0
}
check_latitude() { [ -z "$1" ] || check_number "$1" -90 90; }
check_longitude() { [ -z "$1" ] || check_number "$1" -180 180; }
check_time_zone() {
  if ! [[ $1 =~ ^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$ ]] ||
    { [ -d /usr/share/zoneinfo ] && [ ! -f "/usr/share/zoneinfo/$1" ]; }; then
    echo "'$1' is not a known time zone, e.g. America/Denver or Europe/Oslo"
  fi
  return 0
}
check_units() {
  [[ $1 =~ ^(auto|metric|us)$ ]] ||
    echo "auto (from the location: US units in the United States), metric (°C, cm) or us (°F, in)"
}
check_public_server() {
  [ -z "$1" ] || [[ $1 =~ ^[a-z_][a-z0-9_-]*@[A-Za-z0-9.-]+$ ]] ||
    echo "user@host, e.g. publish@203.0.113.7 or publish@cams.example.org"
}
check_public_domain() {
  [ -z "$1" ] || [[ $1 =~ ^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,}$ ]] ||
    echo "a domain name, e.g. cams.example.org"
}
check_public_email() {
  [ -z "$1" ] || [[ $1 =~ ^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$ ]] ||
    echo "an e-mail address, e.g. ops@example.org"
}

ask() {  # ask VAR QUESTION CHECK: re-asks until CHECK accepts; the default is VAR's value
  local var=$1 question=$2 check=$3 answer error
  while true; do
    if [ -n "${!var}" ]; then printf '%s [%s]: ' "$question" "${!var}" >&2
    else printf '%s: ' "$question" >&2; fi
    IFS= read -r answer || die 1 "the input ended before an answer to: $question"
    answer=${answer:-${!var}}
    error=$("$check" "$answer")
    if [ -z "$error" ]; then printf -v "$var" '%s' "$answer"; return; fi
    echo "  Not accepted: $error." >&2
  done
}

ask_secret() {  # ask_secret VAR QUESTION CHECK: hidden, typed twice; empty keeps VAR as it is
  local var=$1 question=$2 check=$3 answer again error
  while true; do
    printf '%s: ' "$question" >&2
    IFS= read -r -s answer || die 1 "the input ended before an answer to: $question"
    echo >&2
    if [ -z "$answer" ]; then return; fi
    error=$("$check" "$answer")
    if [ -n "$error" ]; then echo "  Not accepted: $error." >&2; continue; fi
    printf 'Again, to be sure: ' >&2
    IFS= read -r -s again || die 1 "the input ended"
    echo >&2
    if [ "$answer" = "$again" ]; then printf -v "$var" '%s' "$answer"; return; fi
    echo "  The two did not match; once more." >&2
  done
}

read_secret_file() {  # read_secret_file VAR FILE_VAR
  local var=$1 file_var=$2 file
  file=${!file_var:-}
  [ -n "$file" ] || return 0
  if [ ! -r "$file" ]; then ERRORS+=("$file_var: cannot read '$file'"); return; fi
  printf -v "$var" '%s' "$(head -n 1 "$file")"
}

if [ "$FIRST" = 0 ]; then
  say "installed before: keeping the answers in $CONF_FILE (change the camera and the admin" \
    "in /admin/ or with the imgserv command, the settings in $ENV_FILE)"
  # Only the public server's answers may change on a re-run; the rest were used already.
  for var in ADMIN_USER CAMERA_NAME CAMERA_URL CAMERA_USER LATITUDE LONGITUDE TIME_ZONE UNITS \
    ADMIN_PASSWORD CAMERA_PASSWORD ADMIN_PASSWORD_FILE CAMERA_PASSWORD_FILE; do
    if [ -n "${GIVEN[$var]:-}" ]; then
      say "$var is ignored on a re-run: the first install used it already"
      unset "GIVEN[$var]"
      printf -v "$var" '%s' ""
    fi
  done
fi
resolve "ADMIN_USER" admin
resolve "CAMERA_NAME" "Camera 1"
resolve "CAMERA_URL" ""
resolve "CAMERA_USER" ""
resolve "LATITUDE" ""
resolve "LONGITUDE" ""
resolve "TIME_ZONE" "$(system_time_zone)"
resolve "UNITS" auto
resolve "PUBLIC_SERVER" ""
resolve "PUBLIC_DOMAIN" ""
resolve "PUBLIC_EMAIL" ""
ADMIN_PASSWORD=${ADMIN_PASSWORD:-}
CAMERA_PASSWORD=${CAMERA_PASSWORD:-}
ERRORS=()
read_secret_file ADMIN_PASSWORD ADMIN_PASSWORD_FILE
read_secret_file CAMERA_PASSWORD CAMERA_PASSWORD_FILE
GENERATED_PASSWORD=0

interview() {
  echo "imgserv setup. Press Enter to take the [default]." >&2
  echo >&2
  ask ADMIN_USER "Admin user name" check_admin_user
  ask_secret ADMIN_PASSWORD "Admin password (8 characters or more; empty: generate one)" \
    check_password
  echo >&2
  ask CAMERA_NAME "First camera's name" check_camera_name
  CAMERA_URL=${CAMERA_URL:-demo:}
  ask CAMERA_URL "Its URL (rtsp://…, http(s)://… snapshot, onvif://host[:port], demo:)" \
    check_camera_url
  if [ "$CAMERA_URL" != demo: ]; then
    ask CAMERA_USER "Camera user name (empty: none)" check_camera_user
    if [ -n "$CAMERA_USER" ]; then
      ask_secret CAMERA_PASSWORD "Camera password" check_camera_password
    fi
  fi
  echo >&2
  ask LATITUDE "Camera latitude, for the weather (e.g. 39.7392; empty: none)" check_latitude
  if [ -n "$LATITUDE" ]; then
    while true; do
      ask LONGITUDE "Camera longitude (e.g. -104.9903)" check_longitude
      [ -z "$LONGITUDE" ] || break
      echo "  Not accepted: a longitude goes with the latitude." >&2
    done
  else
    LONGITUDE=
  fi
  ask TIME_ZONE "Camera time zone" check_time_zone
  ask UNITS "Units: auto (from the location), metric (°C, cm) or us (°F, in)" check_units
  echo >&2
  echo "Optional: a public server that gets the camera page (set up later with its own step)." >&2
  ask PUBLIC_SERVER "Public server, user@host (empty: none)" check_public_server
  if [ -n "$PUBLIC_SERVER" ]; then
    ask PUBLIC_DOMAIN "Its domain name" check_public_domain
    ask PUBLIC_EMAIL "E-mail for Let's Encrypt" check_public_email
  fi
  summary >&2
  local go=yes
  ask go "Install with these settings? (yes/no)" check_yes_no
  if [[ $go =~ ^[Nn] ]]; then die 1 "nothing was changed"; fi
}
check_yes_no() { [[ $1 =~ ^([Yy](es)?|[Nn]o?)$ ]] || echo "yes or no"; }

summary() {
  echo
  local password="to be generated"
  if [ -n "$ADMIN_PASSWORD" ]; then password="set"; fi
  echo "  admin user      $ADMIN_USER (password $password)"
  echo "  first camera    $CAMERA_NAME: $CAMERA_URL${CAMERA_USER:+ (user $CAMERA_USER${CAMERA_PASSWORD:+, password set})}"
  echo "  location        ${LATITUDE:-?}, ${LONGITUDE:-?}; $TIME_ZONE; $UNITS"
  echo "  public server   ${PUBLIC_SERVER:-none}${PUBLIC_DOMAIN:+, https://$PUBLIC_DOMAIN/}${PUBLIC_EMAIL:+, $PUBLIC_EMAIL}"
  echo
}

if [ "$FIRST" = 1 ] && [ "$MODE" = interactive ]; then
  interview
  # Made once Python is sure to be there (after the packages).
  if [ -z "$ADMIN_PASSWORD" ]; then GENERATED_PASSWORD=1; fi
fi

# Validate everything (the interview did already), naming the variable of each bad value.
for pair in ADMIN_USER:check_admin_user CAMERA_NAME:check_camera_name \
  CAMERA_USER:check_camera_user LATITUDE:check_latitude LONGITUDE:check_longitude \
  TIME_ZONE:check_time_zone UNITS:check_units PUBLIC_SERVER:check_public_server \
  PUBLIC_DOMAIN:check_public_domain PUBLIC_EMAIL:check_public_email; do
  var=${pair%%:*}
  error=$("${pair#*:}" "${!var}")
  if [ -n "$error" ]; then ERRORS+=("$var: $error (given: '${!var}')"); fi
done
if [ -n "$CAMERA_URL" ]; then
  error=$(check_camera_url "$CAMERA_URL")
  # Never echo a URL back that may hold a password.
  if [ -n "$error" ]; then ERRORS+=("CAMERA_URL: $error"); fi
fi
if [ -n "$ADMIN_PASSWORD" ] && [ "$GENERATED_PASSWORD" = 0 ]; then
  error=$(check_password "$ADMIN_PASSWORD")
  if [ -n "$error" ]; then ERRORS+=("ADMIN_PASSWORD: $error"); fi
fi
if [ -n "$LATITUDE" ] && [ -z "$LONGITUDE" ]; then ERRORS+=("LONGITUDE: needed with LATITUDE"); fi
if [ -z "$LATITUDE" ] && [ -n "$LONGITUDE" ]; then ERRORS+=("LATITUDE: needed with LONGITUDE"); fi
if [ -n "$PUBLIC_SERVER" ] || [ -n "$PUBLIC_DOMAIN" ]; then
  [ -n "$PUBLIC_DOMAIN" ] || ERRORS+=("PUBLIC_DOMAIN: needed with PUBLIC_SERVER")
  [ -n "$PUBLIC_EMAIL" ] || ERRORS+=("PUBLIC_EMAIL: needed with PUBLIC_DOMAIN, for Let's Encrypt")
fi
# A first real install makes the admin login and the first camera: those need their values.
if [ "$FIRST" = 1 ] && { system || [ "$CHECK_ONLY" = 1 ]; }; then
  [ -n "$ADMIN_PASSWORD" ] || [ "$GENERATED_PASSWORD" = 1 ] ||
    ERRORS+=("ADMIN_PASSWORD: needed by a first install (or ADMIN_PASSWORD_FILE)")
  [ -n "$CAMERA_URL" ] ||
    ERRORS+=("CAMERA_URL: needed by a first install (rtsp://…, http(s)://…, onvif://… or demo:)")
fi
if [ ${#ERRORS[@]} -gt 0 ]; then
  for error in "${ERRORS[@]}"; do warn "$error"; done
  die 2 "nothing was changed"
fi
if command -v "$PYTHON" > /dev/null; then python_version_ok || exit 1; fi

if [ "$CHECK_ONLY" = 1 ]; then
  summary
  say "the answers are good"
  exit 0
fi
if system && [ "$(id -u)" -ne 0 ]; then
  die 1 "run as root (sudo), or with --dry-run, --check or PREFIX=… to stage the files"
fi

# --- The system: packages, user, folders, settings ---------------------------------------------

if system; then
  "$DEPLOY/system-packages.sh" "$DEPLOY/runtime-packages.txt"
  python_version_ok || exit 1
  if [ "$GENERATED_PASSWORD" = 1 ]; then
    ADMIN_PASSWORD=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(12))')
  fi
fi

ensure_user() {
  if id "$IMGSRV_USER" > /dev/null 2>&1; then return; fi
  say "creating system user $IMGSRV_USER"
  run useradd --system --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin \
    "$IMGSRV_USER"
}

data_dirs() {
  # The data folder is the service's alone; nginx may read media and static files only, via
  # their setgid group (new files inherit it, and the units' UMask keeps them group-readable).
  run mkdir -p "$PREFIX$DATA_DIR/media" "$PREFIX$DATA_DIR/static" "$PREFIX$DATA_DIR/publishing" \
    "$PREFIX$DATA_DIR/log"
  if system; then
    run chown "$IMGSRV_USER:$IMGSRV_USER" "$DATA_DIR" "$DATA_DIR/publishing" "$DATA_DIR/log"
    run chmod 0711 "$DATA_DIR"
    run chmod 0700 "$DATA_DIR/publishing"
    run chmod 0750 "$DATA_DIR/log"
    run chown "$IMGSRV_USER:$NGINX_USER" "$DATA_DIR/media" "$DATA_DIR/static"
    run chmod 2750 "$DATA_DIR/media" "$DATA_DIR/static"
  fi
}

setting() {  # setting FILE KEY VALUE: append KEY=VALUE unless the file already sets KEY
  local file=$1 key=$2 value=$3
  if grep -Eq "^[[:space:]]*#?[[:space:]]*$key=" "$file" 2>/dev/null; then return; fi
  if [ "$DRY_RUN" = 1 ]; then say "would add $key to $file"; return; fi
  printf '%s=%s\n' "$key" "$value" >> "$file"
}

allowed_hosts() {  # this machine's names and LAN addresses: the site is opened by either
  local hosts=() name
  for name in "$(hostname -f 2>/dev/null || true)" "$(hostname 2>/dev/null || true)"; do
    [ -n "$name" ] && [[ " ${hosts[*]} " != *" $name "* ]] && hosts+=("$name")
  done
  # shellcheck disable=SC2207  # addresses have no spaces
  hosts+=($(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v ':' || true))
  hosts+=(localhost 127.0.0.1)
  (IFS=,; echo "${hosts[*]}")
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
  setting "$file" SECRET_KEY "$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')"
  setting "$file" ALLOWED_HOSTS "$(allowed_hosts)"
  setting "$file" DEBUG false
  setting "$file" TIME_ZONE "$TIME_ZONE"
  # Every camera follows it unless its own page says otherwise.
  setting "$file" UNITS "$UNITS"
  # nginx (deploy/nginx/camera-server.conf) sends the media files the web process picks.
  setting "$file" MEDIA_ACCEL_PREFIX /internal-media/
  # Off by default (journald has the log); this is where it goes when turned on.
  setting "$file" "# LOG_FILE" "$DATA_DIR/log/imgserv.log"
  if system; then
    run chown "root:$IMGSRV_USER" "$file"
    run chmod 0640 "$file"
  fi
}

# Debian's stock site answers every request on port 80 that names no server of ours (the LAN
# address, say): it has to go for ours to be the one that answers.
stock_nginx_site() {
  local link=$PREFIX/etc/nginx/sites-enabled/default
  NGINX_DEFAULT_DISABLED=${SAVED[NGINX_DEFAULT_DISABLED]:-0}
  [ "$HTTP_PORT" = 80 ] && [ -L "$link" ] || return 0
  [ "$(readlink "$link")" = /etc/nginx/sites-available/default ] ||
    [ "$(readlink "$link")" = ../sites-available/default ] || return 0
  say "disabling Debian's stock nginx site (uninstall.sh puts it back)"
  run rm -f "$link"
  NGINX_DEFAULT_DISABLED=1
}

if system; then ensure_user; fi
data_dirs
env_file
stock_nginx_site

# --- The admin login and the first camera (a first install only) ----------------------------

admin_login() {  # admin_login RELEASE
  # The password goes in on standard input: never in an argument or the environment.
  printf '%s\n%s\n' "$ADMIN_USER" "$ADMIN_PASSWORD" | manage "$1" shell -v 0 -c '
import sys
from django.contrib.auth import get_user_model
name, password = sys.stdin.read().split("\n")[:2]
User = get_user_model()
if User.objects.filter(username=name).exists():
    print(f"The admin user {name} exists already; its password is unchanged.")
else:
    User.objects.create_superuser(name, password=password)
    print(f"Created the admin user {name}.")
'
}

camera_exists() {  # camera_exists RELEASE
  printf '%s' "$CAMERA_NAME" | manage "$1" shell -v 0 -c '
import sys
from cameras.models import Camera
sys.exit(0 if Camera.objects.filter(name=sys.stdin.read()).exists() else 3)
'
}

first_camera() {  # first_camera RELEASE: made before the worker starts, so it is on its slots
  local release=$1 args=(camera add "$CAMERA_NAME" --url "$CAMERA_URL" --time-zone "$TIME_ZONE")
  local secret_dir="" status=0
  if camera_exists "$release"; then
    say "the camera $CAMERA_NAME exists already; left as it is"
    return
  fi
  if [ -n "$CAMERA_USER" ]; then args+=(--username "$CAMERA_USER"); fi
  if [ -n "$CAMERA_PASSWORD" ]; then
    # `camera add` reads the password from a file the service user can read; it goes at once.
    secret_dir=$(mktemp -d)
    printf '%s\n' "$CAMERA_PASSWORD" > "$secret_dir/password"
    chown -R "$IMGSRV_USER" "$secret_dir"
    args+=(--password-file "$secret_dir/password")
  fi
  if [ -n "$LATITUDE" ]; then args+=(--latitude "$LATITUDE" --longitude "$LONGITUDE"); fi
  manage "$release" "${args[@]}" || status=$?
  if [ -n "$secret_dir" ]; then rm -rf "$secret_dir"; fi
  return "$status"
}

first_run() {  # first_run RELEASE: after its migrations, before its services start
  admin_login "$1"
  first_camera "$1"
}

# --- The code: a release, switched to only once it is healthy ----------------------------------

BUILDING=
trap 'cleanup_build; exit 130' INT TERM HUP
adopt_legacy
PREVIOUS=$(current_release)
build_release "$SOURCE"
trap - INT TERM HUP
if system && [ "$FIRST" = 1 ]; then AFTER_MIGRATE=first_run; fi
if [ -n "$NEW" ]; then
  if system; then
    activate "$NEW" "$PREVIOUS" || { discard_failed "$NEW"; exit 1; }
  else
    switch_to "$NEW"
    CHANGED=0
    render_system_files "$NEW"
  fi
  prune_releases
else
  CHANGED=0
  render_system_files "$PREVIOUS"
  if system && [ "$FIRST" = 1 ]; then first_run "$PREVIOUS"; fi
  if system; then
    if [ "$CHANGED" = 1 ]; then start_services; wait_healthy || exit 1
    elif has_systemd; then
      systemctl enable --quiet "$TARGET" "${SERVICES[@]}"
      systemctl start "$TARGET"
      reload_nginx
    fi
  fi
fi

# --- What the installation remembers (no secrets) ----------------------------------------------

save_conf() {
  local file=$PREFIX$CONF_FILE var
  [ "$DRY_RUN" = 0 ] || return 0
  mkdir -p "$(dirname "$file")"
  {
    echo "# Written by deploy/install.sh: the layout and the answers of the first install."
    echo "# update.sh and uninstall.sh read it. No secrets here: those are in $ENV_FILE."
    for var in "${LAYOUT_VARS[@]}" "${ANSWERS[@]}" NGINX_DEFAULT_DISABLED; do
      printf '%s=%q\n' "$var" "${!var}"
    done
  } > "$file.tmp"
  if cmp -s "$file.tmp" "$file"; then rm -f "$file.tmp"; else mv -f "$file.tmp" "$file"; fi
}
save_conf

if ! system && [ "$FIRST" = 1 ] && [ -n "$CAMERA_URL" ]; then
  say "would create the admin user $ADMIN_USER and the camera $CAMERA_NAME"
fi
say "done"
if system && [ "$FIRST" = 1 ]; then
  echo
  host=$(hostname -I 2>/dev/null | awk '{print $1}')
  port=""
  if [ "$HTTP_PORT" != 80 ]; then port=":$HTTP_PORT"; fi
  echo "imgserv is running: http://${host:-localhost}$port/   admin: http://${host:-localhost}$port/admin/"
  if [ "$GENERATED_PASSWORD" = 1 ]; then
    echo "Admin user '$ADMIN_USER', password: $ADMIN_PASSWORD  (shown only this once)"
  fi
  echo "Manage it with: sudo imgserv camera list | doctor | changepassword $ADMIN_USER"
  echo "Its state and log: imgserv status; imgserv logs -f (journalctl -u 'imgserv*')"
fi
