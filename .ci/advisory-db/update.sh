#!/usr/bin/env bash
# Refreshes the vendored RustSec advisory snapshot from a local clone of
# RustSec/advisory-db (CI has no network for git, so cargo deny reads this
# snapshot; see .ci/deny.sh):
#   bash .ci/advisory-db/update.sh /path/to/advisory-db
# Only `crates/` (what cargo deny reads) and the licence (CC0-1.0) are kept.
set -euo pipefail
src="${1:?path to a clone of RustSec/advisory-db}"
here="$(cd "$(dirname "$0")" && pwd)"
git -C "$src" archive --format=tar HEAD crates LICENSE.txt | xz -9e >"$here/rustsec-crates.tar.xz"
{
  echo "source=RustSec/advisory-db"
  echo "commit=$(git -C "$src" rev-parse HEAD)"
  echo "date=$(git -C "$src" log -1 --format=%cI HEAD)"
} >"$here/SNAPSHOT"
cat "$here/SNAPSHOT"
