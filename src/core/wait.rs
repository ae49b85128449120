//! What a waiting channel does with a frame it read: the one decision of the
//! wait loop that must match Asterisk's own waiting helpers.

/// A frame, as far as the wait cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// `AST_CONTROL_HANGUP`. `ast_read` hands one over only when the channel
    /// driver returned it (a queued one reads as "no frame" and marks the
    /// channel hung up), so nothing else knows of the hangup yet.
    Hangup,
    /// A frame `ast_is_deferrable_frame` says must not be lost.
    Deferrable,
    /// Anything else (media, most control frames): dropped while waiting.
    Other,
}

/// What to do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Stop waiting: the caller hung up. With `put_back`, the frame goes back
    /// to the head of the channel's queue, so that the next reader (the PBX,
    /// the optional API's caller) sees the hangup as Asterisk's own helpers
    /// leave it; the application also returns -1, as they do.
    Hangup { put_back: bool },
    /// Keep a copy, to be queued again when the wait ends without a hangup.
    Defer,
    /// Free it and wait on.
    Drop,
}

/// The step for a frame read while waiting.
pub fn on_frame(kind: FrameKind) -> Step {
    match kind {
        FrameKind::Hangup => Step::Hangup { put_back: true },
        FrameKind::Deferrable => Step::Defer,
        FrameKind::Other => Step::Drop,
    }
}

/// Whether the frames deferred during a wait go back to the channel: not
/// after a hangup (as `ast_safe_sleep` and friends drop them then).
pub fn requeue_deferred(hung_up: bool) -> bool {
    !hung_up
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hangup frame from the channel driver must not be swallowed: freeing
    /// it would leave the channel unmarked and the dialplan going on.
    #[test]
    fn a_driver_hangup_frame_ends_the_wait_and_goes_back() {
        assert_eq!(on_frame(FrameKind::Hangup), Step::Hangup { put_back: true });
        assert!(!requeue_deferred(true));
    }

    #[test]
    fn deferrable_frames_are_kept_and_media_dropped() {
        assert_eq!(on_frame(FrameKind::Deferrable), Step::Defer);
        assert_eq!(on_frame(FrameKind::Other), Step::Drop);
        assert!(requeue_deferred(false));
    }
}
