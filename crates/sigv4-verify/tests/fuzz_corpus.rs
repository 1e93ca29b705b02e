//! The fuzz corpus as regression tests (issue 7): every file under
//! `fuzz/seeds/<target>/` and `fuzz/corpus/<target>/` runs through the same
//! target body the libFuzzer binaries run (`fuzz/targets.rs`, included
//! here), uninstrumented, on stable. A target panics when an invariant
//! breaks, so a replayed crash fails here.
//!
//! The seeds are made in code (valid ones from real signatures); their
//! files must match and give the expected outcome. After a change that
//! alters them (a new seed, a signing change), rewrite the files with
//! `SIGV4_FUZZ_WRITE_SEEDS=1 cargo test -p sigv4-verify --test fuzz_corpus`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod targets {
    include!("../fuzz/targets.rs");
}

use targets::{run_target, seeds, TARGETS};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted (none when it does not exist: git keeps no
/// empty folder).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

#[test]
fn seeds_match_their_files_and_give_the_expected_outcome() {
    let write = std::env::var_os("SIGV4_FUZZ_WRITE_SEEDS").is_some();
    let all = seeds();
    for t in TARGETS {
        let dir = fuzz_dir().join("seeds").join(t);
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            for f in files(&dir) {
                std::fs::remove_file(f).unwrap();
            }
        }
        let mine: Vec<_> = all.iter().filter(|s| s.target == t).collect();
        assert!(mine.iter().any(|s| s.expect == "OK"), "{t}: no valid seed");
        for s in &mine {
            let path = dir.join(s.name);
            if write {
                std::fs::write(&path, &s.data).unwrap();
            }
            let on_disk = std::fs::read(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (SIGV4_FUZZ_WRITE_SEEDS=1 rewrites the seeds)",
                    path.display()
                )
            });
            assert!(
                on_disk == s.data,
                "{} differs from the seed made in code (SIGV4_FUZZ_WRITE_SEEDS=1 rewrites the seeds)",
                path.display()
            );
            assert_eq!(run_target(t, &s.data), Some(s.expect), "{t}/{}", s.name);
        }
        let named: BTreeSet<_> = mine.iter().map(|s| s.name).collect();
        for f in files(&dir) {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                named.contains(name.as_str()),
                "{}: not a seed made in code (a found input belongs in fuzz/corpus/{t}/)",
                f.display()
            );
        }
    }
}

#[test]
fn corpus_replays_without_panic_and_stays_small() {
    let root = fuzz_dir().join("corpus");
    for d in files(&root) {
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            TARGETS.contains(&name.as_str()),
            "{}: no fuzz target of that name",
            d.display()
        );
    }
    let mut total = 0;
    for t in TARGETS {
        let (mut n, mut bytes) = (0usize, 0usize);
        for f in files(&root.join(t)) {
            let data = std::fs::read(&f).unwrap();
            // A panic names the file through this message's absence; name it.
            eprintln!("replay {}", f.display());
            assert!(run_target(t, &data).is_some());
            n += 1;
            bytes += data.len();
        }
        // `run.sh --merge` keeps the committed corpus minimal.
        assert!(
            n <= 1000 && bytes <= 1 << 20,
            "{t}: {n} files, {bytes} bytes: run `fuzz/run.sh --merge`"
        );
        total += n;
    }
    assert!(total > 0, "the committed corpus is empty");
}
