#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds the release binary, migrates ./data/carbontree.db
# and serves on 127.0.0.1:8080. Extra arguments go to `carbontree serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh run
# The release preset (CMakePresets.json): Release, as packagers build it; no test suites.
cmake --preset release -DBUILD_TESTING=OFF >/dev/null
cmake --build --preset release -j"$(nproc)" >/dev/null
mkdir -p data
export CARBONTREE_DB="${CARBONTREE_DB:-./data/carbontree.db}"
build/release/carbontree migrate
exec build/release/carbontree serve "$@"
