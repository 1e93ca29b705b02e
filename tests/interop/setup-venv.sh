#!/usr/bin/env bash
# Create (once) the Python venv shared by the interop tier and install the
# reference peers into it: botocore, boto3, moto[server], cryptography, awscli.
#
# Idempotent: when the venv exists and already holds every package, pip is
# not run at all. Prints the venv's path on stdout as its last line, so a
# caller may do `VENV=$(tests/interop/setup-venv.sh | tail -n1)`.
#
# Usage: tests/interop/setup-venv.sh        (from anywhere inside the repo)
# Env:   INTEROP_VENV  override the venv location (default target/interop-venv)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${INTEROP_VENV:-$root/target/interop-venv}"
# The set this venv must hold. Changing it re-runs pip (see the stamp below).
packages=(botocore boto3 'moto[server]' cryptography awscli)
stamp="$venv/.interop-packages"
want="${packages[*]}"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup-venv: creating $venv" >&2
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
fi

# The stamp records the package set of the last successful install; also
# check the modules still import, in case the venv was damaged.
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
    && "$venv/bin/python" -c 'import botocore, boto3, moto, cryptography, awscli' 2>/dev/null; then
    echo "setup-venv: $venv already has: $want" >&2
else
    echo "setup-venv: installing $want" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "${packages[@]}"
    printf '%s' "$want" >"$stamp"
fi

echo "$venv"
