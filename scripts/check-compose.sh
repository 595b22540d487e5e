#!/usr/bin/env bash
# Static checks of the compose stack that docker-compose config cannot make:
# every published port is bound to a loopback address (or to ${BIND_ADDR...},
# whose default must be loopback), and no password, token or secret has a
# default that works without the user choosing it. Usage:
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
exit $bad
