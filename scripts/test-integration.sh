#!/usr/bin/env bash
# The cost tracker's integration specs: its API specs on a real PostgreSQL server, concurrent
# approvals, and the dashboard in headless Chromium. Installs Debian's chromium when missing
# (a test tool's own browser download cannot work here) and runs everything against a
# throwaway PostgreSQL server (scripts/with-postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    if [[ "$(id -u)" != 0 ]]; then
        echo "test-integration: Chromium is not installed; run as root or install Debian's chromium package" >&2
        exit 1
    fi
    echo "test-integration: installing Debian's chromium" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

exec scripts/with-postgres.sh npx mocha --config services/cost-tracker/test/integration/.mocharc.json
