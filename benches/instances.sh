#!/usr/bin/env bash
# The signing benchmark's best-of-batches comparison (GET, presign, floor,
# aws-sigv4, bare) run in N fresh copies of the bench executable, one after
# the other.
#
#   benches/instances.sh [N]        (N defaults to 6; SIGV4_BENCH_MIN=300)
#
# Why copies: on this VM one and the same executable runs our signer up to
# ~90 ns slower or faster depending on where its pages land in physical
# memory, and that placement is fixed for as long as the file stays in the
# page cache. A fresh copy is a fresh placement, so N copies show the spread
# (docs/benchmarks.md, "Seventh round").
set -euo pipefail

n=${1:-6}
rounds=${SIGV4_BENCH_MIN:-300}
cd "$(dirname "$0")/.."

bin=$(cargo bench --bench sign --no-run 2>&1 |
    grep -o 'target/release/deps/sign-[0-9a-f]*' | tail -n 1)
if [[ -z "$bin" || ! -x "$bin" ]]; then
    echo "instances.sh: could not find the bench executable" >&2
    exit 1
fi

dir=target/bench-instances
mkdir -p "$dir"
for i in $(seq "$n"); do
    copy="$dir/sign-$i"
    cp "$bin" "$copy"
    echo "== copy $i of $n"
    # The filter matches no criterion bench: only the best-of-batches table runs.
    SIGV4_BENCH_MIN=$rounds "$copy" --bench '^no-criterion-group$' |
        grep -E 'sigv4|bare'
    rm -f "$copy"
done
