#!/usr/bin/env bash
# Updates an imgserv camera server installed by deploy/install.sh to new code:
#
#   sudo deploy/update.sh                      the checkout this script is in (after git pull)
#   sudo deploy/update.sh --from DIR           another source tree
#   sudo deploy/update.sh --git REF [--repo R] a git ref (tag, branch, commit) of repository R
#                                              (default: the checkout this script is in)
#
# The new code becomes a release of its own beside the running one, with its own venv and the
# requirements installed; the running version is untouched meanwhile, so an interrupted update
# changes nothing. Then: stop, back up the SQLite database, migrate, collectstatic, switch the
# `current` link, start, and wait for /health (through nginx) to answer 200. When any of these
# fails, or the update is interrupted, it rolls back: the database backup is put back and the
# previous release runs again. Exit 0: updated (or nothing to do); 1: failed, rolled back;
# 2: bad usage. HEALTH_TIMEOUT (s, default 120) bounds the wait; KEEP_RELEASES (3) are kept.
set -euo pipefail
umask 022
SCRIPT_NAME=imgserv-update
DEPLOY=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/lib.sh
. "$DEPLOY/lib.sh"

SOURCE=$(dirname "$DEPLOY")
REF=
REPO=$SOURCE
while [ $# -gt 0 ]; do
  case "$1" in
    --from) SOURCE=${2:?--from needs a folder}; shift 2 ;;
    --git) REF=${2:?--git needs a ref}; shift 2 ;;
    --repo) REPO=${2:?--repo needs a repository}; shift 2 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die 2 "unknown argument: $1 (see --help)" ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die 2 "run as root (sudo)"
installed_before || die 2 "imgserv is not installed here ($CONF_FILE is missing): run deploy/install.sh"
load_layout

EXPORT=
cleanup() {
  cleanup_build
  if [ -n "$EXPORT" ]; then rm -rf "$EXPORT"; fi
}
trap 'cleanup; exit 130' INT TERM HUP
trap cleanup EXIT

if [ -n "$REF" ]; then
  command -v git > /dev/null || die 2 "--git needs git: apt-get install git"
  EXPORT=$(mktemp -d)
  say "exporting $REF from $REPO"
  git -C "$REPO" archive --format=tar "$REF" | tar -x -C "$EXPORT" ||
    die 2 "cannot export $REF from $REPO"
  SOURCE=$EXPORT
fi
[ -f "$SOURCE/manage.py" ] || die 2 "$SOURCE is not an imgserv source tree (no manage.py)"

python_version_ok || exit 1
PREVIOUS=$(current_release)
[ -n "$PREVIOUS" ] || die 2 "no release is installed yet: run deploy/install.sh"
build_release "$SOURCE"
if [ -z "$NEW" ]; then
  say "nothing to do: this code is running already"
  exit 0
fi
activate "$NEW" "$PREVIOUS" || { discard_failed "$NEW"; exit 1; }
prune_releases
say "updated: $PREVIOUS -> $NEW"
