#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The explorer page in a real browser: starts a carbontree on a fresh database, seeds
# a small family, and drives Debian's chromium (headless, through playwright-core;
# no browser is downloaded) over the page with explorer.test.mjs, which saves a
# screenshot of each view under <screenshot dir>. Everything listens on 127.0.0.1,
# every wait is bounded, and the server and the temporary directory go on exit.
# Usage: explorer_test.sh <carbontree binary> <screenshot dir>
# Exits 77 (skipped) when chromium or the npm packages are missing, except under CI
# (CI=true), where scripts/deps.sh and `npm ci` provide them.
set -euo pipefail

bin="$1"
shots="$2"
here="$(cd "$(dirname "$0")" && pwd)"
token="ct-browser-test-admin-token-0123456789"
chromium="${CHROMIUM:-/usr/bin/chromium}"

skip() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: $*" >&2
        exit 1
    fi
    echo "SKIP: $*"
    exit 77
}
[ -x "$chromium" ] || skip "$chromium is not installed (Debian package chromium; scripts/deps.sh test installs it)"
command -v node >/dev/null 2>&1 || skip "node is not installed"
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ]; then
    if command -v npm >/dev/null 2>&1; then
        (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null 2>&1) ||
            skip "npm ci in tests/browser failed"
    else
        skip "playwright-core and axe-core are not installed (npm ci in tests/browser)"
    fi
fi

work="$(mktemp -d /tmp/carbontree-browser-XXXXXX)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    [ -f "$work/server.log" ] && { echo "--- server log (last lines)" >&2; tail -n 20 "$work/server.log" >&2; }
    exit 1
}

CARBONTREE_ADMIN_TOKEN="$token" "$bin" serve --listen 127.0.0.1 --port 0 \
    --port-file "$work/port" --db "$work/carbontree.db" --auto-migrate --log-level warn \
    >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "carbontree did not listen within 10 s"
base="http://127.0.0.1:$(cat "$work/port")"

send() {
    local method="$1" path="$2" body="$3" status
    status="$(curl -sS -m 10 -o "$work/answer" -w '%{http_code}' -X "$method" \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -H "Idempotency-Key: browser-$RANDOM$RANDOM" --data "$body" "$base$path")"
    case "$status" in 2??) ;; *) fail "$method $path answered $status: $(cat "$work/answer")" ;; esac
}
# The README's family: a base with a measured training run and an inference profile,
# two fine-tunes with card emissions, a merge of both; inferences on three of them
# so that usage and equal shares differ.
send POST /v1/models '{"id": "google/bert-base-uncased", "task": "fill-mask", "parameters": 110000000}'
send POST /v1/models/google/bert-base-uncased/activities \
    '{"kind": "training", "method": "power", "power_w": 12041.51, "hours": 79.2, "pue": 1.58, "carbon_intensity": {"value": 0.954, "unit": "lb/kWh"}}'
send POST /v1/models '{"id": "acme/bert-sentiment", "base_model": "google/bert-base-uncased", "co2_eq_emissions": {"emissions": 1710, "training_type": "fine-tuning"}}'
send POST /v1/models '{"id": "acme/bert-ner", "base_model": "google/bert-base-uncased", "co2_eq_emissions": 2500}'
send POST /v1/models '{"id": "acme/bert-merged", "base_model": ["acme/bert-sentiment", "acme/bert-ner"]}'
send PATCH /v1/models/google/bert-base-uncased \
    '{"inference": {"unit": "word", "derived_from_training": {"ratio": 0.5, "token_steps": 128000000000}, "location": "FRA"}}'
send POST /v1/models/acme/bert-sentiment/inferences '{"count": 3000000}'
send POST /v1/models/acme/bert-ner/inferences '{"count": 1000000}'
send POST /v1/models/google/bert-base-uncased/inferences '{"count": 250000}'

mkdir -p "$shots"
rm -f "$shots"/*.png
CARBONTREE_URL="$base" CHROMIUM="$chromium" SCREENSHOTS="$shots" \
    node "$here/explorer.test.mjs" || fail "the explorer test failed"
