#!/usr/bin/env bash
# Sets up, or updates, the public VPS that serves imgserv's published bundle. Runs on the VPS
# as root; `manage.py publish setup-vps NAME` (and `update-vps`) on the camera server copies it
# there with its files and runs it for you.
#   * a publish user that owns nothing but the bundle folder, whose one SSH key may only run
#     the publish gate (deploy/publish-gate.py): rsync into releases/ and the symlink switch;
#   * a check that DOMAIN resolves to this server, before asking for a certificate;
#   * a Let's Encrypt certificate from certbot, renewed automatically (certbot.timer, or the
#     certbot package's cron job without systemd) with an nginx reload after each renewal;
#   * nginx with deploy/nginx/vps-bundle.conf (HTTPS, HTTP->HTTPS redirect, HSTS, /health);
#   * ports 80 and 443 opened in ufw or firewalld, when one of them is active.
#
#   vps-setup.sh [--staging] DOMAIN EMAIL [PUBLIC_KEY_FILE]   set up (safe to re-run)
#   vps-setup.sh --update [PUBLIC_KEY_FILE]     new gate and nginx site, same certificate
#   vps-setup.sh --dry-run DOMAIN EMAIL [...]   say what would be done, change nothing
#
# PUBLIC_KEY_FILE is the .pub that `manage.py publish keygen NAME` prints. Settings, from the
# environment or /etc/default/imgserv-vps (which this script keeps, so --update finds them):
#   BUNDLE_DIR (/srv/imgserv/bundle)  PUBLISH_USER (imgserv-publish)  ACME_ROOT
#   ACME_SERVER (Let's Encrypt)  ACME_CA_BUNDLE (the CA of a private ACME server)
#   SERVER_ADDRESSES  addresses the camera server reaches this VPS at (behind NAT: public)
# Exit codes: 2 bad input, 3 DOMAIN does not point at this server, 1 anything else.
set -euo pipefail

SETTINGS=${SETTINGS:-/etc/default/imgserv-vps}
KEYS="DOMAIN EMAIL BUNDLE_DIR PUBLISH_USER ACME_ROOT ACME_SERVER ACME_CA_BUNDLE"
GATE=/usr/local/lib/imgserv/publish-gate
SITE=/etc/nginx/sites-available/imgserv-bundle
ENABLED=/etc/nginx/sites-enabled/imgserv-bundle
LETSENCRYPT=/etc/letsencrypt
PACKAGES="nginx certbot rsync python3 curl"
RELOAD_HOOK="systemctl reload nginx 2>/dev/null || nginx -s reload"
SOURCE=$(cd "$(dirname "$0")/.." && pwd)
USAGE="usage: vps-setup.sh [--dry-run] [--staging] DOMAIN EMAIL [PUBLIC_KEY_FILE] | --update [PUBLIC_KEY_FILE]"

say() { echo "vps-setup: $*"; }
die() { local code=$1; shift; echo "vps-setup: $*" >&2; exit "$code"; }

DRY_RUN=0 STAGING=0 MODE=setup
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --staging) STAGING=1 ;;
    --update) MODE=update ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    -*) die 2 "unknown option $1; $USAGE" ;;
    *) break ;;
  esac
  shift
done

# The environment wins over the settings file; the file over the defaults.
load_settings() {
  [ -r "$SETTINGS" ] || return 0
  local key value
  while IFS='=' read -r key value; do
    case " $KEYS " in *" $key "*) ;; *) continue ;; esac
    [ -n "${!key:-}" ] || printf -v "$key" '%s' "$value"
  done < "$SETTINGS"
}
load_settings
if [ "$MODE" = setup ]; then
  DOMAIN=${1:-} EMAIL=${2:-} PUBLIC_KEY_FILE=${3:-}
  if [ -z "$DOMAIN" ] || [ -z "$EMAIL" ]; then die 2 "$USAGE"; fi
else
  PUBLIC_KEY_FILE=${1:-}
  [ -n "${DOMAIN:-}" ] || die 2 "no DOMAIN in $SETTINGS: run the setup first ($USAGE)"
fi
BUNDLE_DIR=${BUNDLE_DIR:-/srv/imgserv/bundle}
PUBLISH_USER=${PUBLISH_USER:-imgserv-publish}
ACME_ROOT=${ACME_ROOT:-/var/www/letsencrypt}
ACME_SERVER=${ACME_SERVER:-}
ACME_CA_BUNDLE=${ACME_CA_BUNDLE:-}
SERVER_ADDRESSES=${SERVER_ADDRESSES:-}
EMAIL=${EMAIL:-}
LIVE=$LETSENCRYPT/live/$DOMAIN

case "$DOMAIN" in
  *[!A-Za-z0-9.-]*|.*|*..*|-*|'') die 2 "not a domain name: $DOMAIN" ;;
esac
case "$EMAIL" in
  *[!A-Za-z0-9.@_+-]*|*@*@*) die 2 "not an e-mail address: $EMAIL" ;;
esac
case "$BUNDLE_DIR" in
  /*) case "$BUNDLE_DIR" in *[!A-Za-z0-9/._-]*|*/../*|*/..) die 2 "bad BUNDLE_DIR: $BUNDLE_DIR" ;; esac ;;
  *) die 2 "BUNDLE_DIR must be an absolute path: $BUNDLE_DIR" ;;
esac
[[ "$PUBLISH_USER" =~ ^[a-z_][a-z0-9_.-]{0,31}$ ]] || die 2 "bad PUBLISH_USER: $PUBLISH_USER"
if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" -ne 0 ]; then die 1 "run as root (or through sudo)"; fi

run() { if [ "$DRY_RUN" = 1 ]; then say "would run: $*"; else "$@"; fi; }
systemd() { [ -d /run/systemd/system ]; }

packages() {
  local missing=() pkg
  for pkg in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then say "packages: all there ($PACKAGES)"; return; fi
  say "installing ${missing[*]}"
  run apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
}

gate_and_key() {
  # A real shell is needed: sshd runs the forced command through it.
  id "$PUBLISH_USER" >/dev/null 2>&1 ||
    run useradd --system --create-home --home-dir "/var/lib/$PUBLISH_USER" --shell /bin/sh \
      "$PUBLISH_USER"
  # '*': no password can match, but not "locked" ('!'), which sshd refuses even for keys
  # when it runs without PAM.
  run usermod -p '*' "$PUBLISH_USER"
  # Everything above the bundle folder is root's; the user owns the folder and nothing else.
  run install -d -o root -g root -m 0755 "$(dirname "$BUNDLE_DIR")"
  run install -d -o "$PUBLISH_USER" -g "$PUBLISH_USER" -m 0755 "$BUNDLE_DIR"
  run install -d -o root -g root -m 0755 "$(dirname "$GATE")"
  run install -o root -g root -m 0755 "$SOURCE/deploy/publish-gate.py" "$GATE"
  say "publish gate installed at $GATE"
  [ -n "$PUBLIC_KEY_FILE" ] || { say "no public key given: the authorized key is kept as it was"; return; }
  local home key
  home=$(getent passwd "$PUBLISH_USER" | cut -d: -f6) || home=/var/lib/$PUBLISH_USER
  [ -n "$home" ] || home=/var/lib/$PUBLISH_USER
  key=$(head -n1 "$PUBLIC_KEY_FILE")
  case "$key" in ssh-ed25519\ *|ssh-rsa\ *|ecdsa-*) ;; *) die 2 "not a public key: $PUBLIC_KEY_FILE" ;; esac
  # root owns .ssh and authorized_keys, so the key cannot lift its own restrictions.
  run install -d -o root -g root -m 0755 "$home/.ssh"
  if [ "$DRY_RUN" = 0 ]; then
    printf 'command="%s %s",restrict %s\n' "$GATE" "$BUNDLE_DIR" "$key" > "$home/.ssh/authorized_keys.tmp"
    chmod 0644 "$home/.ssh/authorized_keys.tmp"
    mv -f "$home/.ssh/authorized_keys.tmp" "$home/.ssh/authorized_keys"
  fi
  say "authorized the publish key for $BUNDLE_DIR only (user $PUBLISH_USER)"
}

server_addresses() {
  # This server's addresses: its interfaces (not loopback), the one the camera server's SSH
  # connection arrived at, and the ones the camera server resolved (the public one behind NAT).
  local connected=${SSH_CONNECTION:-}
  connected=$(echo "$connected" | awk '{print $3}')
  {
    ip -o addr show 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | grep -vE '^(127\.|::1$|fe80:)' || true
    [ -z "$connected" ] || echo "$connected"
    tr ',' '\n' <<< "$SERVER_ADDRESSES"
  } | sed '/^$/d' | sort -u
}

words() { tr '\n' ' ' <<< "$1" | sed 's/ *$//'; }
loopback() { [[ "$1" =~ ^127\. || "$1" = ::1 ]]; }

dns_check() {
  if [ "$DRY_RUN" = 1 ]; then say "would check that $DOMAIN resolves to this server"; return; fi
  local resolved ours address via_loopback=0
  ours=$(server_addresses)
  resolved=$(getent ahosts "$DOMAIN" | awk '{print $1}' | sort -u || true)
  # Reached over loopback (a test, or a proxy on this machine): loopback counts as ours.
  while read -r address; do loopback "$address" && via_loopback=1; done <<< "$ours"
  if [ -z "$resolved" ]; then
    die 3 "$DOMAIN does not resolve: give it a DNS A (and AAAA) record for this server ($(words "$ours")), wait for it to spread, and run again. Stopped before certbot, which would fail."
  fi
  while read -r address; do
    if grep -qxF "$address" <<< "$ours"; then continue; fi
    if [ "$via_loopback" = 1 ] && loopback "$address"; then continue; fi
    die 3 "$DOMAIN resolves to $address, which is not this server ($(words "$ours")). Point its DNS record here (or check for a stale AAAA record), wait for it to spread, and run again. Stopped before certbot, which would fail."
  done <<< "$resolved"
  say "DNS: $DOMAIN resolves to this server ($(words "$resolved"))"
}

nginx_running() { [ -f /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; }

reload_nginx() {
  if [ "$DRY_RUN" = 1 ]; then say "would reload nginx"; return; fi
  if systemd; then
    systemctl enable --quiet nginx
    systemctl reload-or-restart nginx
  elif nginx_running; then
    nginx -s reload
  else
    nginx
  fi
}

wait_for_nginx() {  # wait_for_nginx FILE: until nginx serves the webroot's FILE for DOMAIN
  local name=$1
  for _ in $(seq 100); do
    if curl -fsS -o /dev/null -H "Host: $DOMAIN" "http://127.0.0.1/.well-known/acme-challenge/$name" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  die 1 "nginx does not serve $ACME_ROOT for $DOMAIN on port 80 (see /var/log/nginx/error.log)"
}

bootstrap_http() {
  # Before the first certificate exists the HTTPS server cannot load: serve only the ACME
  # challenge over HTTP until certbot has one.
  if [ "$DRY_RUN" = 1 ]; then say "would serve $ACME_ROOT over HTTP for the first certificate"; return; fi
  printf 'server {\n  listen 80;\n  listen [::]:80;\n  server_name %s;\n  location ^~ /.well-known/acme-challenge/ { root %s; }\n  location / { return 404; }\n}\n' \
    "$DOMAIN" "$ACME_ROOT" > "$SITE"
  ln -sfn "$SITE" "$ENABLED"
  nginx -t -q
  reload_nginx
  local probe=imgserv-probe-$$
  install -d -m 0755 "$ACME_ROOT/.well-known/acme-challenge"
  echo ok > "$ACME_ROOT/.well-known/acme-challenge/$probe"
  wait_for_nginx "$probe"
  rm -f "$ACME_ROOT/.well-known/acme-challenge/$probe"
}

certbot_run() {
  local args=(--non-interactive)
  [ -z "$ACME_SERVER" ] || args+=(--server "$ACME_SERVER")
  [ "$STAGING" = 0 ] || args+=(--staging)
  if [ -n "$ACME_CA_BUNDLE" ]; then
    run env REQUESTS_CA_BUNDLE="$ACME_CA_BUNDLE" certbot "$@" "${args[@]}"
  else
    run certbot "$@" "${args[@]}"
  fi
}

certificate() {
  run install -d -m 0755 "$ACME_ROOT"
  if [ -f "$LIVE/fullchain.pem" ]; then
    say "certificate for $DOMAIN: already there (renewed automatically)"
    return
  fi
  bootstrap_http
  local ca=${ACME_SERVER:-"Let's Encrypt"}
  [ "$STAGING" = 0 ] || ca="$ca (staging)"
  say "asking $ca for a certificate for $DOMAIN"
  certbot_run certonly --webroot -w "$ACME_ROOT" -d "$DOMAIN" --email "$EMAIL" --agree-tos \
    --deploy-hook "$RELOAD_HOOK"
}

site() {
  # A new site that nginx refuses never replaces the one that works.
  if [ "$DRY_RUN" = 1 ]; then say "would write $SITE and reload nginx"; return; fi
  [ -f "$LIVE/fullchain.pem" ] || die 1 "no certificate for $DOMAIN in $LIVE: run the setup (not --update)"
  local previous=""
  if [ -f "$SITE" ]; then previous=$(mktemp) && cp "$SITE" "$previous"; fi
  sed -e "s|@SERVER_NAME@|$DOMAIN|g" -e "s|@HTTP_PORT@|80|g" -e "s|@HTTPS_PORT@|443|g" \
      -e "s|@BUNDLE_DIR@|$BUNDLE_DIR|g" -e "s|@ACME_ROOT@|$ACME_ROOT|g" \
      -e "s|@SSL_CERTIFICATE@|$LIVE/fullchain.pem|g" \
      -e "s|@SSL_CERTIFICATE_KEY@|$LIVE/privkey.pem|g" \
      "$SOURCE/deploy/nginx/vps-bundle.conf" > "$SITE.new"
  mv -f "$SITE.new" "$SITE"
  ln -sfn "$SITE" "$ENABLED"
  if ! nginx -t -q; then
    if [ -n "$previous" ]; then cp "$previous" "$SITE"; else rm -f "$SITE" "$ENABLED"; fi
    die 1 "nginx refused the new site; the previous one was put back"
  fi
  [ -z "$previous" ] || rm -f "$previous"
  reload_nginx
  say "nginx site $SITE: https://$DOMAIN/ serves $BUNDLE_DIR/current"
}

renewal() {
  # Debian's certbot package ships certbot.timer (twice a day) and, for systems without
  # systemd, /etc/cron.d/certbot; renewals reuse the webroot and the deploy hook saved above.
  if systemd || [ "$DRY_RUN" = 1 ]; then
    run systemctl enable --now certbot.timer
  elif [ -f /etc/cron.d/certbot ]; then
    say "renewal: /etc/cron.d/certbot (no systemd here)"
  else
    say "WARNING: neither certbot.timer nor /etc/cron.d/certbot: renew with 'certbot renew' yourself"
  fi
  say "checking that the certificate can be renewed (certbot renew --dry-run)"
  # Without the random wait that spreads the scheduled renewals over hours.
  certbot_run renew --dry-run --no-random-sleep-on-renew --cert-name "$DOMAIN"
}

firewall() {
  if command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q '^Status: active'; then
    run ufw allow 80/tcp
    run ufw allow 443/tcp
    say "firewall (ufw): opened 80 and 443"
  elif command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then
    run firewall-cmd --permanent --add-service=http --add-service=https
    run firewall-cmd --reload
    say "firewall (firewalld): opened http and https"
  else
    say "firewall: neither ufw nor firewalld is active, nothing to open"
  fi
}

save_settings() {
  [ "$DRY_RUN" = 0 ] || return 0
  local key tmp
  tmp=$(mktemp)
  [ ! -f "$SETTINGS" ] || grep -vE "^($(echo "$KEYS" | tr ' ' '|'))=" "$SETTINGS" > "$tmp" || true
  for key in $KEYS; do
    [ -z "${!key}" ] || printf '%s=%s\n' "$key" "${!key}" >> "$tmp"
  done
  install -m 0644 "$tmp" "$SETTINGS"
  rm -f "$tmp"
}

if [ "$MODE" = setup ]; then
  packages
  gate_and_key
  dns_check
  certificate
  site
  renewal
  firewall
else
  gate_and_key
  site
fi
save_settings
say "done: https://$DOMAIN/ serves $BUNDLE_DIR/current"
