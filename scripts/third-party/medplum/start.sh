#!/usr/bin/env bash
# Start Medplum's FHIR router (npm @medplum/fhir-router, in-memory repository) on 127.0.0.1,
# in the foreground.
#
#   scripts/third-party/medplum/start.sh [PORT]      (default 8090)
#
# FHIR base URL: http://127.0.0.1:PORT/fhir/R4
# The npm packages are installed once (npm ci, from the committed package-lock.json) under
# ${MTS_THIRD_PARTY_DIR:-/tmp/mts-third-party}/medplum. Stop it with Ctrl-C or SIGTERM.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${1:-8090}"
pinned="4.5.2"
dir="${MTS_THIRD_PARTY_DIR:-/tmp/mts-third-party}/medplum"

if ! [[ "$port" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
    echo "usage: $0 [PORT]   (PORT 1-65535, default 8090)" >&2
    exit 2
fi
command -v node >/dev/null || { echo "node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is not installed" >&2; exit 1; }

installed() {
    node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
        "$dir/node_modules/@medplum/fhir-router/package.json" "$pinned" 2>/dev/null &&
        cmp -s "$here/package-lock.json" "$dir/package-lock.json"
}

if ! installed; then
    echo "installing @medplum/fhir-router@$pinned into $dir" >&2
    mkdir -p "$dir"
    cp "$here/package.json" "$here/package-lock.json" "$dir/"
    # --ignore-scripts: none of the seven packages needs an install script.
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
fi

export NODE_PATH="$dir/node_modules"
export NODE_ENV="${NODE_ENV:-production}"
exec node "$here/server.js" "$port" "$here/seed"
