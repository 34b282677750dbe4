#!/usr/bin/env bash
# The committed OpenAPI document, judged by two linters nobody here wrote:
# Redocly CLI with its `recommended` rules and Spectral with `spectral:oas`.
# Both must report zero errors and zero warnings. The document must also be
# the one the code generates (tests/api/openapi.rs checks that too).
set -euo pipefail
cd "$(dirname "$0")"
repo=$(cd ../.. && pwd)
tools="${BAR_RAISER_NPM_TOOLS:-$repo/.npm-tools}"
if [ ! -x "$tools/node_modules/.bin/redocly" ] || [ ! -x "$tools/node_modules/.bin/spectral" ]; then
  mkdir -p "$tools"
  (cd "$tools" && [ -f package.json ] || (cd "$tools" && npm init -y >/dev/null))
  (cd "$tools" && npm install --silent --no-audit --no-fund @redocly/cli@2.77.0 @stoplight/spectral-cli@6.16.3)
fi
doc="$repo/openapi/openapi.json"

echo "--- Redocly (recommended)"
out=$("$tools/node_modules/.bin/redocly" lint --config redocly.yaml "$doc" --format stylish 2>&1) || {
  echo "$out"; exit 1; }
echo "$out" | grep -v '[║╔╚]' | tail -4
if echo "$out" | grep -Eq '[0-9]+ warnings?\b|warning +[a-z0-9-]+'; then
  echo "Redocly reported warnings" >&2
  exit 1
fi

echo "--- Spectral (spectral:oas)"
"$tools/node_modules/.bin/spectral" lint --ruleset spectral.yaml --fail-severity warn "$doc"
