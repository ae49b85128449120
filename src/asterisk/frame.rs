//! An owned Asterisk frame.
//!
//! # Invariants
//! `Frame` owns a non-null frame that nobody else frees; Drop frees it with
//! Asterisk's own `ast_frfree` (through the shim).

use std::ptr::NonNull;

use super::sys;

/// A frame read from a channel (or a duplicate of one).
pub struct Frame(NonNull<sys::ast_frame>);

impl Frame {
    /// Takes ownership of a frame.
    ///
    /// # Safety
    /// `raw` is null or a frame the caller owns and hands over.
    pub unsafe fn from_raw(raw: *mut sys::ast_frame) -> Option<Frame> {
        NonNull::new(raw).map(Frame)
    }

    /// A new hangup control frame, as a channel driver's read returns one
    /// (test builds inject it: `--features fault-injection`).
    #[cfg(feature = "fault-injection")]
    pub fn hangup() -> Option<Frame> {
        // SAFETY: no arguments; the new frame is ours.
        unsafe { Frame::from_raw(sys::sb_frame_hangup()) }
    }

    /// The raw pointer, still owned by `self`.
    pub fn as_ptr(&self) -> *mut sys::ast_frame {
        self.0.as_ptr()
    }

    /// A hangup control frame.
    pub fn is_hangup(&self) -> bool {
        // SAFETY: valid frame (invariant).
        unsafe { sys::sb_frame_is_hangup(self.as_ptr()) != 0 }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        // SAFETY: we own the frame (invariant) and never use it again.
        unsafe { sys::sb_frame_free(self.as_ptr()) };
    }
}
