#!/usr/bin/env bash
# Install what the test suite starts itself, when missing: redis-server, PostgreSQL, nginx and Debian's Chromium
# (never a browser downloaded by Playwright), with a Chinese font for the zh-CN browser tests and screenshots.
# Uses sudo unless run as root; does nothing when all are there.
set -euo pipefail

need=()
command -v redis-server >/dev/null || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || need+=(postgresql)
[ -x /usr/sbin/nginx ] || need+=(nginx)  # tests/test_nginx.py runs it itself; the service apt may start is not used
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
((${#need[@]})) || exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "+ apt-get install ${need[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
