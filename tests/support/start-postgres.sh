#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 cluster (Debian's postgresql-15) for the
# tests' second store backend; idempotent.
# A fresh cluster in $HARNESS_STATE/postgres every time it is started (its
# data folder, also the Unix socket's folder), owned by the `postgres` system
# user (initdb refuses root; when not run as root: the calling user).
# TCP on 127.0.0.1:$PG_PORT (default 55432) only, scram-sha-256 passwords
# (no trust): role carddesk_test, password $PG_PASSWORD, with CREATEDB (the
# tests make one database per test), and its database carddesk_test.
# The Unix socket takes only the cluster's superuser (peer auth), for set-up.
# Durability is off (fsync=off): it is thrown away, never crash-recovered.
# TLS on: a site CA made here ($PG_CA, env.sh) signs the server's certificate
# (for 127.0.0.1 and localhost); the tests' connection files name that CA,
# so they talk TLS and check the server, as a site's desks would.
# URL for the tests: $CARDDESK_TEST_POSTGRES (env.sh).
HERE="$(cd "$(dirname "$0")" && pwd)"; . "$HERE/_lib.sh"
PG_PORT="${PG_PORT:-55432}"
PG_PASSWORD="${PG_PASSWORD:-carddesk-test-only}"
PG_BIN=/usr/lib/postgresql/15/bin
PGDATA="$(cd "$HARNESS_STATE" && pwd -P)/postgres"
PG_ROLE=carddesk_test
PG_DB=carddesk_test

ensure_pkgs "command -v openssl && test -x $PG_BIN/initdb && test -x $PG_BIN/postgres && test -x $PG_BIN/pg_ctl && test -x $PG_BIN/psql && test -x $PG_BIN/pg_isready && test -f /usr/share/postgresql/15/extension/unaccent.control && id -u postgres" \
  postgresql-15 postgresql-client-15 openssl

[[ "$PG_PASSWORD" =~ ^[A-Za-z0-9._~-]+$ ]] \
  || die "PG_PASSWORD may only contain A-Z a-z 0-9 . _ ~ - (it goes into a URL unencoded)"

# Everything the cluster does runs as its owner: `postgres` when we are root.
# (setpriv execs in place, so the PID start_bg records is the postmaster's.)
if [ "$(id -u)" = 0 ]; then
  PG_OWNER=postgres
  AS_OWNER=(setpriv --reuid=postgres --regid=postgres --init-groups --)
else
  PG_OWNER="$(id -un)"
  AS_OWNER=()
fi
# (From /: the owner may not be allowed into the caller's working directory.)
as_owner() { (cd / && exec "${AS_OWNER[@]}" "$@"); }

# Superuser over the socket in the data folder (peer auth: the owner only).
su_psql() { as_owner "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDATA" -p "$PG_PORT" -U "$PG_OWNER" -d postgres "$@"; }
url_psql() { PGPASSWORD="$2" PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -w \
  "postgresql://$PG_ROLE@127.0.0.1:$PG_PORT/$1" -c "SELECT current_user || ' ' || current_database()"; }

running_port=""
if pid=$(our_pid postgres); then
  running_port=$(cat "$PIDDIR/postgres.port" 2>/dev/null || echo "")
  [ "$running_port" = "$PG_PORT" ] \
    || die "PostgreSQL started by this harness runs on port ${running_port:-?}, not PG_PORT=$PG_PORT; run stop-all.sh first"
  log "PostgreSQL already running (pid=$pid, started by this harness) on 127.0.0.1:$PG_PORT"
else
  port_listening "$PG_PORT" && die "port $PG_PORT is already in use by a process not started by this harness; set PG_PORT"
  # Never wipe a folder a live server still uses.
  if [ -f "$PGDATA/postmaster.pid" ]; then
    old=$(head -1 "$PGDATA/postmaster.pid" 2>/dev/null || echo "")
    [ -n "$old" ] && [ -d "/proc/$old" ] \
      && die "a PostgreSQL not recorded by this harness (pid $old) runs in $PGDATA; stop it first"
  fi
  rm -rf "$PGDATA" "$PIDDIR/postgres.port"
  mkdir -m 0700 "$PGDATA"
  chown "$PG_OWNER:" "$PGDATA"
  as_owner test -w "$PGDATA" \
    || die "$PG_OWNER cannot write to $PGDATA (is a parent folder of HARNESS_STATE closed to other users?)"
  log "initdb $PGDATA (owner $PG_OWNER)"
  as_owner "$PG_BIN/initdb" -D "$PGDATA" -U "$PG_OWNER" -E UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host=scram-sha-256 --no-sync >>"$LOGDIR/postgres.log" 2>&1 \
    || { tail -20 "$LOGDIR/postgres.log" >&2; die "initdb failed (log: $LOGDIR/postgres.log)"; }
  # The site CA and the server's certificate (openssl, from Debian).
  PG_CA="${PG_CA:-$HARNESS_STATE/postgres-ca.pem}"
  tls="$(mktemp -d)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -subj "/CN=CardDesk test site CA" -keyout "$tls/ca.key" -out "$tls/ca.pem" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      >>"$LOGDIR/postgres.log" 2>&1 \
    && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj "/CN=127.0.0.1" -keyout "$PGDATA/server.key" -out "$tls/server.csr" \
      >>"$LOGDIR/postgres.log" 2>&1 \
    && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$tls/ext" \
    && openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
      -CAcreateserial -days 30 -extfile "$tls/ext" -out "$PGDATA/server.crt" \
      >>"$LOGDIR/postgres.log" 2>&1 \
    || die "could not make the test CA and server certificate (log: $LOGDIR/postgres.log)"
  install -m 0644 "$tls/ca.pem" "$PG_CA"
  rm -rf "$tls"
  chown "$PG_OWNER:" "$PGDATA/server.key" "$PGDATA/server.crt"
  chmod 0600 "$PGDATA/server.key"
  # Only what we need in pg_hba.conf: the owner over the socket, passwords
  # over TCP from this machine. Nothing else gets in.
  cat >"$PGDATA/pg_hba.conf" <<HBA
# written by $0 (test harness)
local all $PG_OWNER                 peer
host  all all       127.0.0.1/32    scram-sha-256
HBA
  cat >>"$PGDATA/postgresql.conf" <<CONF

# --- CardDesk test harness ($0) ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGDATA'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
CONF
  start_bg postgres "postgres -D $PGDATA" "${AS_OWNER[@]}" "$PG_BIN/postgres" -D "$PGDATA"
  echo "$PG_PORT" >"$PIDDIR/postgres.port"
fi

# Ready when pg_isready says so over TCP; fail at once if the server died.
n=300
until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 1; do
  our_pid postgres >/dev/null || { tail -20 "$LOGDIR/postgres.log" >&2 || true;
    die "PostgreSQL exited before it accepted connections (log: $LOGDIR/postgres.log)"; }
  n=$((n - 1)); [ $n -gt 0 ] || die "timeout after 30s waiting for PostgreSQL on 127.0.0.1:$PG_PORT (log: $LOGDIR/postgres.log)"
  sleep 0.1
done

# The test role and its database (again when already running: a start that
# failed half-way, or another PG_PASSWORD, is put right).
su_psql -v role="$PG_ROLE" -v db="$PG_DB" -v pw="$PG_PASSWORD" <<'SQL' >>"$LOGDIR/postgres.log" 2>&1 \
  || { tail -5 "$LOGDIR/postgres.log" >&2; die "could not create role $PG_ROLE / database $PG_DB (log: $LOGDIR/postgres.log)"; }
SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" LOGIN CREATEDB NOSUPERUSER NOCREATEROLE PASSWORD :'pw';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL

# Check it the way the tests will connect, and that a wrong password is refused.
who=$(url_psql "$PG_DB" "$PG_PASSWORD" 2>&1) && [ "$who" = "$PG_ROLE $PG_DB" ] \
  || die "cannot log in as $PG_ROLE over TCP with the password: $who"
url_psql "$PG_DB" "not-$PG_PASSWORD" >/dev/null 2>&1 \
  && die "$PG_ROLE logged in with a wrong password: the server is not asking for passwords"
# TLS answers with the certificate the CA signed.
PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -At -w \
  "postgresql://$PG_ROLE@127.0.0.1:$PG_PORT/$PG_DB?sslmode=verify-full&sslrootcert=${PG_CA:-$HARNESS_STATE/postgres-ca.pem}" \
  -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" 2>&1 | grep -qx t \
  || die "TLS with the test CA ($HARNESS_STATE/postgres-ca.pem) does not work (log: $LOGDIR/postgres.log)"
log "ready: postgres://$PG_ROLE:***@127.0.0.1:$PG_PORT/$PG_DB (scram-sha-256, TLS with CA ${PG_CA:-$HARNESS_STATE/postgres-ca.pem}; $PG_ROLE has CREATEDB), data and socket in $PGDATA"
