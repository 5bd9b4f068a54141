#!/usr/bin/env bash
# Installs the Debian packages listed in a file (one per line, # comments) when they are
# missing: with apt-get when running as root, otherwise it names exactly what to install.
set -euo pipefail
list=${1:?usage: system-packages.sh FILE}
[ -f "$list" ] || exit 0
wanted=$(sed -e 's/#.*//' -e '/^\s*$/d' "$list")
[ -n "$wanted" ] || exit 0
missing=()
for pkg in $wanted; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing system packages: ${missing[*]}"
  echo "Install them with: sudo apt-get install --no-install-recommends ${missing[*]}"
  exit 1
fi
