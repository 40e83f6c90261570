#!/usr/bin/env bash
# Install what the test suite starts itself, when missing: redis-server, PostgreSQL, nginx and Debian's Chromium
# (never a browser downloaded by Playwright), with a Chinese font for the zh-CN browser tests and screenshots, and the
# Nu Html Checker (npm's vnu-jar, run with Java) that checks pages are valid HTML. Uses sudo for apt unless run as
# root; does nothing when all are there.
set -euo pipefail

need=()
command -v redis-server >/dev/null || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || need+=(postgresql)
[ -x /usr/sbin/nginx ] || need+=(nginx)  # tests/test_nginx.py runs it itself; the service apt may start is not used
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
command -v java >/dev/null || need+=(default-jre-headless)
command -v npm >/dev/null || need+=(npm)

if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "+ apt-get install ${need[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Where the HTML validity tests look for the checker (tests/helpers.py html_errors()) unless FLASKY_VNU_JAR names
# one. Without it (the registry unreachable) those tests fail, naming this script.
vnu_dir="${XDG_CACHE_HOME:-$HOME/.cache}/flasky/vnu-jar-26.9.27"
if [ ! -f "$vnu_dir/vnu.jar" ]; then
  echo "+ npm pack vnu-jar@26.9.27 -> $vnu_dir/vnu.jar"
  work=$(mktemp -d)
  if (cd "$work" && npm pack --silent vnu-jar@26.9.27 >/dev/null &&
      tar xzf vnu-jar-26.9.27.tgz package/build/dist/vnu.jar); then
    mkdir -p "$vnu_dir" && mv "$work/package/build/dist/vnu.jar" "$vnu_dir/vnu.jar"
  else
    echo "warning: the Nu Html Checker could not be fetched; the HTML validity tests will fail" >&2
  fi
  rm -rf "$work"
fi
