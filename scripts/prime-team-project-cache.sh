#!/usr/bin/env bash
# Puts into the npm cache, once and online, the packages of the team project on a newer
# @pulumi/pulumi (test/fixtures/team-stack-newer-pulumi/package-lock.json), so that
# test/integration/team-project.spec.ts can install it with `npm ci --offline`, and those of the
# project the initializer writes (test/integration/team-scaffold.spec.ts). The root's
# `npm ci` caches everything the example's own lockfile needs; this lockfile's newer
# @pulumi/pulumi and its dependencies are in no other lockfile of the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
fixture=test/fixtures/team-stack-newer-pulumi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$fixture/package.json" "$fixture/package-lock.json" "$work/"
# The lockfile names the package's tarball (file:gpu-platform-components-<version>.tgz); any
# build of it does, since the lockfile holds no checksum for it.
npm run -s build
npm pack --ignore-scripts --silent --pack-destination "$work" >/dev/null
# Scripts off: @pulumi/* install scripts fetch provider plugins, which the cache does not need.
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund)
echo "npm cache primed for $fixture"

# The three commands of docs/team-project.md install a project with no lockfile: the packages npm
# resolves for it, and what `npm init` installs of the initializer, go into the cache too.
node -r esbuild-register test/integration/team-scaffold.ts
