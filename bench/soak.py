#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A bounded mixed workload at a steady rate, against a running carbontree.

Reads (footprints, families, lists), deltas with Idempotency-Key, cumulative
counters, batch reports, registrations and token use (create, write with it,
revoke) at --rate requests per second for --minutes. Each minute it samples the
server's RSS, open files and database size and prints a row; at the end it
checks that every model's stored inference total equals what the server
acknowledged, and exits 1 when anything was off: an error answer, RSS growth
after warm-up of 5 % or more, or a stored total that differs.

Only the Python standard library: it runs on a fresh Debian machine.
"""
import argparse
import http.client
import json
import os
import random
import sys
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--pid", type=int, required=True, help="the server's process id")
ap.add_argument("--db", required=True, help="the server's database file")
ap.add_argument("--token", required=True, help="an admin token")
ap.add_argument("--minutes", type=float, default=30.0)
ap.add_argument("--rate", type=float, default=200.0, help="requests per second, all clients")
ap.add_argument("--clients", type=int, default=4)
ap.add_argument("--warmup-minutes", type=float, default=5.0)
ap.add_argument("--models", help="ids of models already in the database, one a line: reads, "
                "deltas and registrations spread over them, so the page caches fill during warm-up")
ap.add_argument("--sample-seconds", type=float, default=60.0)
args = ap.parse_args()

BASES = ["soak/base-%d" % i for i in range(4)]
CHILDREN = ["soak/child-%d-%d" % (b, c) for b in range(4) for c in range(8)]
IMPORTED = []
if args.models:
    with open(args.models) as f:
        IMPORTED = [line.strip() for line in f if line.strip()]


class Client:
    def __init__(self, token):
        self.token = token
        self.conn = None

    def request(self, method, path, body=None, headers=None, token=None):
        h = {"Authorization": "Bearer " + (token or self.token)}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        h.update(headers or {})
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
                self.conn.request(method, path, body, h)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, (json.loads(data) if data and
                                  r.getheader("Content-Type", "").startswith("application") and
                                  not path.startswith("/metrics") else data)
            except (http.client.HTTPException, OSError):
                if self.conn:
                    self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")


lock = threading.Lock()
acked = {}          # model -> inferences the server acknowledged
initial = {}        # model -> its stored total before the soak's first write to it
counters = {}       # (model, counter) -> last acknowledged total
errors = []         # (method, path, status, body)
counts = {}         # operation -> number of requests
stop = threading.Event()


def note(op):
    counts[op] = counts.get(op, 0) + 1


def check(op, method, path, status, body, ok=(200, 201, 204)):
    with lock:
        note(op)
        if status not in ok:
            errors.append((method, path, status, str(body)[:300]))
    return status in ok


def add_acked(model, n):
    with lock:
        acked[model] = acked.get(model, 0) + n


def any_model(rnd):
    if IMPORTED and rnd.random() < 0.5:
        return rnd.choice(IMPORTED)
    return rnd.choice(BASES + CHILDREN)


def stored_total(c, model):
    s, body = c.request("GET", "/v1/models/%s/footprint" % model)
    return body.get("inferences") if s == 200 and isinstance(body, dict) else None


def write_target(c, rnd):
    """A child of the soak's own families, or an imported model whose stored total
    is read first (under the lock, so before any write of the soak to it)."""
    if not IMPORTED or rnd.random() < 0.5:
        return rnd.choice(CHILDREN)
    m = rnd.choice(IMPORTED)
    with lock:
        if m not in initial:
            initial[m] = stored_total(c, m)
    return m


def op_read(c, rnd):
    m = any_model(rnd)
    path = rnd.choice(["/v1/models/%s/footprint?policy=usage",
                       "/v1/models/%s/footprint?policy=equal",
                       "/v1/models/%s/family?limit=20",
                       "/v1/models/%s"]) % m
    s, b = c.request("GET", path)
    check("read", "GET", path, s, b)


def op_delta(c, rnd, seq):
    m = write_target(c, rnd)
    n = rnd.randint(1, 1000)
    key = "soak-%d-%d" % (threading.get_ident(), seq)
    path = "/v1/models/%s/inferences" % m
    s, b = c.request("POST", path, {"count": n}, {"Idempotency-Key": key})
    if check("delta", "POST", path, s, b):
        add_acked(m, n)
        # A retry of the same key is a replay: it must not count again.
        if rnd.random() < 0.1:
            s, b = c.request("POST", path, {"count": n}, {"Idempotency-Key": key})
            check("delta-replay", "POST", path, s, b)


def op_report(c, rnd, seq):
    items = [{"model": write_target(c, rnd), "count": rnd.randint(1, 100)} for _ in range(10)]
    s, b = c.request("POST", "/v1/inference-reports", {"reports": items},
                     {"Idempotency-Key": "soak-report-%d-%d" % (threading.get_ident(), seq)})
    if check("report", "POST", "/v1/inference-reports", s, b):
        for it in items:
            add_acked(it["model"], it["count"])


def op_register(c, rnd, seq):
    mid = "soak/leaf-%d-%d" % (threading.get_ident() % 100000, seq)
    s, b = c.request("POST", "/v1/models", {"id": mid, "base_model": any_model(rnd),
                                             "co2_eq_emissions": rnd.randint(1, 5000)})
    check("register", "POST", "/v1/models", s, b)


def op_token(c, rnd, seq):
    s, b = c.request("POST", "/v1/tokens", {"name": "soak-%d" % seq,
                                             "scopes": ["inferences:write"],
                                             "namespaces": ["soak"]})
    if not check("token-create", "POST", "/v1/tokens", s, b):
        return
    tok, tid = b["token"], b["id"]
    m = rnd.choice(CHILDREN)
    path = "/v1/models/%s/inferences" % m
    s, b2 = c.request("POST", path, {"count": 1}, {"Idempotency-Key": "soak-tok-%s" % tid},
                      token=tok)
    if check("token-use", "POST", path, s, b2):
        add_acked(m, 1)
    s, b3 = c.request("DELETE", "/v1/tokens/%s" % tid)
    check("token-revoke", "DELETE", "/v1/tokens/%s" % tid, s, b3)


def worker(index, period):
    rnd = random.Random(index)
    c = Client(args.token)
    seq = 0
    next_at = time.monotonic()
    while not stop.is_set():
        seq += 1
        x = rnd.random()
        try:
            if x < 0.55:
                op_read(c, rnd)
            elif x < 0.80:
                op_delta(c, rnd, seq)
            elif x < 0.88:
                op_counter_owned(c, rnd, index)
            elif x < 0.95:
                op_report(c, rnd, seq)
            elif x < 0.99:
                op_register(c, rnd, seq)
            else:
                op_token(c, rnd, seq)
        except Exception as e:  # a refused or reset connection is an error too
            with lock:
                errors.append(("?", "?", 0, repr(e)[:300]))
        next_at += period
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.monotonic()


# Each client thread owns one reporter name on every base, so its totals only
# grow and the acknowledged delta is exact.
def op_counter_owned(c, rnd, index):
    m = BASES[rnd.randrange(len(BASES))]
    name = "reporter-%d" % index
    with lock:
        prev = counters.get((m, name), 0)
    total = prev + rnd.randint(1, 5000)
    path = "/v1/models/%s/inference-counters/%s" % (m, name)
    s, b = c.request("PUT", path, {"total": total})
    if check("counter", "PUT", path, s, b):
        with lock:
            counters[(m, name)] = total
        add_acked(m, total - prev)


def sample():
    with open("/proc/%d/status" % args.pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    fds = len(os.listdir("/proc/%d/fd" % args.pid))
    size = sum(os.path.getsize(p) for p in (args.db, args.db + "-wal", args.db + "-shm")
               if os.path.exists(p))
    return rss, fds, size


def main():
    c = Client(args.token)
    for i, b in enumerate(BASES):
        s, body = c.request("POST", "/v1/models", {"id": b, "co2_eq_emissions": 1000000 * (i + 1)})
        if s not in (201, 409):
            sys.exit("cannot register %s: %s %s" % (b, s, body))
    for ch in CHILDREN:
        base = "soak/base-%s" % ch.split("-")[1]
        s, body = c.request("POST", "/v1/models", {"id": ch, "base_model": base,
                                                   "co2_eq_emissions": 2500})
        if s not in (201, 409):
            sys.exit("cannot register %s: %s %s" % (ch, s, body))

    period = args.clients / args.rate
    threads = [threading.Thread(target=worker, args=(i, period), daemon=True)
               for i in range(args.clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    print("| minute | requests | errors | RSS (MiB) | open files | database (MiB) |")
    print("|---|---|---|---|---|---|")
    rows = []
    k = 0
    while (k + 1) * args.sample_seconds <= args.minutes * 60 + 1e-9:
        k += 1
        time.sleep(max(0.0, start + k * args.sample_seconds - time.monotonic()))
        rss, fds, size = sample()
        with lock:
            n, e = sum(counts.values()), len(errors)
        elapsed = k * args.sample_seconds / 60
        rows.append((elapsed, rss))
        print("| %.1f | %d | %d | %.1f | %d | %.1f |" % (elapsed, n, e, rss / 1024, fds,
                                                          size / 1048576), flush=True)
    stop.set()
    for t in threads:
        t.join()

    failures = []
    for m, n in sorted(acked.items()):
        stored = stored_total(c, m)
        want = initial.get(m, 0) + n
        if stored != want:
            failures.append("%s: stored %s, expected %d (%d before, %d acknowledged)" %
                            (m, stored, want, initial.get(m, 0), n))
    warm = [r for mnt, r in rows if mnt > args.warmup_minutes]
    growth = (warm[-1] - warm[0]) / warm[0] * 100 if len(warm) >= 2 else 0.0
    print()
    print("requests by kind: " + ", ".join("%s %d" % kv for kv in sorted(counts.items())))
    print("RSS growth after %.0f min of warm-up: %.1f %% (bound: under 5 %%)" %
          (args.warmup_minutes, growth))
    print("error answers: %d; models checked: %d; stored differs from acknowledged: %d" %
          (len(errors), len(acked), len(failures)))
    for e in errors[:10]:
        print("  error: %s %s -> %s %s" % e)
    for f in failures[:10]:
        print("  " + f)
    if errors or failures or growth >= 5.0:
        sys.exit(1)


main()
