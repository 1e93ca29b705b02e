#!/usr/bin/env bash
# Interop tier, load: wrk (Debian package) against the SigV4 tower layer in an
# axum server (crates/sigv4-verify/examples/load_server.rs) on 127.0.0.1, and
# against the same server without the layer (--no-auth). Checks:
#   - wrk: zero socket errors, timeouts and non-2xx answers;
#   - the server: every request its handler served carried a verified
#     Identity, none was rejected, and it served at least wrk's total (at most
#     one more per connection: requests in flight when wrk stopped);
#   - the layer really checks: a wrong signature (curl) gets 403
#     SignatureDoesNotMatch.
# Prints one table row per server. Exits non-zero on any failure.
#
# The server gets LOAD_THREADS tokio workers pinned to CPU 0, wrk one thread
# pinned to CPU 1 (when taskset and 2+ CPUs exist), so "per core" means per
# server core. The CPU column is the server's measured CPU time / wall time.
#
# Env: LOAD_DURATION (default 10s), LOAD_CONNECTIONS (32), LOAD_THREADS (1).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
duration="${LOAD_DURATION:-10s}"
conns="${LOAD_CONNECTIONS:-32}"
threads="${LOAD_THREADS:-1}"
akid=AKIDLOAD
secret='load/secret+key' # the fixed key of load_server.rs
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
fail() { echo "run-load-interop: FAIL: $*" >&2; exit 1; }

if ! command -v wrk >/dev/null; then
    if [[ "$(id -u)" -eq 0 ]]; then sudo=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n)
    else fail "wrk is not installed and neither root nor password-less sudo is available (apt-get install -y wrk)"; fi
    "${sudo[@]}" apt-get install -y wrk >&2 ||
        { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y wrk >&2; } ||
        fail "apt-get install -y wrk failed"
fi

cargo build -q --release -p sigv4-verify --features tower --example load_server
cargo build -q -p sigv4-cli --bin sigv4
server_bin="$root/target/release/examples/load_server"
sigv4="$root/target/debug/sigv4"

pin_server=() pin_wrk=()
if command -v taskset >/dev/null && [[ "$(nproc)" -ge 2 ]]; then
    pin_server=(taskset -c 0) pin_wrk=(taskset -c 1)
fi

tmp="$(mktemp -d)"
pid=""
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
cat >"$tmp/summary.lua" <<'EOF'
done = function(s, latency, requests)
  local e = s.errors
  io.write(string.format("WRK %d %d %d %d %d %d %d %d %d\n", s.requests, s.duration,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
EOF

# start_server ARGS...: sets pid and addr.
start_server() {
    "${pin_server[@]}" "$server_bin" --threads "$threads" "$@" >"$tmp/server.log" 2>&1 &
    pid=$!
    addr=""
    for _ in $(seq 1 50); do
        addr="$(awk '/^listening on /{print $3}' "$tmp/server.log")"
        [[ -n "$addr" ]] && return 0
        sleep 0.1
    done
    cat "$tmp/server.log" >&2
    fail "load_server did not start"
}
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
stats() { curl -sS --max-time 5 "http://$addr/stats"; }
cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$pid/stat"; }

# run_wrk NAME HEADER-ARGS...: runs wrk, checks it, appends a table row; sets wrk_requests.
rows=()
run_wrk() {
    local name="$1"; shift
    local t0 t1 line
    t0="$(cpu_ticks)"
    "${pin_wrk[@]}" wrk -t1 -c"$conns" -d"$duration" --latency -s "$tmp/summary.lua" "$@" \
        "http://$addr/bucket/key" >"$tmp/wrk.out" 2>&1 || { cat "$tmp/wrk.out" >&2; fail "$name: wrk failed"; }
    t1="$(cpu_ticks)"
    line="$(grep '^WRK ' "$tmp/wrk.out")" || { cat "$tmp/wrk.out" >&2; fail "$name: no wrk summary"; }
    read -r _ req dur_us conn_e read_e write_e status_e timeout_e p50 p99 <<<"$line"
    local errors=$((conn_e + read_e + write_e + status_e + timeout_e))
    if ((errors != 0)) || grep -q 'Non-2xx' "$tmp/wrk.out"; then
        cat "$tmp/wrk.out" >&2
        fail "$name: $errors errors (connect $conn_e, read $read_e, write $write_e, status $status_e, timeout $timeout_e)"
    fi
    ((req > 0)) || fail "$name: wrk completed no request"
    wrk_requests="$req"
    rows+=("$(awk -v n="$name" -v th="$threads" -v r="$req" -v d="$dur_us" -v c="$((t1 - t0))" \
        -v hz="$(getconf CLK_TCK)" -v p50="$p50" -v p99="$p99" -v e="$errors" 'BEGIN {
        rps = r / (d / 1e6); cpu = (c / hz) / (d / 1e6)
        printf "%-12s %7d %8.0f %10.0f %7.0f%% %9.0f %7.0f %7.0f %6s\n",
            n, th, rps, rps / th, cpu * 100, (c > 0 ? r / (c / hz) : 0), p50, p99, e }')")
}

# check_counts WRK-TOTAL EXPECT-VERIFIED(yes|no)
check_counts() {
    local s served verified rejected
    s="$(stats)" || fail "GET /stats failed"
    read -r served verified rejected <<<"$(sed -E 's/[a-z]+=//g' <<<"$s")"
    ((rejected == 0)) || fail "server answered $rejected non-2xx ($s)"
    ((served >= $1 && served <= $1 + conns)) || fail "server served $served, wrk completed $1 ($s)"
    if [[ "$2" == yes ]]; then
        ((verified == served)) || fail "served $served but only $verified verified ($s)"
    else
        ((verified == 0)) || fail "--no-auth server saw $verified Identity ($s)"
    fi
    echo "  server counts: $s (wrk completed $1)"
}

# 1. With the layer: sign once, now (well inside the 15-minute skew window).
start_server
"$sigv4" sign GET "http://$addr/bucket/key" --region us-east-1 --service s3 \
    --access-key "$akid" --secret-key "$secret" --json >"$tmp/signed.json"
mapfile -t hdrs < <(python3 -c 'import json,sys
for n, v in json.load(sys.stdin)["headers"]: print(f"{n}: {v}")' <"$tmp/signed.json")
hargs=(-H "Host: $addr")
for h in "${hdrs[@]}"; do hargs+=(-H "$h"); done
code="$(curl -sS -o /dev/null -w '%{http_code}' "${hargs[@]}" "http://$addr/bucket/key")"
[[ "$code" == 200 ]] || fail "the signed request got $code, not 200"
run_wrk "sigv4 layer" "${hargs[@]}"
check_counts "$((wrk_requests + 1))" yes # +1: the curl request above

# The layer must reject a wrong signature (last hex digit changed).
bad=(-H "Host: $addr")
for h in "${hdrs[@]}"; do
    [[ "$h" == Authorization:* ]] && h="${h%?}$([[ "${h: -1}" == 0 ]] && echo 1 || echo 0)"
    bad+=(-H "$h")
done
code="$(curl -sS -o "$tmp/bad.xml" -w '%{http_code}' "${bad[@]}" "http://$addr/bucket/key")"
[[ "$code" == 403 ]] || fail "a wrong signature got $code, not 403"
grep -q '<Code>SignatureDoesNotMatch</Code>' "$tmp/bad.xml" || fail "403 without SignatureDoesNotMatch: $(cat "$tmp/bad.xml")"
grep -q 'rejected=1$' <<<"$(stats)" || fail "the server did not count the rejection"
echo "  wrong signature: 403 SignatureDoesNotMatch"
stop_server

# 2. The same server without the layer, sent the same (now unchecked) headers.
start_server --no-auth
hargs=(-H "Host: $addr")
for h in "${hdrs[@]}"; do hargs+=(-H "$h"); done
run_wrk "no layer" "${hargs[@]}"
check_counts "$wrk_requests" no
stop_server

echo "wrk -t1 -c$conns -d$duration; server: $threads tokio worker(s)${pin_server:+ pinned to CPU 0, wrk pinned to CPU 1}; load average before: $load_before"
printf '%-12s %7s %8s %10s %8s %9s %7s %7s %6s\n' server threads 'req/s' 'req/s/core' 'srv CPU' 'req/CPU-s' 'p50 us' 'p99 us' errors
printf '%s\n' "${rows[@]}"
