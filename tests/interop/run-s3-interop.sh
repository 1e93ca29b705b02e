#!/usr/bin/env bash
# S3 interop: our reqwest middleware (examples/s3_put_get.rs) and the CLI
# (`sigv4 request`, `sigv4 presign`) against moto's S3, which checks SigV4,
# on 127.0.0.1; presigned URLs against botocore's presigner.
#
# moto starts with INITIAL_NO_AUTH_ACTION_COUNT=3: the first three calls
# (create an IAM user, its access key, an allow-all policy) go unchecked,
# every call after them must carry a valid signature.
#
# Prints one line per check and `N passed, N failed`; exits non-zero when a
# check fails. Usage: tests/interop/run-s3-interop.sh (from anywhere).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="$(bash tests/interop/setup-venv.sh | tail -n1)"
py="$venv/bin/python"

echo "run-s3-interop: building sigv4 and the s3_put_get example" >&2
cargo build -q -p sigv4-cli --bin sigv4
cargo build -q -p sigv4 --example s3_put_get
bin="${SIGV4_BIN:-$root/target/debug/sigv4}"  # SIGV4_BIN: another build of the CLI
example="$root/target/debug/examples/s3_put_get"

work="$(mktemp -d)"
port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
endpoint="http://127.0.0.1:$port"
INITIAL_NO_AUTH_ACTION_COUNT=3 "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" \
    >"$work/moto.log" 2>&1 &
moto_pid=$!
cleanup() {
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    if "$py" -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
        break
    fi
    sleep 0.1
done

# The three unchecked calls: a user, its key, a policy allowing everything.
read -r akid secret < <("$py" - "$endpoint" <<'EOF'
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="sigv4-interop")
key = iam.create_access_key(UserName="sigv4-interop")["AccessKey"]
iam.put_user_policy(UserName="sigv4-interop", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
print(key["AccessKeyId"], key["SecretAccessKey"])
EOF
)

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [[ -n "${2:-}" ]] && sed 's/^/     /' <<<"$2" | head -n 8; return 0; }

# An isolated environment: the keys from moto, no ~/.aws, no other AWS_*.
run_env() {
    env -i PATH="$PATH" HOME="$work/home" AWS_ACCESS_KEY_ID="$akid" \
        AWS_SECRET_ACCESS_KEY="$secret" AWS_REGION=us-east-1 AWS_ENDPOINT_URL="$endpoint" "$@"
}
req() { run_env "$bin" request --service s3 "$@"; }
enc() { "$py" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

# 1. The middleware, through the example: PUT/HEAD/GET/list/DELETE, odd keys.
if out="$(run_env "$example" example-bucket 2>&1)"; then
    ok "example s3_put_get (middleware): $(tail -n1 <<<"$out")"
else
    bad "example s3_put_get" "$out"
fi

# 2. The CLI.
bucket=cli-bucket
if out="$(req -X PUT --fail "$endpoint/$bucket" 2>&1)"; then ok "request: create bucket"; else bad "request: create bucket" "$out"; fi

keys=("plain.txt" "with space.txt" "utf8-é-ключ-日本.txt" "a+b.txt" "k=v.txt" "100%.txt" "all of+them=%é.txt")
for key in "${keys[@]}"; do
    url="$endpoint/$bucket/$(enc "$key")"
    body="content of $key"
    if ! out="$(req -X PUT --fail -H 'Content-Type: text/plain' -d "$body" "$url" 2>&1)"; then
        bad "PUT $key" "$out"; continue
    fi
    got="$(req --fail "$url" 2>&1)" || true
    if [[ "$got" == "$body" ]]; then ok "PUT+GET $key"; else bad "PUT+GET $key" "$got"; fi
    head="$(req -X HEAD -i --fail "$url" 2>&1)" || true
    bytes="$(printf '%s' "$body" | wc -c | tr -d ' ')"
    if grep -q '^HTTP/1.1 200' <<<"$head" && grep -qi "^content-length: $bytes" <<<"$head"; then
        ok "HEAD $key"
    else
        bad "HEAD $key" "$head"
    fi
done

list="$(req --fail "$endpoint/$bucket?list-type=2" 2>&1)" || true
missing=0
for key in "${keys[@]}"; do grep -qF "<Key>$key</Key>" <<<"$list" || missing=$((missing + 1)); done
if [[ $missing -eq 0 ]]; then ok "list: all ${#keys[@]} keys"; else bad "list: $missing keys missing" "$list"; fi

# 20 MiB: a buffered, hashed upload; a streamed download, compared byte for byte.
head -c $((20 << 20)) /dev/urandom >"$work/big.bin"
if out="$(req -X PUT --fail -H 'Content-Type: application/octet-stream' -d "@$work/big.bin" "$endpoint/$bucket/big.bin" 2>&1)" \
    && req --fail "$endpoint/$bucket/big.bin" >"$work/big.out" 2>"$work/big.err" \
    && cmp -s "$work/big.bin" "$work/big.out"; then
    ok "20 MiB PUT + GET, read back equal"
else
    bad "20 MiB PUT + GET" "$out$(cat "$work/big.err" 2>/dev/null)"
fi

for key in "${keys[@]}" big.bin; do
    url="$endpoint/$bucket/$(enc "$key")"
    if out="$(req -X DELETE --fail "$url" 2>&1)"; then
        code=0; req --fail "$url" >/dev/null 2>&1 || code=$?
        if [[ $code -eq 22 ]]; then ok "DELETE $key (then GET: exit 22)"; else bad "DELETE $key: GET exit $code"; fi
    else
        bad "DELETE $key" "$out"
    fi
done

# 3. A wrong secret: the server says SignatureDoesNotMatch; we say so clearly.
code=0
err="$(env -i PATH="$PATH" HOME="$work/home" "$bin" request --fail --region us-east-1 --service s3 \
    --access-key "$akid" --secret-key "not-the-secret" "$endpoint/$bucket?list-type=2" 2>&1 >/dev/null)" || code=$?
if [[ $code -eq 22 ]] && grep -q "SignatureDoesNotMatch" <<<"$err" && grep -q "check the secret key" <<<"$err"; then
    ok "wrong secret: exit 22, $(cut -c1-60 <<<"$err")..."
else
    bad "wrong secret (exit $code)" "$err"
fi
code=0
err="$(env -i PATH="$PATH" HOME="$work/home" "$bin" request --fail --region us-east-1 --service s3 \
    --access-key AKIDUNKNOWN0000000000 --secret-key x "$endpoint/$bucket" 2>&1 >/dev/null)" || code=$?
if [[ $code -eq 22 ]] && grep -q "InvalidAccessKeyId" <<<"$err"; then ok "unknown key: InvalidAccessKeyId"; else bad "unknown key (exit $code)" "$err"; fi

# 4. Presigned URLs: the same signature as botocore's presigner at the same time.
# (moto's checking server cannot serve presigned URLs: it wants an Authorization header.)
for key in "plain.txt" "with space.txt" "a+b=c%é.txt"; do
    for method in GET PUT; do
        ours="$(env -i PATH="$PATH" HOME="$work/home" "$bin" presign --method "$method" --expires 900 \
            --region eu-west-1 --service s3 --time 20240102T030405Z \
            --access-key AKIDEXAMPLE --secret-key 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' \
            "https://examplebucket.s3.eu-west-1.amazonaws.com/$(enc "$key")" 2>&1)" || true
        theirs="$("$py" - "$method" "$key" <<'EOF'
import datetime, sys
from unittest import mock
import boto3
from botocore.config import Config
method, key = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE",
                  aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                  config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
t = datetime.datetime(2024, 1, 2, 3, 4, 5)
with mock.patch("botocore.auth.get_current_datetime", return_value=t):
    print(s3.generate_presigned_url({"GET": "get_object", "PUT": "put_object"}[method],
          Params={"Bucket": "examplebucket", "Key": key}, ExpiresIn=900))
EOF
)"
        sig() { grep -o 'X-Amz-Signature=[0-9a-f]*' <<<"$1"; }
        if [[ -n "$(sig "$ours")" && "$(sig "$ours")" == "$(sig "$theirs")" ]]; then
            ok "presign $method $key = botocore"
        else
            bad "presign $method $key" "ours:   $ours
theirs: $theirs"
        fi
    done
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
