// The bodies of the fuzz targets, shared by the libFuzzer binaries
// (fuzz/fuzz_targets/*.rs, through fuzz/src/lib.rs) and the corpus replay
// test (tests/fuzz_corpus.rs): both `include!` this file, so it has no
// inner attributes and uses only sigv4-verify's public API.
//
// Every target returns what the input did ("OK" or the S3 error code) and
// panics when an invariant breaks; a panic is what libFuzzer reports as a
// crash and what the replay test reports as a failure.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use sigv4_sign::post_policy::{presign_post, PostPolicy};
use sigv4_sign::{
    AmzDate, Credentials, Region, Service, SignableRequest, SigningKey, SigningParams,
};
use sigv4_verify::post::parse_form;
use sigv4_verify::{
    encode_signed_chunks, AuthorizationHeader, ChunkMode, ChunkedDecoder, FixedClock, QueryAuth,
    StaticSecretStore, Verifier, VerifyError,
};

/// What one input did: `"OK"` or the S3 error code of the rejection (or a
/// harness word such as `"BadRequest"` when the input cannot even form a
/// request).
pub type Outcome = &'static str;

/// The fuzz targets, by the name of their binary and corpus folder.
pub const TARGETS: [&str; 4] = ["auth_header", "query", "chunked", "post_form"];

/// Runs the target `name` on one input (`None` for an unknown name).
pub fn run_target(name: &str, data: &[u8]) -> Option<Outcome> {
    Some(match name {
        "auth_header" => auth_header(data),
        "query" => query(data),
        "chunked" => chunked(data),
        "post_form" => post_form(data),
        _ => return None,
    })
}

// The AWS SigV4 test suite's context (get-vanilla): its key, time, host.
const SUITE_AKID: &str = "AKIDEXAMPLE";
const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_DATE: &str = "20150830T123600Z";
const SUITE_UNIX: u64 = 1_440_938_160;
const SUITE_HOST: &str = "example.amazonaws.com";

fn suite_verifier() -> Verifier {
    Verifier::new(StaticSecretStore::new())
        .with_clock(FixedClock(UNIX_EPOCH + Duration::from_secs(SUITE_UNIX)))
}

fn suite_lookup(akid: &str) -> Option<Credentials> {
    (akid == SUITE_AKID).then(|| Credentials::new(SUITE_AKID, SUITE_SECRET, None))
}

/// The outcome of a verification; every error is also rendered the ways a
/// server renders it (message, status, XML document), which must not panic.
fn outcome<T>(r: Result<T, VerifyError>) -> Outcome {
    match r {
        Ok(_) => "OK",
        Err(e) => {
            let code = e.code();
            let xml = e.to_xml(Some("req-1"));
            assert!(xml.contains(code), "{code} missing from {xml}");
            let _ = (e.message(), e.status(), e.to_string());
            code
        }
    }
}

/// `Authorization` header: the strict parser, then a whole header
/// verification of a GET request carrying it (the suite's get-vanilla).
pub fn auth_header(data: &[u8]) -> Outcome {
    if let Ok(value) = std::str::from_utf8(data) {
        if let Ok(a) = AuthorizationHeader::parse(value) {
            assert_eq!(a.signature.len(), 64);
            assert!(a.signature.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(!a.access_key_id.is_empty());
            assert!(a.signed_headers.split(';').all(|h| !h.is_empty()));
            assert!(value.contains(a.scope_str));
        }
    }
    let headers: [(&str, &[u8]); 3] = [
        ("Host", SUITE_HOST.as_bytes()),
        ("X-Amz-Date", SUITE_DATE.as_bytes()),
        ("Authorization", data),
    ];
    let Ok(req) = SignableRequest::with_byte_headers("GET", "/", &headers) else {
        return "BadRequest";
    };
    outcome(suite_verifier().verify_with(&req, Some(b""), suite_lookup))
}

/// Presigned-URL query: the strict parser, then a whole verification of
/// `GET /?<query>` (the suite's get-vanilla, presigned).
pub fn query(data: &[u8]) -> Outcome {
    let Ok(q) = std::str::from_utf8(data) else {
        return "NotUtf8";
    };
    if let Ok(Some(a)) = QueryAuth::parse(q) {
        assert!(a.algorithm.is_some() || a.credential.is_some() || a.signature.is_some());
    }
    let target = format!("/?{q}");
    let headers = [("Host", SUITE_HOST)];
    let Ok(req) = SignableRequest::new("GET", &target, &headers) else {
        return "BadRequest";
    };
    outcome(suite_verifier().verify_with(&req, Some(b""), suite_lookup))
}

// The chunked target's signing context (the S3 documentation's example
// scope, with a short secret).
const CHUNK_SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const CHUNK_SCOPE: &str = "20130524/us-east-1/s3/aws4_request";
const CHUNK_TRAILER: &str = "x-amz-checksum-crc32";
/// Small, so that inputs of a few KiB reach the chunk-size limit.
const CHUNK_MAX: usize = 1024;

fn chunk_key() -> Arc<SigningKey> {
    Arc::new(SigningKey::derive("secret", "20130524", "us-east-1", "s3"))
}

fn chunk_time() -> AmzDate {
    AmzDate::from_unix(1_369_353_600).unwrap_or_else(|_| unreachable!("2013-05-24 is a valid date"))
}

struct Decoded {
    outcome: Outcome,
    out: Vec<u8>,
    trailers: Vec<(String, String)>,
}

fn decode_in_pieces<'a>(
    mode: ChunkMode,
    announce: bool,
    pieces: impl Iterator<Item = &'a [u8]>,
) -> Decoded {
    let announced = if announce {
        vec![CHUNK_TRAILER.to_owned()]
    } else {
        vec![]
    };
    let mut d = ChunkedDecoder::new(
        mode,
        chunk_key(),
        chunk_time(),
        CHUNK_SCOPE.into(),
        CHUNK_SEED,
        CHUNK_MAX,
        announced,
        None,
    );
    let mut out = Vec::new();
    let mut r = Ok(());
    for p in pieces {
        r = d.push(p, &mut out);
        if r.is_err() {
            break;
        }
    }
    let r = r.and_then(|()| d.finish());
    assert_eq!(d.decoded_len(), out.len() as u64);
    if r.is_ok() {
        assert!(d.is_done());
    }
    Decoded {
        outcome: outcome(r),
        out,
        trailers: d.trailers().to_vec(),
    }
}

/// Splits `body` into pieces of 1..=`n` bytes, sizes drawn from `n`
/// (0: one piece).
fn pieces(body: &[u8], n: u8) -> Vec<&[u8]> {
    if n == 0 {
        return vec![body];
    }
    let mut state = u32::from(n).wrapping_mul(0x9E37_79B9) | 1;
    let mut rest = body;
    let mut v = Vec::new();
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let len = (1 + state % u32::from(n)) as usize;
        let (a, b) = rest.split_at(len.min(rest.len()));
        v.push(a);
        rest = b;
    }
    v
}

/// `aws-chunked` body. Input: a flags byte (bits 0-1: 0 or 3 signed, 1
/// signed with trailer, 2 unsigned with trailer; bit 2: the trailer
/// `x-amz-checksum-crc32` is announced), a split byte (0: the body in one
/// push; n: pushes of 1..=n bytes), then the body. The body pushed whole
/// and pushed in pieces must give the same outcome, data and trailers.
pub fn chunked(data: &[u8]) -> Outcome {
    let [flags, split, body @ ..] = data else {
        return "TooShort";
    };
    let mode = match flags & 3 {
        1 => ChunkMode::SignedTrailer,
        2 => ChunkMode::UnsignedTrailer,
        _ => ChunkMode::Signed,
    };
    let announce = flags & 4 != 0;
    let whole = decode_in_pieces(mode, announce, std::iter::once(body));
    let split = decode_in_pieces(mode, announce, pieces(body, *split).into_iter());
    assert_eq!(
        whole.outcome, split.outcome,
        "the outcome depends on the split"
    );
    assert_eq!(
        whole.out, split.out,
        "the data released depends on the split"
    );
    assert_eq!(
        whole.trailers, split.trailers,
        "the trailers depend on the split"
    );
    // Released data is never more than was sent.
    assert!(whole.out.len() <= body.len());
    whole.outcome
}

// The POST form target's context (as in tests/post_form.rs).
const POST_AKID: &str = "AKIDEXAMPLE";
const POST_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2024-01-01T00:00:00Z: the form is signed then, and verified 10 s later.
const POST_T0: i64 = 1_704_067_200;
const POST_CT: &str = "multipart/form-data; boundary=xx";

/// `multipart/form-data` POST form (boundary `xx`): the multipart parser,
/// then the whole POST-policy verification for bucket `bucket`.
pub fn post_form(data: &[u8]) -> Outcome {
    if let Ok(f) = parse_form(POST_CT, data) {
        let start = (f.file.as_ptr() as usize).wrapping_sub(data.as_ptr() as usize);
        assert!(start <= data.len() && f.file.len() <= data.len() - start);
        assert!(f.fields.len() <= 256);
        for (i, (n, _)) in f.fields.iter().enumerate() {
            assert!(!f.fields[..i].iter().any(|(m, _)| m.eq_ignore_ascii_case(n)));
        }
    }
    let headers = [
        ("host", "bucket.s3.amazonaws.com"),
        ("content-type", POST_CT),
    ];
    let Ok(req) = SignableRequest::new("POST", "/", &headers) else {
        return "BadRequest";
    };
    let v = Verifier::new(StaticSecretStore::new()).with_clock(FixedClock(
        UNIX_EPOCH + Duration::from_secs(POST_T0.unsigned_abs() + 10),
    ));
    outcome(v.verify_post_with(&req, data, Some("bucket"), |k| {
        (k == POST_AKID).then(|| Credentials::new(POST_AKID, POST_SECRET, None))
    }))
}

/// One seed input: `fuzz/seeds/<target>/<name>` holds `data`, and the
/// target must answer `expect` for it.
pub struct Seed {
    /// The target.
    pub target: &'static str,
    /// The file name.
    pub name: &'static str,
    /// The input.
    pub data: Vec<u8>,
    /// What the target answers.
    pub expect: Outcome,
}

fn seed(
    target: &'static str,
    name: &'static str,
    data: impl Into<Vec<u8>>,
    expect: Outcome,
) -> Seed {
    Seed {
        target,
        name,
        data: data.into(),
        expect,
    }
}

fn chunked_input(flags: u8, split: u8, body: &[u8]) -> Vec<u8> {
    [&[flags, split][..], body].concat()
}

/// A POST form signed by `presign_post` at `POST_T0` for bucket `bucket`
/// (boundary `xx`), with a file `a.txt` holding `file`.
fn signed_post_body(
    policy: impl FnOnce(PostPolicy) -> Option<PostPolicy>,
    fields: &[(&str, &str)],
    file: &[u8],
) -> Option<Vec<u8>> {
    let creds = Credentials::new(POST_AKID, POST_SECRET, None);
    let region = Region::new("us-east-1").ok()?;
    let s3 = Service::new("s3").ok()?;
    let time = AmzDate::from_unix(POST_T0).ok()?;
    let params = SigningParams::new(&creds, &region, &s3, time);
    let policy = policy(PostPolicy::expires_in(&time, Duration::from_secs(600)).ok()?)?;
    let p = presign_post(
        &params,
        "https://bucket.s3.amazonaws.com/",
        "bucket",
        "user/${filename}",
        fields,
        &policy,
    )
    .ok()?;
    let mut b = Vec::new();
    for (n, v) in &p.fields {
        b.extend_from_slice(
            format!("--xx\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    b.extend_from_slice(b"--xx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n");
    b.extend_from_slice(file);
    b.extend_from_slice(b"\r\n--xx--\r\n");
    Some(b)
}

/// Every seed: valid inputs derived from real signatures (so the fuzzer
/// starts past the signature checks) and hand-made or past-crash inputs.
pub fn seeds() -> Vec<Seed> {
    let key = chunk_key();
    let time = chunk_time();
    let sent = [&b"hello world"[..], &[7u8; 300]];
    let signed = encode_signed_chunks(&key, &time, CHUNK_SCOPE, CHUNK_SEED, &sent, None);
    let trailer = [(CHUNK_TRAILER, "sOO8/Q==")];
    let signed_trailer =
        encode_signed_chunks(&key, &time, CHUNK_SCOPE, CHUNK_SEED, &sent, Some(&trailer));
    let unsigned = b"b\r\nhello world\r\n3\r\nabc\r\n0\r\nx-amz-checksum-crc32:sOO8/Q==\r\n\r\n";
    let vanilla_auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    let vanilla_query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d";
    vec![
        seed("auth_header", "valid-get-vanilla", vanilla_auth, "OK"),
        seed(
            "auth_header",
            "wrong-akid",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            "InvalidAccessKeyId",
        ),
        seed(
            "auth_header",
            "empty-parts",
            "AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature=",
            "AuthorizationHeaderMalformed",
        ),
        seed("query", "valid-get-vanilla", vanilla_query, "OK"),
        seed(
            "query",
            "bad-utf8-dup",
            "X-Amz-Signature=%FF%FE&X-Amz-Signature",
            "AuthorizationQueryParametersError",
        ),
        // Past crash (proptest): UTF-8 straddling byte 6 of a decoded key.
        seed("query", "utf8-at-byte-six", "0_a-a%Ca%aa", "AccessDenied"),
        seed("chunked", "valid-signed", chunked_input(0, 0, &signed), "OK"),
        seed("chunked", "valid-signed-split7", chunked_input(0, 7, &signed), "OK"),
        seed(
            "chunked",
            "valid-signed-trailer",
            chunked_input(1 | 4, 3, &signed_trailer),
            "OK",
        ),
        seed("chunked", "valid-unsigned-trailer", chunked_input(2 | 4, 1, unsigned), "OK"),
        seed(
            "chunked",
            "huge-size",
            chunked_input(0, 0, b"ffffffffffffffff;chunk-signature=00\r\n"),
            "InvalidChunkSizeError",
        ),
        seed(
            "chunked",
            "trailer-bad-signature",
            chunked_input(1 | 4, 2, format!("0;chunk-signature={CHUNK_SEED}\r\nx-amz-checksum-crc32:AAAA\r\n\r\n").as_bytes()),
            "SignatureDoesNotMatch",
        ),
        // Past crash (this harness): a trailer line over the 4096-byte limit
        // was accepted whole but refused byte by byte.
        seed(
            "chunked",
            "long-trailer-line",
            chunked_input(
                2 | 4,
                1,
                format!("0\r\n{CHUNK_TRAILER}:{}\r\n\r\n", "A".repeat(5000)).as_bytes(),
            ),
            "IncompleteBody",
        ),
        seed(
            "post_form",
            "valid-signed",
            signed_post_body(
                |p| p.content_length_range(1, 10).ok(),
                &[("Content-Type", "text/plain")],
                b"hello",
            )
            .unwrap_or_default(),
            "OK",
        ),
        seed(
            "post_form",
            "valid-conditions",
            signed_post_body(
                |p| {
                    p.starts_with("Content-Type", "text/")
                        .and_then(|p| p.meta("color", "red"))
                        .and_then(|p| p.success_action_status(201))
                        .and_then(|p| p.starts_with("x-amz-meta-tag", ""))
                        .and_then(|p| p.content_length_range(0, 100))
                        .ok()
                },
                &[
                    ("Content-Type", "text/plain, text/html"),
                    ("x-amz-meta-color", "red"),
                    ("x-amz-meta-tag", "anything"),
                    ("success_action_status", "201"),
                    ("x-ignore-note", "not covered by the policy"),
                ],
                b"",
            )
            .unwrap_or_default(),
            "OK",
        ),
        seed(
            "post_form",
            "no-name",
            "--xx\r\nContent-Disposition: form-data\r\n\r\n\r\n--xx",
            "MalformedPOSTRequest",
        ),
        seed(
            "post_form",
            "file-only",
            "--xx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nhello\r\n--xx--",
            "MalformedPOSTRequest",
        ),
    ]
}
