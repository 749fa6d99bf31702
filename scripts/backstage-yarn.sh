#!/usr/bin/env bash
# Runs Yarn in the Backstage workspace (backstage/), installing what it needs from the npm
# registry only, with npm's own client (no Corepack, whose download host may be unreachable):
# - Yarn 4.13.0, the release @backstage/create-app 0.9.2 ships: @yarnpkg/cli-dist's bin/yarn.js,
#   fetched with `npm pack` (which checks the registry's integrity hash) and kept where
#   backstage/.yarnrc.yml's yarnPath points (git-ignored);
# - Node.js 22 when this machine's is older (Backstage 1.55 supports 22 and 24, as the image
#   runs 22): the official binary, published on npm as node-linux-<arch>, kept under
#   ${BACKSTAGE_TOOLS_DIR:-~/.cache/gpu-platform-backstage}.
#
#   scripts/backstage-yarn.sh install --immutable
#   scripts/backstage-yarn.sh tsc
#
# BACKSTAGE_NODE=<dir> names a Node.js bin directory to use instead.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORKSPACE="$REPO/backstage"
YARN_VERSION=4.13.0
NODE_VERSION=22.23.5
TOOLS="${BACKSTAGE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpu-platform-backstage}"

fetch_npm_package() { # <spec> <destination dir>: the package's files, as npm pack verified them
    local spec="$1" dest="$2" tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
    mkdir -p "$dest"
    tar -xzf "$tmp"/*.tgz -C "$dest" --strip-components=1
    rm -rf "$tmp"
}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [[ -n "${BACKSTAGE_NODE:-}" ]]; then
    export PATH="$BACKSTAGE_NODE:$PATH"
elif (($(node_major node) < 22)); then
    case "$(uname -m)" in
        x86_64) arch=x64 ;;
        aarch64 | arm64) arch=arm64 ;;
        *) echo "backstage-yarn: no Node.js 22 binary on npm for $(uname -m); set BACKSTAGE_NODE" >&2 && exit 1 ;;
    esac
    node_dir="$TOOLS/node-$NODE_VERSION-linux-$arch"
    if [[ ! -x "$node_dir/bin/node" ]]; then
        echo "backstage-yarn: Node.js $(node -v) is older than 22; fetching node-linux-$arch@$NODE_VERSION from npm" >&2
        fetch_npm_package "node-linux-$arch@$NODE_VERSION" "$node_dir.tmp"
        rm -rf "$node_dir" && mv "$node_dir.tmp" "$node_dir"
    fi
    export PATH="$node_dir/bin:$PATH"
fi

release="$WORKSPACE/.yarn/releases/yarn-$YARN_VERSION.cjs"
if [[ ! -f "$release" ]]; then
    tmp="$(mktemp -d)"
    fetch_npm_package "@yarnpkg/cli-dist@$YARN_VERSION" "$tmp"
    mkdir -p "$(dirname "$release")"
    cp "$tmp/bin/yarn.js" "$release"
    rm -rf "$tmp"
fi

cd "$WORKSPACE"
exec node "$release" "$@"
