#!/usr/bin/env bash
# Install what the real-editor tests need: tmux (Neovim screen capture), code-server 4.100.3,
# Debian chromium and playwright-core, into a cache folder (default <repo>/.cache/editors). Idempotent: each
# step is skipped when its result is already there. Works offline except for PyPI/npm/apt.
#
#   tests/editors/setup_editors.sh            # or INFILL_EDITOR_CACHE=/some/dir ...
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${INFILL_EDITOR_CACHE:-$REPO/.cache/editors}"
CODE_SERVER_VERSION=4.100.3
mkdir -p "$CACHE"

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> apt-get install ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}

# 1. System packages: kerberos headers + toolchain for code-server's native modules, the browser.
apt_install libkrb5-dev build-essential pkg-config chromium tmux

# 2. code-server (VS Code 1.100.3 in the browser).
CS_DIR="$CACHE/code-server"
if [ ! -x "$CS_DIR/node_modules/.bin/code-server" ]; then
    # @vscode/ripgrep's postinstall downloads rg from GitHub, which is unreachable here:
    # seed its download cache with the binary from the npm package instead.
    SEED_TMP="$CACHE/tmp"
    RG_CACHE="$SEED_TMP/vscode-ripgrep-cache-1.15.11"
    RG_TAR="$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
    if [ ! -f "$RG_TAR" ]; then
        echo "==> seeding the ripgrep cache"
        mkdir -p "$RG_CACHE" "$SEED_TMP/rgpack"
        (cd "$SEED_TMP/rgpack" && npm pack --silent @vscode/ripgrep-linux-x64@1.18.0 >/dev/null \
            && tar xzf vscode-ripgrep-linux-x64-1.18.0.tgz)
        tar czf "$RG_TAR" -C "$SEED_TMP/rgpack/package/bin" rg
    fi
    echo "==> npm install code-server@$CODE_SERVER_VERSION (about a minute)"
    mkdir -p "$CS_DIR"
    [ -f "$CS_DIR/package.json" ] || echo '{"private": true}' >"$CS_DIR/package.json"
    (cd "$CS_DIR" && TMPDIR="$SEED_TMP" npm_config_yes=true npm_config_unsafe_perm=true \
        npm install --no-audit --no-fund --foreground-scripts "code-server@$CODE_SERVER_VERSION")
fi

# 3. playwright-core (driver only; the browser is Debian's chromium).
PW_DIR="$CACHE/playwright"
if [ ! -d "$PW_DIR/node_modules/playwright-core" ]; then
    echo "==> npm install playwright-core"
    mkdir -p "$PW_DIR"
    [ -f "$PW_DIR/package.json" ] || echo '{"private": true}' >"$PW_DIR/package.json"
    (cd "$PW_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund playwright-core)
fi

CS_VERSION="$(node -p "require('$CS_DIR/node_modules/code-server/package.json').version")"
echo "code-server: $CS_DIR/node_modules/.bin/code-server ($CS_VERSION)"
echo "chromium:    $(command -v chromium)"
echo "playwright:  $PW_DIR/node_modules/playwright-core"
