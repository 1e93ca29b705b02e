//! Shared by the tests that run examples (`tests/examples.rs` and the
//! `examples_run.rs` tests of sigv4-sign and sigv4-verify, which include
//! this file with `#[path]`): the example binary `cargo test` built.

use std::path::PathBuf;

/// The built example `name` of the package under test, refused when it is
/// missing or older than its source; `cargo_args` (such as
/// `-p sigv4-verify --features tower`) says how to build it.
pub fn example_bin(name: &str, cargo_args: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    let bin = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    // The including package's directory: env! expands where this is included.
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    let built = std::fs::metadata(&bin).and_then(|m| m.modified());
    let edited = std::fs::metadata(&src).unwrap().modified().unwrap();
    match built {
        Ok(t) if t >= edited => bin,
        _ => panic!(
            "{} is missing or older than {}: run `cargo test {cargo_args}` (which builds the \
             examples) or `cargo build {cargo_args} --examples` first",
            bin.display(),
            src.display()
        ),
    }
}
