#!/usr/bin/env bash
# The mts benchmark, one command:   scripts/bench/run.sh [--quick]
#
# Measures, each against a named peer on the same data in the same run, and prints a table:
#   1. FHIR schema validation throughput: mts vs ajv 8.20 (npm) and python jsonschema 4.26
#   2. the full default suite against the embedded sandbox: wall time and peak RSS (release)
#   3. harness overhead per HTTP exchange: N requests through mts vs ApacheBench (ab), same
#      loopback endpoint, same concurrency
#   4. scaling: 1, 10, 100 and 1,000 scenarios
#   5. report writing for 5,000 exchanges
#   6. a peer harness (Schemathesis) making the same OpenAPI checks against the same sandbox
# Everything runs on loopback. Peers and the corpus go to ${MTS_BENCH_DIR:-/tmp/mts-bench}.
# --quick: fewer rounds, for trying the script out. --full: python also validates the
# 10,000-entry bundle (about four minutes on its own).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bench="${MTS_BENCH_DIR:-/tmp/mts-bench}"
quick=0; full=0
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        --full) full=1 ;;
        *) echo "usage: $0 [--quick] [--full]" >&2; exit 2 ;;
    esac
done
rounds=$(( quick ? 1 : 3 ))
warmup=$(( quick ? 1 : 5 ))  # untimed rounds before the timed ones, for every validator
repeats=$(( quick ? 2 : 5 ))
mkdir -p "$bench"
results="$bench/results.jsonl"
: > "$results"

need() { command -v "$1" >/dev/null || { echo "needs $1" >&2; exit 1; }; }
need node; need python3; need /usr/bin/time
if ! command -v ab >/dev/null; then
    echo "== installing apache2-utils (ab)" >&2
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq apache2-utils >&2
fi

echo "== building mts (release) and the benchmarks" >&2
(cd "$repo" && cargo build --release --locked -q && cargo bench --no-run --locked -q 2>/dev/null)
mts="$repo/target/release/mts"
bench_bin() {  # the newest build: older ones of other feature sets may linger in deps/
    find "$repo/target/release/deps" -maxdepth 1 -type f -executable -name "$1-*" -printf '%T@ %p\n' \
        | sort -rn | head -1 | cut -d' ' -f2-
}

echo "== peers and corpus" >&2
"$here/setup_peers.sh" "$bench" >&2
corpus="$bench/corpus"
schema="$repo/standards/fhir-r4/fhir.schema.json"

echo "== 1. schema validation" >&2
# Alternating repeats, medians in the summary: this machine's speed drifts by a third within
# minutes, and one run of each tool would measure the drift.
for i in $(seq "$repeats"); do
    "$(bench_bin schema_validation)" "$corpus" "$rounds" "$warmup" | sed 's/^{/{"bench":"schema",/' >> "$results"
    node "$bench/ajv/validate.js" "$schema" "$corpus" "$rounds" "$warmup" | sed 's/^{/{"bench":"schema",/' >> "$results"
done
py_args=(--limit 1000 --bundle-limit 20); [ "$full" = 1 ] && py_args+=(--big-bundle)
"$bench/venv/bin/python" "$here/py_validate.py" "$schema" "$corpus" 1 "${py_args[@]}" | sed 's/^{/{"bench":"schema",/' >> "$results"

echo "== 2. full default suite against the embedded sandbox" >&2
for i in $(seq "$repeats"); do
    out="$bench/suite-$i"; rm -rf "$out"
    /usr/bin/time -f '%e %M' -o "$bench/time.txt" "$mts" run --out "$out" >/dev/null 2>&1 || true
    read -r wall rss < <(tail -1 "$bench/time.txt")  # time prefixes a line on a non-zero exit
    exchanges=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["exchanges"]))' "$out/report.json")
    echo "{\"bench\":\"suite\",\"seconds\":$wall,\"rss_kib\":$rss,\"exchanges\":$exchanges}" >> "$results"
done

echo "== 3/4. per-exchange overhead and scaling against a loopback sandbox" >&2
"$mts" sandbox --port 0 --no-auth > "$bench/sandbox.env" 2>/dev/null &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null || true' EXIT
until grep -q MTS_READY "$bench/sandbox.env" 2>/dev/null; do sleep 0.1; done
base="$(sed -n 's/^MTS_SANDBOX_URL=//p' "$bench/sandbox.env")"
features() {  # features N -> a folder of N plain scenarios reading the test patient
    # Plain scenarios, 100 to a file: cucumber's Scenario Outline expansion and its line
    # counting grow faster than linearly with one huge file, which is not what is measured here.
    local dir="$bench/features-$1"
    rm -rf "$dir"; mkdir -p "$dir"
    local i
    for i in $(seq "$1"); do
        local file; file="$dir/reads-$(( (i - 1) / 100 )).feature"
        [ -f "$file" ] || echo "Feature: Repeated reads" > "$file"
        printf '  @REQ-IOP-FHIR-007\n  Scenario: Read number %d\n    Given a GET request to "Patient/{patient:existing}"\n    When the request is sent\n    Then the status is 200\n\n' "$i" >> "$file"
    done
    echo "$dir"
}
through_mts() {  # through_mts N -> seconds for N reads (+1 preflight) through the whole harness
    local dir; dir="$(features "$1")"
    local out="$bench/scale-$1"; rm -rf "$out"
    /usr/bin/time -f '%e %M' -o "$bench/time.txt" "$mts" run --target "$base" --profile all \
        --features-dir "$dir" --requirements IOP-FHIR-007 --concurrency 8 --out "$out" >/dev/null 2>&1 || true
    read -r wall rss < <(tail -1 "$bench/time.txt")  # time prefixes a line on a non-zero exit
    echo "$wall $rss"
}
n=$(( quick ? 500 : 2000 ))
for i in $(seq "$repeats"); do
    read -r wall rss < <(through_mts "$n")
    echo "{\"bench\":\"overhead\",\"tool\":\"mts\",\"requests\":$n,\"seconds\":$wall,\"rss_kib\":$rss}" >> "$results"
    ab_out="$(ab -q -k -n "$n" -c 8 -H 'Accept: application/fhir+json' \
        -H 'X-Request-ID: 60e0b220-8136-4ca5-ae46-1d97ef59d068' "$base/Patient/9000000009")"
    ab_wall="$(sed -n 's/^Time taken for tests: *\([0-9.]*\).*/\1/p' <<< "$ab_out")"
    ab_failed="$(sed -n 's/^Failed requests: *\([0-9]*\).*/\1/p' <<< "$ab_out")"
    echo "{\"bench\":\"overhead\",\"tool\":\"ab\",\"requests\":$n,\"seconds\":$ab_wall,\"failed\":$ab_failed}" >> "$results"
    "$(bench_bin http_client)" "$base/Patient/9000000009" "$n" 8 | sed 's/^{/{"bench":"overhead",/; s/"tool":"mts HttpClient"/"tool":"mts-client"/' >> "$results"
done
for scenarios in 1 10 100 1000; do
    for i in $(seq "$repeats"); do
        read -r wall rss < <(through_mts "$scenarios")
        echo "{\"bench\":\"scaling\",\"scenarios\":$scenarios,\"seconds\":$wall,\"rss_kib\":$rss}" >> "$results"
    done
done

echo "== 6. a peer harness: Schemathesis against the same sandbox, the same OpenAPI checks" >&2
# Both judge every response against the sandbox's OpenAPI document: status code, content type,
# required headers and body schema (mts: API-DOC-002 over every exchange of the suite).
for i in $(seq "$repeats"); do
    rm -rf "$bench/st-report"
    start=$(date +%s.%N)
    # From the bench folder: Schemathesis keeps a `.schemathesis/` cache in its working directory.
    (cd "$bench" && "$bench/venv/bin/schemathesis" run "$base/openapi.json" --phases examples,fuzzing \
        --checks status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
        --max-examples 50 --seed 1 --workers 8 --report har --report-dir "$bench/st-report" \
        --suppress-health-check all >/dev/null 2>&1) || true
    end=$(date +%s.%N)
    calls=$(python3 -c 'import json,sys,glob; print(sum(len(json.load(open(f))["log"]["entries"]) for f in glob.glob(sys.argv[1] + "/har-*.json")))' "$bench/st-report")
    echo "{\"bench\":\"peer\",\"tool\":\"schemathesis 4.32.5\",\"seconds\":$(echo "$end - $start" | bc),\"requests\":$calls}" >> "$results"
    out="$bench/peer-mts"; rm -rf "$out"
    /usr/bin/time -f '%e %M' -o "$bench/time.txt" "$mts" run --target "$base" --openapi "$base/openapi.json" \
        --concurrency 8 --out "$out" >/dev/null 2>&1 || true
    read -r wall rss < <(tail -1 "$bench/time.txt")  # time prefixes a line on a non-zero exit
    calls=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["exchanges"]))' "$out/report.json")
    echo "{\"bench\":\"peer\",\"tool\":\"mts\",\"seconds\":$wall,\"requests\":$calls}" >> "$results"
done

echo "== 5. report writing, 5,000 exchanges" >&2
"$(bench_bin report_writers)" 5000 | tee "$bench/report-writers.txt" >&2

echo "== machine" >&2
{
    echo "{\"bench\":\"machine\",\"cpus\":$(nproc),\"model\":\"$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)\",\"memory_gib\":$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo),\"kernel\":\"$(uname -r)\",\"rustc\":\"$(rustc --version)\",\"node\":\"$(node --version)\",\"python\":\"$(python3 --version | cut -d' ' -f2)\"}"
} >> "$results"

python3 "$here/summarise.py" "$results" "$bench/report-writers.txt"
