#!/usr/bin/env bash
# A small fake model server for trying swarmd without a GPU or model weights. It speaks
# Ollama's HTTP API (/api/tags, /api/ps, /api/version, and the OpenAI routes under /v1): the
# same fake the tests use (test/fakes/ollama.ts), so swarmd's auto-detect finds it on
# 127.0.0.1:11434 like a real Ollama. Every chat is answered with the --reply text.
#
# Usage: scripts/fake-model-server.sh [--port 11434] [--models a,b] [--loaded a]
#          [--reply TEXT] [--first-token-delay-ms N] [--token-delay-ms N]
# Prints {"url": ...} once listening; stops on SIGTERM. Needs `npm run build` first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
server="$root/dist/test/fakes/serve-ollama.js"
if [ ! -f "$server" ]; then
  echo "fake-model-server: $server is missing: run 'npm install && npm run build' first" >&2
  exit 1
fi
exec node "$server" "$@"
