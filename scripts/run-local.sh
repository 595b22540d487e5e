#!/usr/bin/env bash
# make run: the whole saga on this machine, without Docker.
#   - the dev broker (kfake) with its data in $RUN_DIR/kafka, so a restart loses nothing;
#   - PostgreSQL from $DATABASE_URL, else the local server on 127.0.0.1:5432, else a
#     private throwaway cluster in $RUN_DIR/pg (when the PostgreSQL binaries are installed);
#   - orderdb, stockdb and paymentdb created when missing; the ops console (sagactl
#     console), which collects the services' traces; the three services, sending it their spans;
#   - demo items and accounts, seeded idempotently;
#   - $RUN_DIR/env: this run's addresses, broker, databases and token, which
#     scripts/demo.sh and sagactl read, so that they reach this run whatever its ports.
# Ctrl-C stops every process it started, the services before the console and the broker. Its knobs
# are the README's "make run" table; the services' own variables (CURRENCY, ...)
# pass through from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

RUN_DIR=${RUN_DIR:-$ROOT/run}
BROKER_ADDR=${BROKER_ADDR:-127.0.0.1:9092}
ORDER_HTTP_ADDR=${ORDER_HTTP_ADDR:-127.0.0.1:8080}
STOCK_HTTP_ADDR=${STOCK_HTTP_ADDR:-127.0.0.1:8081}
PAYMENT_HTTP_ADDR=${PAYMENT_HTTP_ADDR:-127.0.0.1:8082}
PG_PORT=${PG_PORT:-55432}
mkdir -p "$RUN_DIR/logs"
RUN_DIR=$(cd "$RUN_DIR" && pwd)
ENV_FILE=$RUN_DIR/env

say() { printf '\033[1m%s\033[0m\n' "$*"; }
die() { printf 'run-local: %s\n' "$*" >&2; exit 1; }

for b in order-service stock-service payment-service devbroker sagactl; do
  [ -x "bin/$b" ] || die "bin/$b is missing: run 'make build' (make run does it for you)"
done
command -v psql >/dev/null || die "psql is needed to create the databases (apt-get install postgresql-client)"

# One run a run directory: a second make run on the same RUN_DIR would share
# its broker's data and its private cluster. The lock goes with this process.
exec 9>"$RUN_DIR/lock"
flock -n 9 || die "another make run is using $RUN_DIR: stop it, or give this one RUN_DIR=<another directory> (and other ports)"

pids=()
console_pid=
private_pg=
stopping=
cleanup() {
  trap - INT TERM EXIT
  stopping=1
  say "stopping..."
  # The services first, and only then the broker (pids[0]), so that they
  # stop cleanly instead of warning about a broker gone under them. The
  # children run in sessions of their own (setsid): Ctrl-C reaches this
  # script alone, not all of them at once.
  for ((i=${#pids[@]}-1; i>=1; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]:1}"; do wait "$pid" 2>/dev/null || true; done
  # The console after the services, which send it their last spans as they stop.
  if [ -n "$console_pid" ]; then kill -TERM "$console_pid" 2>/dev/null || true; wait "$console_pid" 2>/dev/null || true; fi
  if [ ${#pids[@]} -gt 0 ]; then kill -TERM "${pids[0]}" 2>/dev/null || true; wait "${pids[0]}" 2>/dev/null || true; fi
  rm -f "$ENV_FILE"
  if [ -n "$private_pg" ]; then as_pg "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg" -m fast stop >/dev/null 2>&1 || true; fi
  say "stopped."
}
trap cleanup INT TERM EXIT

# --- PostgreSQL --------------------------------------------------------------
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ -n "${DATABASE_URL:-}" ]; then
  SERVER_URL=$DATABASE_URL
elif [ "${PRIVATE_PG:-0}" != 1 ] && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -Atc 'select 1' >/dev/null 2>&1; then
  SERVER_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
else
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -n "$PG_BIN" ] || die "no PostgreSQL: set DATABASE_URL, start a server on 127.0.0.1:5432, or install postgresql"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' user to run a private cluster"
    mkdir -p "$RUN_DIR/pg"; chown postgres "$RUN_DIR/pg"
  fi
  if [ ! -f "$RUN_DIR/pg/PG_VERSION" ]; then
    say "creating a private PostgreSQL cluster in $RUN_DIR/pg"
    as_pg "$PG_BIN/initdb" -D "$RUN_DIR/pg" -U postgres --auth=trust >"$RUN_DIR/logs/initdb.log"
  fi
  as_pg "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg" -l "$RUN_DIR/pg/server.log" -w \
    -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1" start >/dev/null
  private_pg=1
  SERVER_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
fi
db_url() { # server URL with another database name
  python3 - "$SERVER_URL" "$1" <<'PY' 2>/dev/null || printf '%s' "$SERVER_URL" | sed -E "s#(://[^/]*)/[^?]*#\1/$1#"
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))
PY
}
DB_SUFFIX=${DB_SUFFIX:-}
for db in orderdb$DB_SUFFIX stockdb$DB_SUFFIX paymentdb$DB_SUFFIX; do
  if [ "$(psql "$SERVER_URL" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    psql "$SERVER_URL" -qc "CREATE DATABASE $db" >/dev/null
    echo "created database $db"
  fi
done

# --- broker and services -----------------------------------------------------
# A port already taken (another make run, say) is said here, plainly, rather
# than found later as a 401 from whatever answers on it.
port_taken() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }
for var in BROKER_ADDR ORDER_HTTP_ADDR STOCK_HTTP_ADDR PAYMENT_HTTP_ADDR; do
  if port_taken "${!var}"; then die "${!var} ($var) is already in use: stop what listens there, or set $var"; fi
done
if [ -z "${ADMIN_TOKEN:-}" ]; then
  [ -s "$RUN_DIR/admin-token" ] || head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$RUN_DIR/admin-token"
  ADMIN_TOKEN=$(cat "$RUN_DIR/admin-token")
fi
export ADMIN_TOKEN

broker_flags=()
[ "${BROKER_SYNC:-0}" = 1 ] && broker_flags+=(-sync)
setsid bin/devbroker -addr "$BROKER_ADDR" -data-dir "$RUN_DIR/kafka" "${broker_flags[@]}" >"$RUN_DIR/logs/devbroker.log" 2>&1 &
pids+=($!)

wait_ready() { # name addr
  for _ in $(seq 1 120); do
    curl -fsS "http://$2/readyz" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  tail -n 20 "$RUN_DIR/logs/$1.log" >&2
  die "$1 did not become ready on $2 (log: $RUN_DIR/logs/$1.log)"
}

# --- ops console (sagactl console; CONSOLE_ADDR, default 127.0.0.1:8090) -----
# Before the services: it is their traces' collector (POST /v1/traces), so
# that their first spans reach it. It needs only the databases to exist; a
# page says what it cannot read yet.
CONSOLE_ADDR=${CONSOLE_ADDR:-127.0.0.1:8090}
if port_taken "$CONSOLE_ADDR"; then
  echo "run-local: $CONSOLE_ADDR (CONSOLE_ADDR) is in use: the console is not started" >&2; CONSOLE_URL="(not started: set CONSOLE_ADDR)"
else
  ORDER_DATABASE_URL=$(db_url "orderdb$DB_SUFFIX") STOCK_DATABASE_URL=$(db_url "stockdb$DB_SUFFIX") PAYMENT_DATABASE_URL=$(db_url "paymentdb$DB_SUFFIX") \
    KAFKA_BROKERS=$BROKER_ADDR ADMIN_TOKEN=$ADMIN_TOKEN setsid bin/sagactl console --listen "$CONSOLE_ADDR" --trace-spans "${CONSOLE_TRACE_SPANS:-50000}" \
    >>"$RUN_DIR/logs/console.log" 2>&1 &
  console_pid=$!; wait_ready console "$CONSOLE_ADDR"; CONSOLE_URL="http://$CONSOLE_ADDR/"
fi
# The services export their spans to the console (OTLP/HTTP: it speaks no
# gRPC) unless told otherwise: an OTEL_EXPORTER_OTLP_ENDPOINT (or
# _TRACES_ENDPOINT) of the user's wins, and one set empty exports nothing.
if [ -n "${OTEL_EXPORTER_OTLP_ENDPOINT+set}${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT+set}" ]; then
  TRACES_TO="${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-${OTEL_EXPORTER_OTLP_ENDPOINT:-(none: OTEL_EXPORTER_OTLP_ENDPOINT is empty)}}"
elif [ -n "$console_pid" ]; then
  export OTEL_EXPORTER_OTLP_ENDPOINT="http://$CONSOLE_ADDR"
  if [ "${OTEL_EXPORTER_OTLP_TRACES_PROTOCOL:-${OTEL_EXPORTER_OTLP_PROTOCOL:-}}" = grpc ]; then
    export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf
  fi
  TRACES_TO="the ops console (OTEL_EXPORTER_OTLP_ENDPOINT=$OTEL_EXPORTER_OTLP_ENDPOINT)"
else
  TRACES_TO="(none: the console is not running)"
fi

start_service() { # name addr database [pprof addr]
  PPROF_ADDR=${4:-} DATABASE_URL=$(db_url "$3") KAFKA_BROKERS=$BROKER_ADDR HTTP_ADDR=$2 \
    LOG_LEVEL=${LOG_LEVEL:-info} SAGA_TIMEOUT=${SAGA_TIMEOUT:-30s} ADMIN_TOKEN=$ADMIN_TOKEN \
    setsid "bin/$1" >>"$RUN_DIR/logs/$1.log" 2>&1 &
  pids+=($!)
}
start_service stock-service "$STOCK_HTTP_ADDR" "stockdb$DB_SUFFIX" "${STOCK_PPROF_ADDR:-}"
start_service payment-service "$PAYMENT_HTTP_ADDR" "paymentdb$DB_SUFFIX" "${PAYMENT_PPROF_ADDR:-}"
start_service order-service "$ORDER_HTTP_ADDR" "orderdb$DB_SUFFIX" "${ORDER_PPROF_ADDR:-}"

wait_ready stock-service "$STOCK_HTTP_ADDR"
wait_ready payment-service "$PAYMENT_HTTP_ADDR"
wait_ready order-service "$ORDER_HTTP_ADDR"

# --- demo data (idempotent: restock and deposit only what was just created) --
admin() { curl -fsS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' "$@"; }
seed_item() { # id name price quantity
  code=$(admin -X PUT "http://$STOCK_HTTP_ADDR/items/$1" -d "{\"name\":\"$2\",\"price_cents\":$3,\"currency\":\"${CURRENCY:-EUR}\"}")
  if [ "$code" = 201 ]; then admin -X POST "http://$STOCK_HTTP_ADDR/items/$1/restock" -d "{\"quantity\":$4}" >/dev/null; fi
}
seed_account() { # id balance
  code=$(admin -X PUT "http://$PAYMENT_HTTP_ADDR/accounts/$1")
  if [ "$code" = 201 ]; then admin -X POST "http://$PAYMENT_HTTP_ADDR/accounts/$1/deposits" -d "{\"amount_cents\":$2}" >/dev/null; fi
}
if [ "${SEED:-1}" = 1 ]; then
seed_item book-1 "The Saga Pattern" 2500 100
seed_item mug-1 "Outbox Mug" 1200 50
seed_item seat-a1 "Theatre seat A1" 4000 1
seed_account alice 100000
seed_account bob 100000
seed_account carol 1000
fi

# This run's settings for scripts/demo.sh and sagactl (both read it), and
# for a shell: set -a; . run/env; set +a. Gone when the run stops.
umask 077
cat >"$ENV_FILE" <<EOF
ORDER_URL=http://$ORDER_HTTP_ADDR
STOCK_URL=http://$STOCK_HTTP_ADDR
PAYMENT_URL=http://$PAYMENT_HTTP_ADDR
KAFKA_BROKERS=$BROKER_ADDR
ADMIN_TOKEN=$ADMIN_TOKEN
ORDER_DATABASE_URL=$(db_url "orderdb$DB_SUFFIX")
STOCK_DATABASE_URL=$(db_url "stockdb$DB_SUFFIX")
PAYMENT_DATABASE_URL=$(db_url "paymentdb$DB_SUFFIX")
EOF
umask 022
demo_cmd=scripts/demo.sh
sagactl_cmd="bin/sagactl dlt summary"
if [ "$RUN_DIR" != "$ROOT/run" ]; then
  demo_cmd="RUN_DIR=$RUN_DIR $demo_cmd"
  sagactl_cmd="SAGACTL_ENV=$ENV_FILE $sagactl_cmd"
fi

cat <<EOF

  purchase saga is running (logs in $RUN_DIR/logs)
    order-service    http://$ORDER_HTTP_ADDR     (POST /orders, GET /orders/{id})
    stock-service    http://$STOCK_HTTP_ADDR     (GET /items)
    payment-service  http://$PAYMENT_HTTP_ADDR   (GET /accounts/{id})
    broker           $BROKER_ADDR
    ops console      $CONSOLE_URL   (sagas, dead letters and replays, lag, traces)
    traces           $TRACES_TO
    admin token      $ADMIN_TOKEN
    settings         $ENV_FILE (read by demo.sh and sagactl)

  try:  curl -s -XPOST http://$ORDER_HTTP_ADDR/orders?wait=5s -H 'Content-Type: application/json' \\
          -d '{"customer_id":"alice","lines":[{"item_id":"book-1","quantity":1}]}'
        $demo_cmd
        $sagactl_cmd
  Ctrl-C stops everything.
EOF

# Stop everything when any process dies, or on Ctrl-C.
wait -n "${pids[@]}" $console_pid || true
[ -n "$stopping" ] || say "a process exited; stopping the rest (logs in $RUN_DIR/logs)"
