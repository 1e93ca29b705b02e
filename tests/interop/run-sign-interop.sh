#!/usr/bin/env bash
# Interop tier, signing: our `sigv4 sign` against botocore on random requests.
#
# Runs tests/interop/sign_vs_botocore.py twice: with a fixed seed (the same
# requests every run) and with a fresh random seed, printed so a failure can
# be rerun (`--seed S --only I`). At least 2,000 requests in total.
#
# Env:
#   SIGN_INTEROP_FIXED_SEED  fixed seed (default 20261123)
#   SIGN_INTEROP_SEED        the "fresh" seed, to replay a failed run
#   SIGN_INTEROP_COUNT       requests per seed (default 1000)
#   SIGV4_BIN                a prebuilt sigv4 binary (skips cargo build)
#   CARGO_PROFILE            dev (default: shares the build with cargo test; the
#                            checker runs as fast with it, ~2.5 s per 1000) or release
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

venv="$(tests/interop/setup-venv.sh | tail -n1)"
python="$venv/bin/python"

profile="${CARGO_PROFILE:-dev}"
if [[ -n "${SIGV4_BIN:-}" ]]; then
    bin="$SIGV4_BIN"
else
    if [[ "$profile" == "release" ]]; then
        cargo build -q -p sigv4-cli --release
        bin="$root/target/release/sigv4"
    else
        cargo build -q -p sigv4-cli
        bin="$root/target/debug/sigv4"
    fi
fi

fixed="${SIGN_INTEROP_FIXED_SEED:-20261123}"
fresh="${SIGN_INTEROP_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
count="${SIGN_INTEROP_COUNT:-1000}"
if (( count * 2 < 2000 )); then
    echo "run-sign-interop: SIGN_INTEROP_COUNT=$count gives fewer than 2000 requests" >&2
    exit 2
fi

echo "sign-interop: fixed seed $fixed, fresh seed $fresh (replay: SIGN_INTEROP_SEED=$fresh), $count requests each"
status=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for seed in "$fixed" "$fresh"; do
    # Stream the checker's output, minus its own summary line (one closing
    # line for the whole run is printed below); keep it all for the sums.
    "$python" tests/interop/sign_vs_botocore.py --bin "$bin" --seed "$seed" --count "$count" \
        | tee -a "$log" | grep -v '^sign-interop: ' || status=1
done

# One closing line for the whole run, in the "N passed, N failed" form.
read -r passed failed runs < <(awk '/^sign-interop: [0-9]+ passed, [0-9]+ failed$/ \
    { p += $2; f += $4; n++ } END { print p+0, f+0, n+0 }' "$log")
if (( runs != 2 )); then
    echo "run-sign-interop: a checker run printed no summary" >&2
    status=1
fi
if (( failed > 0 )); then status=1; fi
echo "sign-interop: $passed passed, $failed failed"
exit "$status"
