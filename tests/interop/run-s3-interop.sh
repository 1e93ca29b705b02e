#!/usr/bin/env bash
# S3 interop: our reqwest middleware (examples/s3_put_get.rs), the CLI
# (`sigv4 request`, `sigv4 presign`) and examples/presign.rs against two S3
# servers that check SigV4, both on 127.0.0.1: moto and s3s-fs 0.14.1. Also
# presigned URLs against botocore's presigner.
#
# The same check sets (check_example, check_cli, check_wrong_secret,
# check_unknown_key) run against each server; check lines start with its name.
#
# - moto starts with INITIAL_NO_AUTH_ACTION_COUNT=3: the first three calls
#   (create an IAM user, its access key, an allow-all policy) go unchecked,
#   every call after them must carry a valid signature. Its checking server
#   cannot serve presigned URLs (it wants an Authorization header), so those
#   are fetched from s3s-fs only.
# - s3s-fs (tests/interop/lib-s3s-fs.sh) knows the one key pair on its command
#   line. Checked against 0.14.1: path-style bucket creation (PUT /BUCKET),
#   PutObject, HeadObject, GetObject, DeleteObject, ListObjectsV2
#   (list-type=2, prefix), presigned GET and PUT (expiry enforced) and 20 MiB
#   bodies work as on S3, with keys holding spaces, UTF-8, `+`, `=` and `%`.
#   Where it deviates from S3: an unknown access key gets `NotSignedUp`
#   (S3: `InvalidAccessKeyId`); most error bodies carry only `<Code>` (no
#   Message, no RequestId); ListObjectsV2 entries have no ETag.
#
# Prints one line per check and `N passed, N failed`; exits non-zero when a
# check fails. Usage: tests/interop/run-s3-interop.sh (from anywhere).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="$(bash tests/interop/setup-venv.sh | tail -n1)"
py="$venv/bin/python"
# shellcheck source=lib-s3s-fs.sh
source tests/interop/lib-s3s-fs.sh
# shellcheck source=lib-moto.sh
source tests/interop/lib-moto.sh
s3s_fs_install

echo "run-s3-interop: building sigv4 and the s3_put_get and presign examples" >&2
cargo build -q -p sigv4-cli --bin sigv4
cargo build -q -p sigv4 --example s3_put_get --example presign
bin="${SIGV4_BIN:-$root/target/debug/sigv4}"  # SIGV4_BIN: another build of the CLI
example="$root/target/debug/examples/s3_put_get"
presign_example="$root/target/debug/examples/presign"

work="$(mktemp -d)"
cleanup() {
    [[ -n "$moto_pid" ]] && moto_stop "$moto_pid"
    s3s_fs_stop
    rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [[ -n "${2:-}" ]] && sed 's/^/     /' <<<"$2" | head -n 8; return 0; }

# The server under test: set by start_moto / start_s3s_fs.
server="" endpoint="" akid="" secret=""

# An isolated environment: the server's keys (or the secret given), no ~/.aws, no other AWS_*.
run_env_secret() {
    local s="$1"
    shift
    env -i PATH="$PATH" HOME="$work/home" AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID="$akid" \
        AWS_SECRET_ACCESS_KEY="$s" AWS_REGION=us-east-1 AWS_ENDPOINT_URL="$endpoint" "$@"
}
run_env() { run_env_secret "$secret" "$@"; }
req() { run_env "$bin" request --service s3 "$@"; }
enc() { "$py" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
# curl URL [ARGS]: the body into $work/body, the HTTP status on stdout.
fetch() { local url="$1"; shift; rm -f "$work/body"; curl -sS -o "$work/body" -w '%{http_code}' "$@" "$url" 2>&1 || true; }

keys=("plain.txt" "with space.txt" "utf8-é-ключ-日本.txt" "a+b.txt" "k=v.txt" "100%.txt" "all of+them=%é.txt")

start_moto() {
    moto_start "$venv" "$work/moto.log" INITIAL_NO_AUTH_ACTION_COUNT=3 || return 2
    endpoint="http://127.0.0.1:$moto_port"
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
    server=moto
}

start_s3s_fs() {
    akid="AKIAINTEROPS3SFS0001"
    secret="s3s-fs/Secret+Key=for/interop-00000000"
    s3s_fs_start "$akid" "$secret" "$work/s3s-data"
    endpoint="http://127.0.0.1:$s3s_fs_port"
    server=s3s-fs
}

# 1. The middleware, through the example: PUT/HEAD/GET/list/DELETE with odd
#    keys, then 20 MiB read back equal; with a wrong secret, the S3 error.
check_example() {
    local out code=0
    if out="$(run_env "$example" example-bucket 20 2>&1)" && grep -q '^20 MiB: PUT, GET read back equal' <<<"$out"; then
        ok "$server: example s3_put_get (middleware, odd keys, 20 MiB): $(grep -c '^PUT/HEAD/GET' <<<"$out") keys, $(tail -n1 <<<"$out")"
    else
        bad "$server: example s3_put_get" "$out"
    fi
    out="$(run_env_secret "not-the-secret" "$example" example-bucket 2>&1)" || code=$?
    if [[ $code -eq 1 ]] && grep -q '403 Forbidden: .*<Code>SignatureDoesNotMatch</Code>' <<<"$out"; then
        ok "$server: example s3_put_get, wrong secret: exit 1, 403 SignatureDoesNotMatch"
    else
        bad "$server: example s3_put_get, wrong secret (exit $code)" "$out"
    fi
}

# 2. The CLI: bucket, odd keys, HEAD, list (all, by prefix), 20 MiB, DELETE.
check_cli() {
    local bucket=cli-bucket out key url body got head bytes list missing code
    if out="$(req -X PUT --fail "$endpoint/$bucket" 2>&1)"; then ok "$server: request: create bucket"; else bad "$server: request: create bucket" "$out"; fi

    for key in "${keys[@]}"; do
        url="$endpoint/$bucket/$(enc "$key")"
        body="content of $key"
        if ! out="$(req -X PUT --fail -H 'Content-Type: text/plain' -d "$body" "$url" 2>&1)"; then
            bad "$server: PUT $key" "$out"; continue
        fi
        got="$(req --fail "$url" 2>&1)" || true
        if [[ "$got" == "$body" ]]; then ok "$server: PUT+GET $key"; else bad "$server: PUT+GET $key" "$got"; fi
        head="$(req -X HEAD -i --fail "$url" 2>&1)" || true
        bytes="$(printf '%s' "$body" | wc -c | tr -d ' ')"
        if grep -q '^HTTP/1.1 200' <<<"$head" && grep -qi "^content-length: $bytes" <<<"$head"; then
            ok "$server: HEAD $key"
        else
            bad "$server: HEAD $key" "$head"
        fi
    done

    list="$(req --fail "$endpoint/$bucket?list-type=2" 2>&1)" || true
    missing=0
    for key in "${keys[@]}"; do grep -qF "<Key>$key</Key>" <<<"$list" || missing=$((missing + 1)); done
    if [[ $missing -eq 0 ]]; then ok "$server: list: all ${#keys[@]} keys"; else bad "$server: list: $missing keys missing" "$list"; fi
    # A prefix with a space, `+`, `=` and `%` in the signed query string.
    list="$(req --fail "$endpoint/$bucket?list-type=2&prefix=$(enc "all of+them=%")" 2>&1)" || true
    if [[ "$(grep -o '<Key>[^<]*</Key>' <<<"$list")" == "<Key>all of+them=%é.txt</Key>" ]]; then
        ok "$server: list by prefix 'all of+them=%': one key"
    else
        bad "$server: list by prefix" "$list"
    fi

    # 20 MiB: a buffered, hashed upload; a streamed download, compared byte for byte.
    [[ -f "$work/big.bin" ]] || head -c $((20 << 20)) /dev/urandom >"$work/big.bin"
    if out="$(req -X PUT --fail -H 'Content-Type: application/octet-stream' -d "@$work/big.bin" "$endpoint/$bucket/big.bin" 2>&1)" \
        && req --fail "$endpoint/$bucket/big.bin" >"$work/big.out" 2>"$work/big.err" \
        && cmp -s "$work/big.bin" "$work/big.out"; then
        ok "$server: 20 MiB PUT + GET, read back equal"
    else
        bad "$server: 20 MiB PUT + GET" "$out$(cat "$work/big.err" 2>/dev/null)"
    fi
    rm -f "$work/big.out" "$work/big.err"

    for key in "${keys[@]}" big.bin; do
        url="$endpoint/$bucket/$(enc "$key")"
        if out="$(req -X DELETE --fail "$url" 2>&1)"; then
            code=0; req --fail "$url" >/dev/null 2>&1 || code=$?
            if [[ $code -eq 22 ]]; then ok "$server: DELETE $key (then GET: exit 22)"; else bad "$server: DELETE $key: GET exit $code"; fi
        else
            bad "$server: DELETE $key" "$out"
        fi
    done
}

# 3. A wrong secret: the server says SignatureDoesNotMatch; we say so in one
#    line and exit 22 with --fail (curl's code), 0 and the server's body without.
check_wrong_secret() {
    local err out code=0
    err="$(env -i PATH="$PATH" HOME="$work/home" "$bin" request --fail --region us-east-1 --service s3 \
        --access-key "$akid" --secret-key "not-the-secret" "$endpoint/cli-bucket?list-type=2" 2>&1 >/dev/null)" || code=$?
    if [[ $code -eq 22 && $(wc -l <<<"$err") -eq 1 ]] && grep -q "SignatureDoesNotMatch" <<<"$err" \
        && grep -q "check the secret key" <<<"$err"; then
        ok "$server: wrong secret: exit 22, one line: $(cut -c1-60 <<<"$err")..."
    else
        bad "$server: wrong secret (exit $code)" "$err"
    fi
    code=0
    out="$(env -i PATH="$PATH" HOME="$work/home" "$bin" request --region us-east-1 --service s3 \
        --access-key "$akid" --secret-key "not-the-secret" "$endpoint/cli-bucket?list-type=2" 2>&1)" || code=$?
    if [[ $code -eq 0 ]] && grep -q "<Code>SignatureDoesNotMatch</Code>" <<<"$out"; then
        ok "$server: wrong secret without --fail: exit 0, the server's SignatureDoesNotMatch body"
    else
        bad "$server: wrong secret without --fail (exit $code)" "$out"
    fi
}

# 4. An access key the server does not know; EXPECTED is the server's code.
check_unknown_key() {
    local expected="$1" err code=0
    err="$(env -i PATH="$PATH" HOME="$work/home" "$bin" request --fail --region us-east-1 --service s3 \
        --access-key AKIDUNKNOWN0000000000 --secret-key x "$endpoint/cli-bucket" 2>&1 >/dev/null)" || code=$?
    if [[ $code -eq 22 ]] && grep -q "$expected" <<<"$err"; then ok "$server: unknown key: $expected"; else bad "$server: unknown key (exit $code)" "$err"; fi
}

# 5. Presigned URLs fetched with curl: `sigv4 presign` and examples/presign.rs.
check_presigned_urls() {
    local bucket=presign-bucket key url put get status out past
    req -X PUT --fail "$endpoint/$bucket" >/dev/null 2>&1 || true
    for key in "plain.txt" "with space.txt" "a+b=c%é.txt"; do
        url="$endpoint/$bucket/$(enc "$key")"
        printf 'uploaded to %s' "$key" >"$work/upload"
        put="$(run_env "$bin" presign -X PUT --service s3 --expires 300 "$url" 2>&1)" || true
        get="$(run_env "$bin" presign --service s3 --expires 300 "$url" 2>&1)" || true
        status="$(fetch "$put" -T "$work/upload")"
        if [[ "$status" == 200 && "$(fetch "$get")" == 200 ]] && cmp -s "$work/upload" "$work/body"; then
            ok "$server: presign: curl PUT + GET $key, read back equal"
        else
            bad "$server: presign: curl PUT ($status) + GET $key" "$put
$(cat "$work/body" 2>/dev/null)"
        fi
    done
    # The same URL for another key, a wrong secret, an expired URL: refused.
    get="$(run_env "$bin" presign --service s3 "$endpoint/$bucket/plain.txt" 2>&1)" || true
    status="$(fetch "${get/plain.txt/other.txt}")"
    if [[ "$status" == 403 ]] && grep -q SignatureDoesNotMatch "$work/body"; then ok "$server: presign: URL moved to another key: 403 SignatureDoesNotMatch"; else bad "$server: presign: moved URL ($status)" "$(cat "$work/body")"; fi
    get="$(run_env_secret "not-the-secret" "$bin" presign --service s3 "$endpoint/$bucket/plain.txt" 2>&1)" || true
    status="$(fetch "$get")"
    if [[ "$status" == 403 ]] && grep -q SignatureDoesNotMatch "$work/body"; then ok "$server: presign: wrong secret: 403 SignatureDoesNotMatch"; else bad "$server: presign: wrong secret ($status)" "$(cat "$work/body")"; fi
    past="$(date -u -d '-1 hour' +%Y%m%dT%H%M%SZ)"
    get="$(run_env "$bin" presign --service s3 --time "$past" --expires 60 "$endpoint/$bucket/plain.txt" 2>&1)" || true
    status="$(fetch "$get")"
    if [[ "$status" == 403 ]] && grep -q 'AccessDenied.*expired' "$work/body"; then ok "$server: presign: expired an hour ago: 403 AccessDenied (expired)"; else bad "$server: presign: expired ($status)" "$(cat "$work/body")"; fi

    # examples/presign.rs: its PUT URL (second line) uploads, its GET URL (first) reads back.
    key="from the example +=%é.txt"
    printf 'uploaded by the presign example' >"$work/upload"
    if out="$(run_env "$presign_example" "$bucket" "$key" 120 2>/dev/null)" \
        && [[ "$(fetch "$(sed -n 2p <<<"$out")" -T "$work/upload")" == 200 ]] \
        && [[ "$(fetch "$(sed -n 1p <<<"$out")")" == 200 ]] && cmp -s "$work/upload" "$work/body"; then
        ok "$server: example presign: curl PUT + GET '$key', read back equal"
    else
        bad "$server: example presign" "$out
$(cat "$work/body" 2>/dev/null)"
    fi
}

# 6. Presigned URLs: the same signature as botocore's presigner at the same
#    time (no server involved).
check_presign_vs_botocore() {
    local key method ours theirs
    sig() { grep -o 'X-Amz-Signature=[0-9a-f]*' <<<"$1"; }
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
            if [[ -n "$(sig "$ours")" && "$(sig "$ours")" == "$(sig "$theirs")" ]]; then
                ok "presign $method $key = botocore"
            else
                bad "presign $method $key" "ours:   $ours
theirs: $theirs"
            fi
        done
    done
}

start_moto
check_example
check_cli
check_wrong_secret
check_unknown_key InvalidAccessKeyId

start_s3s_fs
check_example
check_cli
check_wrong_secret
check_unknown_key NotSignedUp
check_presigned_urls

check_presign_vs_botocore

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
