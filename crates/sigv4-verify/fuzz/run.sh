#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of sigv4-verify's parsers, on stable
# Rust: the Authorization header, the presigned query, the aws-chunked
# decoder and the multipart POST form (targets in fuzz_targets/, their bodies
# in targets.rs).
#
# No nightly and no cargo-fuzz needed: the `libfuzzer-sys` crate builds
# libFuzzer with the machine's C++ compiler, and the SanitizerCoverage
# instrumentation cargo-fuzz asks for is reachable through stable codegen
# options (-Cpasses=sancov-module and the sanitizer-coverage LLVM options).
# No AddressSanitizer (that one needs -Zsanitizer): the code under test has
# no `unsafe`, so what is looked for is panics (crashes), timeouts, RSS
# growth (-rss_limit_mb) and any single allocation above 16 MiB (the
# harness's guard allocator, fuzz/src/lib.rs: without a sanitizer runtime
# libFuzzer's -malloc_limit_mb has no malloc hooks).
#
# Usage:
#   crates/sigv4-verify/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#       Builds the targets, runs each for SECONDS (default 60) starting from
#       fuzz/seeds/<t>/ and fuzz/corpus/<t>/. New finds go to
#       target/fuzz/corpus/<t>/ (never into the git tree), crashes to
#       target/fuzz/artifacts/<t>/. Exits non-zero on any crash, timeout or
#       out-of-memory, printing the reproducer.
#   crates/sigv4-verify/fuzz/run.sh --merge [TARGET...]
#       Minimises the committed corpus fuzz/corpus/<t>/ with -merge=1: keeps
#       only the inputs (committed or newly found) that add coverage beyond
#       the seeds. Run after a longer local run, then commit fuzz/corpus/.
#
# Reproduce a crash: target/fuzz/<host>/release/<t> <crash-file>; or copy
# it into fuzz/corpus/<t>/ and run `cargo test -p sigv4-verify --test
# fuzz_corpus`, which replays every corpus file without instrumentation.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
all_targets=(auth_header query chunked post_form)

merge=0
if [ "${1:-}" = "--merge" ]; then
    merge=1
    shift
    secs=0
else
    secs=${1:-60}
    shift || true
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

max_len_of() {
    case "$1" in
        auth_header) echo 1024 ;;
        query) echo 2048 ;;
        chunked) echo 8192 ;;
        post_form) echo 4096 ;;
        *) echo "unknown target $1" >&2; exit 2 ;;
    esac
}

# libfuzzer-sys compiles libFuzzer (C++) in its build script.
if ! command -v c++ >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1; then
    echo "fuzz: installing a C++ compiler for libFuzzer"
    { apt-get update -qq && apt-get install -y -qq g++; } >/dev/null
fi

# Own target dir: the instrumented build never touches the main build cache.
export CARGO_TARGET_DIR="$root/target/fuzz"
host="$(rustc -vV | sed -n 's/^host: //p')"
# What `cargo fuzz build -s none` passes, minus the nightly-only parts.
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
-Cdebug-assertions -Coverflow-checks"
# --target: RUSTFLAGS then apply to the target code only, not to build
# scripts and proc macros (which would not link without libFuzzer).
# The dependencies the fuzz crate shares with the workspace get the
# workspace's locked versions: its lockfile (git-ignored here) starts as a
# copy of the root one; cargo drops what is unused and adds libfuzzer-sys.
cp "$root/Cargo.lock" "$here/Cargo.lock"
echo "fuzz: building ${targets[*]} (instrumented, $CARGO_TARGET_DIR)"
cargo build --release --manifest-path "$here/Cargo.toml" --target "$host" \
    $(printf -- '--bin %s ' "${targets[@]}")
bin_dir="$CARGO_TARGET_DIR/$host/release"

if [ "$merge" = 1 ]; then
    for t in "${targets[@]}"; do
        tmp="$CARGO_TARGET_DIR/merge/$t"
        rm -rf "$tmp" && mkdir -p "$tmp" "$CARGO_TARGET_DIR/corpus/$t" "$here/corpus/$t"
        # The seeds go in first so that only coverage beyond them is kept;
        # they are removed again afterwards (they live in fuzz/seeds/).
        cp "$here/seeds/$t/"* "$tmp/"
        "$bin_dir/$t" -set_cover_merge=1 -max_len="$(max_len_of "$t")" -rss_limit_mb=2048 \
            "$tmp" "$here/corpus/$t" "$CARGO_TARGET_DIR/corpus/$t" 2>"$tmp.log" \
            || { tail -20 "$tmp.log"; echo "FAIL: merge of $t"; exit 1; }
        for s in "$here/seeds/$t/"*; do rm -f "$tmp/$(basename "$s")"; done
        rm -f "$here/corpus/$t/"*
        cp "$tmp/"* "$here/corpus/$t/" 2>/dev/null || true
        echo "fuzz: $t corpus: $(ls "$here/corpus/$t" | wc -l) files, $(du -sk "$here/corpus/$t" | cut -f1) KiB"
    done
    exit 0
fi

fail=0
for t in "${targets[@]}"; do
    scratch="$CARGO_TARGET_DIR/corpus/$t"
    art="$CARGO_TARGET_DIR/artifacts/$t"
    log="$CARGO_TARGET_DIR/logs/$t.log"
    rm -rf "$art"
    mkdir -p "$scratch" "$art" "$(dirname "$log")" "$here/corpus/$t"
    echo "== $t (${secs}s)"
    rc=0
    # The first folder receives new finds; the committed ones are only read.
    "$bin_dir/$t" "$scratch" "$here/seeds/$t" "$here/corpus/$t" \
        -max_total_time="$secs" -max_len="$(max_len_of "$t")" -timeout=10 \
        -rss_limit_mb=2048 -malloc_limit_mb=16 -print_final_stats=1 \
        -dict="$here/dict/$t.dict" -artifact_prefix="$art/" >"$log" 2>&1 || rc=$?
    # Coverage progress: the first and last status lines (cov/ft/corp/exec/s).
    grep -E '#[0-9]+\s+(INITED|pulse|DONE|NEW|REDUCE)' "$log" | sed -n '1p;$p' || true
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb):' "$log" | tr '\n' ' '
    echo
    if [ "$rc" -ne 0 ]; then
        fail=1
        echo "FAIL: $t (libFuzzer exit $rc); last lines of $log:"
        tail -40 "$log"
        for f in "$art"/*; do
            [ -e "$f" ] && echo "reproducer: $f  (run: $bin_dir/$t $f)"
        done
    fi
done
[ "$fail" = 0 ] || exit 1
echo "fuzz: all targets ran without a crash, timeout or OOM"
