//! S3 through `reqwest` with signing as one middleware: create a bucket, then
//! PUT, HEAD, GET, list and DELETE objects whose keys need encoding, and with
//! MIB given, one object of that many MiB. Path-style addressing, so it works
//! against any S3-compatible endpoint (moto and s3s-fs in the interop tier).
//!
//! ```text
//! AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
//!     cargo run --example s3_put_get [BUCKET [MIB]]
//! ```
//! Credentials and region come from the default chain (environment, then
//! `~/.aws`); the region defaults to us-east-1. A refusal ends the run with
//! the server's S3 error (e.g. `SignatureDoesNotMatch` for a wrong secret).

use sigv4::reqwest::reqwest_middleware::{ClientBuilder, RequestBuilder};
use sigv4::reqwest::SigV4Middleware;
use sigv4::sign::encode::uri_encode_into;
use sigv4::sign::{Region, Service};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> Result<()> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .map_err(|_| "set AWS_ENDPOINT_URL, e.g. http://127.0.0.1:5000")?;
    let endpoint = endpoint.trim_end_matches('/');
    let bucket = std::env::args().nth(1).unwrap_or("sigv4-example".into());
    let mib: usize = std::env::args().nth(2).map_or(Ok(0), |s| s.parse())?;

    // The signer: S3 rules; the region from AWS_REGION / the profile, else us-east-1.
    let signer = SigV4Middleware::builder()
        .service(Service::new("s3")?)
        .default_region(Region::new("us-east-1")?)
        .build();
    let s3 = ClientBuilder::new(reqwest::Client::new())
        .with(signer)
        .build();

    // Create the bucket (answers 409 when it exists already: fine).
    let resp = s3.put(format!("{endpoint}/{bucket}")).send().await?;
    println!("create bucket {bucket}: {}", resp.status());

    let keys = [
        "hello.txt",
        "with space.txt",
        "ütf-8 ключ 日本.txt",
        "a+b=c%d.txt",
    ];
    for key in keys {
        let url = object_url(endpoint, &bucket, key);
        let body = format!("the object named {key:?}");
        let put = s3
            .put(&url)
            .header("content-type", "text/plain; charset=utf-8");
        ok(put.body(body.clone())).await?; // buffered: its SHA-256 is signed
        let head = ok(s3.head(&url)).await?;
        let got = ok(s3.get(&url)).await?.text().await?;
        if got != body {
            return Err(format!("{key:?}: read back {got:?}, wrote {body:?}").into());
        }
        println!(
            "PUT/HEAD/GET {key:?}: {} bytes, content-length {:?}",
            got.len(),
            head.headers().get("content-length")
        );
    }

    // List (ListObjectsV2): every key is there.
    let list = ok(s3.get(format!("{endpoint}/{bucket}?list-type=2")));
    let list = list.await?.text().await?;
    for key in keys {
        if !list.contains(&format!("<Key>{key}</Key>")) {
            return Err(format!("{key:?} missing from the listing: {list}").into());
        }
    }
    println!("list: all {} keys present", keys.len());

    for key in keys {
        let url = object_url(endpoint, &bucket, key);
        ok(s3.delete(&url)).await?;
        let status = s3.get(&url).send().await?.status();
        if status != 404 {
            return Err(format!("{key:?} still there after DELETE: {status}").into());
        }
    }
    println!("DELETE: all gone");

    // A large object, read back byte for byte (the body is hashed in memory).
    if mib > 0 {
        let body: Vec<u8> = (0..mib << 20).map(|i| (i % 251) as u8).collect();
        let url = object_url(endpoint, &bucket, "large.bin");
        ok(s3.put(&url).body(body.clone())).await?;
        let got = ok(s3.get(&url)).await?.bytes().await?;
        if got != body {
            let n = got.len();
            return Err(
                format!("{mib} MiB: the {n} bytes read back differ from those written").into(),
            );
        }
        ok(s3.delete(&url)).await?;
        println!("{mib} MiB: PUT, GET read back equal, DELETE");
    }
    Ok(())
}

/// Sends the request; an answer other than 2xx becomes an error that carries
/// the status and S3's XML error body (its `<Code>` says why).
async fn ok(req: RequestBuilder) -> Result<reqwest::Response> {
    let resp = req.send().await?;
    match resp.status() {
        s if s.is_success() => Ok(resp),
        s => Err(format!("{s}: {}", resp.text().await.unwrap_or_default()).into()),
    }
}

/// `ENDPOINT/BUCKET/KEY` with the key percent-encoded as S3 wants
/// (everything but unreserved characters and `/`).
fn object_url(endpoint: &str, bucket: &str, key: &str) -> String {
    let mut path = Vec::new();
    uri_encode_into(&mut path, key.as_bytes(), true);
    format!("{endpoint}/{bucket}/{}", String::from_utf8_lossy(&path))
}
