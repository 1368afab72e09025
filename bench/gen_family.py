#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generates a model family as JSON lines for `carbontree import`.

A few base models (trained, with a training activity), then fine-tunes of
fine-tunes (depth at most 8), adapters and quantized copies, 2-3-way merges
(about 2 %), Hub-card lines (base_model + co2_eq_emissions, about 10 %) and
inference counts. Parents always come before their children. Deterministic
for a given seed.

Usage: gen_family.py N [SEED [BASES]] > family.jsonl  (BASES 1: one family of N)
"""
import json
import random
import sys

MAX_DEPTH = 8
BASES = 8
NAMESPACES = 64
TASKS = ["text-generation", "text-classification", "translation", "summarization",
         "image-classification", "automatic-speech-recognition"]
LICENSES = ["apache-2.0", "mit", "llama3", "cc-by-4.0", "openrail"]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 6)
    bases = int(sys.argv[3]) if len(sys.argv) > 3 else BASES
    ids = []
    depths = []
    open_ids = []  # indexes of models that may still have children (depth < MAX_DEPTH)
    out = sys.stdout
    write = out.write
    dumps = json.dumps
    for i in range(n):
        ns = "hub-%d" % (i % NAMESPACES)
        mid = "%s/m-%d" % (ns, i)
        line = {"id": mid, "task": TASKS[i % len(TASKS)], "license": LICENSES[i % len(LICENSES)]}
        if i < bases or not open_ids:
            line["parameters"] = rng.choice([1, 3, 7, 13, 70]) * 1000000000
            line["activities"] = [{"kind": "training", "obtained": "measured",
                                   "energy_kwh": round(rng.uniform(1e4, 1e6), 1),
                                   "co2e_kg": round(rng.uniform(5e3, 5e5), 1)}]
            depth = 0
        else:
            # Recent models are fine-tuned more often: pick among the newest half
            # with some probability, else anywhere.
            def pick():
                if rng.random() < 0.5:
                    return open_ids[rng.randrange(len(open_ids) // 2, len(open_ids))]
                return open_ids[rng.randrange(len(open_ids))]

            r = rng.random()
            if r < 0.02 and len(open_ids) > 3:
                parents = sorted({pick() for _ in range(rng.choice([2, 2, 3]))})
                rel = "merge"
            if r >= 0.02 or len(open_ids) <= 3 or len(parents) < 2:
                parents = [pick()]
                rel = "finetune" if r < 0.8 else ("adapter" if r < 0.92 else "quantized")
            depth = 1 + max(depths[p] for p in parents)
            if r > 0.9 and len(parents) == 1:
                line["base_model"] = ids[parents[0]]
                line["base_model_relation"] = rel
                line["co2_eq_emissions"] = {"emissions": round(rng.uniform(10, 1e6), 1),
                                            "source": "codecarbon",
                                            "training_type": "fine-tuning"}
            else:
                line["parents"] = [{"id": ids[p], "relation": rel} for p in parents]
            if rng.random() < 0.05:
                line["activities"] = [{"kind": "fine_tuning",
                                       "co2e_kg": round(rng.uniform(1, 500), 2)}]
        if rng.random() < 0.3:
            line["inferences"] = rng.randrange(1, 1000000)
        ids.append(mid)
        depths.append(depth)
        if depth < MAX_DEPTH:
            open_ids.append(i)
        write(dumps(line, separators=(",", ":")))
        write("\n")


if __name__ == "__main__":
    main()
