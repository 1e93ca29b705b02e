#!/usr/bin/env bash
# Interop tier, verifying: botocore, curl --aws-sigv4 and `aws s3api` sign;
# our verifier (crates/sigv4-verify/examples/verify_server.rs, behind the
# tower layer, on 127.0.0.1 port 0) checks. Prints `N passed, N failed`.
#
# Env:
#   VERIFY_INTEROP_COUNT  botocore requests (default 1000; half header, half query)
#   VERIFY_INTEROP_SEED   replay a run
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="$(tests/interop/setup-venv.sh | tail -n1)"
python="$venv/bin/python"

cargo build -q -p sigv4-verify --features tower --example verify_server
server="$root/target/debug/examples/verify_server"

akid=AKIDINTEROP
secret='interop/secret+key'
log="$(mktemp)"
VERIFY_KEYS="{\"$akid\":\"$secret\"}" "$server" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
    port="$(awk '/^PORT /{print $2}' "$log")"
    [[ -n "$port" ]] && break
    sleep 0.1
done
[[ -n "${port:-}" ]] || { echo "verify_server did not start:"; cat "$log"; exit 1; }

seed_args=()
[[ -n "${VERIFY_INTEROP_SEED:-}" ]] && seed_args=(--seed "$VERIFY_INTEROP_SEED")
"$python" tests/interop/verify_peers.py --port "$port" --akid "$akid" --secret "$secret" \
    --count "${VERIFY_INTEROP_COUNT:-1000}" "${seed_args[@]}"
