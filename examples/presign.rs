//! Presigned S3 URLs: anyone holding one may GET (or PUT) that object until
//! it expires, with no credentials of their own. Signing is sans-IO: no
//! request is sent here.
//!
//! ```text
//! cargo run --example presign -- BUCKET KEY [SECONDS]
//! curl "$(cargo run -q --example presign -- my-bucket 'report 2024.pdf' | head -n1)"
//! ```
//! Credentials and region come from the default chain (environment, then
//! `~/.aws`); the region defaults to us-east-1. With `AWS_ENDPOINT_URL` set,
//! the URLs are path-style on that endpoint instead of
//! `https://BUCKET.s3.REGION.amazonaws.com/KEY`.

use std::time::{Duration, SystemTime};

use sigv4::credentials::{
    resolve_region, CredentialsCache, DefaultChain, ProvideCredentials, ProviderConfig,
};
use sigv4::sign::encode::uri_encode_into;
use sigv4::sign::{PayloadHash, Region, Service, SignableRequest, Signer, SigningParams};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(bucket), Some(key)) = (args.next(), args.next()) else {
        return Err("usage: presign BUCKET KEY [SECONDS]".into());
    };
    let expires = Duration::from_secs(args.next().map_or(Ok(3600), |s| s.parse())?);

    // Everything a program reads: the real environment and ~/.aws.
    let config = ProviderConfig::from_process();
    let creds = CredentialsCache::new(DefaultChain::new(&config))
        .provide_credentials()
        .await?;
    let region = match resolve_region(&config).await? {
        Some(r) => Region::new(r.region)?,
        None => Region::new("us-east-1")?,
    };

    // The object's URL, the key percent-encoded as S3 signs it.
    let mut path = Vec::new();
    uri_encode_into(&mut path, key.as_bytes(), true);
    let path = String::from_utf8(path)?;
    let url = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(endpoint) => format!("{}/{bucket}/{path}", endpoint.trim_end_matches('/')),
        Err(_) => format!("https://{bucket}.s3.{region}.amazonaws.com/{path}"),
    };

    // Presign: S3 signs UNSIGNED-PAYLOAD, since the body is not known yet.
    let signer = Signer::new();
    let s3 = Service::new("s3")?;
    let params = SigningParams::at_system_time(&creds, &region, &s3, SystemTime::now())?;
    for method in ["GET", "PUT"] {
        let request = SignableRequest::new(method, &url, &[])?;
        let out = signer.presign(&request, PayloadHash::Unsigned, &params, expires)?;
        println!("{url}?{}", out.query_string());
    }
    eprintln!(
        "(first line: GET, second: PUT; valid {} s; curl -T FILE 'PUT-URL' uploads)",
        expires.as_secs()
    );
    Ok(())
}
