#!/usr/bin/env bash
# PID 1 of the throwaway VPS (tests/publishing/vps_rig.py), started by
#   unshare --mount --net --pid --fork --mount-proc --kill-child bash vps_rig_init.sh ROOT
# It gets its own network (so 127.0.0.1:22, :80, :443 are its own) and its own /etc, /var,
# /run, /srv, /root and /usr/local (copies or empty folders under ROOT), so deploy/vps-setup.sh
# runs with its real default paths and changes nothing outside ROOT. /var/lib/dpkg is the
# host's, read-only: the script sees the packages as installed and cannot change them.
set -euo pipefail
R=${1:?usage: vps_rig_init.sh ROOT}
PASSWORD_HASH=$(cat "$R/root-password.hash")

mount --make-rprivate /
ip link set lo up

mkdir -p "$R/etc" "$R/var/lib/dpkg" "$R/var/lib/nginx" "$R/var/log/nginx" "$R/var/www" \
  "$R/var/tmp" "$R/var/cache" "$R/run/sshd" "$R/srv" "$R/root" "$R/usr-local/sbin" \
  "$R/usr-local/bin" "$R/usr-local/lib"
cp -a /etc/. "$R/etc/"
chmod 0700 "$R/root"
chmod 1777 "$R/var/tmp"
ln -sfn /run "$R/var/run"
mount --bind /var/lib/dpkg "$R/var/lib/dpkg"
mount -o remount,bind,ro "$R/var/lib/dpkg" 2>/dev/null || true

# A recording stand-in for ufw: a real one would change this sandbox's packet filter.
cat > "$R/usr-local/sbin/ufw" <<'EOF'
#!/bin/sh
echo "ufw $*" >> /var/log/ufw-calls.log
[ "$1" = status ] && echo "Status: active"
exit 0
EOF
chmod 0755 "$R/usr-local/sbin/ufw"

mount --bind "$R/etc" /etc
mount --rbind "$R/var" /var
mount --bind "$R/run" /run
mount --bind "$R/srv" /srv
mount --bind "$R/root" /root
mount --bind "$R/usr-local" /usr/local

# A fresh VPS: its own host keys, root may log in with the provider's one-time password.
rm -f /etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
usermod -p "$PASSWORD_HASH" root
cat > /etc/ssh/sshd_config <<'EOF'
Port 22
ListenAddress 127.0.0.1
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
AuthorizedKeysFile .ssh/authorized_keys
EOF
# A name that resolves somewhere else, for the DNS check (TEST-NET-1: never contacted).
echo "192.0.2.10 elsewhere.imgserv.test" >> /etc/hosts
# The VPS's ACME settings point certbot at the local pebble instead of Let's Encrypt.
cat > /etc/default/imgserv-vps <<EOF
ACME_SERVER=https://127.0.0.1:14000/dir
ACME_CA_BUNDLE=$R/pebble/cert.pem
EOF

# Debian starts nginx with its default site on installation.
nginx
/usr/sbin/sshd -D -e -f /etc/ssh/sshd_config 2> "$R/sshd.log" &
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$R/pebble/pebble.json" \
  > "$R/pebble.log" 2>&1 &

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 200); do
  if listening 22 && listening 14000 && listening 15000 && listening 80; then
    touch "$R/ready"
    break
  fi
  sleep 0.05
done
[ -f "$R/ready" ] || { echo "the VPS rig did not come up" >&2; exit 1; }
wait
