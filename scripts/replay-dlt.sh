#!/usr/bin/env bash
# Replays dead letters: scripts/replay-dlt.sh ARGS runs `sagactl dlt replay ARGS`,
# e.g. scripts/replay-dlt.sh --topic stock.dlt --reason error --dry-run
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bin/sagactl ] || make build >/dev/null
exec bin/sagactl dlt replay "$@"
