//! The frames a waiting channel must not lose, kept unprocessed for the
//! channel's next reader (the C side, and why: `src/shim/hold.c`).
//!
//! # Invariants
//! `FrameHold` owns the wait's reference on a live `sb_hold` attached to
//! `chan`; it is released exactly once, by `end` or by Drop.

use std::ptr::NonNull;

use super::channel::Channel;
use super::sys;

/// Keeps DTMF, text and control frames (other than a hangup) out of the
/// wait's reads from `attach` to `end`.
pub struct FrameHold<'c, 'a> {
    chan: &'c Channel<'a>,
    hold: Option<NonNull<sys::sb_hold>>,
}

impl<'c, 'a> FrameHold<'c, 'a> {
    /// Starts keeping them; `None` when Asterisk could not attach the hook
    /// (out of memory): the wait then reads them like any other frame.
    pub fn attach(chan: &'c Channel<'a>) -> Option<FrameHold<'c, 'a>> {
        // SAFETY: a valid channel, owned by this thread (Channel's invariant).
        let raw = unsafe { sys::sb_hold_attach(chan.as_ptr()) };
        NonNull::new(raw).map(|h| FrameHold {
            chan,
            hold: Some(h),
        })
    }

    /// Stops keeping them; with `requeue` they go back to the head of the
    /// read queue in their order, else they are freed (after a hangup, as
    /// Asterisk's own waiting helpers drop what they deferred). Returns how
    /// many frames went past the bound on kept frames (and were dropped).
    pub fn end(mut self, requeue: bool) -> usize {
        self.release(requeue)
    }

    fn release(&mut self, requeue: bool) -> usize {
        let Some(h) = self.hold.take() else {
            return 0;
        };
        // SAFETY: the same valid channel; `h` is our reference, given up here
        // once (taken out of the Option).
        unsafe { sys::sb_hold_release(self.chan.as_ptr(), h.as_ptr(), i32::from(requeue)) }
    }
}

impl Drop for FrameHold<'_, '_> {
    fn drop(&mut self) {
        // Only on an unexpected path (a panic in the wait): give the frames
        // back unless the channel is hanging up.
        let requeue = !self.chan.hung_up();
        self.release(requeue);
    }
}
