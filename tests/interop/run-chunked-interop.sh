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
peers="$root/target/peers"
s3s_fs="${S3S_FS:-$peers/bin/s3s-fs}"

if [[ ! -x "$s3s_fs" ]]; then
    echo "chunked-upload: installing s3s-fs 0.14.1 into $peers (s3s 0.17 needs a newer Rust)" >&2
    cargo install s3s-fs --version 0.14.1 --features binary --root "$peers" --locked >&2 || exit 2
fi

echo "chunked-upload: building the client (examples/chunked_put)" >&2
cargo build -q -p sigv4-sign --example chunked_put >&2 || exit 2
client="$root/target/debug/examples/chunked_put"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
data="$(mktemp -d)"
log="$data.log"
export AWS_ACCESS_KEY_ID="AKIAINTEROPCHUNKED01"
export AWS_SECRET_ACCESS_KEY="interop/Secret+Key/for-s3s-fs-0000000000"
export AWS_REGION="us-east-1"

"$s3s_fs" --host 127.0.0.1 --port "$port" \
    --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" "$data" >"$log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    rm -rf "$data" "$log"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        break
    fi
    if ! kill -0 "$server" 2>/dev/null; then
        echo "chunked-upload: s3s-fs exited:" >&2
        cat "$log" >&2
        exit 2
    fi
    sleep 0.1
done

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
