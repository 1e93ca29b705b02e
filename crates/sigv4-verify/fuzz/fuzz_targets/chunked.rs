//! libFuzzer target `chunked`: see `sigv4_verify_fuzz::chunked`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = sigv4_verify_fuzz::chunked(data);
});
