#!/usr/bin/env bash
# The portal end to end (test/integration/portal.e2e.spec.ts): installs Yarn and the Backstage
# workspace's dependencies from the npm registry (scripts/backstage-yarn.sh), builds the app's
# production bundle as the image does, then runs the spec against a throwaway PostgreSQL.
# Prints how long each part took. Screenshots and the backend's log go to test-results/portal/.
set -euo pipefail
cd "$(dirname "$0")/.."

timed() { # <label> <command...>
    local start=$SECONDS
    "${@:2}"
    echo "portal-e2e: $1 took $((SECONDS - start)) s" >&2
}

timed "yarn install" bash scripts/backstage-yarn.sh install --immutable
timed "app bundle build" bash scripts/backstage-yarn.sh workspace app build
echo "portal-e2e: app bundle $(du -sh backstage/packages/app/dist | cut -f1)" >&2
timed "end-to-end spec" scripts/with-postgres.sh npx mocha --no-config --require esbuild-register --timeout 600000 \
    test/integration/portal.e2e.spec.ts
