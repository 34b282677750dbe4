#!/usr/bin/env bash
# PostgreSQL over TLS: a cluster of this script's own (its own port and
# directory; the shared server on 5432 is left alone) with ssl=on and only
# TLS connections allowed (pg_hba: hostssl trust, hostnossl reject), a CA
# and a server certificate for 127.0.0.1 generated here with the openssl CLI.
#
# 1. `bar-raiser migrate` and `serve` over sslmode=verify-full with the CA
#    as sslrootcert: readiness, migrations, then a loop's worth of API calls
#    (tests/tls/loop.py: people, a candidate, a loop, interviews, feedback
#    drafted and sealed by every interviewer, read back).
# 2. sslmode=require (encrypted, certificate not checked) also connects.
# 3. A CA that did not sign the server's certificate fails start-up with
#    exit status 1, one line on stderr naming libpq's reason, and no file
#    left behind in the working directory.
# The cluster is stopped and removed at the end.
#
#   BAR_RAISER_BIN   server binary (default: cargo build, target/debug/bar-raiser)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/support/pgcluster.sh

if [ -z "${BAR_RAISER_BIN:-}" ]; then
  cargo build --locked --quiet
  BAR_RAISER_BIN="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/bar-raiser"
fi

work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
  pgc_running && pgc_stop immediate 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(pgc_free_port)
pgc_init "$work/pg" "$port"
pki="$work/pki"
mkdir -p "$pki"

echo "generating a CA and a server certificate for 127.0.0.1 (openssl CLI)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=bar-raiser test CA" -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=127.0.0.1" -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$pki/ext.cnf"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 2 -extfile "$pki/ext.cnf" -out "$pki/server.crt" 2>/dev/null
# Another CA, which signed nothing the server has.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=some other CA" -keyout "$pki/wrong-ca.key" -out "$pki/wrong-ca.crt" 2>/dev/null
cp "$pki/server.crt" "$pki/server.key" "$work/pg/data/"
[ "$(id -u)" = 0 ] && chown postgres: "$work/pg/data/server.crt" "$work/pg/data/server.key"
chmod 600 "$work/pg/data/server.key"

cat >>"$work/pg/data/postgresql.conf" <<CONF
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
CONF
cat >"$work/pg/data/pg_hba.conf" <<HBA
local     all all              trust
hostnossl all all 0.0.0.0/0    reject
hostssl   all all 127.0.0.1/32 trust
HBA
pgc_start
pgc_psql -c "CREATE DATABASE bar_raiser_tls"
echo "PostgreSQL with ssl=on on 127.0.0.1:$port (plain TCP connections rejected)"

base="postgres://postgres@127.0.0.1:$port/bar_raiser_tls"
verify_url="$base?sslmode=verify-full&sslrootcert=$pki/ca.crt"

echo "--- a plain connection is refused (the server requires TLS)"
if "$BAR_RAISER_BIN" migrate --database-url "$base?sslmode=disable" >/dev/null 2>"$work/plain.err"; then
  echo "FAIL: a connection without TLS was accepted" >&2
  exit 1
fi
grep -q 'no encryption' "$work/plain.err"

echo "--- migrate over sslmode=verify-full"
"$BAR_RAISER_BIN" migrate --database-url "$verify_url"

echo "--- serve over sslmode=verify-full: readiness and a loop's worth of API calls"
python3 tests/tls/loop.py --binary "$BAR_RAISER_BIN" --database-url "$verify_url" --workdir "$work"

ssl_sessions=$(pgc_psql -At -c "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = 'bar_raiser_tls' AND NOT s.ssl")
[ "$ssl_sessions" = 0 ] || { echo "FAIL: $ssl_sessions connection(s) without TLS" >&2; exit 1; }

echo "--- sslmode=require connects (encrypted, certificate not checked)"
"$BAR_RAISER_BIN" migrate --database-url "$base?sslmode=require" | grep -q '^0 migration(s) applied$'

echo "--- a wrong CA fails start-up with one line"
empty="$work/empty"
mkdir -p "$empty"
set +e
(cd "$empty" && BAR_RAISER_DATABASE_URL="$base?sslmode=verify-full&sslrootcert=$pki/wrong-ca.crt" \
  BAR_RAISER_BIND=127.0.0.1:0 BAR_RAISER_LOG=warn timeout 60 "$BAR_RAISER_BIN" serve \
  >"$work/wrong.out" 2>"$work/wrong.err")
status=$?
set -e
cat "$work/wrong.err"
if [ "$status" != 1 ]; then
  echo "FAIL: start-up with a wrong CA exited with $status, not 1" >&2
  exit 1
fi
lines=$(wc -l <"$work/wrong.err")
if [ "$lines" != 1 ] || [ -s "$work/wrong.out" ]; then
  echo "FAIL: start-up with a wrong CA printed $lines line(s) on stderr (want 1) or wrote to stdout" >&2
  exit 1
fi
grep -q 'certificate verify failed' "$work/wrong.err"
if [ -n "$(ls -A "$empty")" ]; then
  echo "FAIL: start-up with a wrong CA left files behind: $(ls -A "$empty")" >&2
  exit 1
fi

pgc_stop
echo "PostgreSQL over TLS: OK"
