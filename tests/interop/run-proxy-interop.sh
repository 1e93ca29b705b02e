#!/usr/bin/env bash
# Interop tier, proxy: boto3, the AWS CLI and curl talk to `sigv4 proxy`,
# which verifies their signatures with its own keys and re-signs for a plain
# moto_server (the upstream S3) on 127.0.0.1.
#
# Checks, with the proxy's keys: create bucket, put, get and list work from
# each client (and objects written by one read back through another); a wrong
# secret gets the S3 XML error from the proxy and never reaches moto; a
# 100 MiB upload (boto3, hashed payload; the AWS CLI, multipart) streams
# through and reads back intact, with the proxy's peak resident memory
# (VmHWM, read from /proc before it is stopped) under 64 MiB; SIGTERM stops
# the proxy cleanly.
#
# Prints `N passed, N failed`; exits non-zero on any failure. Servers are
# killed on exit.
#
# Env: SIGV4_BIN  a prebuilt `sigv4` binary (skips cargo build)
#      KEEP_WORK  non-empty: keep the work dir (logs of moto and the proxy)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

venv="$(tests/interop/setup-venv.sh | tail -n1)"
python="$venv/bin/python"

if [[ -n "${SIGV4_BIN:-}" ]]; then
    bin="$SIGV4_BIN"
else
    cargo build -q -p sigv4-cli
    bin="$root/target/debug/sigv4"
fi

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "${KEEP_WORK:-}" ]]; then echo "work dir kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# --- upstream: plain moto (accepts any signature)
# shellcheck source=lib-moto.sh
source tests/interop/lib-moto.sh
moto_start "$venv" "$work/moto.log" || exit 1
pids+=("$moto_pid")

# --- the proxy, with its own client keys; upstream keys from the environment
key=AKIDPROXYINTEROP
secret='proxy/interop+Secret0'
printf '{"%s": "%s"}\n' "$key" "$secret" >"$work/keys.json"
env -i PATH="$PATH" HOME="$work" AWS_EC2_METADATA_DISABLED=true \
    AWS_CONFIG_FILE="$work/none" AWS_SHARED_CREDENTIALS_FILE="$work/none" \
    AWS_ACCESS_KEY_ID=upstream-key AWS_SECRET_ACCESS_KEY=upstream-secret \
    "$bin" proxy --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$moto_port" \
    --keys "$work/keys.json" --region us-east-1 --service s3 \
    >"$work/proxy.out" 2>"$work/proxy.log" &
proxy_pid=$!
pids+=("$proxy_pid")
for _ in $(seq 1 100); do
    if grep -q '^listening on ' "$work/proxy.out" 2>/dev/null; then break; fi
    sleep 0.1
done
addr="$(sed -n '1s/^listening on //p' "$work/proxy.out")"
[[ -n "$addr" ]] || { echo "run-proxy-interop: the proxy did not start" >&2; cat "$work/proxy.log" >&2; exit 1; }
endpoint="http://$addr"
echo "moto on 127.0.0.1:$moto_port, proxy on $addr"

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() {
    failed=$((failed + 1))
    echo "FAIL $1"
    sed 's/^/     | /' <<<"$2" | tail -n 15
}

# check NAME PATTERN CMD...: CMD succeeds and its output matches PATTERN (ERE).
check() {
    local name="$1" want="$2" out status=0
    shift 2
    out="$("$@" 2>&1)" || status=$?
    if [[ "$status" == 0 ]] && grep -qE -- "$want" <<<"$out"; then ok "$name"; else bad "$name (exit $status)" "$out"; fi
}
# check_fails NAME PATTERN CMD...: CMD fails and its output matches PATTERN.
check_fails() {
    local name="$1" want="$2" out status=0
    shift 2
    out="$("$@" 2>&1)" || status=$?
    if [[ "$status" != 0 ]] && grep -qE -- "$want" <<<"$out"; then ok "$name"; else bad "$name (exit $status)" "$out"; fi
}

b3() { # KEY SECRET ACTION ARGS...
    "$python" tests/interop/proxy_boto3.py "$endpoint" "$@"
}
awscli() { # SECRET ARGS...
    local s="$1"
    shift
    env -i PATH="$PATH" HOME="$work" AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$s" \
        AWS_DEFAULT_REGION=us-east-1 AWS_MAX_ATTEMPTS=1 AWS_EC2_METADATA_DISABLED=true \
        AWS_CONFIG_FILE="$work/none" AWS_SHARED_CREDENTIALS_FILE="$work/none" \
        "$venv/bin/aws" --endpoint-url "$endpoint" "$@"
}
curl_s3() { # USER:SECRET CURL-ARGS...
    local user="$1"
    shift
    curl -sS --aws-sigv4 "aws:amz:us-east-1:s3" --user "$user" -w '\nHTTP %{http_code}\n' "$@"
}

# --- boto3
check "boto3 create bucket" '^created' b3 "$key" "$secret" create-bucket boto-bucket
check "boto3 put" '^put' b3 "$key" "$secret" put boto-bucket hello.txt "hello from boto3"
check "boto3 get" '^hello from boto3$' b3 "$key" "$secret" get boto-bucket hello.txt
check "boto3 list" 'hello.txt' b3 "$key" "$secret" list boto-bucket
check "boto3 wrong secret -> SignatureDoesNotMatch 403" '^SignatureDoesNotMatch 403$' \
    b3 "$key" wrong-secret error-code boto-bucket never-forwarded-1
check "boto3 unknown key -> InvalidAccessKeyId 403" '^InvalidAccessKeyId 403$' \
    b3 AKIDUNKNOWN "$secret" error-code boto-bucket never-forwarded-2

# --- AWS CLI
printf 'hello from the aws cli\n' >"$work/cli.txt"
check "aws cli create-bucket" 'cli-bucket' awscli "$secret" s3api create-bucket --bucket cli-bucket
check "aws cli put-object" 'ETag' awscli "$secret" s3api put-object --bucket cli-bucket --key cli.txt \
    --body "$work/cli.txt" --content-type text/plain
check "aws cli get-object" 'ContentLength' awscli "$secret" s3api get-object --bucket cli-bucket --key cli.txt "$work/cli.out"
check "aws cli object intact" '^hello from the aws cli$' cat "$work/cli.out"
check "aws cli list-objects-v2" 'cli.txt' awscli "$secret" s3api list-objects-v2 --bucket cli-bucket \
    --query 'Contents[].Key' --output text
check_fails "aws cli wrong secret -> SignatureDoesNotMatch" 'SignatureDoesNotMatch' \
    awscli wrong-secret s3api get-object --bucket cli-bucket --key never-forwarded-3 "$work/none.out"

# --- curl --aws-sigv4 (no x-amz-content-sha256: the proxy hashes the buffered body)
printf 'hello from curl' >"$work/curl.txt"
check "curl create bucket" '^HTTP 200$' curl_s3 "$key:$secret" -X PUT "$endpoint/curl-bucket"
check "curl put" '^HTTP 200$' curl_s3 "$key:$secret" -X PUT -H 'Content-Type: text/plain' \
    --data-binary @"$work/curl.txt" "$endpoint/curl-bucket/curl.txt"
check "curl get" '^hello from curl$' curl_s3 "$key:$secret" "$endpoint/curl-bucket/curl.txt"
check "curl list" '<Key>curl.txt</Key>' curl_s3 "$key:$secret" "$endpoint/curl-bucket?list-type=2"
check "curl wrong secret -> S3 XML SignatureDoesNotMatch" '<Code>SignatureDoesNotMatch</Code>' \
    curl_s3 "$key:wrong-secret" "$endpoint/curl-bucket/never-forwarded-4"
check "curl wrong secret -> 403" '^HTTP 403$' curl_s3 "$key:wrong-secret" "$endpoint/curl-bucket/never-forwarded-4"
check "curl unsigned -> AccessDenied" '<Code>(AccessDenied|MissingSecurityHeader)</Code>' \
    curl -sS "$endpoint/curl-bucket/never-forwarded-5"

# --- across clients
check "boto3 reads what curl wrote" '^hello from curl$' b3 "$key" "$secret" get curl-bucket curl.txt
check "curl reads what the aws cli wrote" '^hello from the aws cli$' curl_s3 "$key:$secret" "$endpoint/cli-bucket/cli.txt"

# --- rejected requests never reached moto (whose log has a line per request)
if ! grep -q 'GET /boto-bucket/hello.txt' "$work/moto.log"; then
    bad "rejected requests stay at the proxy" "moto's log shows no request lines: cannot tell"
elif grep -q 'never-forwarded' "$work/moto.log"; then
    bad "rejected requests stay at the proxy" "$(grep 'never-forwarded' "$work/moto.log")"
else
    ok "rejected requests stay at the proxy"
fi

# --- 100 MiB through, both ways
head -c $((100 << 20)) /dev/urandom >"$work/big.bin"
big_sha="$(sha256sum "$work/big.bin" | cut -d' ' -f1)"
start=$SECONDS
check "boto3 put 100 MiB (hashed payload, streamed)" '^put' b3 "$key" "$secret" put-file boto-bucket big.bin "$work/big.bin"
check "boto3 get 100 MiB back intact" "^104857600 $big_sha\$" b3 "$key" "$secret" get-sha boto-bucket big.bin
check "aws cli s3 cp 100 MiB (multipart)" 'upload:' awscli "$secret" s3 cp "$work/big.bin" s3://cli-bucket/big.bin
check "aws cli upload reads back intact" "^104857600 $big_sha\$" b3 "$key" "$secret" get-sha cli-bucket big.bin
echo "     (100 MiB transfers: $((SECONDS - start)) s)"

peak_kb="$(awk '/^VmHWM:/ {print $2}' "/proc/$proxy_pid/status" 2>/dev/null || true)"
if [[ -n "$peak_kb" ]]; then
    echo "proxy peak memory (VmHWM): $((peak_kb / 1024)) MiB ($peak_kb kB) after 4 x 100 MiB"
    if ((peak_kb < 64 * 1024)); then ok "proxy peak memory under 64 MiB"; else bad "proxy peak memory under 64 MiB" "VmHWM $peak_kb kB"; fi
else
    bad "proxy peak memory under 64 MiB" "cannot read /proc/$proxy_pid/status"
fi

# --- graceful shutdown
kill -TERM "$proxy_pid"
status=0
wait "$proxy_pid" || status=$?
if [[ "$status" == 0 ]] && grep -q 'SIGTERM' "$work/proxy.log"; then
    ok "SIGTERM: clean exit"
else
    bad "SIGTERM: clean exit (exit $status)" "$(tail -n 5 "$work/proxy.log")"
fi
if grep -qF -- "$secret" "$work/proxy.log" || grep -q 'upstream-secret' "$work/proxy.log"; then
    bad "no secret in the proxy log" "$(grep -F -e "$secret" -e upstream-secret "$work/proxy.log")"
else
    ok "no secret in the proxy log"
fi

echo "$passed passed, $failed failed"
[[ "$failed" == 0 ]]
