#!/usr/bin/env bash
# The project's test command (`npm test`): typecheck, lint, then unit and integration tests in one
# node:test run. Integration tests start the local broker themselves (scripts/kafka/kafka.sh up)
# unless KAFKA_BROKERS names one; a broker this script's run started is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
# kcat, openssl, tini, hadolint and kustomize, when missing (apt, PyPI, the Go module proxy).
bash scripts/test-tools.sh

was_running=0
if [ -n "${KAFKA_BROKERS:-}" ] || bash scripts/kafka/kafka.sh status >/dev/null 2>&1; then was_running=1; fi
cleanup() {
  if [ "$was_running" = 0 ]; then bash scripts/kafka/kafka.sh down >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
# kafkajs 2.2.4 passes a negative timeout that Node >= 24 warns about (harmless); LanceDB writers
# keep RSS flat with fewer glibc arenas (FIELD-NOTES.md).
export NODE_OPTIONS="${NODE_OPTIONS:-} --disable-warning=TimeoutNegativeWarning" MALLOC_ARENA_MAX=2

echo "== typecheck (node $(node --version))"
tsc -p tsconfig.json --noEmit
echo "== lint"
biome check --error-on-warnings .
echo "== unit and integration tests"
node --import tsx --test --test-concurrency=1 --test-reporter=spec \
  'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts'
