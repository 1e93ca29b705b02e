//! libFuzzer target `query`: see `sigv4_verify_fuzz::query`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = sigv4_verify_fuzz::query(data);
});
