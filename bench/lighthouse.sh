#!/usr/bin/env bash
# Lighthouse (mobile, its default) on Flasky's pages in English and Chinese: the four category scores and the
# cumulative layout shift of each. By hand, not in the test suite (CI has no Lighthouse; tests/browser/
# test_layout_shift.py measures the layout shift in every run). Lighthouse 13 wants Node 22; 12.2.3 runs on Debian's
# Node 20:
#
#   (mkdir -p /tmp/lh && cd /tmp/lh && npm i -E lighthouse@12.2.3)
#   LIGHTHOUSE=/tmp/lh/node_modules/.bin/lighthouse PYTHON=.venv/bin/python bench/lighthouse.sh
#
# The app is served as the README's "Production serving" says (gunicorn, StreamWorker, two workers) on a fresh SQLite
# database in a temporary folder, with 200 seeded visitors and three names greeted (the live panel's "… ago"), and
# Debian's Chromium (CHROME_PATH) does the loading. The reports (JSON) stay in OUT. PAGES and LANGUAGES (lists
# separated by spaces) choose others; the error page's 404 is what it should answer (--ignore-status-code).
set -euo pipefail

PYTHON=${PYTHON:-python}
LIGHTHOUSE=${LIGHTHOUSE:-lighthouse}
PORT=${PORT:-8765}
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
OUT=${OUT:-$(mktemp -d -t flasky-lighthouse-XXXXXX)}
read -r -a PAGES <<< "${PAGES:-/ /users /user/Alice /user/nobody-here}"
read -r -a LANGUAGES <<< "${LANGUAGES:-en zh-CN}"
read -r -a LIGHTHOUSE_FLAGS <<< "${LIGHTHOUSE_FLAGS:-}"  # more, e.g. --save-assets (the trace, to see what moved)

work=$(mktemp -d -t flasky-lighthouse-app-XXXXXX)
export FLASK_CONFIG=production DATABASE_URL="sqlite:///$work/data.sqlite"
SECRET_KEY=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(48))')
export SECRET_KEY
export FLASK_SESSION_COOKIE_SECURE=false  # plain http on 127.0.0.1: the greeting below needs its session cookie back
base="http://127.0.0.1:$PORT"

"$PYTHON" -m flask --app flasky db upgrade >/dev/null 2>&1
"$PYTHON" -m flask --app flasky users seed 200 --seed 1 >/dev/null
"$PYTHON" -m gunicorn -k flasky.serving.StreamWorker -w 2 --worker-connections 4000 --keep-alive 0 \
  -b "127.0.0.1:$PORT" --no-control-socket --error-logfile "$work/gunicorn.log" "flasky:create_app()" &
server=$!
trap 'kill "$server"; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT

"$PYTHON" - "$base" <<'PYTHON'
"""Wait for the server, then greet three names through the form, as a browser without JavaScript would."""
import sys
import time

import requests
from bs4 import BeautifulSoup

base = sys.argv[1]
for _ in range(100):
    try:
        requests.get(base + "/healthz", timeout=1)
        break
    except requests.ConnectionError:
        time.sleep(0.1)
with requests.Session() as browser:
    for name in ("Alice", "张三丰", "Zoë Ångström"):
        form = BeautifulSoup(browser.get(base + "/").text, "html.parser").select_one("#name-form")
        answer = browser.post(base + "/", data={"name": name, "csrf_token": form.select_one("#csrf_token")["value"]})
        answer.raise_for_status()
PYTHON

printf '%-22s %-6s %5s %5s %5s %5s %8s\n' page lang perf a11y bp seo CLS
for path in "${PAGES[@]}"; do
  for language in "${LANGUAGES[@]}"; do
    report="$OUT/$(echo "$path" | tr -c 'a-zA-Z0-9\n' '_')-$language.json"
    "$LIGHTHOUSE" "$base$path" --quiet --output=json --output-path="$report" \
      --only-categories=performance,accessibility,best-practices,seo \
      --chrome-flags="--headless=new --no-sandbox" --extra-headers="{\"Accept-Language\": \"$language\"}" \
      --ignore-status-code "${LIGHTHOUSE_FLAGS[@]}"
    node -e '
      const lhr = require(process.argv[1]);
      const score = (name) => Math.round(lhr.categories[name].score * 100);
      console.log([process.argv[2].padEnd(22), process.argv[3].padEnd(6),
        ...["performance", "accessibility", "best-practices", "seo"].map((name) => String(score(name)).padStart(5)),
        lhr.audits["cumulative-layout-shift"].numericValue.toFixed(4).padStart(8)].join(" "));
    ' "$report" "$path" "$language"
  done
done
echo "reports: $OUT"
