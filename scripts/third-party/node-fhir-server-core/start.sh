#!/usr/bin/env bash
# Start a FHIR R4 server built on @asymmetrik/node-fhir-server-core on 127.0.0.1, in the foreground.
#
#   scripts/third-party/node-fhir-server-core/start.sh [PORT]      (default 8090)
#
# FHIR base URL: http://127.0.0.1:PORT/4_0_1
# The npm packages are installed once (npm ci, from the committed package-lock.json) under
# ${MTS_THIRD_PARTY_DIR:-/tmp/mts-third-party}/node-fhir-server-core. Stop it with Ctrl-C or SIGTERM.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${1:-8090}"
pinned="2.2.5"
dir="${MTS_THIRD_PARTY_DIR:-/tmp/mts-third-party}/node-fhir-server-core"

if ! [[ "$port" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
    echo "usage: $0 [PORT]   (PORT 1-65535, default 8090)" >&2
    exit 2
fi
command -v node >/dev/null || { echo "node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is not installed" >&2; exit 1; }

installed() {
    node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
        "$dir/node_modules/@asymmetrik/node-fhir-server-core/package.json" "$pinned" 2>/dev/null &&
        cmp -s "$here/package-lock.json" "$dir/package-lock.json"
}

if ! installed; then
    echo "installing @asymmetrik/node-fhir-server-core@$pinned into $dir" >&2
    mkdir -p "$dir"
    cp "$here/package.json" "$here/package-lock.json" "$dir/"
    # --ignore-scripts: a dependency (snyk) has an install script that downloads a binary; the
    # server needs none of them.
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
fi

export NODE_PATH="$dir/node_modules"
export NODE_ENV="${NODE_ENV:-production}"
exec node "$here/server.js" "$port" "$here/seed"
