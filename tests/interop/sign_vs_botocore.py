#!/usr/bin/env python3
"""Differential test: `sigv4 sign` against botocore's SigV4 signers.

For each of N random requests drawn from a seed, sign it with botocore
(`SigV4Auth` / `S3SigV4Auth` for header signing, `SigV4QueryAuth` /
`S3SigV4QueryAuth` for presigning) at a fixed time, sign the same request
with our CLI (`sigv4 sign --raw - --json`), and compare the canonical
request, the string to sign, the signature, and the Authorization header
(header signing) or the X-Amz-* query parameters (presigning) byte for byte.

Usage:
    sign_vs_botocore.py --bin target/release/sigv4 --seed 20261123 --count 1500
    sign_vs_botocore.py --bin ... --seed S --only 17      # rerun one case

The last line is `sign-interop: N passed, M failed`; the exit code is 1 when
anything failed (2 for a usage error).

Inputs where botocore departs from RFC 3986 / the AWS suite, and which this
script therefore never generates (each is marked EXCLUSION below):
  1. generic services: a path ending in a `.` or `..` segment (botocore
     drops the slash left behind: `/a/b/..` -> `/a`, RFC 3986 gives `/a/`);
     such a path gets a trailing slash instead (`/a/b/../`);
  2. presigning: a request body (botocore's query signers move the body into
     the query string via json.loads; it cannot presign a form or any other
     body), including the content type it strips for that reason;
  3. presigning: duplicate query keys (parse_qs collapses them).
Query spellings that botocore signs as sent but we canonicalize (lower-case
hex, raw characters, `&&` empty pieces, a raw `+`) are sent to our CLI only,
with botocore getting the canonical spelling. An empty key with no value is
always written `=`: bare, it is an empty `&&` piece, which botocore signs as
`=` and we skip.
Inputs botocore treats specially for reasons unrelated to canonicalization
(headers it rewrites itself: Authorization, Date, X-Amz-Date,
X-Amz-Security-Token, X-Amz-Content-SHA256; lower-case methods, which it
upper-cases; whitespace other than space, tab and newline in header values,
which str.split() folds) are also not generated; see the comments where
each is avoided.
"""

import argparse
import concurrent.futures
import datetime
import difflib
import json
import os
import random
import shlex
import string
import subprocess
import sys
from urllib.parse import quote, unquote, urlsplit

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

# ---------------------------------------------------------------------------
# Random request generation
# ---------------------------------------------------------------------------

UNRESERVED = string.ascii_letters + string.digits + "-._~"
SUB_DELIMS = "!$&'()*+,;="
# Headers botocore (and we) never sign; sent in random case to check both skip them.
UNSIGNED_HEADERS = [
    "User-Agent", "Expect", "X-Amzn-Trace-Id", "Connection", "Keep-Alive",
    "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
    "Transfer-Encoding", "Upgrade", "baggage", "traceparent", "tracestate",
]
SIGNED_HEADER_NAMES = [
    "Content-Type", "Content-Length", "Accept", "Accept-Encoding", "Range",
    "If-None-Match", "Cache-Control", "X-Amz-Meta-Color", "x-amz-meta-k",
    "X-Amz-Target", "X-Amz-Acl", "My-Header1", "my-header2", "X-Custom_Under",
    "x.dotted", "Content-MD5", "Origin", "X-Amz-Request-Payer", "A", "z",
]
REGIONS = [
    "us-east-1", "us-west-2", "eu-west-3", "eu-central-1", "ap-southeast-2",
    "ap-northeast-1", "sa-east-1", "cn-north-1", "us-gov-west-1", "me-south-1",
    "il-central-1",
]
SERVICES = [
    "service", "sts", "iam", "dynamodb", "execute-api", "lambda", "ec2", "sqs",
    "sns", "es", "monitoring", "kms", "secretsmanager", "logs", "host",
]
METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"]
# Custom method tokens. Only upper case: botocore upper-cases the method
# (`request.method.upper()`), our signer uses it as written (HTTP methods are
# case-sensitive), so a lower-case method is not a canonicalization question.
CUSTOM_METHODS = ["PROPFIND", "MKCOL", "LIST", "PURGE", "X-CUSTOM", "FOO_BAR", "M2"]
SEGMENT_WORDS = [
    "a", "b", "docs", "example", "photos", "2024", "key.txt", "my-object",
    "under_score", "tilde~", "A-Z", "index.html", "x.y.z",
]
# Segment text needing encoding: reserved, spaces, UTF-8 (2, 3 and 4 bytes),
# a `%` not followed by hex, characters quote() must escape.
SEGMENT_SPECIAL = [
    "example space", "two  spaces", "ሴ", "é", "日本語", "😀", "a+b", "a=b",
    "a,b;c", "!$&'()*", ":@", "100%", "%zz", "[x]", "a\"b", "{}|^`", "<>",
    "caf\u00e9", "\u00a0nbsp", "Ω≈ç",
]
# Already percent-encoded segments (upper and lower hex, an encoded slash,
# an encoded unreserved character).
SEGMENT_ENCODED = ["%20", "a%2Fb", "%E1%88%B4", "%7e", "%41bc", "x%2520y", "%2e", "%3F"]
QUERY_WORDS = [
    "a", "b", "A", "B", "list-type", "prefix", "max-keys", "Action", "Version",
    "X-Foo", "uploads", "versionId", "_", "~", "-", "z9", "Param1",
]
QUERY_SPECIAL = [
    "a b", "ключ", "é", "ሴ", "😀", "a+b", "a=b", "a&b", "/path/x", "?q", "#h",
    "%", "100%", "'\"", "!*()", "~tilde", ",;:@$", "[1]", "\\", "\u00a0",
]


def rand_token(rng, alphabet, lo, hi):
    """A random string of `lo`..`hi` characters from `alphabet`."""
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def mixed_case(rng, name):
    """`name` with the case of each letter chosen at random."""
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)


def canon(s):
    """SigV4 canonical encoding of a str or bytes: all but unreserved, upper hex."""
    return quote(s, safe="-_.~")


RAW_OK_IN_PATH = "!$&'()*+,;=:@"  # a raw `/` would split the segment, `?` end the path
# `&` and `=` would split the pair. A raw `+` is sent: our rule is that it is
# a literal plus (`%2B`), which is what botocore signs for the canonical form.
RAW_OK_IN_QUERY = "!$'()*+,;:@/?"


def alt_encode(rng, s, raw_ok_ascii):
    """An encoding of `s` that our signer must canonicalize back to `canon(s)`.

    Each character is written canonically, as its encoded form in lower-case
    hex, percent-encoded even though unreserved, or raw (non-space UTF-8, and
    the ASCII characters in `raw_ok_ascii`). Never raw: space, `%`, `#`.
    """
    out = []
    for ch in s:
        r = rng.random()
        if ch in UNRESERVED:
            out.append("%%%02X" % ord(ch) if r < 0.15 else ("%%%02x" % ord(ch) if r < 0.2 else ch))
            continue
        enc = quote(ch, safe="")
        raw_ok = (ord(ch) > 0x7F and not ch.isspace()) or ch in raw_ok_ascii
        if raw_ok and r < 0.4:
            out.append(ch)
        elif r < 0.7:
            out.append(enc.lower())
        else:
            out.append(enc)
    return "".join(out)


def gen_segment(rng):
    """One random path segment, as raw (unencoded) text."""
    r = rng.random()
    if r < 0.35:
        return rng.choice(SEGMENT_WORDS)
    if r < 0.60:
        return rng.choice(SEGMENT_SPECIAL)
    if r < 0.72:
        return rng.choice(SEGMENT_ENCODED)
    if r < 0.84:
        return rng.choice([".", ".."])
    if r < 0.92:
        return ""  # gives `//`
    return rand_token(rng, UNRESERVED + "ä€ !@", 1, 12)


def gen_path(rng, s3):
    """Return (path for botocore, path for our CLI).

    Generic services: the path as sent, raw (spaces, UTF-8, reserved
    characters and already-encoded segments stay as they are); both signers
    normalize it and encode it once more.

    S3: the object key percent-encoded as botocore sends it
    (`quote(key, safe='/~')`, upper-case hex). Our CLI gets that same text,
    or sometimes an equivalent encoding (lower-case hex, needlessly encoded
    unreserved characters, raw UTF-8 and sub-delimiters), which it must
    canonicalize back to botocore's form.
    """
    segs = [gen_segment(rng) for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4, 6]))]
    trailing = rng.random() < 0.3
    if not s3:
        # Raw `?` and `#` would end the path; `%` followed by hex is kept as
        # an "already encoded" segment on purpose (both encode `%` again).
        segs = [s.replace("?", "").replace("#", "") for s in segs]
        # EXCLUSION 1: a final `.` or `..` segment. botocore's
        # remove_dot_segments drops the trailing slash it leaves behind
        # (`/a/b/..` -> `/a`) where RFC 3986 5.2.4 and aws-sigv4 keep it
        # (`/a/`); no official case decides it (PEERS.md). Such a path gets
        # a trailing slash, which both sides treat alike.
        if segs and segs[-1] in (".", ".."):
            trailing = True
        path = "/" + "/".join(segs) + ("/" if trailing and segs else "")
        return path, path
    path_bot = "/" + "/".join(quote(s, safe="~") for s in segs) + ("/" if trailing and segs else "")
    if rng.random() < 0.5:
        return path_bot, path_bot
    path_ours = "/" + "/".join(alt_encode(rng, s, RAW_OK_IN_PATH) for s in segs) + ("/" if trailing and segs else "")
    return path_bot, path_ours


def gen_query_text(rng):
    """A random query key or value (str); empty strings included."""
    r = rng.random()
    if r < 0.15:
        return ""
    if r < 0.55:
        return rng.choice(QUERY_WORDS)
    if r < 0.85:
        return rng.choice(QUERY_SPECIAL)
    return rand_token(rng, UNRESERVED + " +=&/%ü", 1, 10)


def gen_query(rng, presign):
    """Return (query for botocore, query for our CLI, pairs).

    Pairs are decoded (key, value) with value None for a bare `key`.
    botocore gets the query canonically encoded (it signs it as sent).
    Our CLI gets the same text, or an equivalent non-canonical spelling
    (lower-case hex, raw characters, needless escapes, empty `&&` pieces)
    that it must canonicalize to the same bytes.
    """
    pairs = []
    for _ in range(rng.choice([0, 0, 1, 2, 3, 4, 6])):
        if pairs and not presign and rng.random() < 0.25:
            key = rng.choice(pairs)[0]  # a duplicate key
        else:
            key = gen_query_text(rng)
        if presign:
            # EXCLUSION 3: botocore's query signers parse the query with
            # parse_qs and keep one value per key, so presigned requests get
            # unique keys. Keys it signs itself (X-Amz-*) are left out too.
            if any(key == k for k, _ in pairs) or key.lower().startswith("x-amz-"):
                continue
        value = None if rng.random() < 0.1 else gen_query_text(rng)
        if key == "" and value is None:
            # A bare empty key is an empty `&&` piece, which botocore signs
            # as `=` and we skip (both are in use; no official case): use `=`.
            value = ""
        if not presign and rng.random() < 0.05:
            # Percent-escaped bytes that are not UTF-8: botocore signs the
            # query as sent, we decode to bytes and re-encode. (parse_qs
            # would replace them with U+FFFD, so only for header signing.)
            value = (value or "") + "\udcff"
        pairs.append((key, value))
    rng.shuffle(pairs)

    def enc(s, alt):
        """Encode a key or value, canonically or (alt) equivalently."""
        if "\udcff" in s:
            pre = s.replace("\udcff", "")
            return (alt_encode(rng, pre, RAW_OK_IN_QUERY) if alt else canon(pre)) + ("%ff" if alt else "%FF")
        return alt_encode(rng, s, RAW_OK_IN_QUERY) if alt else canon(s)

    bot_parts, our_parts = [], []
    alt = rng.random() < 0.4
    for k, v in pairs:
        bot_parts.append(enc(k, False) if v is None else enc(k, False) + "=" + enc(v, False))
        if alt:
            ours = enc(k, True) if v is None else enc(k, True) + "=" + enc(v, True)
        else:
            ours = bot_parts[-1]
        our_parts.append(ours)
        if alt and rng.random() < 0.15:
            our_parts.append("")  # empty piece: `&&`
    bot_q = "&".join(bot_parts)
    our_q = "&".join(our_parts)
    if alt and rng.random() < 0.1:
        our_q = "&" + our_q
    return bot_q, our_q, pairs


def gen_header_value(rng):
    """A header value with whitespace runs, tabs, continuations and UTF-8.

    Whitespace is space and tab only (plus the newline of a continuation
    line): botocore folds with str.split(), which also splits on other
    Unicode spaces (NBSP, U+2028, ...) that HTTP does not treat as
    whitespace; no caller folds those the same way, so they are not sent.
    """
    words = [rand_token(rng, string.ascii_letters + string.digits + "-_=;,/:.\"'()@*", 1, 10)
             for _ in range(rng.randint(0, 4))]
    if words and rng.random() < 0.1:
        words[rng.randrange(len(words))] = rng.choice(["é", "ሴ", "日本", "ä-ö"])
    ws = lambda: rng.choice([" ", " ", "  ", "\t", " \t ", "   "])  # noqa: E731
    value = ""
    for i, w in enumerate(words):
        if i:
            if rng.random() < 0.1:
                value += "\n" + rng.choice([" ", "\t", "    "])  # continuation line
            else:
                value += ws()
        value += w
    if rng.random() < 0.3:
        value = ws() + value
    if rng.random() < 0.3:
        value += ws()
    return value


def gen_headers(rng, host, body):
    """Return the header list [(name, value)], Host first.

    Never generated: Authorization, Date, X-Amz-Date, X-Amz-Security-Token
    and X-Amz-Content-SHA256, which botocore deletes and rewrites itself
    (a Date header even switches it from X-Amz-Date to Date), and, when
    presigning, the content type `application/x-www-form-urlencoded;
    charset=utf-8` that SigV4QueryAuth strips (EXCLUSION 2, form bodies).
    """
    headers = [(rng.choice(["Host", "host", "HOST", "hOsT"]), host)]
    for _ in range(rng.choice([0, 1, 2, 3, 4, 6])):
        r = rng.random()
        if r < 0.2:
            name = mixed_case(rng, rng.choice(UNSIGNED_HEADERS))
        elif r < 0.35 and len(headers) > 1:
            name = mixed_case(rng, rng.choice(headers[1:])[0])  # duplicate, other case
        elif r < 0.8:
            name = mixed_case(rng, rng.choice(SIGNED_HEADER_NAMES))
        else:
            name = rng.choice(["X-", "x-amz-meta-", "My-"]) + rand_token(
                rng, string.ascii_letters + string.digits + "-_", 1, 12)
        if name.lower() == "content-length":
            value = str(len(body))
        else:
            value = gen_header_value(rng)
        headers.append((name, value))
    return headers


def gen_body(rng, presign, s3):
    """Return (body for botocore, body for our CLI): empty, text or binary."""
    r = rng.random()
    if r < 0.45:
        body = b""
    elif r < 0.8:
        body = rand_token(rng, string.printable + "éሴ", 1, 300).encode()
    else:
        body = bytes(rng.randrange(256) for _ in range(rng.randint(1, 512)))
    if presign:
        # EXCLUSION 2: botocore's query signers move a body into the query
        # string (`_get_body_as_dict`: json.loads of the body), so it cannot
        # presign a request that has one. For S3 the payload is
        # UNSIGNED-PAYLOAD anyway: our CLI still gets the body and must
        # ignore it. For other services the body hash would be signed, so
        # there is no body on either side.
        return b"", (body if s3 else b"")
    return body, body


def gen_case(seed, index):
    """Draw case `index` of `seed` (each case has its own RNG, so one can be rerun alone)."""
    rng = random.Random(f"{seed}:{index}")
    s3 = rng.random() < 0.45
    presign = rng.random() < 0.4
    if s3:
        service = "s3"
    elif rng.random() < 0.6:
        service = rng.choice(SERVICES)
    else:
        # Random service names; never `s3...`, which selects S3 rules in our CLI.
        service = rng.choice(string.ascii_lowercase[:18] + "tuvwxyz") + rand_token(
            rng, string.ascii_lowercase + string.digits + "-", 0, 14)
    if rng.random() < 0.8:
        region = rng.choice(REGIONS)
    else:
        region = rand_token(rng, string.ascii_lowercase, 2, 2) + "-" + rand_token(
            rng, string.ascii_lowercase, 3, 9) + "-" + str(rng.randint(1, 9))
    method = rng.choice(METHODS) if rng.random() < 0.85 else rng.choice(CUSTOM_METHODS)
    host = rng.choice([
        "example.amazonaws.com", "bucket.s3.amazonaws.com", "s3.us-west-2.amazonaws.com",
        "localhost:9000", "127.0.0.1:8080", "my-api.execute-api.eu-west-3.amazonaws.com",
        rand_token(rng, string.ascii_lowercase, 3, 10) + ".example.com",
    ])
    path_bot, path_ours = gen_path(rng, s3)
    query_bot, query_ours, _ = gen_query(rng, presign)
    body_bot, body_ours = gen_body(rng, presign, s3)
    headers = gen_headers(rng, host, body_ours)
    access_key = rng.choice(["AKIA", "ASIA", "AKID", ""]) + rand_token(
        rng, string.ascii_uppercase + string.digits, 8, 20)
    secret = rand_token(rng, string.ascii_letters + string.digits + "+/", 20, 40)
    token = None
    if rng.random() < 0.35:
        token = rand_token(rng, string.ascii_letters + string.digits + "+/=", 8, 300)
    ts = datetime.datetime(2000, 1, 1) + datetime.timedelta(
        seconds=rng.randrange(100 * 365 * 86400))
    expires = rng.choice([1, 60, 900, 3600, 86400, 604800, rng.randint(1, 604800)])
    # Header signing with an unsigned payload (`--unsigned-payload`): botocore
    # does it for S3 with Config(s3={'payload_signing_enabled': False}) and
    # for other services with the context flag payload_signing_enabled=False.
    unsigned = not presign and rng.random() < 0.12
    return {
        "index": index, "s3": s3, "presign": presign, "service": service,
        "region": region, "method": method, "host": host,
        "path_bot": path_bot, "path_ours": path_ours,
        "query_bot": query_bot, "query_ours": query_ours,
        "headers": headers, "body_bot": body_bot, "body_ours": body_ours,
        "access_key": access_key, "secret": secret, "token": token,
        "time": ts, "time_iso": rng.random() < 0.5, "expires": expires,
        "unsigned": unsigned,
    }


# ---------------------------------------------------------------------------
# The two signers
# ---------------------------------------------------------------------------

_NOW = [None]


def _fixed_now(*_args, **_kwargs):
    """Stand-in for botocore.auth.get_current_datetime: the case's time."""
    return _NOW[0]


botocore.auth.get_current_datetime = _fixed_now


def sign_botocore(case):
    """Sign `case` with botocore; return canonical request, string to sign, signature, and output."""
    creds = Credentials(case["access_key"], case["secret"], case["token"])
    if case["presign"]:
        cls = botocore.auth.S3SigV4QueryAuth if case["s3"] else botocore.auth.SigV4QueryAuth
        auth = cls(creds, case["service"], case["region"], expires=case["expires"])
    else:
        cls = botocore.auth.S3SigV4Auth if case["s3"] else botocore.auth.SigV4Auth
        auth = cls(creds, case["service"], case["region"])
    # Plain http: botocore then always hashes the payload (S3 included).
    url = "http://" + case["host"] + case["path_bot"]
    if case["query_bot"]:
        url += "?" + case["query_bot"]
    request = AWSRequest(method=case["method"], url=url, data=case["body_bot"] or None)
    for name, value in case["headers"]:
        request.headers[name] = value  # HTTPMessage: appends, so duplicates stay
    if case["unsigned"] and case["s3"]:
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    elif case["unsigned"]:
        request.context["payload_signing_enabled"] = False

    seen = {}

    def record(name, fn):
        """Wrap a signer step so its result is kept."""
        def wrapper(*args):
            seen[name] = fn(*args)
            return seen[name]
        return wrapper

    auth.canonical_request = record("canonical_request", auth.canonical_request)
    auth.string_to_sign = record("string_to_sign", auth.string_to_sign)
    auth.signature = record("signature", auth.signature)
    _NOW[0] = case["time"]
    auth.add_auth(request)
    if case["presign"]:
        seen["url"] = request.url
    else:
        seen["authorization"] = request.headers["Authorization"]
    return seen


def raw_request(case):
    """The case as a raw HTTP/1.1 request (the AWS suite's request.txt form)."""
    target = case["path_ours"]
    if case["query_ours"]:
        target += "?" + case["query_ours"]
    lines = [f"{case['method']} {target} HTTP/1.1"]
    for name, value in case["headers"]:
        lines.append(f"{name}:{value}")
    return ("\n".join(lines) + "\n\n").encode() + case["body_ours"]


def cli_args(case, binary):
    """The argv that signs `case` with our CLI (the raw request goes to stdin)."""
    t = case["time"]
    when = t.strftime("%Y-%m-%dT%H:%M:%SZ") if case["time_iso"] else t.strftime("%Y%m%dT%H%M%SZ")
    args = [binary, "sign", "--raw", "-", "--region", case["region"], "--service", case["service"],
            "--time", when, "--access-key", case["access_key"], "--secret-key", case["secret"]]
    if case["token"] is not None:
        args += ["--session-token", case["token"]]
    if case["presign"]:
        args += ["--presign", "--expires", str(case["expires"])]
    if case["unsigned"]:
        args += ["--unsigned-payload"]
        if not case["s3"]:
            # botocore's SigV4Auth with payload_signing_enabled=False adds
            # and signs `X-Amz-Content-SHA256: UNSIGNED-PAYLOAD`; ours adds
            # that header for generic services only with --sign-body.
            args += ["--sign-body"]
    return args + ["--json"]


def sign_ours(case, binary):
    """Sign `case` with our CLI; return its JSON output, or {'error': ...}."""
    proc = subprocess.run(cli_args(case, binary), input=raw_request(case),
                          capture_output=True, timeout=60)
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {proc.stderr.decode(errors='replace').strip()}"}
    try:
        return json.loads(proc.stdout)
    except ValueError as e:
        return {"error": f"bad JSON ({e}): {proc.stdout[:500]!r}"}


# ---------------------------------------------------------------------------
# Comparison and report
# ---------------------------------------------------------------------------

def amz_params(url):
    """The X-Amz-* query parameters of a presigned URL, decoded, sorted."""
    query = urlsplit(url).query
    out = []
    for piece in query.split("&"):
        key, _, value = piece.partition("=")
        if key.lower().startswith("x-amz-"):
            out.append((unquote(key), unquote(value)))
    return sorted(out)


def compare(bot, ours):
    """List the fields where our output differs from botocore's (empty when equal)."""
    if "error" in ours:
        return ["cli: " + ours["error"]]
    bad = []
    for field in ("canonical_request", "string_to_sign", "signature"):
        if ours.get(field) != bot[field]:
            bad.append(field)
    if "authorization" in bot and ours.get("authorization") != bot["authorization"]:
        bad.append("authorization")
    if "url" in bot and amz_params(ours.get("url", "")) != amz_params(bot["url"]):
        bad.append("url X-Amz-* parameters")
    return bad


def report(seed, case, bot, ours, bad, binary):
    """Print everything needed to reproduce and understand one mismatch."""
    p = print
    p("=" * 72)
    p(f"MISMATCH seed={seed} case={case['index']}: {', '.join(bad)}")
    p(f"  rerun: {sys.argv[0]} --bin {binary} --seed {seed} --only {case['index']}")
    kind = ("S3" if case["s3"] else "") + ("SigV4QueryAuth" if case["presign"] else "SigV4Auth")
    p(f"  botocore {kind} service={case['service']} region={case['region']}"
      f" time={case['time']:%Y%m%dT%H%M%SZ} token={'yes' if case['token'] else 'no'}")
    p("  raw request (python bytes literal):")
    p("    " + repr(raw_request(case)))
    p("  botocore URL path/query: " + repr(case["path_bot"]) + " ? " + repr(case["query_bot"]))
    p("  cli: " + " ".join(shlex.quote(a) for a in cli_args(case, binary)))
    if "error" in ours:
        p("  " + ours["error"])
        p("  botocore canonical request:")
        p("    " + bot["canonical_request"].replace("\n", "\n    "))
        return
    for field in ("canonical_request", "string_to_sign"):
        if ours.get(field) != bot[field]:
            p(f"  --- {field}: botocore vs ours")
            diff = difflib.unified_diff(
                bot[field].split("\n"), (ours.get(field) or "").split("\n"),
                "botocore", "sigv4", lineterm="", n=20)
            for line in diff:
                p("    " + repr(line)[1:-1] if line[:1] in "+- " else "    " + line)
    for field in ("signature", "authorization", "url"):
        if field in bot:
            p(f"  {field}: botocore {bot[field]!r}")
            p(f"  {field}: sigv4    {ours.get(field)!r}")


def main():
    """Parse arguments, run the cases, print failures and the summary line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="path to the sigv4 binary")
    ap.add_argument("--seed", required=True, help="seed (any string; an integer usually)")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--only", type=int, help="run only this case index")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="CLI processes run at once")
    ap.add_argument("--show", type=int, default=5, help="mismatches reported in full")
    args = ap.parse_args()

    indices = [args.only] if args.only is not None else range(args.count)
    cases = [gen_case(args.seed, i) for i in indices]
    # botocore first, in this thread (its clock is patched globally) ...
    bots = [sign_botocore(c) for c in cases]
    # ... then our CLI, a few processes at a time.
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        ours = list(pool.map(lambda c: sign_ours(c, args.bin), cases))

    failed = 0
    for case, bot, our in zip(cases, bots, ours):
        bad = compare(bot, our)
        if bad:
            failed += 1
            if failed <= args.show or args.only is not None:
                report(args.seed, case, bot, our, bad, args.bin)
    if failed > args.show:
        print(f"... {failed - args.show} more mismatches not shown (use --only I to see one)")
    modes = {}
    for c in cases:
        k = ("s3" if c["s3"] else "generic") + ("-presign" if c["presign"] else "-header")
        modes[k] = modes.get(k, 0) + 1
    print(f"seed {args.seed}: " + ", ".join(f"{k} {v}" for k, v in sorted(modes.items())))
    print(f"sign-interop: {len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
