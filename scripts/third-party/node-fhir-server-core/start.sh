#!/usr/bin/env bash
# Start a FHIR R4 server built on @asymmetrik/node-fhir-server-core on 127.0.0.1, in the foreground.
#
#   scripts/third-party/node-fhir-server-core/start.sh [PORT] [--tls]     (default 8090)
#
# FHIR base URL: http://127.0.0.1:PORT/4_0_1, or https:// with --tls: a throwaway CA and a
# server certificate for 127.0.0.1 are made with openssl, and the CA's path is printed as
# MTS_CA_CERT=… (pass it to mts run --ca-cert).
# The npm packages are installed once (npm ci, from the committed package-lock.json) under
# ${MTS_THIRD_PARTY_DIR:-/tmp/mts-third-party}/node-fhir-server-core. Stop it with Ctrl-C or SIGTERM.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port=8090
tls=0
for arg in "$@"; do
    case "$arg" in
        --tls) tls=1 ;;
        *) port="$arg" ;;
    esac
done
pinned="2.2.5"
dir="${MTS_THIRD_PARTY_DIR:-/tmp/mts-third-party}/node-fhir-server-core"

if ! [[ "$port" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
    echo "usage: $0 [PORT] [--tls]   (PORT 1-65535, default 8090)" >&2
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

if (( tls )); then
    command -v openssl >/dev/null || { echo "--tls needs openssl" >&2; exit 1; }
    pki="$dir/pki-$port"
    mkdir -p "$pki"
    (
        cd "$pki"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
            -subj "/CN=mts third-party test CA" -keyout ca.key -out ca.pem 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
            -extfile server.ext -out server.pem 2>/dev/null
    )
    echo "MTS_CA_CERT=$pki/ca.pem"
    export TLS_CERT="$pki/server.pem" TLS_KEY="$pki/server.key"
fi

export NODE_PATH="$dir/node_modules"
export NODE_ENV="${NODE_ENV:-production}"
exec node "$here/server.js" "$port" "$here/seed"
