#!/usr/bin/env bash
# System packages needed by `make test` (real browser, CJK fonts, PostgreSQL, nginx for the proxy fault test)
# plus a check for node/npm. A no-op (well under a second) when all present.
set -euo pipefail

# fonts-noto-cjk: without it Chinese text renders as boxes in screenshots.
PACKAGES=(chromium chromium-driver fonts-noto-cjk postgresql nginx)

die() { echo "system-deps.sh: $*" >&2; exit 1; }

# node/npm come with the machine image; we only check them (npm ci needs
# lockfileVersion 3 support, i.e. npm >= 7; the npm tools we use need node >= 18).
command -v node >/dev/null 2>&1 || die "node not found on PATH; install Node.js >= 18 (Debian: apt-get install nodejs npm)"
command -v npm  >/dev/null 2>&1 || die "npm not found on PATH; install npm >= 7 (Debian: apt-get install npm)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
npm_major="$(npm --version | cut -d. -f1)"
(( node_major >= 18 )) || die "node $(node --version) is too old; need >= 18"
(( npm_major >= 7 ))   || die "npm $(npm --version) is too old; need >= 7"

# `dpkg -s` alone also succeeds for removed-but-not-purged packages, so look at
# the Status line.
installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'; }

missing=()
for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done

if (( ${#missing[@]} == 0 )); then
    echo "system-deps.sh: all present (${PACKAGES[*]}; node $(node --version), npm $(npm --version))"
    exit 0
fi

if (( EUID != 0 )); then
    die "missing Debian packages: ${missing[*]}
  run as root:  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}
  (or re-run this script as root)"
fi

echo "system-deps.sh: installing ${missing[*]}"
# Lock::Timeout: wait for another apt/dpkg run (e.g. unattended or a parallel
# set-up) instead of failing at once on the dpkg lock.
APT_OPTS=(-o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)
export DEBIAN_FRONTEND=noninteractive
apt-get "${APT_OPTS[@]}" update
apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${missing[@]}"

for pkg in "${missing[@]}"; do
    installed "$pkg" || die "$pkg still not installed after apt-get install"
done
echo "system-deps.sh: done"
