#!/usr/bin/env bash
# Sets up the public VPS that serves imgserv's published bundle:
#   * nginx with deploy/nginx/vps-bundle.conf (HTTPS, HTTP->HTTPS redirect, HSTS, /health),
#   * a Let's Encrypt certificate from certbot, renewed automatically (certbot.timer) with an
#     nginx reload after each renewal,
#   * a publish user that owns nothing but the bundle folder, whose one SSH key may only run
#     the publish gate (deploy/publish-gate.py): rsync into releases/ and the symlink switch.
#
#   sudo deploy/vps-setup.sh DOMAIN EMAIL [PUBLIC_KEY_FILE]
#   deploy/vps-setup.sh --dry-run DOMAIN EMAIL     say what would be done
#
# PUBLIC_KEY_FILE is the .pub printed by `manage.py publish keygen` on the camera server.
# Safe to re-run. Override BUNDLE_DIR (/srv/imgserv/bundle) and PUBLISH_USER (imgserv-publish).
set -euo pipefail

BUNDLE_DIR=${BUNDLE_DIR:-/srv/imgserv/bundle}
PUBLISH_USER=${PUBLISH_USER:-imgserv-publish}
ACME_ROOT=${ACME_ROOT:-/var/www/letsencrypt}
GATE=/usr/local/lib/imgserv/publish-gate
SITE=/etc/nginx/sites-available/imgserv-bundle
DRY_RUN=0
if [ "${1:-}" = "--dry-run" ]; then DRY_RUN=1; shift; fi
DOMAIN=${1:?usage: vps-setup.sh [--dry-run] DOMAIN EMAIL [PUBLIC_KEY_FILE]}
EMAIL=${2:?usage: vps-setup.sh [--dry-run] DOMAIN EMAIL [PUBLIC_KEY_FILE]}
PUBLIC_KEY_FILE=${3:-}
SOURCE=$(cd "$(dirname "$0")/.." && pwd)

say() { echo "vps-setup: $*"; }
run() { if [ "$DRY_RUN" = 1 ]; then say "would run: $*"; else "$@"; fi; }

case "$DOMAIN" in
  *[!A-Za-z0-9.-]*|.*|*..*) echo "not a domain name: $DOMAIN" >&2; exit 2 ;;
esac
if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" -ne 0 ]; then echo "Run as root." >&2; exit 1; fi

packages() {
  run apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    nginx certbot rsync python3 openssh-server
}

publish_user() {
  # A real shell is needed: sshd runs the forced command through it.
  id "$PUBLISH_USER" >/dev/null 2>&1 ||
    run useradd --system --create-home --home-dir "/var/lib/$PUBLISH_USER" --shell /bin/sh \
      "$PUBLISH_USER"
  # Everything above the bundle folder is root's; the user owns the folder and nothing else.
  run install -d -o root -g root -m 0755 "$(dirname "$BUNDLE_DIR")"
  run install -d -o "$PUBLISH_USER" -g "$PUBLISH_USER" -m 0755 "$BUNDLE_DIR"
  run install -d -o root -g root -m 0755 "$(dirname "$GATE")"
  run install -o root -g root -m 0755 "$SOURCE/deploy/publish-gate.py" "$GATE"
  [ -n "$PUBLIC_KEY_FILE" ] || { say "no public key given: add it later (see publish keygen)"; return; }
  local home key
  home=$(getent passwd "$PUBLISH_USER" | cut -d: -f6) || home=/var/lib/$PUBLISH_USER
  key=$(head -n1 "$PUBLIC_KEY_FILE")
  case "$key" in ssh-ed25519\ *|ssh-rsa\ *|ecdsa-*) ;; *) echo "not a public key" >&2; exit 2 ;; esac
  # root owns .ssh and authorized_keys, so the key cannot lift its own restrictions.
  run install -d -o root -g root -m 0755 "$home/.ssh"
  if [ "$DRY_RUN" = 0 ]; then
    printf 'command="%s %s",restrict %s\n' "$GATE" "$BUNDLE_DIR" "$key" > "$home/.ssh/authorized_keys"
    chmod 0644 "$home/.ssh/authorized_keys"
  fi
  say "authorized the publish key for $BUNDLE_DIR only"
}

render_site() {  # render_site CERT KEY
  [ "$DRY_RUN" = 1 ] && { say "would write $SITE"; return; }
  sed -e "s|@SERVER_NAME@|$DOMAIN|g" -e "s|@HTTP_PORT@|80|g" -e "s|@HTTPS_PORT@|443|g" \
      -e "s|@BUNDLE_DIR@|$BUNDLE_DIR|g" -e "s|@ACME_ROOT@|$ACME_ROOT|g" \
      -e "s|@SSL_CERTIFICATE@|$1|g" -e "s|@SSL_CERTIFICATE_KEY@|$2|g" \
      "$SOURCE/deploy/nginx/vps-bundle.conf" > "$SITE"
  ln -sfn "$SITE" /etc/nginx/sites-enabled/imgserv-bundle
}

bootstrap_http() {
  # Before the first certificate exists the HTTPS server cannot load: serve only the ACME
  # challenge over HTTP until certbot has one.
  [ "$DRY_RUN" = 1 ] && { say "would serve $ACME_ROOT over HTTP for the first certificate"; return; }
  printf 'server {\n  listen 80;\n  listen [::]:80;\n  server_name %s;\n  location ^~ /.well-known/acme-challenge/ { root %s; }\n  location / { return 404; }\n}\n' \
    "$DOMAIN" "$ACME_ROOT" > "$SITE"
  ln -sfn "$SITE" /etc/nginx/sites-enabled/imgserv-bundle
  nginx -t && systemctl reload nginx
}

certificate() {
  local live=/etc/letsencrypt/live/$DOMAIN
  run install -d -m 0755 "$ACME_ROOT"
  if [ ! -f "$live/fullchain.pem" ]; then
    bootstrap_http
    run certbot certonly --webroot -w "$ACME_ROOT" -d "$DOMAIN" --email "$EMAIL" \
      --agree-tos --non-interactive --deploy-hook "systemctl reload nginx"
  fi
  render_site "$live/fullchain.pem" "$live/privkey.pem"
  # Debian's certbot package ships certbot.timer (twice a day); renewals reuse the webroot
  # and the deploy hook saved above.
  run systemctl enable --now certbot.timer
  run certbot renew --dry-run
}

packages
publish_user
certificate
run nginx -t
run systemctl reload nginx
say "done: https://$DOMAIN/ serves $BUNDLE_DIR/current"
