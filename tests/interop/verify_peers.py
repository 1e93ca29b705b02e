#!/usr/bin/env python3
"""Interop tier, verifying: real clients sign, our verifier (the
`verify_server` example of sigv4-verify, on 127.0.0.1) checks.

- botocore: N random S3 requests (header auth and presigned URLs), each sent
  as signed (must get 200) and once more after a random mutation of a signed
  part (method, path, query, a signed header value, the body with header
  auth, the signature) (must be refused with 400/403).
- curl --aws-sigv4: GET and POST with a body accepted; wrong secret refused.
- aws s3api: put-object and get-object accepted.

Prints one `N passed, N failed` line; exit 1 when anything failed.
"""
import argparse
import http.client
import json
import os
import random
import string
import subprocess
import sys
import tempfile
import urllib.parse

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"
SAFE = string.ascii_letters + string.digits + "-_.~"


def rand_word(rng, n=None):
    return "".join(rng.choice(SAFE) for _ in range(n or rng.randint(1, 12)))


def random_request(rng, port):
    method = rng.choice(["GET", "PUT", "DELETE", "HEAD", "POST"])
    bucket = "bkt" + rand_word(rng, 5).lower().replace("_", "-").replace("~", "-").replace(".", "-")
    key = "/".join(rand_word(rng) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.2:
        key += "/" + urllib.parse.quote("sp ace+ü", safe="")
    query = {}
    for _ in range(rng.randint(0, 3)):
        query[rand_word(rng)] = rand_word(rng) if rng.random() < 0.8 else ""
    headers = {}
    if rng.random() < 0.5:
        headers["x-amz-meta-" + rand_word(rng).lower()] = rand_word(rng)
    if rng.random() < 0.3:
        headers["Content-Type"] = rng.choice(["text/plain", "application/octet-stream"])
    if rng.random() < 0.2:
        headers["x-amz-acl"] = "private"
    body = b""
    if method in ("PUT", "POST"):
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    qs = urllib.parse.urlencode(sorted(query.items()), quote_via=urllib.parse.quote)
    url = f"http://127.0.0.1:{port}/{bucket}/{key}" + (f"?{qs}" if qs else "")
    return method, url, headers, body


def sign(method, url, headers, body, creds, presign):
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    if presign:
        S3SigV4QueryAuth(creds, "s3", REGION, expires=3600).add_auth(req)
    else:
        S3SigV4Auth(creds, "s3", REGION).add_auth(req)
    p = req.prepare()
    return p.method, p.url, dict(p.headers.items()), body


def send(port, method, url, headers, body):
    u = urllib.parse.urlsplit(url)
    target = u.path + (f"?{u.query}" if u.query else "")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    hdrs = dict(headers)
    if body or method in ("PUT", "POST"):
        hdrs["Content-Length"] = str(len(body))
    conn.request(method, target, body=body or None, headers=hdrs)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def change_char(rng, s, alphabet=SAFE, positions=None):
    """One character of `s` (at one of `positions`, by default any)
    replaced by another from `alphabet`; with no position, one appended."""
    positions = range(len(s)) if positions is None else positions
    if not positions:
        return s + rng.choice(alphabet)
    i = rng.choice(positions)
    c = rng.choice([a for a in alphabet if a != s[i]])
    return s[:i] + c + s[i + 1:]


def change_path_char(rng, seg, alphabet):
    """change_char, but never inside a %XX escape: `%bC` is `%BC` (the
    same byte, and the same canonical path), so it is no mutation."""
    inside = set()
    for i, c in enumerate(seg):
        if c == "%":
            inside.update((i, i + 1, i + 2))
    return change_char(rng, seg, alphabet, [i for i in range(len(seg)) if i not in inside])


def mutate(rng, method, url, headers, body, presign):
    """One random change to a signed part; returns (what, request)."""
    u = urllib.parse.urlsplit(url)
    choices = ["method", "path", "signature", "header"]
    if u.query and any(not p.startswith("X-Amz-") for p in u.query.split("&")):
        choices.append("query")
    if not presign and method in ("PUT", "POST"):
        choices.append("body")
    what = rng.choice(choices)
    headers = dict(headers)
    if what == "method":
        method = rng.choice([m for m in ["GET", "PUT", "DELETE", "POST"] if m != method])
    elif what == "path":
        segs = u.path.split("/")
        i = rng.randrange(2, len(segs)) if len(segs) > 2 else 1
        segs[i] = change_path_char(rng, segs[i], string.ascii_letters + string.digits)
        url = urllib.parse.urlunsplit((u.scheme, u.netloc, "/".join(segs), u.query, ""))
    elif what == "query":
        parts = u.query.split("&")
        idx = [i for i, p in enumerate(parts) if not p.startswith("X-Amz-")]
        i = rng.choice(idx)
        k, _, v = parts[i].partition("=")
        parts[i] = f"{k}={change_char(rng, v, string.ascii_letters)}"
        url = urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, "&".join(parts), ""))
    elif what == "body":
        b = bytearray(body or b"\0")
        i = rng.randrange(len(b))
        b[i] ^= 1 + rng.randrange(255)
        body = bytes(b) if body else b"x"
    elif what == "signature":
        if presign:
            q = u.query
            i = q.index("X-Amz-Signature=") + len("X-Amz-Signature=") + rng.randrange(64)
            q = q[:i] + rng.choice([h for h in "0123456789abcdef" if h != q[i]]) + q[i + 1:]
            url = urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, q, ""))
        else:
            a = headers["Authorization"]
            i = a.index("Signature=") + len("Signature=") + rng.randrange(64)
            headers["Authorization"] = a[:i] + rng.choice([h for h in "0123456789abcdef" if h != a[i]]) + a[i + 1:]
    elif what == "header":
        if presign:
            signed = urllib.parse.unquote(urllib.parse.parse_qs(u.query)["X-Amz-SignedHeaders"][0]).split(";")
        else:
            a = headers["Authorization"]
            signed = a.split("SignedHeaders=")[1].split(",")[0].split(";")
        name = rng.choice(signed)
        if name == "host":
            headers["Host"] = f"127.0.0.2:{u.port}"
        else:
            real = next(k for k in headers if k.lower() == name)
            headers[real] = change_char(rng, headers[real], string.ascii_letters + string.digits)
    return what, (method, url, headers, body)


def run_botocore(args, tally):
    rng = random.Random(args.seed)
    creds = Credentials(args.akid, args.secret)
    for i in range(args.count):
        presign = i % 2 == 1
        method, url, headers, body = random_request(rng, args.port)
        if presign:
            # botocore's query signer moves a body into the query string.
            body = b""
        signed = sign(method, url, headers, body, creds, presign)
        status, data = send(args.port, *signed)
        ok = status == 200
        tally.check(ok, f"botocore #{i} {'query' if presign else 'header'} {method} {url}: {status} {data[:300]!r}")
        what, bad = mutate(rng, *signed, presign)
        status, data = send(args.port, *bad)
        tally.check(status in (400, 403), f"botocore #{i} mutated {what}: got {status} {data[:200]!r}")


def run_curl(args, tally):
    base = f"http://127.0.0.1:{args.port}/curlbucket/key.txt"
    auth = ["--aws-sigv4", f"aws:amz:{REGION}:s3", "--user", f"{args.akid}:{args.secret}"]
    cases = [
        ("GET", auth + [base], 200),
        # curl adds an unsigned Content-Type to --data (strict mode refuses
        # it); a Content-Type given with -H is signed. curl signs the body's
        # hash without sending x-amz-content-sha256: the verifier hashes it.
        ("POST body", auth + ["--data-binary", "hello curl", "-H", "Content-Type: text/plain", base], 200),
        ("GET wrong secret", ["--aws-sigv4", f"aws:amz:{REGION}:s3", "--user", f"{args.akid}:wrong", base], 403),
        ("POST unsigned content-type", auth + ["--data-binary", "x", base], 403),
    ]
    for name, argv, want in cases:
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"] + argv,
                             capture_output=True, text=True, timeout=30)
        tally.check(out.stdout.strip() == str(want), f"curl {name}: got {out.stdout!r}, want {want}")


def run_awscli(args, tally):
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=args.akid, AWS_SECRET_ACCESS_KEY=args.secret,
               AWS_DEFAULT_REGION=REGION, AWS_MAX_ATTEMPTS="1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    endpoint = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.txt")
        with open(src, "wb") as f:
            f.write(b"hello from aws s3api\n" * 50)
        for name, argv in [
            ("put-object", ["s3api", "put-object", "--bucket", "clibucket", "--key", "a/b.txt", "--body", src]),
            ("get-object", ["s3api", "get-object", "--bucket", "clibucket", "--key", "a/b.txt", os.path.join(d, "out")]),
        ]:
            out = subprocess.run([aws, "--endpoint-url", endpoint] + argv, env=env,
                                 capture_output=True, text=True, timeout=60)
            tally.check(out.returncode == 0, f"aws {name}: rc={out.returncode} {out.stderr[-400:]}")
        bad = dict(env, AWS_SECRET_ACCESS_KEY="wrong")
        out = subprocess.run([aws, "--endpoint-url", endpoint, "s3api", "get-object", "--bucket", "clibucket",
                              "--key", "a/b.txt", os.path.join(d, "out2")], env=bad,
                             capture_output=True, text=True, timeout=60)
        tally.check(out.returncode != 0 and "SignatureDoesNotMatch" in out.stderr,
                    f"aws wrong secret: rc={out.returncode} {out.stderr[-300:]}")


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, msg):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            if self.failed <= 20:
                print("FAIL:", msg, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--akid", default="AKIDINTEROP")
    ap.add_argument("--secret", default="interop/secret+key")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)
    print(f"verify interop: seed {args.seed}, {args.count} botocore requests", file=sys.stderr)
    tally = Tally()
    run_botocore(args, tally)
    run_curl(args, tally)
    run_awscli(args, tally)
    print(f"{tally.passed} passed, {tally.failed} failed")
    sys.exit(1 if tally.failed else 0)


if __name__ == "__main__":
    main()
