#!/usr/bin/env bash
# cargo deny (advisories, licenses, bans, sources; deny.toml) against the
# RustSec snapshot vendored in .ci/advisory-db: CI reaches package
# registries only, so the database is not fetched at run time.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-deny >/dev/null 2>&1; then
  echo "installing cargo-deny (cached in ~/.cargo/bin)"
  cargo install cargo-deny --locked
fi
cargo deny --version

snapshot=.ci/advisory-db
# The directory cargo deny derives from its default database URL under
# deny.toml's db-path (advisories.db-path).
db=target/advisory-dbs/advisory-db-3157b0e258782691
if ! cmp -s "$snapshot/SNAPSHOT" "$db/SNAPSHOT" 2>/dev/null; then
  rm -rf "$db"
  mkdir -p "$db/.git"
  tar -xJf "$snapshot/rustsec-crates.tar.xz" -C "$db"
  cp "$snapshot/SNAPSHOT" "$db/SNAPSHOT"
fi
# cargo deny dates a database by .git/FETCH_HEAD: give it the snapshot's own
# date, so maximum-db-staleness in deny.toml judges the real age.
date="$(sed -n 's/^date=//p' "$snapshot/SNAPSHOT")"
touch -d "$date" "$db/.git/FETCH_HEAD"
echo "RustSec snapshot $(sed -n 's/^commit=//p' "$snapshot/SNAPSHOT" | cut -c1-12) of $date" \
  "($(( ($(date +%s) - $(date -d "$date" +%s)) / 86400 )) days old;" \
  "refresh with .ci/advisory-db/update.sh)"

# --offline: no advisory fetch; cargo metadata then needs every package of
# every platform in the local cache, which cargo fetch brings from crates.io.
cargo fetch --locked --quiet
cargo deny --offline --locked check
