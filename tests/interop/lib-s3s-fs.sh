# s3s-fs 0.14.1 for the interop scripts: sourced, not run (run-chunked-interop.sh,
# run-s3-interop.sh). s3s-fs is an S3 server on a folder, from the s3s project;
# started with an access key and secret it checks SigV4 on every request.
#
#   s3s_fs_install                  build it into target/peers on first use
#   s3s_fs_start AKID SECRET DIR    serve DIR on a free 127.0.0.1 port; sets
#                                   s3s_fs_pid and s3s_fs_port; its log is DIR.log
#   s3s_fs_stop                     stop it and remove DIR.log (for a trap)
#
# Each returns non-zero, with a line on stderr, when it fails.
# Env: S3S_FS  path to an s3s-fs binary (default: target/peers/bin/s3s-fs)

s3s_fs_peers="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/peers"
s3s_fs="${S3S_FS:-$s3s_fs_peers/bin/s3s-fs}"
s3s_fs_pid=""
s3s_fs_port=""
s3s_fs_log=""

s3s_fs_install() {
    [[ -x "$s3s_fs" ]] && return 0
    # s3s 0.17 and its crates need a newer Rust than 1.95: stay on the 0.14 line.
    echo "s3s-fs: installing s3s-fs 0.14.1 into $s3s_fs_peers" >&2
    cargo install s3s-fs --version 0.14.1 --features binary --root "$s3s_fs_peers" --locked >&2
}

s3s_fs_start() {
    local akid="$1" secret="$2" dir="$3" attempt
    s3s_fs_log="$dir.log"
    mkdir -p "$dir"
    # A free port can be taken between the probe and s3s-fs's bind: retry.
    for attempt in 1 2 3; do
        s3s_fs_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        "$s3s_fs" --host 127.0.0.1 --port "$s3s_fs_port" \
            --access-key "$akid" --secret-key "$secret" "$dir" >"$s3s_fs_log" 2>&1 &
        s3s_fs_pid=$!
        for _ in $(seq 1 100); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$s3s_fs_port") 2>/dev/null; then
                return 0
            fi
            kill -0 "$s3s_fs_pid" 2>/dev/null || break
            sleep 0.1
        done
        s3s_fs_stop_server
        echo "s3s-fs: did not start on port $s3s_fs_port (attempt $attempt):" >&2
        cat "$s3s_fs_log" >&2
    done
    return 2
}

s3s_fs_stop_server() {
    if [[ -n "$s3s_fs_pid" ]]; then
        kill "$s3s_fs_pid" 2>/dev/null || true
        wait "$s3s_fs_pid" 2>/dev/null || true
        s3s_fs_pid=""
    fi
    return 0
}

s3s_fs_stop() {
    s3s_fs_stop_server
    [[ -n "$s3s_fs_log" ]] && rm -f "$s3s_fs_log"
    return 0
}
