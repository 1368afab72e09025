#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Lints openapi.yaml with the pinned Redocly CLI (package-lock.json) and the
# rules in redocly.yaml. Exits non-zero when the document has any error.
set -eu
# No usage reports or update checks from the linter (CI may be offline).
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
cd "$(dirname "$0")"
if [ ! -d node_modules ]; then
    npm ci --no-audit --no-fund
fi
exec npx --no-install redocly lint ../../openapi.yaml
