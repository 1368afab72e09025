#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A real Prometheus scrapes a test carbontree: `promtool check metrics` must pass on
# GET /metrics, Prometheus's query API must answer a carbontree series with the
# value the footprint answer gives, and every PromQL query of the Grafana dashboard
# (dashboards/carbontree.json) must return data. Everything listens on 127.0.0.1, every wait is
# bounded, and both servers and the temporary directory go on exit.
# Usage: scrape_test.sh <carbontree binary>
# Exits 77 (skipped) when prometheus or promtool is not installed, except under CI
# (CI=true), where scripts/deps.sh installs them and their absence is a failure.
set -euo pipefail

bin="$1"
token="ct-prometheus-test-admin-token-0123456789"
model="ns/x"

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
    if [ "${CI:-}" = true ]; then
        echo "FAIL: prometheus and promtool are not installed (scripts/deps.sh test installs them)" >&2
        exit 1
    fi
    echo "SKIP: prometheus and promtool are not installed (Debian package prometheus;" \
        "scripts/deps.sh test installs it)"
    exit 77
fi

work="$(mktemp -d /tmp/carbontree-prometheus-XXXXXX)"
ct_pid=""
prom_pid=""
stop() {
    local pid="$1"
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop "$prom_pid"
    stop "$ct_pid"
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for log in "$work/carbontree.log" "$work/prometheus.log"; do
        [ -f "$log" ] && { echo "--- $log (last lines)" >&2; tail -n 20 "$log" >&2; }
    done
    exit 1
}

# A free loopback port for Prometheus (carbontree picks its own with --port 0).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

CARBONTREE_ADMIN_TOKEN="$token" "$bin" serve --listen 127.0.0.1 --port 0 \
    --port-file "$work/port" --db "$work/carbontree.db" --auto-migrate --log-level warn \
    >"$work/carbontree.log" 2>&1 &
ct_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "carbontree did not listen within 10 s"
base="http://127.0.0.1:$(cat "$work/port")"

# Some data: a base trained for 100 kg, a fine-tune with its own 5 kg, an inference
# profile and 1000 inferences.
send() {
    local method="$1" path="$2" body="$3" status
    status="$(curl -sS -m 10 -o "$work/answer" -w '%{http_code}' -X "$method" \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -H "Idempotency-Key: scrape-$RANDOM$RANDOM" --data "$body" "$base$path")"
    case "$status" in 2??) ;; *) fail "$method $path answered $status: $(cat "$work/answer")" ;; esac
}
send POST /v1/models '{"id": "ns/base"}'
send POST /v1/models/ns/base/activities '{"kind": "training", "co2e_kg": 100}'
send POST /v1/models '{"id": "ns/x", "parents": [{"id": "ns/base", "relation": "finetune"}]}'
send POST /v1/models/ns/x/activities '{"kind": "fine_tuning", "co2e_kg": 5}'
send PATCH /v1/models/ns/x \
    '{"inference": {"unit": "token", "energy_kwh_per_inference": 0.0001, "location": "USA"}}'
send POST /v1/models/ns/x/inferences '{"count": 1000}'

curl -sS -m 10 -f "$base/metrics" >"$work/metrics.txt" || fail "GET /metrics failed"
if ! promtool check metrics <"$work/metrics.txt" >"$work/promtool.txt" 2>&1; then
    cat "$work/promtool.txt" >&2
    fail "promtool check metrics found problems in GET /metrics"
fi
echo "promtool check metrics: ok ($(grep -vc '^#' "$work/metrics.txt") samples)"

expected="$(curl -sS -m 10 -f "$base/v1/models/$model/footprint?policy=usage" |
    python3 -c 'import json, sys; print(repr(json.load(sys.stdin)["total_co2e_kg"]["value"]))')" ||
    fail "no footprint for $model"

prom_port="$(free_port)"
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: carbontree
    metrics_path: /metrics
    static_configs:
      - targets: ["${base#http://}"]
EOF
promtool check config "$work/prometheus.yml" >"$work/promtool-config.txt" 2>&1 ||
    { cat "$work/promtool-config.txt" >&2; fail "the scrape configuration is invalid"; }
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
prom_pid=$!

query='carbontree_model_co2e_kg{model="'"$model"'",policy="usage",part="total"}'
deadline=$((SECONDS + 20))
got=""
while [ $SECONDS -lt $deadline ]; do
    kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited"
    if curl -sS -m 2 --get --data-urlencode "query=$query" \
        "http://127.0.0.1:$prom_port/api/v1/query" >"$work/query.json" 2>/dev/null; then
        got="$(python3 -c '
import json, sys
answer = json.load(open(sys.argv[1]))
result = answer.get("data", {}).get("result", [])
print(result[0]["value"][1] if answer.get("status") == "success" and result else "")
' "$work/query.json" 2>/dev/null || true)"
        [ -n "$got" ] && break
    fi
    sleep 0.5
done
[ -n "$got" ] || fail "Prometheus had no sample of $query after 20 s: $(cat "$work/query.json" 2>/dev/null)"

python3 - "$got" "$expected" <<'PY' || fail "Prometheus has $got for the series, the footprint says $expected"
import math, sys
got, expected = float(sys.argv[1]), float(sys.argv[2])
sys.exit(0 if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12) else 1)
PY
echo "Prometheus scraped $query = $got (footprint: $expected)"

# The scrape itself is counted: the target is up and its request counter has samples.
up="$(curl -sS -m 2 --get --data-urlencode 'query=up{job="carbontree"}' \
    "http://127.0.0.1:$prom_port/api/v1/query" |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")')"
[ "$up" = 1 ] || fail "up{job=\"carbontree\"} is '$up', expected 1"
# Every query of the dashboard returns data: at least one series with a number, its
# template variables set as a viewer would ($policy to its default, the rate window
# to one Prometheus fills after a few scrapes). Rates need two scrapes in their
# window, hence the wait.
dashboard="$(cd "$(dirname "$0")/../.." && pwd)/dashboards/carbontree.json"
python3 - "$dashboard" >"$work/exprs" <<'PY' || fail "no queries in $dashboard"
import json, sys
dashboard = json.load(open(sys.argv[1]))
defaults = {v["name"]: v["current"]["value"] for v in dashboard["templating"]["list"]
            if v["type"] == "custom"}
exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
if not exprs:
    sys.exit(1)
for expr in exprs:
    for name, value in defaults.items():
        expr = expr.replace("$" + name, value)
    print(expr.replace("$__rate_interval", "1m"))
PY
send POST /v1/models/ns/x/inferences '{"count": 500}'
n_queries=0
while IFS= read -r expr; do
    deadline=$((SECONDS + 20))
    got=""
    while [ $SECONDS -lt $deadline ]; do
        if curl -sS -m 2 --get --data-urlencode "query=$expr" \
            "http://127.0.0.1:$prom_port/api/v1/query" >"$work/query.json" 2>/dev/null; then
            got="$(python3 -c '
import json, math, sys
answer = json.load(open(sys.argv[1]))
result = answer.get("data", {}).get("result", []) if answer.get("status") == "success" else []
print(sum(1 for r in result if math.isfinite(float(r["value"][1]))) or "")
' "$work/query.json" 2>/dev/null || true)"
            [ -n "$got" ] && break
        fi
        sleep 0.5
    done
    [ -n "$got" ] || fail "the dashboard's query returned no data after 20 s: $expr: $(cat "$work/query.json" 2>/dev/null)"
    echo "dashboard query: $got series: $expr"
    n_queries=$((n_queries + 1))
done <"$work/exprs"
echo "2 passed, 0 failed ($n_queries dashboard queries)"
