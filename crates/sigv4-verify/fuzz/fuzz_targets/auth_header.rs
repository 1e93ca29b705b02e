//! libFuzzer target `auth_header`: see `sigv4_verify_fuzz::auth_header`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = sigv4_verify_fuzz::auth_header(data);
});
