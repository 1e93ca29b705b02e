#!/usr/bin/env bash
# Interop: aws-chunked streaming uploads and S3 POST-policy uploads from
# sigv4-sign against a real S3 server, s3s-fs 0.14.1 (which checks the seed,
# every chunk signature and the POST policy signature), on 127.0.0.1.
#
# Each upload is read back with a signed GET and compared byte for byte.
# The client is crates/sigv4-sign/examples/chunked_put.rs (std TcpStream only).
#
# Prints one line per check, then `N passed, N failed`; exits non-zero if any
# check failed (or the peer cannot be started).
#
# Usage: tests/interop/run-chunked-interop.sh     (from anywhere inside the repo)
# Env:   S3S_FS   path to an s3s-fs binary (default: target/peers/bin/s3s-fs,
#                 installed with `cargo install` on first use)
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root" || exit 2
# shellcheck source=lib-s3s-fs.sh
source tests/interop/lib-s3s-fs.sh
s3s_fs_install || exit 2

echo "chunked-upload: building the client (examples/chunked_put)" >&2
cargo build -q -p sigv4-sign --example chunked_put >&2 || exit 2
client="$root/target/debug/examples/chunked_put"

data="$(mktemp -d)"
export AWS_ACCESS_KEY_ID="AKIAINTEROPCHUNKED01"
export AWS_SECRET_ACCESS_KEY="interop/Secret+Key/for-s3s-fs-0000000000"
export AWS_REGION="us-east-1"

cleanup() {
    s3s_fs_stop
    rm -rf "$data"
}
trap cleanup EXIT
s3s_fs_start "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$data" || exit 2
port="$s3s_fs_port"

endpoint="127.0.0.1:$port"
bucket="sigv4-interop"
passed=0
failed=0

check() {
    local name="$1"
    shift
    if "$client" "$@" 2>"$data.err"; then
        passed=$((passed + 1))
        echo "ok   $name"
        # Rejection checks say how the server refused.
        sed 's/^/     /' "$data.err" | cut -c1-240
    else
        failed=$((failed + 1))
        echo "FAIL $name"
        sed 's/^/     /' "$data.err"
    fi
    rm -f "$data.err"
}

check "create bucket" mb "$endpoint" "$bucket"

# STREAMING-AWS4-HMAC-SHA256-PAYLOAD: 0 B, 1 B, 8 KiB, exactly one 64 KiB
# chunk, one chunk + 1 B, and 5 MiB + 1 B (81 chunks, the last of 1 byte).
for size in 0 1 8192 65536 65537 5242881; do
    check "PUT aws-chunked signed, $size B" put "$endpoint" "$bucket" "signed-$size" "$size" signed
done

# The server does check chunk signatures: a byte flipped after signing is refused.
check "PUT aws-chunked signed with a flipped data byte is rejected" \
    put "$endpoint" "$bucket" "tampered" 70000 signed - tamper

# Trailing checksums: signed trailer and unsigned trailer.
for alg in crc32 crc32c sha256; do
    check "PUT aws-chunked signed trailer x-amz-checksum-$alg, 70000 B" \
        put "$endpoint" "$bucket" "trailer-$alg" 70000 signed-trailer "$alg"
done
check "PUT aws-chunked signed trailer crc32c, 0 B" \
    put "$endpoint" "$bucket" "trailer-empty" 0 signed-trailer crc32c
for alg in crc32 crc32c sha256; do
    check "PUT aws-chunked unsigned trailer x-amz-checksum-$alg, 70000 B" \
        put "$endpoint" "$bucket" "unsigned-$alg" 70000 unsigned-trailer "$alg"
done

# POST policy: a real multipart form upload is accepted; tampering is rejected.
check "POST policy upload, 1000 B" post "$endpoint" "$bucket" "post-object.txt" 1000
check "POST policy upload with a tampered policy is rejected" \
    post "$endpoint" "$bucket" "post-tampered.txt" 1000 policy
check "POST policy upload with a tampered signature is rejected" \
    post "$endpoint" "$bucket" "post-tampered.txt" 1000 signature
check "POST policy upload with a key outside the policy is rejected" \
    post "$endpoint" "$bucket" "post-tampered.txt" 1000 key

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
