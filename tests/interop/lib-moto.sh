# moto_server for the interop scripts: sourced, not run (run-credentials-interop.sh,
# run-proxy-interop.sh, run-s3-interop.sh).
#
#   moto_start VENV LOG [NAME=VALUE ...]
#       start VENV/bin/moto_server on a free 127.0.0.1 port, with the given
#       environment added (e.g. INITIAL_NO_AUTH_ACTION_COUNT=3), its output in
#       LOG; wait until it answers; set moto_port and moto_pid
#   moto_stop PID
#       stop one (for a trap; never fails)
#
# moto_start retries on another port when the one probed was taken before
# moto bound it, and returns 2, with moto's log on stderr, when moto does not
# come up. Readiness is polled on /moto-api/, which moto does not count as an
# unauthenticated action (INITIAL_NO_AUTH_ACTION_COUNT is left intact).

moto_port=""
moto_pid=""

moto_start() {
    local venv="$1" log="$2" attempt
    shift 2
    for attempt in 1 2 3; do
        moto_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        env "$@" "$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$log" 2>&1 &
        moto_pid=$!
        for _ in $(seq 1 150); do
            if curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$moto_port/moto-api/"; then
                return 0
            fi
            kill -0 "$moto_pid" 2>/dev/null || break
            sleep 0.2
        done
        moto_stop "$moto_pid"
        echo "moto: did not start on port $moto_port (attempt $attempt):" >&2
        cat "$log" >&2
    done
    return 2
}

moto_stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    return 0
}
