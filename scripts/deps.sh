#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages carbontree needs, only those missing.
# Usage: scripts/deps.sh run|test
set -euo pipefail

run_pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev libyaml-dev liblz4-dev libpq-dev curl)
# prometheus brings promtool too: tests/prometheus scrapes a test server with both.
# python3-yaml (PyYAML on libyaml) is the second YAML parser of the contract checks.
# postgresql: the server of the statement layer's PostgreSQL tests (scripts/pg-cluster.sh).
# chromium: tests/browser drives the explorer page in it (playwright-core downloads
# no browser of its own).
# postgresql (its server binaries and psql): tests/pgschema runs the PostgreSQL
# schema on a throw-away cluster of its own.
test_pkgs=(check libsubunit-dev libcurl4-openssl-dev sqlite3 python3 python3-yaml clang clang-format git
    prometheus chromium postgresql)

pkgs=("${run_pkgs[@]}")
if [ "${1:-run}" = test ]; then
    pkgs+=("${test_pkgs[@]}")
    # The contract checks run on Node.js: Debian's nodejs and npm unless a Node.js
    # with npm is installed already (its own npm conflicts with Debian's package).
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        pkgs+=(nodejs npm)
    fi
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
