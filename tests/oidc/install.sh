#!/usr/bin/env bash
# Installs the OpenID provider the single sign-on tests run (tests/api/sso.rs):
# oidc-provider from the npm registry, exactly as package-lock.json pins it.
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { echo "tests/oidc: Node is required (node not found)" >&2; exit 1; }
command -v npm >/dev/null || { echo "tests/oidc: npm is required (npm not found)" >&2; exit 1; }
if [ -d node_modules/oidc-provider ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "oidc-provider already installed"
else
  npm ci --no-audit --no-fund --loglevel=error
fi
node -e 'import("oidc-provider").then(() => console.log("oidc-provider", require("./node_modules/oidc-provider/package.json").version))'
