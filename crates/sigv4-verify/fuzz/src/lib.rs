//! The fuzz targets' bodies (`targets.rs`, shared with the replay test
//! `tests/fuzz_corpus.rs`) and an allocator that aborts on any single
//! allocation above [`MAX_ALLOC`]: without a sanitizer runtime libFuzzer's
//! `-malloc_limit_mb` has no malloc hooks to act on, so this guard is what
//! turns an input-controlled huge allocation into a reported crash (the
//! abort is caught by libFuzzer, which saves the input).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write as _;

include!("../targets.rs");

/// The largest single allocation allowed while fuzzing (inputs are at most
/// a few KiB; nothing legitimate comes near this).
pub const MAX_ALLOC: usize = 16 << 20;

struct Guard;

fn check(size: usize) {
    if size > MAX_ALLOC {
        // No allocation here: a fixed message to unbuffered stderr.
        let _ = std::io::stderr().write_all(b"fuzz: single allocation above MAX_ALLOC (16 MiB)\n");
        std::process::abort();
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// guard only aborts before forwarding.
unsafe impl GlobalAlloc for Guard {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GUARD: Guard = Guard;
