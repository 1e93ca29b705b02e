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
#   CARGO_PROFILE            release (default) or dev
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

venv="$(tests/interop/setup-venv.sh | tail -n1)"
python="$venv/bin/python"

profile="${CARGO_PROFILE:-release}"
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
out_fixed="$("$python" tests/interop/sign_vs_botocore.py --bin "$bin" --seed "$fixed" --count "$count")" || status=1
printf '%s\n' "$out_fixed" | grep -v '^sign-interop: ' || true
out_fresh="$("$python" tests/interop/sign_vs_botocore.py --bin "$bin" --seed "$fresh" --count "$count")" || status=1
printf '%s\n' "$out_fresh" | grep -v '^sign-interop: ' || true

# One closing line for the whole run, in the "N passed, N failed" form.
sum() { printf '%s\n%s\n' "$out_fixed" "$out_fresh" | sed -n "s/^sign-interop: \([0-9]*\) passed, \([0-9]*\) failed\$/\\$1/p" | paste -sd+ | bc; }
passed="$(sum 1)"; failed="$(sum 2)"
if [[ -z "$passed" || -z "$failed" ]]; then
    echo "run-sign-interop: the checker printed no summary" >&2
    exit 1
fi
if (( failed > 0 )); then status=1; fi
echo "sign-interop: $passed passed, $failed failed"
exit "$status"
