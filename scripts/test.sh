#!/usr/bin/env bash
# Runs every module's tests (a workspace root has no ./... of its own).
# Extra arguments go to go test, e.g. scripts/test.sh -short -run Relay.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== compose: loopback ports, no default secrets"
scripts/check-compose.sh docker-compose.yml deploy
if command -v docker-compose >/dev/null 2>&1 && [ -f docker-compose.yml ]; then
  echo "== docker-compose config"
  # The stack requires its secrets; dummy values let the static check run.
  ADMIN_TOKEN=x POSTGRES_PASSWORD=x ORDER_DB_PASSWORD=x STOCK_DB_PASSWORD=x PAYMENT_DB_PASSWORD=x \
    docker-compose -f docker-compose.yml config -q
fi

echo "== go test"
# shellcheck disable=SC2046
go test -count=1 -timeout 30m "$@" $(go list -m -f '{{.Dir}}/...')
