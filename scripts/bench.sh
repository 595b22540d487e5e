#!/usr/bin/env bash
# make bench: the SPEC section 11 benchmarks on this machine.
#   latency:    p99 from POST /orders to the terminal state at 100 sagas/s (open loop);
#   throughput: completed sagas per second, closed loop, sustained for 60 s, and what
#               each completed saga cost: CPU ms of every process (PostgreSQL, broker,
#               services, load generator), commits, rows and scans per database, WAL,
#               Kafka messages; CPU profiles of the three services over the window;
#   flash:      a flash sale (SPEC 11/12): units sold, time to sell out, answers by
#               kind, POST latency, orders by outcome, time until all settled;
#   micro:      go test -bench of the relay alone (BenchmarkRelayDrain), one consumer
#               alone (BenchmarkConsumer) and POST /orders alone (BenchmarkPlace).
# Every process (broker with fsync, PostgreSQL, three services, load generator) runs
# here. Results are printed and written as JSON to bench-results/.
# Settings: BENCH_DURATION (60s), LATENCY_DURATION (30s), LATENCY_RATE (100),
# CONCURRENCY (64), BENCH_ONLY (latency|throughput|flash|micro), FLASH_ITEMS (5),
# FLASH_UNITS (200), FLASH_BUYERS (2000), FLASH_CLIENTS (32), FLASH_DURATION (30s), BROKER_SYNC (0: the broker
# leaves flushing to the OS, as Apache Kafka does by default; 1: fsync every
# produced batch), BENCH_PPROF (1: CPU profiles of the throughput run; 0: none),
# MICRO_RELAY_ROWS (100000), MICRO_CONSUMER_MESSAGES (20000), MICRO_PLACE_ORDERS (5000), MICRO_COUNT (1),
# and make run's DATABASE_URL. PostgreSQL runs with its own
# settings (fsync on by default); they are recorded beside the results.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SERVER_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
only=${BENCH_ONLY:-}
mkdir -p bench-results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
setting() { psql "$SERVER_URL" -Atc "SHOW $1"; }

# micro PKGDIR PACKAGE BENCHMARK N: one go test -bench run of N rows, messages or orders.
micro() {
  (cd "$1" && TEST_DATABASE_URL=${TEST_DATABASE_URL:-$SERVER_URL} \
    go test -count="${MICRO_COUNT:-1}" -run '^$' -bench "^$3\$" -benchtime "${4}x" "$2") | tee -a "$RUN_DIR/micro.txt"
}
# micro_json OUTPUT LOADAVG turns go test -bench output into JSON: one object per benchmark line.
micro_json() {
  awk -v go="$(go env GOVERSION)" -v cores="$(nproc)" -v loadavg="$2" '
    /^pkg: / { pkg = $2 }
    /^Benchmark/ {
      name = $1; sub(/-[0-9]+$/, "", name)
      line = sprintf("{\"name\": \"%s\", \"package\": \"%s\", \"n\": %s, \"metrics\": {", name, pkg, $2)
      for (i = 3; i < NF; i += 2) line = line sprintf("%s\"%s\": %s", (i > 3 ? ", " : ""), $(i+1), $i)
      out = out (out == "" ? "" : ",\n  ") line "}}"
    }
    END { printf "{\"go\": \"%s\", \"cores\": %s, \"load_average_before\": \"%s\", \"benchmarks\": [\n  %s\n]}\n", go, cores, loadavg, out }' "$1"
}

if [ "$only" = micro ] || [ -z "$only" ]; then
  RUN_DIR=$(mktemp -d /tmp/saga-bench-XXXXXX)
  trap 'rm -rf "$RUN_DIR"' EXIT
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "== micro-benchmarks (go test -bench; each reports its rate, the CPU of the test process and of the database's backends)"
  micro messaging ./outbox/ BenchmarkRelayDrain "${MICRO_RELAY_ROWS:-100000}"
  micro messaging ./consumer/ BenchmarkConsumer "${MICRO_CONSUMER_MESSAGES:-20000}"
  micro order-service ./internal/api/ BenchmarkPlace "${MICRO_PLACE_ORDERS:-5000}"
  micro_json "$RUN_DIR/micro.txt" "$load_before" >"bench-results/micro-$stamp.json"
  echo "micro-benchmarks written to bench-results/micro-$stamp.json"
  rm -rf "$RUN_DIR"; trap - EXIT
  [ "$only" = micro ] && exit 0
fi

[ -x bin/order-service ] || make build
go build -o bin/loadgen ./order-service/cmd/loadgen

RUN_DIR=$(mktemp -d /tmp/saga-bench-XXXXXX)
export RUN_DIR DB_SUFFIX=_bench SEED=0 LOG_LEVEL=${LOG_LEVEL:-warn} BROKER_SYNC=${BROKER_SYNC:-0}
export BROKER_ADDR=127.0.0.1:19092 ORDER_HTTP_ADDR=127.0.0.1:18080 STOCK_HTTP_ADDR=127.0.0.1:18081 PAYMENT_HTTP_ADDR=127.0.0.1:18082
export ORDER_PPROF_ADDR=127.0.0.1:18090 STOCK_PPROF_ADDR=127.0.0.1:18091 PAYMENT_PPROF_ADDR=127.0.0.1:18092
export ADMIN_TOKEN=bench-token
# No span is exported unless asked for: make run would send them to its
# console, and the figures are those of services that export nothing.
export OTEL_EXPORTER_OTLP_ENDPOINT=${OTEL_EXPORTER_OTLP_ENDPOINT-}
DATABASES=orderdb_bench,stockdb_bench,paymentdb_bench
for db in ${DATABASES//,/ }; do
  psql "$SERVER_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
done
db_url() { printf '%s' "$SERVER_URL" | sed -E "s#(://[^/]*)/[^?]*#\\1/$1#"; }
ORDER_DB=$(db_url orderdb_bench)
# ANALYZE the bench databases near the end of each warm-up (flash: after
# seeding), as autovacuum does within its first minute on any deployment.
ANALYZE_DBS=$(db_url orderdb_bench),$(db_url stockdb_bench),$(db_url paymentdb_bench)

scripts/run-local.sh >"$RUN_DIR/run.log" 2>&1 &
stack=$!
trap 'kill -TERM $stack 2>/dev/null; wait $stack 2>/dev/null; rm -rf "$RUN_DIR"' EXIT
for _ in $(seq 1 240); do
  grep -q "purchase saga is running" "$RUN_DIR/run.log" 2>/dev/null && break
  kill -0 $stack 2>/dev/null || { cat "$RUN_DIR/run.log"; exit 1; }
  sleep 0.5
done
# The processes whose CPU each saga is charged: run-local.sh's children.
procs=
for pid in $(ps -o pid= --ppid "$stack"); do
  name=$(basename "$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n1)")
  case $name in devbroker | order-service | stock-service | payment-service) procs+="${procs:+,}$name=$pid" ;; esac
done

cat >"bench-results/env-$stamp.json" <<JSON
{"cores": $(nproc), "postgres_fsync": "$(setting fsync)", "postgres_synchronous_commit": "$(setting synchronous_commit)",
 "broker_fsync_every_batch": $([ "$BROKER_SYNC" = 1 ] && echo true || echo false), "go": "$(go env GOVERSION)",
 "load_average_before": "$(cut -d' ' -f1-3 /proc/loadavg)"}
JSON
echo "environment: $(cat "bench-results/env-$stamp.json" | tr -d '\n')"
load() { # mode out args...
  local mode=$1 out=$2; shift 2
  bin/loadgen -mode "$mode" -order-url "http://$ORDER_HTTP_ADDR" -stock-url "http://$STOCK_HTTP_ADDR" \
    -payment-url "http://$PAYMENT_HTTP_ADDR" -token "$ADMIN_TOKEN" -order-db "$ORDER_DB" -analyze "$ANALYZE_DBS" -out "$out" "$@"
}
cost=(-cost-procs "$procs" -cost-server-db "$SERVER_URL" -cost-databases "$DATABASES" -cost-brokers "$BROKER_ADDR")
if [ -z "$only" ] || [ "$only" = latency ]; then
  echo "== latency at ${LATENCY_RATE:-100} sagas/s for ${LATENCY_DURATION:-30s}"
  load latency "bench-results/latency-$stamp.json" -rate "${LATENCY_RATE:-100}" -duration "${LATENCY_DURATION:-30s}" "${cost[@]}"
fi
if [ -z "$only" ] || [ "$only" = throughput ]; then
  echo "== throughput, ${CONCURRENCY:-64} clients for ${BENCH_DURATION:-60s}"
  profiles=()
  if [ "${BENCH_PPROF:-1}" = 1 ]; then
    profiles=(-pprof "order-service=$ORDER_PPROF_ADDR,stock-service=$STOCK_PPROF_ADDR,payment-service=$PAYMENT_PPROF_ADDR"
      -pprof-out "bench-results/throughput-$stamp-")
  fi
  load throughput "bench-results/throughput-$stamp.json" -concurrency "${CONCURRENCY:-64}" -duration "${BENCH_DURATION:-60s}" \
    "${cost[@]}" "${profiles[@]}"
  for f in bench-results/throughput-"$stamp"-*.pprof; do
    [ -e "$f" ] || continue
    echo "-- top of $f (go tool pprof -top)"
    go tool pprof -top -nodecount=12 "$f" 2>/dev/null | sed -n '5,20p'
  done
fi
if [ -z "$only" ] || [ "$only" = flash ]; then
  echo "== flash sale: ${FLASH_ITEMS:-5} items × ${FLASH_UNITS:-200} units, ${FLASH_BUYERS:-2000} buyers, ${FLASH_CLIENTS:-32} clients"
  load flash "bench-results/flash-$stamp.json" -items "${FLASH_ITEMS:-5}" -units "${FLASH_UNITS:-200}" \
    -customers "${FLASH_BUYERS:-2000}" -concurrency "${FLASH_CLIENTS:-32}" -duration "${FLASH_DURATION:-30s}"
fi
echo "results in $ROOT/bench-results/*-$stamp*"
