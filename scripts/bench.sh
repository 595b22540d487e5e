#!/usr/bin/env bash
# make bench: the SPEC section 11 benchmarks on this machine.
#   latency:    p99 from POST /orders to the terminal state at 100 sagas/s (open loop);
#   throughput: completed sagas per second, closed loop, sustained for 60 s;
#   flash:      a flash sale (SPEC 11/12): units sold, time to sell out, answers by
#               kind, POST latency, orders by outcome, time until all settled.
# Every process (broker with fsync, PostgreSQL, three services, load generator) runs
# here. Results are printed and written as JSON to bench-results/.
# Settings: BENCH_DURATION (60s), LATENCY_DURATION (30s), LATENCY_RATE (100),
# CONCURRENCY (64), BENCH_ONLY (latency|throughput|flash), FLASH_ITEMS (5),
# FLASH_UNITS (200), FLASH_BUYERS (2000), FLASH_CLIENTS (32), FLASH_DURATION (30s), BROKER_SYNC (0: the broker
# leaves flushing to the OS, as Apache Kafka does by default; 1: fsync every
# produced batch), and make run's DATABASE_URL. PostgreSQL runs with its own
# settings (fsync on by default); they are recorded beside the results.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
[ -x bin/order-service ] || make build
go build -o bin/loadgen ./order-service/cmd/loadgen

RUN_DIR=$(mktemp -d /tmp/saga-bench-XXXXXX)
export RUN_DIR DB_SUFFIX=_bench SEED=0 LOG_LEVEL=${LOG_LEVEL:-warn} BROKER_SYNC=${BROKER_SYNC:-0}
export BROKER_ADDR=127.0.0.1:19092 ORDER_HTTP_ADDR=127.0.0.1:18080 STOCK_HTTP_ADDR=127.0.0.1:18081 PAYMENT_HTTP_ADDR=127.0.0.1:18082
export ADMIN_TOKEN=bench-token
SERVER_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
for db in orderdb_bench stockdb_bench paymentdb_bench; do
  psql "$SERVER_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
done
ORDER_DB=$(printf '%s' "$SERVER_URL" | sed -E 's#(://[^/]*)/[^?]*#\1/orderdb_bench#')

scripts/run-local.sh >"$RUN_DIR/run.log" 2>&1 &
stack=$!
trap 'kill -TERM $stack 2>/dev/null; wait $stack 2>/dev/null; rm -rf "$RUN_DIR"' EXIT
for _ in $(seq 1 240); do
  grep -q "purchase saga is running" "$RUN_DIR/run.log" 2>/dev/null && break
  kill -0 $stack 2>/dev/null || { cat "$RUN_DIR/run.log"; exit 1; }
  sleep 0.5
done

mkdir -p bench-results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
setting() { psql "$SERVER_URL" -Atc "SHOW $1"; }
cat >"bench-results/env-$stamp.json" <<JSON
{"cores": $(nproc), "postgres_fsync": "$(setting fsync)", "postgres_synchronous_commit": "$(setting synchronous_commit)",
 "broker_fsync_every_batch": $([ "$BROKER_SYNC" = 1 ] && echo true || echo false), "go": "$(go env GOVERSION)"}
JSON
echo "environment: $(cat "bench-results/env-$stamp.json" | tr -d '\n')"
load() { # mode out args...
  local mode=$1 out=$2; shift 2
  bin/loadgen -mode "$mode" -order-url "http://$ORDER_HTTP_ADDR" -stock-url "http://$STOCK_HTTP_ADDR" \
    -payment-url "http://$PAYMENT_HTTP_ADDR" -token "$ADMIN_TOKEN" -order-db "$ORDER_DB" -out "$out" "$@"
}
only=${BENCH_ONLY:-}
if [ -z "$only" ] || [ "$only" = latency ]; then
  echo "== latency at ${LATENCY_RATE:-100} sagas/s for ${LATENCY_DURATION:-30s}"
  load latency "bench-results/latency-$stamp.json" -rate "${LATENCY_RATE:-100}" -duration "${LATENCY_DURATION:-30s}"
fi
if [ -z "$only" ] || [ "$only" = throughput ]; then
  echo "== throughput, ${CONCURRENCY:-64} clients for ${BENCH_DURATION:-60s}"
  load throughput "bench-results/throughput-$stamp.json" -concurrency "${CONCURRENCY:-64}" -duration "${BENCH_DURATION:-60s}"
fi
if [ -z "$only" ] || [ "$only" = flash ]; then
  echo "== flash sale: ${FLASH_ITEMS:-5} items × ${FLASH_UNITS:-200} units, ${FLASH_BUYERS:-2000} buyers, ${FLASH_CLIENTS:-32} clients"
  load flash "bench-results/flash-$stamp.json" -items "${FLASH_ITEMS:-5}" -units "${FLASH_UNITS:-200}" \
    -customers "${FLASH_BUYERS:-2000}" -concurrency "${FLASH_CLIENTS:-32}" -duration "${FLASH_DURATION:-30s}"
fi
echo "results in $ROOT/bench-results/*-$stamp.json"
