#!/usr/bin/env bash
# Bounded fuzzing runs for the verifier's parsers on stable Rust.
#
# Why proptest and not cargo-fuzz/afl: cargo-fuzz (libFuzzer) needs a
# nightly toolchain (-Z sanitizer), and afl.rs needs cargo-afl plus an
# AFL++ build; this machine has stable 1.95 only. proptest runs on stable,
# shrinks failures to a minimal input and stores them in
# proptest-regressions/ (kept as regression tests); fuzz/corpus/ holds
# hand-made and past crash inputs, replayed by `corpus_replays`.
#
# Usage: crates/sigv4-verify/fuzz/run.sh [SECONDS_PER_TARGET] (default 60)
set -euo pipefail
secs=${1:-60}
cd "$(dirname "$0")/../../.."
cargo test -p sigv4-verify --release --test fuzz --no-run
for target in auth_header_arbitrary auth_header_mutated query_arbitrary query_structured \
              chunked_arbitrary chunked_mutated_valid_body post_arbitrary post_structured; do
  echo "== $target (${secs}s)"
  # Many cases per run; the timeout bounds the wall time.
  PROPTEST_CASES=${PROPTEST_CASES:-1000000} timeout --preserve-status -s INT "$secs" \
    cargo test -q -p sigv4-verify --release --test fuzz -- --exact "$target" || {
      rc=$?; if [ $rc -ne 130 ] && [ $rc -ne 0 ]; then echo "FAIL: $target"; exit 1; fi; }
done
cargo test -q -p sigv4-verify --release --test fuzz -- corpus_replays
echo "fuzz: all targets ran without a failure"
