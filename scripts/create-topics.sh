#!/usr/bin/env bash
# Creates the saga's topics that are missing: runs `sagactl topics create ARGS`.
# Brokers from KAFKA_BROKERS (default 127.0.0.1:9092); partitions and replication
# from TOPIC_PARTITIONS and TOPIC_REPLICATION, or --partitions / --replication.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bin/sagactl ] || make build >/dev/null
exec bin/sagactl topics create "$@"
