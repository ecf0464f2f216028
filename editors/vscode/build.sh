#!/usr/bin/env bash
# Build the extension into editors/vscode/infill-lsp-<version>.vsix (prints its path last).
# npm ci runs only when node_modules is missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
fi
rm -rf out
npx tsc -p .
VERSION="$(node -p "require('./package.json').version")"
npx vsce package --allow-missing-repository --skip-license --no-rewrite-relative-links --out "infill-lsp-$VERSION.vsix" >&2
echo "$PWD/infill-lsp-$VERSION.vsix"
