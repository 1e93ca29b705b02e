//! SigV4a (`AWS4-ECDSA-P256-SHA256`, feature `sigv4a`): the public-key
//! cache and the region-set rule.
//!
//! A SigV4a signature is an ECDSA P-256 signature made with a key derived
//! from the secret access key. The verifier derives the same key from the
//! secret it holds, keeps only its public half (cached per access key:
//! derivation costs a P-256 scalar multiplication) and checks the
//! signature against it. ECDSA signatures are randomized, so the check is a
//! verification, never a comparison with a recomputed signature.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use sigv4_sign::sigv4a::{derive_signing_key, SigV4aError};
use sigv4_sign::Credentials;
use subtle::ConstantTimeEq;

struct Entry {
    credentials: Credentials,
    /// SEC1 uncompressed public key.
    public_key: Arc<[u8]>,
}

#[derive(Default)]
struct Map {
    by_key_id: HashMap<String, Entry>,
    /// Access key ids, oldest first (for eviction).
    order: VecDeque<String>,
}

/// The SigV4a public keys of recently seen access keys, derived once per
/// key pair. Bounded: holds at most `capacity` keys and evicts the oldest.
/// A secret that changed under the same access key id replaces the entry.
pub(crate) struct PublicKeyCache {
    map: RwLock<Map>,
    /// Taken only on a miss: many requests missing at once derive once.
    derive: Mutex<()>,
    capacity: usize,
}

impl std::fmt::Debug for PublicKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKeyCache")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

fn same_secret(a: &Credentials, b: &Credentials) -> bool {
    bool::from(
        a.secret_access_key()
            .as_bytes()
            .ct_eq(b.secret_access_key().as_bytes()),
    )
}

impl PublicKeyCache {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            map: RwLock::new(Map::default()),
            derive: Mutex::new(()),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.read().map_or(0, |m| m.by_key_id.len())
    }

    fn lookup(&self, credentials: &Credentials) -> Option<Arc<[u8]>> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.by_key_id
            .get(credentials.access_key_id())
            .filter(|e| same_secret(&e.credentials, credentials))
            .map(|e| Arc::clone(&e.public_key))
    }

    /// The SEC1 public key of `credentials`, derived on first use.
    pub(crate) fn get(&self, credentials: &Credentials) -> Result<Arc<[u8]>, SigV4aError> {
        if let Some(k) = self.lookup(credentials) {
            return Ok(k);
        }
        let _one_at_a_time = self.derive.lock().unwrap_or_else(PoisonError::into_inner);
        // Another request may have derived it while this one waited.
        if let Some(k) = self.lookup(credentials) {
            return Ok(k);
        }
        let public_key: Arc<[u8]> = {
            // The private key is dropped (and zeroized) at the end of this block.
            let private =
                derive_signing_key(credentials.access_key_id(), credentials.secret_access_key())?;
            private.public_key_sec1().into()
        };
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        let akid = credentials.access_key_id();
        if !map.by_key_id.contains_key(akid) {
            while map.by_key_id.len() >= self.capacity {
                let Some(oldest) = map.order.pop_front() else {
                    break;
                };
                map.by_key_id.remove(&oldest);
            }
            map.order.push_back(akid.to_owned());
        }
        map.by_key_id.insert(
            akid.to_owned(),
            Entry {
                credentials: credentials.clone(),
                public_key: Arc::clone(&public_key),
            },
        );
        Ok(public_key)
    }
}

/// Whether the region-set entry `pattern` names `region`: equal, or a
/// pattern where each `*` stands for any run of characters (`*`, `us-*`,
/// `*-east-*`). Case-sensitive, as region names are lower-case.
pub(crate) fn region_matches(pattern: &str, region: &str) -> bool {
    let (p, r) = (pattern.as_bytes(), region.as_bytes());
    let (mut pi, mut ri) = (0, 0);
    // Where the last `*` was, and how much of the region it has eaten.
    let mut star: Option<(usize, usize)> = None;
    while ri < r.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ri));
            pi += 1;
        } else if pi < p.len() && p[pi] == r[ri] {
            pi += 1;
            ri += 1;
        } else if let Some((sp, sr)) = star {
            // Let the last `*` eat one more character and retry.
            pi = sp + 1;
            ri = sr + 1;
            star = Some((sp, sr + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// Whether the region set (comma-separated entries, spaces around them
/// ignored) names `region`.
pub(crate) fn set_covers(set: &str, region: &str) -> bool {
    set.split(',')
        .any(|p| region_matches(p.trim_matches(|c| c == ' ' || c == '\t'), region))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn region_patterns() {
        for (p, r, ok) in [
            ("us-east-1", "us-east-1", true),
            ("us-east-1", "us-east-2", false),
            ("us-east-1", "us-east-10", false),
            ("*", "eu-west-1", true),
            ("us-*", "us-west-2", true),
            ("us-*", "eu-west-2", false),
            ("us-*", "us-", true),
            ("*-east-*", "ap-east-1", true),
            ("*-east-*", "ap-west-1", false),
            ("u*1", "us-east-1", true),
            ("u*1", "us-east-2", false),
            ("**", "x", true),
            ("", "us-east-1", false),
            ("US-EAST-1", "us-east-1", false),
        ] {
            assert_eq!(region_matches(p, r), ok, "{p} vs {r}");
        }
        assert!(set_covers("eu-west-1, us-*", "us-east-1"));
        assert!(!set_covers("eu-west-1,ap-*", "us-east-1"));
    }

    #[test]
    fn cache_derives_once_bounded_and_follows_rotation() {
        let cache = PublicKeyCache::with_capacity(2);
        let a = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
        );
        let k1 = cache.get(&a).unwrap();
        // The suite's get-vanilla public key (public-key.json), SEC1 uncompressed.
        assert_eq!(
            hex::encode(&k1[..]),
            "04b6618f6a65740a99e650b33b6b4b5bd0d43b176d721a3edfea7e7d2d56d936b1865ed22a7eadc9c5cb9d2cbaca1b3699139fedc5043dc6661864218330c8e518"
        );
        let k2 = cache.get(&a.clone()).unwrap();
        assert!(Arc::ptr_eq(&k1, &k2));
        // The same key id with another secret: a different key, replacing the entry.
        let rotated = Credentials::new("AKIDEXAMPLE", "other", None);
        let k3 = cache.get(&rotated).unwrap();
        assert_ne!(k1, k3);
        assert_eq!(cache.len(), 1);
        cache.get(&Credentials::new("B", "b", None)).unwrap();
        cache.get(&Credentials::new("C", "c", None)).unwrap();
        assert_eq!(cache.len(), 2);
        // The oldest (AKIDEXAMPLE) was evicted: a lookup derives again.
        assert!(cache.lookup(&rotated).is_none());
    }
}
