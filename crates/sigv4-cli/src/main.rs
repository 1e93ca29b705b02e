//! The `sigv4` command-line tool.
fn main() {}
