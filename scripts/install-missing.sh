#!/usr/bin/env bash
# Installs those of the given Debian packages that are missing (apt's output on stderr):
#   scripts/install-missing.sh WHO PACKAGE...     WHO names the caller in messages
# Exits 1 when something is missing and this is not root.
set -euo pipefail
who=$1
shift
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "$who: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "$who: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
