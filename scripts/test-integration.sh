#!/usr/bin/env bash
# The specs that need more than `npm ci`:
# - a team's own project installed from the packed package, offline, on the platform's
#   @pulumi/pulumi and on a newer one (test/integration/team-project.spec.ts); the newer one's
#   packages are fetched into the npm cache first (scripts/prime-team-project-cache.sh);
# - the cost tracker's API specs on a real PostgreSQL server, the portal's database bootstrap SQL
#   as a non-superuser master (test/integration/portal-database-bootstrap.spec.ts), concurrent approvals, and its
#   dashboard in headless Chromium. Installs Debian's chromium when missing (a test tool's own
#   browser download cannot work here) and runs against a throwaway PostgreSQL server
#   (scripts/with-postgres.sh);
# - the portal end to end: the platform's Backstage app (backstage/, its own Yarn workspace,
#   Yarn from the npm registry) with the real cost tracker, in headless Chromium
#   (scripts/portal-e2e.sh).
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

scripts/prime-team-project-cache.sh
npx mocha --no-config --require esbuild-register --timeout 300000 test/integration/team-project.spec.ts test/integration/team-scaffold.spec.ts test/integration/cost-tracker-demo.spec.ts

scripts/portal-e2e.sh

exec scripts/with-postgres.sh npx mocha --config services/cost-tracker/test/integration/.mocharc.json test/integration/cost-tracker-database-user.spec.ts test/integration/portal-database-bootstrap.spec.ts
