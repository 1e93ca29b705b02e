//! `sigv4 sign --sigv4a --region-set us-east-1,us-west-2`: SigV4a
//! (`AWS4-ECDSA-P256-SHA256`) signing for `sigv4 sign`.
//!
//! Wiring (for main.rs / sign_cmd.rs): needs `sigv4-sign` with its `sigv4a`
//! feature in this crate's Cargo.toml. Flatten [`Sigv4aArgs`] into
//! `SignArgs` (`#[command(flatten)] pub sigv4a: Sigv4aArgs`) and, where the
//! request is signed, call [`sign`] first: it returns `None` when
//! `--sigv4a` is not given, so the SigV4 path runs as before.

use std::time::Duration;

use clap::Args;
use sigv4_sign::sigv4a::{RegionSet, SigV4aSigner};
use sigv4_sign::{PayloadHash, SignableRequest, SigningOutput, SigningParams};

/// The SigV4a flags of `sigv4 sign`.
#[derive(Args, Debug, Clone, Default)]
pub struct Sigv4aArgs {
    /// Sign with SigV4a (AWS4-ECDSA-P256-SHA256): one signature valid in a set of regions.
    #[arg(long)]
    pub sigv4a: bool,
    /// The regions the SigV4a signature is valid in, comma-separated, or `*` (default: --region).
    #[arg(long, value_name = "REGIONS", requires = "sigv4a")]
    pub region_set: Option<String>,
}

impl Sigv4aArgs {
    /// The region set to sign for: `--region-set`, else `default_region`.
    pub fn region_set(&self, default_region: &str) -> Result<RegionSet, String> {
        RegionSet::parse(self.region_set.as_deref().unwrap_or(default_region))
            .map_err(|e| e.to_string())
    }
}

/// Signs (or, with `presign`, presigns for that long) with SigV4a when
/// `--sigv4a` is given; `None` otherwise. `default_region` is `--region`.
pub fn sign(
    args: &Sigv4aArgs,
    default_region: &str,
    request: &SignableRequest<'_>,
    payload: PayloadHash<'_>,
    params: &SigningParams<'_>,
    presign: Option<Duration>,
) -> Option<Result<SigningOutput, String>> {
    if !args.sigv4a {
        return None;
    }
    Some((|| {
        let set = args.region_set(default_region)?;
        let signer = SigV4aSigner::new();
        match presign {
            Some(expires) => signer.presign(request, payload, params, &set, expires),
            None => signer.sign(request, payload, params, &set),
        }
        .map_err(|e| e.to_string())
    })())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sigv4_sign::{AmzDate, Credentials, Region, Service};

    #[test]
    fn signs_only_when_asked_and_sets_the_region_set() {
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
        );
        let region = Region::new("us-east-1").unwrap();
        let service = Service::new("service").unwrap();
        let params = SigningParams::new(
            &creds,
            &region,
            &service,
            AmzDate::parse("20150830T123600Z").unwrap(),
        );
        let headers = [("Host", "example.amazonaws.com")];
        let req = SignableRequest::new("GET", "/", &headers).unwrap();
        let off = Sigv4aArgs::default();
        assert!(sign(
            &off,
            "us-east-1",
            &req,
            PayloadHash::Body(b""),
            &params,
            None
        )
        .is_none());
        let on = Sigv4aArgs {
            sigv4a: true,
            region_set: Some("us-east-1,us-west-2".into()),
        };
        let out = sign(
            &on,
            "us-east-1",
            &req,
            PayloadHash::Body(b""),
            &params,
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(out.param("X-Amz-Region-Set"), Some("us-east-1,us-west-2"));
        assert!(out.param("Authorization").unwrap().starts_with(
            "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/service/aws4_request"
        ));
        let bad = Sigv4aArgs {
            sigv4a: true,
            region_set: Some("us east".into()),
        };
        assert!(sign(
            &bad,
            "us-east-1",
            &req,
            PayloadHash::Body(b""),
            &params,
            None
        )
        .unwrap()
        .is_err());
    }
}
