#!/usr/bin/env bash
# The studio's browser tests (ctest StudioBrowserTests): a demo lake in a temporary
# folder, `tarn server` on a free port of 127.0.0.1, then tests/studio/*.test.mjs with
# node's test runner driving Debian's Chromium headless through playwright-core.
#   run_browser_tests.sh TARN_BINARY
# TARN_STUDIO_SCREENSHOTS=DIR also saves screenshots of the main pages there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARN="$1"
for need in /usr/bin/chromium "$ROOT/web/node_modules/playwright-core" "$(dirname "$TARN")/studio/index.html"; do
  if [ ! -e "$need" ]; then
    echo "missing $need: run ./scripts/setup and ./scripts/build" >&2
    exit 1
  fi
done
WORK="$(mktemp -d /tmp/tarn-studio-test.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# shellcheck source=../../scripts/lib/demo_lake.sh
source "$ROOT/scripts/lib/demo_lake.sh"
demo_lake "$TARN" "$WORK/data" 20000 >"$WORK/demo.log" 2>&1 || { cat "$WORK/demo.log" >&2; exit 1; }
"$TARN" server --data-dir "$WORK/data" --listen 127.0.0.1:0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
URL=""
for _ in $(seq 1 100); do
  URL="$(grep -o 'listening on http://[0-9.:]*' "$WORK/server.log" | head -1 | cut -d' ' -f3 || true)"
  [ -n "$URL" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "the server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
export TARN_URL="$URL"
cd "$ROOT/web"
status=0
node --test --test-concurrency=1 --test-reporter=spec "$ROOT"/tests/studio/*.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 40 lines)" >&2
  tail -40 "$WORK/server.log" >&2
fi
exit "$status"
