#!/usr/bin/env bash
# Installs the Debian packages kofu builds, runs and tests with. Idempotent: asks apt only when
# something is missing. Runs as root (as on the project's machines) or through sudo.
set -euo pipefail
packages=(
  pkg-config zlib1g-dev libssl-dev libfreetype-dev libharfbuzz-dev libharfbuzz-bin libsqlite3-dev
  libpq-dev postgresql fonts-ipamj-mincho poppler-utils qpdf python3-fonttools
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
test -f /usr/share/fonts/truetype/ipamj/ipamjm.ttf || { echo "setup: IPAmj明朝 missing after install" >&2; exit 1; }
