#!/usr/bin/env bash
# Runs deploy/install.sh, update.sh and uninstall.sh for real in a throwaway Debian bookworm
# booted with systemd (debootstrap + systemd-nspawn): tests/deploy/test_in_container.py.
# Needs root; installs debootstrap and systemd-container when missing. Takes minutes, so it is
# not part of `make test`. The debootstrapped root and the apt and pip caches are kept in
# IMGSRV_CONTAINER_CACHE (default /var/tmp/imgserv-container) for the next run;
# IMGSRV_CONTAINER_KEEP=1 keeps the container's root too, to look around after a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || make setup
export IMGSRV_CONTAINER_TESTS=1
exec .venv/bin/python -m pytest tests/deploy/test_in_container.py -p no:cacheprovider -s -v "$@"
