//! Small validated types: [`Region`], [`Service`], [`AmzDate`], [`CredentialScope`].

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::SigningError;

fn valid_scope_part(s: &str, extra: &[u8]) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' || extra.contains(&b)
        })
}

/// An AWS region name such as `us-east-1` (checked once, at construction).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Region(Cow<'static, str>);

impl Region {
    /// A region from a name; `*` is allowed for SigV4a region sets.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Result<Self, SigningError> {
        let name = name.into();
        if valid_scope_part(&name, b"*") {
            Ok(Self(name))
        } else {
            Err(SigningError::InvalidRegion(name.into_owned()))
        }
    }

    /// The region name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Region {
    type Err = SigningError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s.to_owned())
    }
}

/// An AWS service signing name such as `s3`, `sts` or `execute-api`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Service(Cow<'static, str>);

impl Service {
    /// A service from its signing name.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Result<Self, SigningError> {
        let name = name.into();
        if valid_scope_part(&name, b"") {
            Ok(Self(name))
        } else {
            Err(SigningError::InvalidService(name.into_owned()))
        }
    }

    /// The service signing name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is S3 (or S3 Express / S3 Outposts), which sign with S3 rules.
    pub fn is_s3(&self) -> bool {
        matches!(
            &*self.0,
            "s3" | "s3express" | "s3-outposts" | "s3-object-lambda"
        )
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Service {
    type Err = SigningError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s.to_owned())
    }
}

/// A signing time, formatted once as `YYYYMMDDTHHMMSSZ` (the `X-Amz-Date` form).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AmzDate {
    unix: i64,
    text: [u8; 16],
}

impl AmzDate {
    /// The signing time for `time`, truncated to whole seconds.
    pub fn from_system_time(time: SystemTime) -> Result<Self, SigningError> {
        let unix = match time.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs())
                .map_err(|_| SigningError::InvalidTime("time is too far in the future".into()))?,
            Err(_) => return Err(SigningError::InvalidTime("time is before 1970".into())),
        };
        Self::from_unix(unix)
    }

    /// The signing time for a count of seconds since 1970-01-01T00:00:00Z.
    pub fn from_unix(unix: i64) -> Result<Self, SigningError> {
        let dt = time::OffsetDateTime::from_unix_timestamp(unix)
            .map_err(|_| SigningError::InvalidTime("time is out of range".into()))?;
        let year = dt.year();
        if !(1970..=9999).contains(&year) {
            return Err(SigningError::InvalidTime(format!(
                "year {year} is outside 1970..=9999"
            )));
        }
        let mut text = *b"00000000T000000Z";
        // Bounds: year has 4 digits, every other field 2.
        let year = year.unsigned_abs();
        put_digits(&mut text[0..4], year);
        put_digits(&mut text[4..6], u32::from(u8::from(dt.month())));
        put_digits(&mut text[6..8], u32::from(dt.day()));
        put_digits(&mut text[9..11], u32::from(dt.hour()));
        put_digits(&mut text[11..13], u32::from(dt.minute()));
        put_digits(&mut text[13..15], u32::from(dt.second()));
        Ok(Self { unix, text })
    }

    /// Parses `20150830T123600Z` or the RFC 3339 form `2015-08-30T12:36:00Z`.
    pub fn parse(s: &str) -> Result<Self, SigningError> {
        let bad = || {
            SigningError::InvalidTime(format!(
                "{s:?} is neither YYYYMMDDTHHMMSSZ nor YYYY-MM-DDTHH:MM:SSZ"
            ))
        };
        let b = s.as_bytes();
        let compact: Vec<u8> = match b.len() {
            16 => b.to_vec(),
            20 if b[4] == b'-' && b[7] == b'-' && b[13] == b':' && b[16] == b':' => {
                let mut v = Vec::with_capacity(16);
                v.extend_from_slice(&b[0..4]);
                v.extend_from_slice(&b[5..7]);
                v.extend_from_slice(&b[8..13]);
                v.extend_from_slice(&b[14..16]);
                v.extend_from_slice(&b[17..20]);
                v
            }
            _ => return Err(bad()),
        };
        if compact[8] != b'T' || compact[15] != b'Z' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, SigningError> {
            let part = &compact[r];
            if part.iter().all(u8::is_ascii_digit) {
                Ok(part
                    .iter()
                    .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
            } else {
                Err(bad())
            }
        };
        let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
        let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
        let month = u8::try_from(month)
            .ok()
            .and_then(|m| time::Month::try_from(m).ok())
            .ok_or_else(bad)?;
        let date = time::Date::from_calendar_date(
            i32::try_from(year).map_err(|_| bad())?,
            month,
            u8::try_from(day).map_err(|_| bad())?,
        )
        .map_err(|_| bad())?;
        let t = time::Time::from_hms(
            u8::try_from(hour).map_err(|_| bad())?,
            u8::try_from(minute).map_err(|_| bad())?,
            u8::try_from(second).map_err(|_| bad())?,
        )
        .map_err(|_| bad())?;
        Self::from_unix(
            time::PrimitiveDateTime::new(date, t)
                .assume_utc()
                .unix_timestamp(),
        )
    }

    /// `YYYYMMDDTHHMMSSZ`.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits, 'T' and 'Z' are ever written.
        std::str::from_utf8(&self.text).unwrap_or("00000000T000000Z")
    }

    /// `YYYYMMDDTHHMMSSZ` as bytes (no UTF-8 check).
    pub(crate) fn as_bytes(&self) -> &[u8; 16] {
        &self.text
    }

    /// `YYYYMMDD`, the date of the credential scope.
    pub fn date(&self) -> &str {
        &self.as_str()[..8]
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix(&self) -> i64 {
        self.unix
    }

    /// The time as a [`SystemTime`].
    pub fn to_system_time(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(self.unix.unsigned_abs())
    }
}

fn put_digits(out: &mut [u8], mut v: u32) {
    for slot in out.iter_mut().rev() {
        // v % 10 < 10, so the cast cannot truncate.
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

impl fmt::Debug for AmzDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AmzDate({})", self.as_str())
    }
}

impl fmt::Display for AmzDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `date/region/service/aws4_request`: what a signing key is valid for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialScope {
    date: [u8; 8],
    region: Region,
    service: Service,
}

impl CredentialScope {
    /// The scope of a signature made at `time` for `region` and `service`.
    pub fn new(time: &AmzDate, region: &Region, service: &Service) -> Self {
        let mut date = [0u8; 8];
        date.copy_from_slice(&time.text[..8]);
        Self {
            date,
            region: region.clone(),
            service: service.clone(),
        }
    }

    /// Parses `20150830/us-east-1/service/aws4_request`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('/');
        let date = parts.next()?;
        let region = parts.next()?;
        let service = parts.next()?;
        if parts.next()? != "aws4_request" || parts.next().is_some() {
            return None;
        }
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut d = [0u8; 8];
        d.copy_from_slice(date.as_bytes());
        Some(Self {
            date: d,
            region: Region::new(region.to_owned()).ok()?,
            service: Service::new(service.to_owned()).ok()?,
        })
    }

    /// `YYYYMMDD`.
    pub fn date(&self) -> &str {
        std::str::from_utf8(&self.date).unwrap_or("00000000")
    }

    /// The region.
    pub fn region(&self) -> &Region {
        &self.region
    }

    /// The service.
    pub fn service(&self) -> &Service {
        &self.service
    }
}

impl fmt::Display for CredentialScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/aws4_request",
            self.date(),
            self.region,
            self.service
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_formats_and_parses_both_forms() {
        let a = AmzDate::parse("2015-08-30T12:36:00Z").unwrap();
        let b = AmzDate::parse("20150830T123600Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "20150830T123600Z");
        assert_eq!(a.date(), "20150830");
        // 2015-08-30T12:36:00Z is 1440938160 (date -d @1440938160 -u).
        assert_eq!(a.unix(), 1_440_938_160);
        assert_eq!(AmzDate::from_unix(0).unwrap().as_str(), "19700101T000000Z");
    }

    #[test]
    fn amz_date_rejects_garbage() {
        for s in [
            "",
            "2015",
            "20151330T000000Z",
            "20150830X123600Z",
            "2015-08-30 12:36:00Z",
            "20150830T246000Z",
            "２０１５0830T123600Z",
        ] {
            assert!(AmzDate::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn region_and_service_are_checked() {
        assert!(Region::new("us-east-1").is_ok());
        assert!(Region::new("*").is_ok());
        assert!(Region::new("").is_err());
        assert!(Region::new("us/east").is_err());
        assert!(Service::new("execute-api").is_ok());
        assert!(Service::new("s 3").is_err());
        assert!(Service::new("s3").unwrap().is_s3());
    }

    #[test]
    fn scope_round_trips() {
        let s = CredentialScope::parse("20150830/us-east-1/service/aws4_request").unwrap();
        assert_eq!(s.to_string(), "20150830/us-east-1/service/aws4_request");
        assert!(CredentialScope::parse("20150830/us-east-1/service/aws4_requestx").is_none());
        assert!(CredentialScope::parse("2015083/us-east-1/service/aws4_request").is_none());
        assert!(CredentialScope::parse("20150830/us-east-1/service/aws4_request/x").is_none());
    }
}
