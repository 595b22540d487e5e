#!/usr/bin/env bash
# The purchase saga's story, in curl, against a running stack (make run, or
# docker compose up):
#   1. a purchase that completes;
#   2. one for more than the catalog shows: refused at once (409 out-of-stock);
#   3. one that fails on funds: the stock is released;
#   4. a race of eight buyers for the last three seats: losers are turned away
#      at the gate, or fail on stock with their payment refunded;
#   5. a replay: a fan's order refused for stock is replayed from stock.dlt
#      after a restock; the late reservation of a failed order is released.
# It prints how each step of each order ended and exits non-zero if the story
# does not hold.
#
# Settings: ORDER_URL, STOCK_URL, PAYMENT_URL (default 127.0.0.1:8080/8081/8082),
# ADMIN_TOKEN (default: run/admin-token from make run; required for docker compose),
# each read from make run's $RUN_DIR/env (default run/env) when the environment
# does not set it, so that the demo reaches that run whatever its ports;
# SAGACTL (default bin/sagactl; for docker compose:
# SAGACTL="docker compose exec -T order-service /app/sagactl"), KAFKA_BROKERS.
set -euo pipefail
cd "$(dirname "$0")/.."

env_file=${RUN_DIR:-run}/env
if [ -f "$env_file" ]; then
  while IFS='=' read -r key value; do
    case $key in '' | \#*) continue ;; esac
    [ -n "${!key+set}" ] || export "$key=$value"
  done <"$env_file"
fi
ORDER_URL=${ORDER_URL:-http://127.0.0.1:8080}
STOCK_URL=${STOCK_URL:-http://127.0.0.1:8081}
PAYMENT_URL=${PAYMENT_URL:-http://127.0.0.1:8082}
if [ -z "${ADMIN_TOKEN:-}" ]; then
  ADMIN_TOKEN=$(cat "${RUN_DIR:-run}/admin-token" 2>/dev/null) || {
    echo "demo.sh: set ADMIN_TOKEN (make run writes ${RUN_DIR:-run}/admin-token; docker compose: the one in .env)" >&2
    exit 2
  }
fi
SAGACTL=${SAGACTL:-bin/sagactl}
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
CURRENCY=${CURRENCY:-EUR}

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "demo.sh needs $tool" >&2; exit 2; }
done

run=$(date +%s)$((RANDOM % 1000)) # names unique to this run: the demo can run again
failures=0
bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
check() { # description, then a command that must succeed
  local what=$1; shift
  if "$@"; then printf '  \033[32mok\033[0m    %s\n' "$what"; else printf '  \033[31mFAIL\033[0m  %s\n' "$what"; failures=$((failures + 1)); fi
}
admin() { curl -fsS -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' "$@"; }

item() { # id name price quantity
  admin -X PUT "$STOCK_URL/items/$1" -d "{\"name\":\"$2\",\"price_cents\":$3,\"currency\":\"$CURRENCY\"}" >/dev/null
  admin -X POST "$STOCK_URL/items/$1/restock" -d "{\"quantity\":$4}" >/dev/null
  for _ in $(seq 1 100); do # until the order service's catalog has it
    curl -fsS "$ORDER_URL/catalog/$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "item $1 never reached the order service's catalog" >&2; exit 1
}
account() { # id balance
  admin -X PUT "$PAYMENT_URL/accounts/$1" >/dev/null
  admin -X POST "$PAYMENT_URL/accounts/$1/deposits" -d "{\"amount_cents\":$2}" >/dev/null
}
balance() { curl -fsS "$PAYMENT_URL/accounts/$1" | jq -r .balance_cents; }
available() { curl -fsS "$STOCK_URL/items/$1" | jq -r .available; }

place() { # customer item quantity -> order JSON once terminal
  curl -sS -X POST "$ORDER_URL/orders?wait=10s" -H 'Content-Type: application/json' \
    -d "{\"customer_id\":\"$1\",\"lines\":[{\"item_id\":\"$2\",\"quantity\":$3}]}"
}
place_patiently() { # customer item quantity: as place, trying again while told to (429/503 + Retry-After)
  local o
  for _ in $(seq 1 30); do
    o=$(place "$@")
    case "$(jq -r '.status | tostring' <<<"$o")" in
    429 | 503) sleep 1 ;;
    *) break ;;
    esac
  done
  echo "$o"
}
order() { curl -fsS "$ORDER_URL/orders/$1?wait=${2:-10s}"; }
show() { # order JSON
  jq -r '"  order \(.id | .[0:8])…  \(.status)\(if .failure_reason != "" and .failure_reason != null then " (" + .failure_reason + ")" else "" end)   stock: \(.steps.stock.status)   payment: \(.steps.payment.status)   \(.amount_cents) cents"' <<<"$1"
}
field() { jq -r "$2" <<<"$1"; }
settled() { # order id: wait until no step is pending or compensating
  local o
  for _ in $(seq 1 60); do
    o=$(order "$1" 2s)
    if [ "$(field "$o" '[.steps.stock.status, .steps.payment.status] | map(select(. == "PENDING" or . == "COMPENSATING")) | length')" = 0 ] ||
       [ "$(field "$o" .status)" = COMPLETED ]; then
      echo "$o"; return 0
    fi
  done
  echo "$o"
}

bold "Setting up: items and accounts for run $run"
book=book-$run seat=seat-$run
item "$book" "Distributed Systems, 2nd ed." 2500 10
item "$seat" "Front-row seat" 4000 3
account "alice-$run" 100000
account "carol-$run" 1000
for i in $(seq 1 8); do account "fan$i-$run" 10000; done
echo "  $book: 10 at 25.00, $seat: 3 at 40.00; alice has 1000.00, carol 10.00, eight fans 100.00 each"

bold "1. A purchase that completes: alice buys 2 books"
o=$(settled "$(field "$(place "alice-$run" "$book" 2)" .id)")
show "$o"
check "the order completed" [ "$(field "$o" .status)" = COMPLETED ]
check "alice paid 50.00" [ "$(balance "alice-$run")" = 95000 ]
check "8 books are left" [ "$(available "$book")" = 8 ]

bold "2. Sold out at the gate: alice wants 20 books, 8 are left"
o=$(place "alice-$run" "$book" 20)
echo "  answer: $(field "$o" '"\(.status) \(.type): \(.detail)"')"
check "refused at once with 409 /out-of-stock, no order placed" [ "$(field "$o" .status)" = 409 ] && [[ "$(field "$o" .type)" == */out-of-stock ]]
check "alice was not charged" [ "$(balance "alice-$run")" = 95000 ]

bold "3. Fails on funds: carol (10.00) wants a book (25.00); her reservation is released"
o=$(settled "$(field "$(place "carol-$run" "$book" 1)" .id)")
show "$o"
check "the order failed for insufficient_funds" [ "$(field "$o" .failure_reason)" = insufficient_funds ]
check "the stock was reserved, then released" [ "$(field "$o" .steps.stock.status)" = COMPENSATED ]
check "8 books are still available" [ "$(available "$book")" = 8 ]

bold "4. A race: eight fans, three seats"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq 1 8); do place_patiently "fan$i-$run" "$seat" 1 >"$tmp/$i" & done
wait
won=0 gate=0 refunded=0 refused=""
for i in $(seq 1 8); do
  if [ "$(jq -r .status "$tmp/$i")" = 409 ]; then
    echo "  fan$i: sold out at the gate (409)"
    gate=$((gate + 1))
    continue
  fi
  o=$(settled "$(jq -r .id "$tmp/$i")")
  show "$o"
  case "$(field "$o" .status) $(field "$o" .failure_reason)" in
  COMPLETED*) won=$((won + 1)) ;;
  "FAILED out_of_stock") refunded=$((refunded + 1)); refused=$(field "$o" .id) ;;
  esac
done
check "exactly 3 fans got a seat" [ "$won" = 3 ]
check "the 5 others were turned away: $gate at the gate, $refunded by stock-service (payment refunded)" [ $((gate + refunded)) = 5 ]
check "no seat is left, none oversold" [ "$(available "$seat")" = 0 ]
total=0
for i in $(seq 1 8); do total=$((total + $(balance "fan$i-$run"))); done
check "the fans paid for exactly 3 seats (money conserved)" [ "$total" = $((8 * 10000 - 3 * 4000)) ]

bold "5. A replay: a fan's order refused by stock-service is replayed from stock.dlt after a restock"
if [ -z "$refused" ]; then
  echo "  every losing fan was turned away at the gate this time: stock.dlt holds nothing to replay"
else
  admin -X POST "$STOCK_URL/items/$seat/restock" -d '{"quantity":2}' >/dev/null
  echo "  restocked 2 seats; what stock.dlt holds for the order:"
  $SAGACTL dlt list --topic stock.dlt --key "$refused" | sed 's/^/    /'
  $SAGACTL dlt replay --topic stock.dlt --key "$refused" | sed 's/^/    /'
  for _ in $(seq 1 50); do
    o=$(order "$refused" 0s)
    [ "$(field "$o" .steps.stock.status)" = COMPENSATED ] && break
    sleep 0.2
  done
  show "$o"
  check "the late reservation of the failed order was released (stock step COMPENSATED)" [ "$(field "$o" .steps.stock.status)" = COMPENSATED ]
  check "the order stays FAILED: terminal is terminal" [ "$(field "$o" .status)" = FAILED ]
  check "the 2 new seats are available again" [ "$(available "$seat")" = 2 ]
fi

echo
if [ "$failures" -gt 0 ]; then
  printf '\033[31mthe story did not hold: %d check(s) failed\033[0m\n' "$failures"
  exit 1
fi
printf '\033[32mthe story holds: every check passed\033[0m\n'
