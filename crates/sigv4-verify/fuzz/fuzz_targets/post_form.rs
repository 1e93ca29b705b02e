//! libFuzzer target `post_form`: see `sigv4_verify_fuzz::post_form`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = sigv4_verify_fuzz::post_form(data);
});
