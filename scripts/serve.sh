#!/usr/bin/env bash
# Installs what is missing, builds the release binary, migrates ./data/carbontree.db
# and serves on 127.0.0.1:8080. Extra arguments go to `carbontree serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh run
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null
mkdir -p data
export CARBONTREE_DB="${CARBONTREE_DB:-./data/carbontree.db}"
build/release/carbontree migrate
exec build/release/carbontree serve "$@"
