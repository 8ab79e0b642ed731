#!/usr/bin/env bash
# Start fhirsnake (PyPI) on 127.0.0.1, in the foreground, serving the JSON files in seed/.
#
#   scripts/third-party/fhirsnake/start.sh [PORT]      (default 8090)
#
# FHIR base URL: http://127.0.0.1:PORT  (fhirsnake serves at the root; it is NOT a conformant
# FHIR R4 server: see README.md). The virtualenv is made once, from requirements.txt, under
# ${MTS_THIRD_PARTY_DIR:-/tmp/mts-third-party}/fhirsnake. Stop it with Ctrl-C or SIGTERM.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${1:-8090}"
pinned="1.1.0"
dir="${MTS_THIRD_PARTY_DIR:-/tmp/mts-third-party}/fhirsnake"
python="${PYTHON:-python3}"

if ! [[ "$port" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
    echo "usage: $0 [PORT]   (PORT 1-65535, default 8090)" >&2
    exit 2
fi

installed() {
    [[ -x "$dir/venv/bin/python" ]] &&
        cmp -s "$here/requirements.txt" "$dir/requirements.txt" &&
        [[ "$("$dir/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("fhirsnake"))' 2>/dev/null)" == "$pinned" ]]
}

if ! installed; then
    echo "installing fhirsnake==$pinned into $dir/venv" >&2
    mkdir -p "$dir"
    rm -rf "$dir/venv"
    "$python" -m venv "$dir/venv"
    "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$here/requirements.txt" >&2
    cp "$here/requirements.txt" "$dir/requirements.txt"
fi

# fhirsnake reads ./resources/<ResourceType>/<id>.json|yaml from its working directory, and its
# main module imports its sibling `files` as a top-level module, so the package folder itself
# has to be on the import path.
work="$dir/work"
mkdir -p "$work"
ln -sfn "$here/seed" "$work/resources"
pkg="$("$dir/venv/bin/python" -c 'import fhirsnake, os; print(os.path.dirname(fhirsnake.__file__))')"

cd "$work"
export PYTHONPATH="$pkg"
exec "$dir/venv/bin/python" -m uvicorn main:app --host 127.0.0.1 --port "$port" --log-level warning
