#!/usr/bin/env bash
# Interop tier, credentials: our providers against moto's server.
#
# Starts two moto servers on 127.0.0.1 (free ports):
#   - a checking one (INITIAL_NO_AUTH_ACTION_COUNT): after the set-up calls it
#     verifies every SigV4 signature, so AssumeRole and GetCallerIdentity
#     succeed only if our signer (and the credentials each hop produced) are
#     right;
#   - a plain one, for the unsigned AssumeRoleWithWebIdentity and the IMDS
#     paths (the checking server cannot serve those).
# Creates an IAM user, its access key and two roles on the checking server
# (tests/interop/credentials_setup.py), then runs
# crates/sigv4-credentials/examples/resolve.rs with a clean environment per
# case. Each case checks the `provider:` chain it prints and that
# GetCallerIdentity, signed with the resolved credentials, was accepted.
#
# Prints `N passed, N failed`; exits non-zero on any failure. The servers are
# killed on exit.
#
# Env: RESOLVE_BIN  a prebuilt resolve example (skips cargo build)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

venv="$(tests/interop/setup-venv.sh | tail -n1)"
python="$venv/bin/python"

if [[ -n "${RESOLVE_BIN:-}" ]]; then
    bin="$RESOLVE_BIN"
else
    cargo build -q -p sigv4-credentials --example resolve
    bin="$root/target/debug/examples/resolve"
fi

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=lib-moto.sh
source tests/interop/lib-moto.sh
# The set-up makes exactly this many unsigned calls (see credentials_setup.py).
setup_calls=7
moto_start "$venv" "$work/moto-checking.log" INITIAL_NO_AUTH_ACTION_COUNT=$setup_calls || exit 1
pids+=("$moto_pid")
checking_port="$moto_port"
moto_start "$venv" "$work/moto-plain.log" || exit 1
pids+=("$moto_pid")
plain_port="$moto_port"
checking="http://127.0.0.1:$checking_port"
plain="http://127.0.0.1:$plain_port"

# IAM user + key + roles; prints "AKID SECRET".
read -r akid secret < <("$python" tests/interop/credentials_setup.py "$checking")

account=123456789012
role_a="arn:aws:iam::$account:role/interop-role-a"
role_b="arn:aws:iam::$account:role/interop-role-b"
cat >"$work/config" <<EOF
[profile a]
role_arn = $role_a
source_profile = b
role_session_name = interop-a

[profile b]
role_arn = $role_b
source_profile = base

[profile wrong]
role_arn = $role_a
source_profile = badkeys
EOF
cat >"$work/credentials" <<EOF
[base]
aws_access_key_id = $akid
aws_secret_access_key = $secret

[badkeys]
aws_access_key_id = $akid
aws_secret_access_key = not-the-secret
EOF
printf 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJpbnRlcm9wIn0.\n' >"$work/token.jwt"

passed=0
failed=0

# run NAME EXPECT_STATUS PROVIDER_PATTERN OUTPUT_PATTERN [VAR=VALUE...]
run() {
    local name="$1" want_status="$2" want_provider="$3" want_output="$4"
    shift 4
    local out status=0
    out="$(env -i PATH="$PATH" HOME="$work/home" AWS_REGION=us-east-1 \
        AWS_CONFIG_FILE="$work/config" AWS_SHARED_CREDENTIALS_FILE="$work/credentials" \
        AWS_EC2_METADATA_DISABLED=true "$@" "$bin" 2>&1)" || status=$?
    if [[ "$status" == "$want_status" ]] \
        && grep -qF -- "$want_provider" <<<"$out" \
        && grep -qF -- "$want_output" <<<"$out"; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name (exit $status, want $want_status)"
        sed 's/^/     | /' <<<"$out"
    fi
}

run "static profile keys sign GetCallerIdentity (checking moto)" 0 \
    "provider: Profile(base)" "caller_arn: arn:aws:iam::$account:user/interop-user" \
    AWS_PROFILE=base AWS_ENDPOINT_URL_STS="$checking"

run "role chain: two AssumeRole hops, each signed by the previous credentials" 0 \
    "provider: AssumeRole($role_a) <- Profile(a) <- AssumeRole($role_b) <- Profile(b) <- Profile(base)" \
    "caller_arn: arn:aws:sts::$account:assumed-role/interop-role-a/interop-a" \
    AWS_PROFILE=a AWS_ENDPOINT_URL_STS="$checking"

run "role chain via AWS_ENDPOINT_URL (global override)" 0 \
    "provider: AssumeRole($role_a) <- Profile(a)" "caller_arn: arn:aws:sts::$account:assumed-role/interop-role-a/" \
    AWS_PROFILE=a AWS_ENDPOINT_URL="$checking"

run "wrong secret: moto rejects the signature, we say so" 1 \
    "SignatureDoesNotMatch" "STS AssumeRole of $role_a" \
    AWS_PROFILE=wrong AWS_ENDPOINT_URL_STS="$checking"

run "web identity from env (token file), credentials sign GetCallerIdentity (plain moto)" 0 \
    "provider: WebIdentityToken($role_a)" "caller_arn: arn:aws:sts::$account:assumed-role/interop-role-a/interop-web" \
    AWS_ROLE_ARN="$role_a" AWS_WEB_IDENTITY_TOKEN_FILE="$work/token.jwt" AWS_ROLE_SESSION_NAME=interop-web \
    AWS_ENDPOINT_URL_STS="$plain"

run "environment keys (checking moto)" 0 \
    "provider: Environment" "caller_arn: arn:aws:iam::$account:user/interop-user" \
    AWS_ACCESS_KEY_ID="$akid" AWS_SECRET_ACCESS_KEY="$secret" AWS_ENDPOINT_URL_STS="$checking"

run "IMDS (plain moto as the metadata service)" 0 \
    "provider: Ec2InstanceMetadata" "caller_arn: arn:aws:" \
    AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$plain" AWS_ENDPOINT_URL_STS="$plain"

echo "$passed passed, $failed failed"
[[ "$failed" == 0 ]]
