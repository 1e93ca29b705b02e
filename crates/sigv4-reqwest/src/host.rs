//! [`infer_scope`]: the signing region and service an AWS endpoint's host name implies.

use sigv4_sign::{Region, Service};

/// The region and service read from an endpoint host name; either may be
/// unknown (a custom endpoint such as `127.0.0.1:9000` gives neither).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostScope {
    /// The signing region, such as `us-west-2`.
    pub region: Option<Region>,
    /// The signing name of the service, such as `s3` or `sts`.
    pub service: Option<Service>,
}

/// Suffixes of AWS endpoint host names.
const SUFFIXES: &[&str] = &[".amazonaws.com.cn", ".amazonaws.com", ".api.aws", ".on.aws"];

/// Endpoint prefixes whose signing name differs from the prefix.
const SIGNING_NAMES: &[(&str, &str)] = &[
    ("email", "ses"),
    ("s3-accesspoint", "s3"),
    ("s3-control", "s3"),
    ("s3-fips", "s3"),
    ("s3-accelerate", "s3"),
    ("lambda-url", "lambda"),
    ("runtime.sagemaker", "sagemaker"),
    ("streams.dynamodb", "dynamodb"),
    ("data-ats.iot", "iotdata"),
];

/// Labels that qualify an endpoint (`s3.dualstack.us-east-1...`) rather than name a service.
const QUALIFIERS: &[&str] = &["dualstack", "fips"];

/// The region and service an AWS endpoint host name implies.
///
/// Handles regional endpoints (`sts.eu-west-1.amazonaws.com`), S3's
/// virtual-hosted, path-style, dual-stack, legacy dash (`s3-us-west-2`) and
/// global forms (`bucket.s3.amazonaws.com` and `s3.amazonaws.com` sign for
/// `us-east-1`), global services (`iam.amazonaws.com`, `sts.amazonaws.com`:
/// `us-east-1`), API Gateway (`id.execute-api.REGION...`), OpenSearch
/// (`domain.REGION.es.amazonaws.com`) and China regions. A port is ignored.
///
/// ```
/// use sigv4_reqwest::infer_scope;
/// let s = infer_scope("bucket.s3.amazonaws.com");
/// assert_eq!(s.region.unwrap().as_str(), "us-east-1");
/// assert_eq!(s.service.unwrap().as_str(), "s3");
/// let s = infer_scope("sts.eu-west-1.amazonaws.com:443");
/// assert_eq!((s.region.unwrap().as_str(), s.service.unwrap().as_str()), ("eu-west-1", "sts"));
/// assert_eq!(infer_scope("127.0.0.1:9000"), Default::default());
/// ```
pub fn infer_scope(host: &str) -> HostScope {
    let host = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    let Some(rest) = SUFFIXES.iter().find_map(|s| host.strip_suffix(s)) else {
        return HostScope::default();
    };
    let labels: Vec<&str> = rest.split('.').filter(|l| !l.is_empty()).collect();
    let (region, service) = match labels.iter().rposition(|l| is_region(l)) {
        Some(i) => (Some(labels[i]), service_around(&labels, i)),
        None => scope_without_region(&labels),
    };
    HostScope {
        region: region.and_then(|r| Region::new(r.to_owned()).ok()),
        service: service.and_then(|s| Service::new(signing_name(s).to_owned()).ok()),
    }
}

/// The service label around the region label at `i`.
fn service_around<'a>(labels: &[&'a str], i: usize) -> Option<&'a str> {
    // `domain.us-east-1.es.amazonaws.com`, `coll.us-east-1.aoss.amazonaws.com`.
    if let Some(after @ ("es" | "aoss")) = labels.get(i + 1).copied() {
        return Some(after);
    }
    let before = labels[..i]
        .iter()
        .rposition(|l| !QUALIFIERS.contains(l))
        .map(|j| (j, labels[j]))?;
    // Two-label prefixes such as `runtime.sagemaker`.
    if before.0 > 0 {
        let pair = [labels[before.0 - 1], before.1].join(".");
        if let Some((_, name)) = SIGNING_NAMES.iter().find(|(p, _)| *p == pair) {
            return Some(name);
        }
    }
    Some(before.1)
}

/// Hosts with no region label: global endpoints and S3's legacy forms.
fn scope_without_region<'a>(labels: &[&'a str]) -> (Option<&'a str>, Option<&'a str>) {
    let Some(&last) = labels.last() else {
        return (None, None);
    };
    if let Some(region) = last.strip_prefix("s3-").filter(|r| is_region(r)) {
        return (Some(region), Some("s3"));
    }
    match last {
        // `s3-external-1` is us-east-1's legacy name.
        "s3" | "s3-external-1" => (Some("us-east-1"), Some("s3")),
        // Accelerate endpoints are region-less: the bucket's region is unknown here.
        "s3-accelerate" => (None, Some("s3")),
        _ => (Some("us-east-1"), Some(last)),
    }
}

fn signing_name(prefix: &str) -> &str {
    SIGNING_NAMES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map_or(prefix, |(_, n)| n)
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `us-iso-east-1`,
/// `ap-southeast-5`: letters, dash-separated words, then a number.
fn is_region(label: &str) -> bool {
    let parts: Vec<&str> = label.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(h, _)| &h[1..]);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(host: &str) -> (Option<String>, Option<String>) {
        let s = infer_scope(host);
        (
            s.region.map(|r| r.as_str().to_owned()),
            s.service.map(|s| s.as_str().to_owned()),
        )
    }

    #[test]
    fn hosts() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            ("s3.us-west-2.amazonaws.com", Some("us-west-2"), Some("s3")),
            (
                "bucket.s3.us-west-2.amazonaws.com",
                Some("us-west-2"),
                Some("s3"),
            ),
            ("bucket.s3.amazonaws.com", Some("us-east-1"), Some("s3")),
            ("s3.amazonaws.com", Some("us-east-1"), Some("s3")),
            (
                "my.dotted.bucket.s3.amazonaws.com",
                Some("us-east-1"),
                Some("s3"),
            ),
            (
                "bucket.s3-us-west-2.amazonaws.com",
                Some("us-west-2"),
                Some("s3"),
            ),
            ("s3-external-1.amazonaws.com", Some("us-east-1"), Some("s3")),
            (
                "bucket.s3.dualstack.eu-west-1.amazonaws.com",
                Some("eu-west-1"),
                Some("s3"),
            ),
            ("b.s3-accelerate.amazonaws.com", None, Some("s3")),
            (
                "ap-123.s3-accesspoint.us-west-2.amazonaws.com",
                Some("us-west-2"),
                Some("s3"),
            ),
            (
                "b.vpce-1a2b.s3.us-east-1.vpce.amazonaws.com",
                Some("us-east-1"),
                Some("s3"),
            ),
            (
                "s3.cn-north-1.amazonaws.com.cn",
                Some("cn-north-1"),
                Some("s3"),
            ),
            (
                "sts.eu-west-1.amazonaws.com",
                Some("eu-west-1"),
                Some("sts"),
            ),
            ("sts.amazonaws.com", Some("us-east-1"), Some("sts")),
            ("iam.amazonaws.com", Some("us-east-1"), Some("iam")),
            (
                "sts.us-gov-west-1.amazonaws.com",
                Some("us-gov-west-1"),
                Some("sts"),
            ),
            (
                "dynamodb.us-east-1.amazonaws.com:443",
                Some("us-east-1"),
                Some("dynamodb"),
            ),
            (
                "abc123.execute-api.eu-central-1.amazonaws.com",
                Some("eu-central-1"),
                Some("execute-api"),
            ),
            (
                "email.us-east-1.amazonaws.com",
                Some("us-east-1"),
                Some("ses"),
            ),
            (
                "runtime.sagemaker.us-east-1.amazonaws.com",
                Some("us-east-1"),
                Some("sagemaker"),
            ),
            (
                "search-dom-abc.us-east-1.es.amazonaws.com",
                Some("us-east-1"),
                Some("es"),
            ),
            (
                "x.lambda-url.us-east-1.on.aws",
                Some("us-east-1"),
                Some("lambda"),
            ),
            (
                "sts.fips.us-east-2.amazonaws.com",
                Some("us-east-2"),
                Some("sts"),
            ),
            ("S3.US-WEST-2.AMAZONAWS.COM.", Some("us-west-2"), Some("s3")),
            ("127.0.0.1:9000", None, None),
            ("[::1]:9000", None, None),
            ("minio.example.com", None, None),
            ("amazonaws.com.evil.example", None, None),
        ];
        for (host, region, service) in cases {
            assert_eq!(
                scope(host),
                (region.map(str::to_owned), service.map(str::to_owned)),
                "{host}"
            );
        }
    }
}
