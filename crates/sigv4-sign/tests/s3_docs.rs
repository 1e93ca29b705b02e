//! The worked examples of the Amazon S3 API reference, signed with our
//! signer and compared with what the documentation prints:
//!
//! - "Signature Calculations for the Authorization Header: Transferring
//!   Payload in a Single Chunk" (GET object, PUT object, GET bucket
//!   lifecycle, list objects);
//! - "Authenticating Requests: Using Query Parameters" (presigned GET).
//!
//! Every expected value below (canonical request, string to sign, signature,
//! `Authorization` header) is copied from those pages, never from our output.
//! The requests are given as the documentation shows them, including the
//! stray spaces after some header values and the `x-amz-date` /
//! `x-amz-content-sha256` headers the signer replaces with its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use sigv4_sign::{
    AmzDate, Credentials, PayloadHash, Region, Service, SignableRequest, Signer, SigningOutput,
    SigningParams,
};

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const HOST: &str = "examplebucket.s3.amazonaws.com";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Fixture {
    creds: Credentials,
    region: Region,
    service: Service,
    time: AmzDate,
}

impl Fixture {
    fn new() -> Self {
        Self {
            creds: Credentials::new(ACCESS_KEY, SECRET_KEY, None),
            region: Region::new("us-east-1").unwrap(),
            service: Service::new("s3").unwrap(),
            time: AmzDate::parse("20130524T000000Z").unwrap(),
        }
    }

    fn params(&self) -> SigningParams<'_> {
        SigningParams::new(&self.creds, &self.region, &self.service, self.time).with_debug(true)
    }

    fn sign(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> SigningOutput {
        let req = SignableRequest::new(method, uri, headers).unwrap();
        Signer::new()
            .sign(&req, PayloadHash::Body(body), &self.params())
            .unwrap()
    }
}

fn string_to_sign(canonical_hash: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n{canonical_hash}"
    )
}

/// Checks the canonical request, string to sign, signature and
/// `Authorization` header of a header-signed example.
fn check_header_signed(
    out: &SigningOutput,
    canonical_request: &str,
    canonical_hash: &str,
    signed_headers: &str,
    signature: &str,
) {
    let debug = out.debug().expect("debug output was asked for");
    assert_eq!(
        String::from_utf8_lossy(&debug.canonical_request),
        canonical_request
    );
    assert_eq!(debug.string_to_sign, string_to_sign(canonical_hash));
    assert_eq!(debug.credential_scope, "20130524/us-east-1/s3/aws4_request");
    assert_eq!(out.signature(), signature);
    assert_eq!(out.signed_headers(), signed_headers);
    // The documentation writes the header without spaces after the commas;
    // both forms are valid and S3 accepts either.
    let auth = out.param("Authorization").unwrap().replace(", ", ",");
    assert_eq!(
        auth,
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders={signed_headers},Signature={signature}"
        )
    );
    assert_eq!(out.param("X-Amz-Date"), Some("20130524T000000Z"));
    assert_eq!(out.param("X-Amz-Security-Token"), None);
}

#[test]
fn get_object_with_range() {
    let f = Fixture::new();
    let headers = [
        ("Host", HOST),
        ("Range", "bytes=0-9 "),
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("x-amz-date", "20130524T000000Z "),
    ];
    let out = f.sign("GET", "/test.txt", &headers, b"");
    check_header_signed(
        &out,
        "GET\n/test.txt\n\n\
         host:examplebucket.s3.amazonaws.com\n\
         range:bytes=0-9\n\
         x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         x-amz-date:20130524T000000Z\n\n\
         host;range;x-amz-content-sha256;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
        "host;range;x-amz-content-sha256;x-amz-date",
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
    assert_eq!(out.param("x-amz-content-sha256"), Some(EMPTY_SHA256));
}

#[test]
fn get_object_from_an_absolute_uri_signs_the_same() {
    // No Host header: the host comes from the URI's authority, default port dropped.
    let f = Fixture::new();
    let out = f.sign(
        "GET",
        "https://examplebucket.s3.amazonaws.com:443/test.txt",
        &[("Range", "bytes=0-9")],
        b"",
    );
    assert_eq!(
        out.signature(),
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
}

#[test]
fn put_object_with_storage_class() {
    let f = Fixture::new();
    let body = b"Welcome to Amazon S3.";
    let headers = [
        ("Host", HOST),
        ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("x-amz-date", "20130524T000000Z "),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        (
            "x-amz-content-sha256",
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        ),
    ];
    // The documentation's request line reads `PUT test$file.text`; its
    // canonical URI is `/test%24file.text`.
    let out = f.sign("PUT", "/test$file.text", &headers, body);
    check_header_signed(
        &out,
        "PUT\n/test%24file.text\n\n\
         date:Fri, 24 May 2013 00:00:00 GMT\n\
         host:examplebucket.s3.amazonaws.com\n\
         x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n\
         x-amz-date:20130524T000000Z\n\
         x-amz-storage-class:REDUCED_REDUNDANCY\n\n\
         date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n\
         44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
    // The payload hash we computed is the one the documentation sends.
    assert_eq!(
        out.param("x-amz-content-sha256"),
        Some("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
    );

    // The documentation's request line, literally: the target without its
    // leading `/` signs the same (the canonical URI is an absolute path).
    let literal = f.sign("PUT", "test$file.text", &headers, body);
    assert_eq!(literal.signature(), out.signature());

    // Precomputing that hash signs the same request.
    let req = SignableRequest::new("PUT", "/test$file.text", &headers).unwrap();
    let pre = Signer::new()
        .sign(
            &req,
            PayloadHash::Precomputed(
                "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
            ),
            &f.params(),
        )
        .unwrap();
    assert_eq!(pre.signature(), out.signature());
}

#[test]
fn get_bucket_lifecycle() {
    let f = Fixture::new();
    let headers = [
        ("Host", HOST),
        ("x-amz-date", "20130524T000000Z "),
        ("x-amz-content-sha256", EMPTY_SHA256),
    ];
    // The documentation's request line reads `GET ?lifecycle`.
    let out = f.sign("GET", "/?lifecycle", &headers, b"");
    check_header_signed(
        &out,
        "GET\n/\nlifecycle=\n\
         host:examplebucket.s3.amazonaws.com\n\
         x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         x-amz-date:20130524T000000Z\n\n\
         host;x-amz-content-sha256;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
        "host;x-amz-content-sha256;x-amz-date",
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    );
    // With no path at all (`https://host?lifecycle`) the canonical URI is `/` too.
    let bare = f.sign(
        "GET",
        "https://examplebucket.s3.amazonaws.com?lifecycle",
        &[],
        b"",
    );
    assert_eq!(bare.signature(), out.signature());
}

#[test]
fn list_objects() {
    let f = Fixture::new();
    let headers = [
        ("Host", HOST),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-content-sha256", EMPTY_SHA256),
    ];
    let out = f.sign("GET", "/?max-keys=2&prefix=J", &headers, b"");
    check_header_signed(
        &out,
        "GET\n/\nmax-keys=2&prefix=J\n\
         host:examplebucket.s3.amazonaws.com\n\
         x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         x-amz-date:20130524T000000Z\n\n\
         host;x-amz-content-sha256;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
        "host;x-amz-content-sha256;x-amz-date",
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    );
    // The order of query parameters as sent does not matter.
    let swapped = f.sign("GET", "/?prefix=J&max-keys=2", &headers, b"");
    assert_eq!(swapped.signature(), out.signature());
}

#[test]
fn presigned_get_object() {
    let f = Fixture::new();
    let headers = [("Host", HOST)];
    let req = SignableRequest::new("GET", "/test.txt", &headers).unwrap();
    let out = Signer::new()
        .presign(
            &req,
            PayloadHash::Unsigned,
            &f.params(),
            Duration::from_secs(86_400),
        )
        .unwrap();
    let debug = out.debug().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&debug.canonical_request),
        "GET\n/test.txt\n\
         X-Amz-Algorithm=AWS4-HMAC-SHA256&\
         X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&\
         X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n\
         host:examplebucket.s3.amazonaws.com\n\n\
         host\n\
         UNSIGNED-PAYLOAD"
    );
    assert_eq!(
        debug.string_to_sign,
        string_to_sign("3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04")
    );
    let signature = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    assert_eq!(out.signature(), signature);

    // The documented URL's query parameters, as a set (our order differs:
    // any order is valid).
    let mut ours: Vec<&str> = Vec::new();
    let query = out.query_string();
    ours.extend(query.split('&'));
    ours.sort_unstable();
    let mut documented = vec![
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request",
        "X-Amz-Date=20130524T000000Z",
        "X-Amz-Expires=86400",
        "X-Amz-SignedHeaders=host",
        "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
    ];
    documented.sort_unstable();
    assert_eq!(ours, documented);
    // Presigned URLs carry no header to add.
    assert_eq!(out.param("Authorization"), None);
    assert_eq!(out.param("x-amz-content-sha256"), None);
}

#[test]
fn free_functions_sign_like_a_signer() {
    let f = Fixture::new();
    let headers = [("Host", HOST), ("Range", "bytes=0-9")];
    let req = SignableRequest::new("GET", "/test.txt", &headers).unwrap();
    let out = sigv4_sign::sign(&req, PayloadHash::Body(b""), &f.params()).unwrap();
    assert_eq!(
        out.signature(),
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
    let req = SignableRequest::new("GET", "/test.txt", &headers[..1]).unwrap();
    let out = sigv4_sign::presign(
        &req,
        PayloadHash::Unsigned,
        &f.params(),
        Duration::from_secs(86_400),
    )
    .unwrap();
    assert_eq!(
        out.signature(),
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    );
}
