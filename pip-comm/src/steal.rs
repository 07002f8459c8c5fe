//! CAB-style work stealing (placeholder while collectives land).

use crate::endpoint::Endpoint;

/// A rank's queue of copy work that others may steal.
#[repr(C)]
#[derive(Debug, Default)]
pub struct StealQueue {
    _reserved: u64,
}

/// Copies `bytes` bytes from `src` to `dst`.
///
/// # Safety
///
/// `src` readable, `dst` writable for `bytes` bytes, not overlapping, reserved by the caller.
pub(crate) unsafe fn copy(_ep: &Endpoint, src: *const u8, dst: *mut u8, bytes: usize) {
    // SAFETY: forwarded.
    unsafe { std::ptr::copy_nonoverlapping(src, dst, bytes) }
}
