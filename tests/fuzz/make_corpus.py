#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Seeds: valid bodies for every write route, the fixed-name examples of openapi.yaml,
bodies and requests taken from the HTTP suites (tests/http/*.c), and hostile input
written here in the style of jansson's test suites: malformed JSON, deep nesting,
duplicate keys, huge numbers, NaN-like strings, bad UTF-8, overlong ids, path
traversal, SQL metacharacters. Run it again after changing it; it replaces the
corpus directories. Nothing is downloaded.

fuzz_json_body input: one selector byte (route + 9 * model, see fuzz_json_body.c)
then the body. fuzz_handler input: "METHOD /path?query\\nHeader: v\\n\\nbody".
"""
import glob
import hashlib
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Route order of fuzz_json_body.c; models of common.c (fuzz_models).
ROUTES = ["models", "patch", "activities", "inferences", "counters", "reports", "estimates",
          "compare", "tokens"]
MODELS = ["hub-a/base", "hub-a/child", "hub-b/merged", "hub-b/solo"]
ROUTE_PATHS = {
    "models": ("POST", "/v1/models"),
    "patch": ("PATCH", "/v1/models/{m}"),
    "activities": ("POST", "/v1/models/{m}/activities"),
    "inferences": ("POST", "/v1/models/{m}/inferences"),
    "counters": ("PUT", "/v1/models/{m}/inference-counters/fuzz-reporter"),
    "reports": ("POST", "/v1/inference-reports"),
    "estimates": ("POST", "/v1/estimates"),
    "compare": ("POST", "/v1/compare"),
    "tokens": ("POST", "/v1/tokens"),
}
KEYED = {"inferences", "reports"}


def j(value):
    return json.dumps(value).encode()


# ---- valid bodies per route (the contract's fixed names first) ----
VALID = {
    "models": [
        {"id": "hub-a/new", "parents": [{"id": "hub-a/base", "relation": "finetune"}]},
        {"id": "hub-a/ft", "base_model": "hub-a/base", "base_model_relation": "adapter",
         "co2_eq_emissions": {"emissions": 1500, "source": "codecarbon",
                              "training_type": "fine-tuning", "geographical_location": "FRA",
                              "hardware_used": "8 x A100", "hours_used": 12, "on_cloud": True,
                              "cloud_region": "europe-west9"}},
        {"id": "hub-b/merge2", "base_model": ["hub-a/base", "hub-a/child"],
         "base_model_relation": "merge", "co2_eq_emissions": 1000},
        {"id": "hub-b/quant", "base_model": "hub-b/solo", "base_model_relation": "quantized"},
        {"id": "hub-a/meta", "task": "text-generation", "license": "apache-2.0",
         "url": "https://huggingface.co/hub-a/meta", "parameters": 7000000000},
        {"id": "solo/root"},
    ],
    "patch": [
        {"inference": {"unit": "token", "energy_kwh_per_inference": 0.0001, "location": "USA"}},
        {"inference": {"unit": "word", "derived_from_training": {"ratio": 0.5,
                                                                 "token_steps": 128000000000}}},
        {"inference": {"unit": "request", "energy_kwh_per_inference":
                       {"value": 0.002, "low": 0.001, "high": 0.004},
                       "carbon_intensity": {"value": 0.954, "unit": "lb/kWh"}}},
        {"task": "summarization", "license": "mit", "url": "https://example.org/m",
         "parameters": 125000000},
        {"parents": [{"id": "hub-b/solo", "relation": "finetune"}]},
        {"base_model": "hub-a/base", "base_model_relation": "adapter"},
        {"parents": []},
    ],
    "activities": [
        {"kind": "training", "method": "power", "power_w": 12041.51, "hours": 79.2, "pue": 1.58,
         "carbon_intensity": {"value": 0.954, "unit": "lb/kWh"}},
        {"kind": "fine_tuning", "energy_kwh": 7571, "location": "FRA"},
        {"kind": "training", "co2e_kg": 1.71},
        {"kind": "training", "method": "tdp", "devices": [{"hardware": "V100", "count": 64}],
         "hours": 240, "location": "USA", "obtained": "estimated"},
        {"kind": "training", "co2e_kg": {"value": 10, "low": 8, "high": 14},
         "obtained": "reported", "note": "from the model card"},
        {"kind": "fine_tuning", "energy_kwh": 12.5,
         "carbon_intensity": {"value": 56, "unit": "g/kWh"}, "obtained": "measured"},
    ],
    "inferences": [{"count": 1000}, {"count": 1, "date": "2024-05-01"}, {"count": 0}],
    "counters": [{"total": 123456}, {"total": 0, "reset": True},
                 {"total": 5, "date": "2025-01-31"}],
    "reports": [
        {"reports": [{"model": "hub-a/child", "count": 10},
                     {"model": "hub-b/merged", "count": 5, "date": "2024-05-01"}]},
        {"reports": []},
    ],
    "estimates": [
        {"method": "power", "power_w": 12041.51, "hours": 79.2, "pue": 1.58,
         "carbon_intensity": {"value": 0.954, "unit": "lb/kWh"}},
        {"method": "power", "devices": [{"hardware": "V100", "count": 64}], "hours": 10,
         "location": "FRA"},
        {"method": "power", "power_w": 300, "cpu_w": 65, "dram_w": 12, "hours": 1,
         "location": "gcp:europe-west9"},
        {"method": "tdp", "devices": [{"hardware": "A100", "count": 8, "utilisation": 0.8}],
         "hours": 100, "memory_gb": 64, "psf": 1.1},
        {"method": "flops", "flops": 3.14e23, "devices": [{"hardware": "A100"}],
         "utilisation": 0.4, "location": "USA"},
        {"method": "flops", "parameters": 175000000000, "tokens": 300000000000,
         "peak_flops_per_s": 1.25e14, "device_power_w": 300},
        {"method": "energy", "energy_kwh": {"value": 1287000, "low": 1000000, "high": 1500000},
         "location": "USA"},
        {"method": "energy", "energy_kwh": 7571, "pue": 1.1,
         "embodied": {"units": 8, "embodied_kg": 150, "hours": 100, "lifetime_hours": 35040}},
    ],
    "compare": [
        {"a": {"model": "hub-a/child"}, "b": {"model": "hub-b/merged"}, "policy": "usage",
         "volume": 1000000},
        {"a": {"fixed_co2e_kg": 100, "co2e_g_per_inference": 0.5},
         "b": {"model": "hub-a/base"}, "policy": "equal"},
        {"a": {"model": "hub-b/solo"}, "b": {"model": "hub-b/solo"}, "policy": "none"},
    ],
    "tokens": [
        {"name": "hub-a", "scopes": ["models:write", "inferences:write"],
         "namespaces": ["hub-a"]},
        {"name": "everything", "scopes": ["admin"], "namespaces": ["*"]},
        {"name": "reader", "scopes": [], "namespaces": []},
    ],
}

# ---- hostile values, dropped into each route's main fields ----
BAD_NUMBERS = [b"-1", b"1.5", b"0", b"-0", b"-0.0", b"1e309", b"-1e309", b"1E400", b"1e-400",
               b"4.9e-324", b"1.7976931348623157e308", b"9223372036854775807",
               b"9223372036854775808", b"-9223372036854775809",
               b"123456789012345678901234567890", b'"NaN"', b'"nan"', b'"Infinity"',
               b'"-Infinity"', b'"1e5"', b'"12"', b"true", b"null", b"[]", b"{}",
               b'{"value": 1, "low": 2, "high": 0}', b'{"value": -1}',
               b'{"value": 1, "low": 1, "high": 1e309}']
BAD_STRINGS = [b'""', b'"a"', b'"' + b"a" * 300 + b"/" + b"b" * 300 + b'"',
               b'"' + b"n" * 64 + b"/" + b"m" * 64 + b'"', b'"' + b"n" * 65 + b'/x"',
               b'"' + b"x" * 10000 + b'"', b'"../../etc/passwd"', b'"hub-a/../hub-b"',
               b'"..%2f..%2fetc"', b'"/"', b'"a//b"', b'"a/b/c"', b'"hub-a/"', b'"/base"',
               b'"hub-a/x\'; DROP TABLE models;--"', b'"\\" OR 1=1 --"', b'"%"', b'"_"',
               b'"a/b\' OR \'1\'=\'1"', b'"hub-a/base\\u0000x"', b'"hub-a/\\ud800"',
               b'"hub-a/\\udc00\\ud800"', b'"hub-a/\xf0\x9f\x92\xa9"', b'"hub-a/\xff"',
               b'"hub-a/\xc0\xaf"', b'"hub-a/\xed\xa0\x80"', b'"hub-a/\xe2\x82"',
               b'"HUB-A/BASE"', b'" hub-a/base"', b'"hub-a/base\\n"', b'"hub-a/b\\t"',
               b'"\\u00e9t\\u00e9/mod\\u00e8le"', b"1", b"null", b'["hub-a/base"]']
FIELDS = {
    "models": [("id", BAD_STRINGS), ("base_model", BAD_STRINGS),
               ("co2_eq_emissions", BAD_NUMBERS), ("parameters", BAD_NUMBERS)],
    "patch": [("task", BAD_STRINGS), ("parameters", BAD_NUMBERS)],
    "activities": [("co2e_kg", BAD_NUMBERS), ("energy_kwh", BAD_NUMBERS),
                   ("location", BAD_STRINGS)],
    "inferences": [("count", BAD_NUMBERS), ("date", BAD_STRINGS)],
    "counters": [("total", BAD_NUMBERS)],
    "reports": [],
    "estimates": [("hours", BAD_NUMBERS), ("location", BAD_STRINGS)],
    "compare": [("volume", BAD_NUMBERS), ("policy", BAD_STRINGS)],
    "tokens": [("name", BAD_STRINGS)],
}
PREFIX = {  # the rest of a valid body each hostile field is dropped into
    "models": {"id": '"hub-a/hostile"'},
    "patch": {},
    "activities": {"kind": '"training"'},
    "inferences": {},
    "counters": {},
    "reports": {},
    "estimates": {"method": '"energy"', "energy_kwh": "10"},
    "compare": {"a": '{"model": "hub-a/base"}', "b": '{"model": "hub-b/solo"}'},
    "tokens": {"scopes": '["models:write"]', "namespaces": '["hub-a"]'},
}


def object_with(route, key, raw):
    members = dict(PREFIX[route])
    members[key] = raw.decode("latin-1")
    text = "{" + ", ".join('"%s": %s' % (k, v) for k, v in members.items()) + "}"
    return text.encode("latin-1")


def nested(depth, open_=b"[", close=b"]", inner=b"1"):
    return open_ * depth + inner + close * depth


# Documents that are hostile for every route (jansson-suite style).
GENERIC = {
    "empty": b"",
    "space": b" \n\t ",
    "nul-byte": b"\x00",
    "open-brace": b"{",
    "missing-value": b'{"a":}',
    "trailing-comma-array": b"[1,]",
    "trailing-comma-object": b'{"a": 1,}',
    "single-quotes": b"{'id': 'hub-a/x'}",
    "garbage-after": b'{"count": 1} x',
    "two-documents": b'{"count": 1}{"count": 2}',
    "bare-true": b"true",
    "bare-string": b'"hub-a/base"',
    "bare-number": b"42",
    "bare-null": b"null",
    "truncated-true": b"tru",
    "unterminated-string": b'{"id": "abc',
    "bad-escape": b'{"id": "\\x41"}',
    "control-in-string": b'{"id": "a\x01b"}',
    "nan-literal": b'{"count": NaN}',
    "infinity-literal": b'{"count": Infinity}',
    "hex-number": b'{"count": 0x10}',
    "leading-zero": b'{"count": 012}',
    "plus-number": b'{"count": +1}',
    "dot-number": b'{"count": .5}',
    "exp-only": b'{"count": 1e}',
    "comment": b'{"count": 1 /* c */}',
    "duplicate-key": b'{"count": 1, "count": 2}',
    "duplicate-key-nested": b'{"a": {"value": 1, "value": 2}, "b": 1}',
    "duplicate-key-escaped": b'{"count": 1, "c\\u006funt": 2}',
    "depth-32": nested(32),
    "depth-33": nested(33),
    "depth-1000": nested(1000),
    "depth-objects-33": b'{"a":' * 33 + b"1" + b"}" * 33,
    "depth-in-string": b'{"note": "' + b"[" * 100 + b'"}',
    "depth-unbalanced": b"]" * 40 + b"[" * 40,
    "depth-escaped-quote": b'["\\"' + b"[" * 40 + b'"]',
    "bom": b'\xef\xbb\xbf{"count": 1}',
    "utf16-le": '{"count": 1}'.encode("utf-16-le"),
    "invalid-utf8-ff": b'{"id": "\xff"}',
    "invalid-utf8-overlong": b'{"id": "\xc0\xaf"}',
    "invalid-utf8-surrogate": b'{"id": "\xed\xa0\x80"}',
    "invalid-utf8-truncated": b'{"id": "\xe2\x82"}',
    "invalid-utf8-in-key": b'{"\xff": 1}',
    "escaped-nul": b'{"id": "a\\u0000b"}',
    "lone-high-surrogate": b'{"id": "\\ud800"}',
    "lone-low-surrogate": b'{"id": "\\udc00"}',
    "surrogate-pair": b'{"id": "\\ud83d\\udca9"}',
    "huge-array": b"[" + b"1," * 20000 + b"1]",
    "huge-object": b"{" + b",".join(b'"k%d": %d' % (i, i) for i in range(3000)) + b"}",
    "long-key": b'{"' + b"k" * 5000 + b'": 1}',
    "many-errors": b"{" + b",".join(b'"unknown%d": 1' % i for i in range(40)) + b"}",
    "unicode-long-error": b'{"' + "é".encode() * 300 + b'": 1}',
}


def harvest():
    """(method, path, body) triples and bare (method, path) reads from tests/http."""
    lit = r'"(?:[^"\\\n]|\\.)*"'
    pattern = re.compile(r'"(GET|HEAD|DELETE|OPTIONS|POST|PUT|PATCH)",\s*(' + lit + r')'
                         r'(?:,\s*((?:' + lit + r'\s*)+))?')
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/http/*.c"))):
        text = open(path, encoding="utf-8").read()
        for m in pattern.finditer(text):
            url = cstring(m.group(2))
            if not url.startswith(b"/"):
                continue
            body = b""
            if m.group(3):
                body = b"".join(cstring(p) for p in re.findall(lit, m.group(3)))
                if not body.lstrip()[:1] in (b"{", b"[", b'"') and body.strip() != b"":
                    body = b""
                body = body.replace(b"'", b'"')
            found.append((m.group(1).encode(), url, body))
    return found


def cstring(literal):
    inner = literal[1:-1]
    return inner.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1")


def route_of(method, url):
    path = url.split(b"?")[0].decode("latin-1")
    for name, (m, pattern) in ROUTE_PATHS.items():
        regex = "^" + re.escape(pattern).replace(r"\{m\}", "[^/]+/[^/]+").replace(
            "fuzz\\-reporter", "[^/]+") + "$"
        if m == method.decode() and re.match(regex, path):
            return name
    return None


def write(directory, name, data, names):
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80]
    if safe in names:
        safe += "-" + hashlib.sha1(data).hexdigest()[:8]
    names.add(safe)
    with open(os.path.join(directory, safe), "wb") as f:
        f.write(data)


def request(method, url, body=b"", token=1, key=None, headers=()):
    lines = [method + b" " + url]
    if token:
        lines.append(b"Token: %d" % token)
    if key:
        lines.append(b"Idempotency-Key: " + key)
    lines.extend(headers)
    return b"\n".join(lines) + b"\n\n" + body


def json_body_corpus(directory):
    names = set()
    for r, route in enumerate(ROUTES):
        for i, body in enumerate(VALID[route]):
            model = i % len(MODELS)
            write(directory, "%s-valid-%d" % (route, i), bytes([r + 9 * model]) + j(body), names)
        for key, values in FIELDS[route]:
            for v in values:
                label = "%s-%s-%s" % (route, key, hashlib.sha1(v).hexdigest()[:8])
                write(directory, label, bytes([r]) + object_with(route, key, v), names)
        for label, body in GENERIC.items():
            if route in ("models", "estimates", "inferences") or len(body) < 200:
                write(directory, "%s-%s" % (route, label), bytes([r]) + body, names)
    for method, url, body in harvest():
        route = route_of(method, url)
        if route is None or not body:
            continue
        label = "%s-http-suite-%s" % (route, hashlib.sha1(body).hexdigest()[:8])
        write(directory, label, bytes([ROUTES.index(route)]) + body, names)


def handler_corpus(directory):
    names = set()
    for route in ROUTES:
        method, pattern = ROUTE_PATHS[route]
        for i, body in enumerate(VALID[route]):
            url = pattern.replace("{m}", MODELS[i % len(MODELS)]).encode()
            key = b"seed-%s-%d" % (route.encode(), i) if route in KEYED else None
            write(directory, "%s-valid-%d" % (route, i),
                  request(method.encode(), url, j(body), token=1, key=key), names)
            # the same write with the namespace token, the other hub's token, none
            for token in (0, 2, 3):
                write(directory, "%s-valid-%d-token%d" % (route, i, token),
                      request(method.encode(), url, j(body), token=token, key=key), names)
    reads = [
        b"GET /healthz", b"GET /readyz", b"HEAD /openapi.yaml", b"GET /v1/models",
        b"GET /v1/models?namespace=hub-a&limit=1", b"GET /v1/models?parent=hub-a/base",
        b"GET /v1/models?cursor=abc&limit=0", b"GET /v1/models?limit=100000",
        b"GET /v1/models/hub-a/child", b"GET /v1/models/hub-a/child?pretty=1",
        b"GET /v1/models/hub-a/base/ancestors", b"GET /v1/models/hub-a/child/ancestors",
        b"GET /v1/models/hub-a/base/family", b"GET /v1/models/hub-a/base/family?policy=usage",
        b"GET /v1/models/hub-a/base/family?limit=1&cursor=1",
        b"GET /v1/models/hub-a/base/activities", b"GET /v1/models/hub-a/base/activities?limit=1",
        b"GET /v1/models/hub-a/child/inferences",
        b"GET /v1/models/hub-a/child/inferences?from=2024-01-01&to=2024-12-31",
        b"GET /v1/models/hub-a/child/inferences?from=2024-13-01",
        b"GET /v1/models/hub-a/child/footprint", b"GET /v1/models/hub-a/child/footprint?policy=usage",
        b"GET /v1/models/hub-b/merged/footprint?policy=equal",
        b"GET /v1/models/hub-b/merged/footprint?policy=none",
        b"GET /v1/models/hub-b/merged/footprint?policy=bogus",
        b"GET /v1/hardware", b"GET /v1/hardware?kind=gpu", b"GET /v1/regions",
        b"GET /v1/regions?provider=gcp", b"GET /v1/methodology", b"GET /v1/tokens",
        b"GET /v1/tokens?limit=1",
    ]
    for i, line in enumerate(reads):
        method, url = line.split(b" ", 1)
        write(directory, "read-%d-%s" % (i, url.decode()), request(method, url, token=0), names)
    special = {
        "family-csv": request(b"GET", b"/v1/models/hub-a/base/family", token=0,
                              headers=[b"Accept: text/csv"]),
        "etag-304": request(b"GET", b"/v1/models/hub-a/child", token=0,
                            headers=[b'If-None-Match: "v1", W/"v2", "v3"']),
        "etag-star": request(b"GET", b"/v1/models/hub-a/child", token=0,
                             headers=[b"If-None-Match: *"]),
        "if-match-ok": request(b"PATCH", b"/v1/models/hub-a/child", b'{"task": "x"}',
                               headers=[b'If-Match: "v1"']),
        "if-match-stale": request(b"PATCH", b"/v1/models/hub-a/child", b'{"task": "x"}',
                                  headers=[b'If-Match: "v999"']),
        "if-match-weak": request(b"DELETE", b"/v1/models/hub-b/solo",
                                 headers=[b'If-Match: W/"v1"']),
        "delete-with-children": request(b"DELETE", b"/v1/models/hub-a/base"),
        "delete-activity": request(b"DELETE", b"/v1/models/hub-a/base/activities/1"),
        "delete-activity-bad-id": request(b"DELETE", b"/v1/models/hub-a/base/activities/-1"),
        "delete-token": request(b"DELETE", b"/v1/tokens/2"),
        "delete-token-huge": request(b"DELETE", b"/v1/tokens/99999999999999999999999"),
        "options": request(b"OPTIONS", b"/v1/models", token=0),
        "method-not-allowed": request(b"DELETE", b"/v1/estimates"),
        "unknown-method": request(b"BREW", b"/v1/models"),
        "long-method": request(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"/v1/models"),
        "no-path": b"GET\n\n",
        "near-miss-route": request(b"GET", b"/v1/modles", token=0),
        "trailing-slash": request(b"GET", b"/v1/models/", token=0),
        "double-slash": request(b"GET", b"/v1//models", token=0),
        "traversal": request(b"GET", b"/v1/models/../../etc/passwd", token=0),
        "traversal-encoded": request(b"GET", b"/v1/models/%2e%2e/%2e%2e%2fetc%2fpasswd", token=0),
        "encoded-slash-id": request(b"GET", b"/v1/models/hub-a%2fbase/x", token=0),
        "encoded-nul": request(b"GET", b"/v1/models/hub-a/ba%00se", token=0),
        "bad-percent": request(b"GET", b"/v1/models/hub-a/%zz%", token=0),
        "sql-in-path": request(b"GET", b"/v1/models/hub-a/x'%20OR%20'1'='1", token=0),
        "sql-in-query": request(b"GET", b"/v1/models?namespace=%27%3B%20DROP%20TABLE%20models%3B--",
                                token=0),
        "overlong-id": request(b"GET", b"/v1/models/" + b"a" * 300 + b"/" + b"b" * 300, token=0),
        "many-segments": request(b"GET", b"/a" * 40, token=0),
        "query-bomb": request(b"GET", b"/v1/models?" + b"&".join(b"k%d=v" % i for i in range(50)),
                              token=0),
        "query-bare-key": request(b"GET", b"/v1/models?pretty&limit", token=0),
        "query-plus": request(b"GET", b"/v1/models?namespace=hub+a", token=0),
        "token-in-query": request(b"GET", b"/v1/models?access_token=abc", token=0),
        "token-in-query-write": request(b"POST", b"/v1/models?token=abc", b'{"id": "hub-a/q"}'),
        "auth-basic": request(b"POST", b"/v1/models", b'{"id": "hub-a/b1"}', token=0,
                              headers=[b"Authorization: Basic dXNlcjpwYXNz"]),
        "auth-malformed": request(b"POST", b"/v1/models", b'{"id": "hub-a/b2"}', token=0,
                                  headers=[b"Authorization: Bearer a b\"c"]),
        "auth-empty": request(b"POST", b"/v1/models", b'{"id": "hub-a/b3"}', token=0,
                              headers=[b"Authorization: Bearer "]),
        "auth-long": request(b"POST", b"/v1/models", b'{"id": "hub-a/b4"}', token=0,
                             headers=[b"Authorization: Bearer " + b"A" * 600]),
        "auth-unknown": request(b"POST", b"/v1/models", b'{"id": "hub-a/b5"}', token=0,
                                headers=[b"Authorization: bearer ct_unknown_token_value"]),
        "other-namespace": request(b"POST", b"/v1/models", b'{"id": "hub-b/mine"}', token=2),
        "body-names-other-namespace": request(
            b"POST", b"/v1/inference-reports",
            b'{"reports": [{"model": "hub-b/merged", "count": 1}]}', token=2, key=b"k-other"),
        "scope-missing": request(b"POST", b"/v1/models", b'{"id": "hub-b/x"}', token=3),
        "key-missing": request(b"POST", b"/v1/models/hub-a/child/inferences", b'{"count": 1}'),
        "key-bad": request(b"POST", b"/v1/models/hub-a/child/inferences", b'{"count": 1}',
                           key=b"has space\x01"),
        "key-long": request(b"POST", b"/v1/models/hub-a/child/inferences", b'{"count": 1}',
                            key=b"k" * 400),
        "key-reused-other-body": request(b"POST", b"/v1/models/hub-a/child/inferences",
                                         b'{"count": 2}', key=b"seed-inferences-0"),
        "count-overflow": request(b"POST", b"/v1/models/hub-a/child/inferences",
                                  b'{"count": 9223372036854775807}', key=b"k-overflow"),
        "counter-overflow": request(b"PUT", b"/v1/models/hub-a/child/inference-counters/r",
                                    b'{"total": 9223372036854775807}'),
        "cycle": request(b"PATCH", b"/v1/models/hub-a/base",
                         b'{"parents": [{"id": "hub-a/child", "relation": "finetune"}]}'),
        "self-parent": request(b"PATCH", b"/v1/models/hub-a/base",
                               b'{"parents": [{"id": "hub-a/base", "relation": "finetune"}]}'),
        "read-only-field": request(b"PATCH", b"/v1/models/hub-a/base",
                                   b'{"id": "hub-a/other", "created_at": "now"}'),
        "crlf-lines": b"GET /v1/models/hub-a/child\r\nToken: 0\r\n\r\n",
        "header-no-colon": b"GET /v1/models\nnot a header\n\n",
        "get-with-body": request(b"GET", b"/v1/models", b'{"ignored": true}', token=0),
    }
    for label, data in special.items():
        write(directory, label, data, names)
    for label, body in GENERIC.items():
        for route in ("models", "inferences", "estimates", "patch"):
            method, pattern = ROUTE_PATHS[route]
            url = pattern.replace("{m}", "hub-a/child").encode()
            key = b"g-" + label.encode() if route in KEYED else None
            if route in ("models", "estimates") or len(body) < 200:
                write(directory, "%s-%s" % (route, label),
                      request(method.encode(), url, body, key=key), names)
    for method, url, body in harvest():
        label = "http-suite-%s-%s" % (method.decode(), hashlib.sha1(url + body).hexdigest()[:8])
        key = b"h-" + hashlib.sha1(url + body).hexdigest()[:8].encode()
        write(directory, label, request(method, url, body, key=key), names)


def main():
    for target, build in (("fuzz_json_body", json_body_corpus), ("fuzz_handler", handler_corpus)):
        directory = os.path.join(HERE, "corpus", target)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        build(directory)
        print("%s: %d files" % (target, len(os.listdir(directory))), file=sys.stderr)


if __name__ == "__main__":
    main()
