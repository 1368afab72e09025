#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every curl command of the README's walkthrough, as written, against a fresh
# server (only the address is pointed at the test's own port), and checks each answer.
# Usage: walkthrough.sh <carbontree binary> <README.md>
set -euo pipefail

bin="$1"
readme="$2"
work="$(mktemp -d /tmp/carbontree-readme-XXXXXX)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$bin" serve --listen 127.0.0.1 --port 0 --port-file "$work/port" --db "$work/carbontree.db" \
    --auto-migrate --log-level warn 2>"$work/server.log" &
pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port="$(cat "$work/port")"

# The walkthrough's commands: the sh blocks between its heading and the next one,
# with continuation lines joined.
python3 - "$readme" "$work/commands" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
section = text.split("## A walk through with curl", 1)[1].split("\n## ", 1)[0]
commands = []
for block in re.findall(r"```sh\n(.*?)```", section, re.S):
    for command in block.replace("\\\n", " ").splitlines():
        if command.strip():
            commands.append(command.strip())
open(sys.argv[2], "w").write("\n".join(commands) + "\n")
PY

# Each curl command's answer goes to out.<n>, n counting curl commands only. The one
# other kind of line, creating the token, runs the binary under test on the test's
# database.
n=0
while IFS= read -r command; do
    command="${command//127.0.0.1:8080/127.0.0.1:$port}"
    case "$command" in
    curl\ *)
        n=$((n + 1))
        eval "$command" >"$work/out.$n"
        ;;
    "export TOKEN=\$(build/release/carbontree token create "*)
        command="${command//build\/release\/carbontree/$bin}"
        eval "${command//.\/data\/carbontree.db/$work/carbontree.db}"
        [ -n "$TOKEN" ] || { echo "no token was created" >&2; exit 1; }
        ;;
    *) echo "the walkthrough has a line this test does not know: $command" >&2; exit 1 ;;
    esac
done <"$work/commands"

python3 - "$work" "$n" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
out = [None] + [open(f"{work}/out.{i}").read() for i in range(1, n + 1)]
js = lambda i: json.loads(out[i])
failures = []
def check(i, what, ok):
    if not ok:
        failures.append(f"command {i}: {what}\n  answer: {out[i][:400]}")

if n != 23:
    print(f"the walkthrough has {n} curl commands; this check knows 23", file=sys.stderr)
    sys.exit(1)
check(1, "ready", js(1).get("status") == "ready")
e = js(2)
check(2, "1,507 kWh", round(e["energy_kwh"]["value"]) == 1507)
check(2, "1,438 lbs", round(e["co2e_kg"]["value"] / 0.45359237) == 1438)
check(3, "base registered", js(3).get("id") == "google/bert-base-uncased")
check(4, "estimated training activity", js(4).get("obtained") == "estimated" and js(4).get("method") == "power")
check(5, "fine-tune from its card", [p["relation"] for p in js(5)["parents"]] == ["finetune"])
check(6, "fine-tune from a legacy card", js(6).get("id") == "acme/bert-ner")
check(7, "merge of two", [p["relation"] for p in js(7)["parents"]] == ["merge", "merge"])
p = js(8)["inference"]
check(8, "derived profile served in France", p["source"] == "derived" and p["carbon_intensity"]["source"] == "table")
check(9, "3,000,000 counted", js(9).get("inferences") == 3000000)
check(10, "1,000,000 counted", js(10).get("counted") == 1000000)
f = js(11)
check(11, "parity of 256 billion", f.get("parity_inferences") == 256000000000)
check(11, "inherits a share of the base", f["inherited_co2e_kg"]["value"] > 0)
check(11, "inference emissions counted", f["inference_co2e_kg"]["value"] > 0)
b = js(12)
check(12, "base keeps a quarter under equal", abs(b["allocations"][0]["share"] - 0.25) < 1e-12)
check(13, "one more fine-tune", js(13).get("id") == "acme/bert-qa")
b2 = js(14)
check(14, "the base's share falls to a fifth", abs(b2["allocations"][0]["share"] - 0.2) < 1e-12)
check(14, "and its footprint with it", b2["total_co2e_kg"]["value"] < b["total_co2e_kg"]["value"])
rows = out[15].strip().splitlines()
check(15, "CSV header and five models", rows[0].startswith("id,parents,") and len(rows) == 6)
c = js(16)
check(16, "the costly model pays off beyond a volume", c["crossover"]["kind"] == "b_cleaner_beyond" and c["crossover"]["volume"] > 0)
d = js(17)["sharing_dividend"]
check(17, "four descendants avoided 4 x 652 kg less their own", d["status"] == "ok" and d["descendants"] == 4 and round(d["avoided_co2e_kg"]["value"], 1) == 2600.9)
check(17, "the family emitted 1/4.94", round(d["multiple"]["value"], 2) == 4.94)
check(18, "100 billion words counted", js(18).get("inferences") == 100000000000)
o = js(19)["inference_overtakes_training"]
check(19, "projected at the 28-day rate", o["status"] == "projected" and o["window_days"] == 28)
check(19, "526.5 days after the first use", round(o["days_after_first_use"]["value"], 1) == 526.5)
check(19, "132.4 days at the last 7 days' rate", round(o["days_after_first_use"]["low"], 1) == 132.4)
fo = js(20)["inference_overtakes_training"]
check(20, "the family's training and fine-tuning, 659.4 kg", round(fo["training_co2e_kg"]["value"], 1) == 659.4)
check(20, "the family projected 532.7 days after its first use", fo["status"] == "projected" and round(fo["days_after_first_use"]["value"], 1) == 532.7)
check(20, "133.9 days at the last 7 days' rate", round(fo["days_after_first_use"]["low"], 1) == 133.9)
t = js(21)
check(21, "five models in the ledger's totals", t["models"] == 5 and t["namespace"] is None)
check(21, "training counted", t["training_co2e_kg"]["value"] > 0)
td = t["sharing_dividend"]
check(21, "the ledger's dividend is the BERT family's 2,600.9 kg", td["status"] == "ok" and round(td["avoided_co2e_kg"]["value"], 1) == 2600.9)
check(21, "the ledger emitted 1/4.94", round(td["multiple"]["value"], 2) == 4.94)
fams = js(22)["items"]
check(22, "one row per family", len(fams) == t["families"])
check(22, "the base's family is the largest", fams[0]["id"] == "google/bert-base-uncased")
check(22, "own emissions sorted largest first",
      all(a["own_co2e_kg"]["value"] >= b["own_co2e_kg"]["value"] for a, b in zip(fams, fams[1:])))
top = js(23)["items"]
check(23, "five models, each with its footprint under none",
      len(top) == 5 and all(m["footprint"]["policy"] == "none" for m in top))
check(23, "the base, with its 100 billion words, first", top[0]["id"] == "google/bert-base-uncased")
check(23, "largest footprint first",
      all(a["footprint"]["total_co2e_kg"]["value"] >= b["footprint"]["total_co2e_kg"]["value"]
          for a, b in zip(top, top[1:])))
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"README walkthrough: {n} commands, all answers as described")
PY
