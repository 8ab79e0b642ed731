#!/usr/bin/env bash
# Fuzz every target for a bounded time:   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]
#
# cargo-fuzz (libFuzzer) on nightly; installs cargo-fuzz and the nightly toolchain when missing.
# Runs on a scratch copy of the committed seeds, so fuzz/corpus keeps only named seeds. A crash
# is left in fuzz/artifacts/<target>/: fix it, then copy the input into
# fuzz/regressions/<target>/ so `cargo test --test fuzz_corpus` replays it for ever.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(response locator feature catalogue config openapi primitive)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cd "$here/fuzz"
status=0
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target"
    cp -r "corpus/$target/." "$scratch/$target/"
    [ -d "regressions/$target" ] && cp -r "regressions/$target/." "$scratch/$target/"
    echo "== $target for ${seconds}s" >&2
    if ! cargo +nightly fuzz run "$target" "$scratch/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>"$scratch/$target.log"; then
        status=1
        echo "!! $target found a crash; see fuzz/artifacts/$target/" >&2
    fi
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "$scratch/$target.log" >&2 || tail -5 "$scratch/$target.log" >&2
done
exit $status
