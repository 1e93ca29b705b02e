//! [`Fs`]: where providers read files from.
//!
//! Providers never open files directly: they read through an injected
//! [`Fs`], so tests use a [`MemFs`] and never touch the real home directory.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use tokio::io::AsyncReadExt;

use crate::provider::BoxFuture;

/// A source of files.
pub trait Fs: Send + Sync + fmt::Debug {
    /// Read `path` whole, or its first `limit + 1` bytes when it is larger
    /// than `limit` (so the caller can tell it is too large without reading
    /// an unbounded file such as `/dev/zero`). A missing file is an error of
    /// kind [`io::ErrorKind::NotFound`].
    fn read(&self, path: &Path, limit: usize) -> BoxFuture<'_, io::Result<Vec<u8>>>;
}

/// The real file system (through `tokio::fs`).
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

impl Fs for RealFs {
    fn read(&self, path: &Path, limit: usize) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        let path = path.to_path_buf();
        Box::pin(async move {
            let file = tokio::fs::File::open(&path).await?;
            let mut buf = Vec::new();
            let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
            file.take(cap).read_to_end(&mut buf).await?;
            Ok(buf)
        })
    }
}

/// An in-memory file system, for tests.
///
/// ```
/// use sigv4_credentials::MemFs;
/// let fs = MemFs::new().with("/home/me/.aws/config", "[default]\nregion = eu-west-1\n");
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemFs(HashMap<PathBuf, Vec<u8>>);

impl MemFs {
    /// An empty file system.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same file system with a file at `path`.
    #[must_use]
    pub fn with(mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> Self {
        self.0.insert(path.into(), contents.into());
        self
    }
}

impl Fs for MemFs {
    fn read(&self, path: &Path, limit: usize) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        let result = match self.0.get(path) {
            Some(data) => Ok(data[..data.len().min(limit.saturating_add(1))].to_vec()),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} not found", path.display()),
            )),
        };
        Box::pin(std::future::ready(result))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn real_fs_reads_at_most_limit_plus_one() {
        let path = std::env::temp_dir().join(format!("sigv4-fs-test-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(RealFs.read(&path, 100).await.unwrap(), b"0123456789");
        assert_eq!(RealFs.read(&path, 4).await.unwrap(), b"01234");
        std::fs::remove_file(&path).unwrap();
        let e = RealFs.read(&path, 4).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn mem_fs_behaves_the_same() {
        let fs = MemFs::new().with("/a", "0123456789");
        assert_eq!(fs.read(Path::new("/a"), 4).await.unwrap(), b"01234");
        assert_eq!(
            fs.read(Path::new("/b"), 4).await.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
