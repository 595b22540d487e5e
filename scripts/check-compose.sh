#!/usr/bin/env bash
# Static checks of the compose stack that docker-compose config cannot make:
# every published port is bound to a loopback address (or to ${BIND_ADDR...},
# whose default must be loopback), no password, token or secret has a
# default that works without the user choosing it, every image is pinned,
# the observability profile has its services (and only it runs them), the
# files it mounts exist, and the Grafana dashboards are JSON querying only
# metrics the services register. Needs jq. Usage:
#   scripts/check-compose.sh [docker-compose.yml [deploy]]
# Exits 1 naming each offending line.
set -euo pipefail
compose=${1:-docker-compose.yml}
deploy=${2:-deploy}
bad=0
fail() { echo "check-compose: $*" >&2; bad=1; }

# Short-syntax port entries in a ports: list, quotes and "- " removed.
ports=$(awk '
  /^[[:space:]]*ports:[[:space:]]*$/ { inports = 1; next }
  inports && /^[[:space:]]*-/ { sub(/^[[:space:]]*-[[:space:]]*/, ""); gsub(/["'\'']/, ""); print; next }
  { inports = 0 }' "$compose")
while IFS= read -r p; do
  [ -z "$p" ] && continue
  case $p in
  127.0.0.1:* | '[::1]:'* | '${BIND_ADDR:-127.0.0.1}:'*) ;;
  *) fail "$compose: port \"$p\" is not bound to 127.0.0.1 or \${BIND_ADDR:-127.0.0.1}" ;;
  esac
done <<<"$ports"

# A secret variable with a default (${X:-v}, ${X-v}, ${X:=v}), or a literal value.
secret='[A-Z_]*(PASSWORD|TOKEN|SECRET)[A-Z_]*'
while IFS= read -r line; do
  fail "secret with a default: $line"
done < <(grep -rnE "\\$\\{$secret:?[-=]" "$compose" "$deploy" || true)
while IFS= read -r line; do
  fail "secret with a literal value: $line"
done < <(grep -HnE "^[[:space:]]*$secret:[[:space:]]*[^\$[:space:]]" "$compose" || true)
# Every image pinned to a tag other than latest.
while IFS= read -r line; do
  fail "image not pinned to a version: $line"
done < <(grep -nE '^[[:space:]]*image:' "$compose" | grep -vE 'image:[[:space:]]*[^[:space:]:]+:[^[:space:]]+[[:space:]]*$' || true)
while IFS= read -r line; do
  fail "image pinned to latest: $line"
done < <(grep -nE '^[[:space:]]*image:.*:latest[[:space:]]*$' "$compose" || true)

# The observability profile: each of its services exists and runs only
# with that profile, so that the plain demo stays small.
service_block() { # the lines of top-level service $1
  awk -v s="  $1:" '$0 == s { on = 1; next } on && /^  ?[^ #]/ { exit } on { print }' "$compose"
}
for svc in prometheus grafana jaeger kafka-ui; do
  block=$(service_block "$svc")
  if [ -z "$block" ]; then
    fail "$compose: no service $svc (profile observability)"
  elif ! grep -qE '^    profiles: \[observability\][[:space:]]*$' <<<"$block"; then
    fail "$compose: $svc does not run in the observability profile alone"
  fi
done
# The services export traces only where OTEL_EXPORTER_OTLP_ENDPOINT says,
# nowhere by default.
grep -qF 'OTEL_EXPORTER_OTLP_ENDPOINT: ${OTEL_EXPORTER_OTLP_ENDPOINT:-}' "$compose" ||
  fail "$compose: the services do not read OTEL_EXPORTER_OTLP_ENDPOINT with an empty default"

# Every file or directory mounted from the repository exists.
while IFS= read -r path; do
  [ -e "$path" ] || fail "$compose: mounts $path, which does not exist"
done < <(grep -oE '^[[:space:]]*- \./[^:]+' "$compose" | sed -E 's/^[[:space:]]*- //')

# Dashboards: JSON, and every saga_ metric they query registered by the
# services' code (order-service/e2e checks them against live /metrics).
root=$(cd "$(dirname "$0")/.." && pwd)
for dash in "$deploy"/grafana/dashboards/*.json; do
  [ -e "$dash" ] || { fail "no dashboard in $deploy/grafana/dashboards"; break; }
  if ! exprs=$(jq -r '.. | objects | .expr? // empty' "$dash" 2>&1); then
    fail "$dash is not JSON: $exprs"
    continue
  fi
  for name in $(grep -oE 'saga_[a-zA-Z0-9_]+' <<<"$exprs" | sort -u); do
    base=$name
    for suffix in _bucket _sum _count; do
      case $name in *"$suffix") base=${name%"$suffix"} ;; esac
    done
    grep -rqF --include='*.go' --exclude='*_test.go' "\"$name\"" "$root" ||
      grep -rqF --include='*.go' --exclude='*_test.go' "\"$base\"" "$root" ||
      fail "$dash queries $name, which no service registers"
  done
done
exit $bad
