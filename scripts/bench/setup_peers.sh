#!/usr/bin/env bash
# Installs the benchmark's peer validators and generates its corpus, idempotently.
#
#   scripts/bench/setup_peers.sh BENCH_DIR
#
#   BENCH_DIR/venv    python venv: carebundle 0.5.0 (corpus generator) + jsonschema 4.26.0,
#                     and schemathesis 4.32.5 (the peer harness)
#   BENCH_DIR/ajv     ajv 8.20.0 from package-lock.json (npm ci), with validate.js
#   BENCH_DIR/corpus  make_corpus.py output; regenerated only when corpus.json is missing
set -euo pipefail

bench="${1:?usage: setup_peers.sh BENCH_DIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$bench"
bench="$(cd "$bench" && pwd)"

# Python peer and corpus generator. pip is quick when the pins are already satisfied.
if [ ! -x "$bench/venv/bin/python" ]; then
    echo "setup: creating python venv in $bench/venv"
    python3 -m venv "$bench/venv"
fi
if "$bench/venv/bin/python" -c 'import sys
from importlib.metadata import version
sys.exit(not (version("carebundle") == "0.5.0" and version("jsonschema") == "4.26.0"
    and version("schemathesis") == "4.32.5"))' 2>/dev/null; then
    echo "setup: venv already has carebundle 0.5.0, jsonschema 4.26.0 and schemathesis 4.32.5"
else
    echo "setup: installing carebundle==0.5.0 jsonschema==4.26.0 schemathesis==4.32.5 into the venv"
    "$bench/venv/bin/pip" install --quiet --disable-pip-version-check carebundle==0.5.0 \
        jsonschema==4.26.0 schemathesis==4.32.5
fi

# JavaScript peer: npm ci only when the lock file changed since the last install.
mkdir -p "$bench/ajv"
cp "$here/ajv/validate.js" "$bench/ajv/validate.js"
if [ -d "$bench/ajv/node_modules/ajv" ] && cmp -s "$here/ajv/package-lock.json" "$bench/ajv/package-lock.json"; then
    echo "setup: ajv $(node -p 'require(process.argv[1]).version' "$bench/ajv/node_modules/ajv/package.json") already installed in $bench/ajv"
else
    echo "setup: npm ci for ajv in $bench/ajv"
    cp "$here/ajv/package.json" "$here/ajv/package-lock.json" "$bench/ajv/"
    (cd "$bench/ajv" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

# Corpus: corpus.json is written last, so its presence means a complete corpus.
if [ -f "$bench/corpus/corpus.json" ]; then
    echo "setup: corpus already in $bench/corpus"
else
    echo "setup: generating the corpus into $bench/corpus"
    "$bench/venv/bin/python" "$here/make_corpus.py" "$bench/corpus"
fi
