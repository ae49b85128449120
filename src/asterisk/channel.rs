//! A borrowed Asterisk channel.
//!
//! # Invariants
//! `Channel` wraps a non-null `ast_channel *` that Asterisk keeps alive for
//! the whole of `'a` (the application callback's frame, where the PBX thread
//! owns the channel). It is not `Send`: only that thread uses it.

use std::ffi::CStr;
use std::marker::PhantomData;
use std::os::fd::RawFd;
use std::ptr::{self, NonNull};

use super::frame::Frame;
use super::log::c_string;
use super::sys;

/// A channel borrowed for the duration of an application call.
pub struct Channel<'a> {
    raw: NonNull<sys::ast_channel>,
    _borrow: PhantomData<&'a sys::ast_channel>,
}

/// What woke a wait.
pub enum Woken {
    /// The channel has something to read.
    Channel,
    /// The extra file descriptor is readable.
    Fd,
    /// The time ran out.
    Timeout,
    /// The wait itself failed (the caller treats it as a hangup).
    Error,
}

impl<'a> Channel<'a> {
    /// Wraps a channel pointer handed to us by Asterisk.
    ///
    /// # Safety
    /// `raw` must be null or a channel that stays valid for `'a` and is used
    /// only from the calling thread meanwhile.
    pub unsafe fn from_raw(raw: *mut sys::ast_channel) -> Option<Channel<'a>> {
        NonNull::new(raw).map(|raw| Channel {
            raw,
            _borrow: PhantomData,
        })
    }

    /// The raw pointer, for the shim.
    pub fn as_ptr(&self) -> *mut sys::ast_channel {
        self.raw.as_ptr()
    }

    /// The channel's name, e.g. `Local/raw@asb-00000001;2`.
    pub fn name(&self) -> String {
        // SAFETY: the channel is valid (invariant); the name is a NUL-terminated
        // string owned by the channel, copied before we return.
        unsafe { lossy(sys::ast_channel_name(self.as_ptr())) }
    }

    /// The channel's unique id (ARI's channel id).
    pub fn uniqueid(&self) -> String {
        // SAFETY: as for name().
        unsafe { lossy(sys::ast_channel_uniqueid(self.as_ptr())) }
    }

    /// Sets a channel variable.
    pub fn set_var(&self, name: &str, value: &str) {
        let (name, value) = (c_string(name), c_string(value));
        // SAFETY: valid channel (invariant) and valid C strings; the helper copies them.
        unsafe { sys::pbx_builtin_setvar_helper(self.as_ptr(), name.as_ptr(), value.as_ptr()) };
    }

    /// Whether the channel is hung up (or asked to be).
    pub fn hung_up(&self) -> bool {
        // SAFETY: valid channel (invariant).
        unsafe { sys::ast_check_hangup(self.as_ptr()) != 0 }
    }

    /// Arranges for the module to hear of the channel's destruction
    /// (`asb_channel_gone`); false if that could not be set up.
    pub fn watch(&self) -> bool {
        // SAFETY: valid channel (invariant); the shim locks it.
        unsafe { sys::sb_watch_channel(self.as_ptr()) == 0 }
    }

    /// Sleeps until the channel has a frame, `fd` is readable, or `ms`
    /// milliseconds pass (`-1`: no limit). No periodic wake-ups.
    pub fn wait_with_fd(&self, fd: RawFd, ms: i32) -> Woken {
        let mut chans = [self.as_ptr()];
        let mut fds = [fd];
        let mut outfd: i32 = -1;
        let mut left = ms;
        // SAFETY: one valid channel and one fd, arrays sized as passed; the
        // out-pointers are valid locals.
        let ready = unsafe {
            sys::ast_waitfor_nandfds(
                chans.as_mut_ptr(),
                1,
                fds.as_mut_ptr(),
                1,
                ptr::null_mut(),
                &mut outfd,
                &mut left,
            )
        };
        if !ready.is_null() {
            Woken::Channel
        } else if outfd >= 0 {
            Woken::Fd
        } else if left == 0 {
            Woken::Timeout
        } else if left < 0 && ms >= 0 {
            Woken::Error
        } else {
            // Interrupted (EINTR): nothing happened; the caller loops.
            Woken::Timeout
        }
    }

    /// Reads one frame; `None` means the channel hung up.
    pub fn read(&self) -> Option<Frame> {
        // SAFETY: valid channel, read from its PBX thread (invariant). The
        // returned frame, if any, is ours to free (Frame's Drop does).
        unsafe { Frame::from_raw(sys::ast_read(self.as_ptr())) }
    }

    /// Puts a frame back at the head of the channel's read queue.
    pub fn requeue_front(&self, frame: &Frame) {
        // SAFETY: valid channel and frame; Asterisk copies the frame.
        unsafe { sys::ast_queue_frame_head(self.as_ptr(), frame.as_ptr()) };
    }
}

/// A counted reference to a channel, usable from any thread for the one
/// question the claim path asks: is the caller hanging up?
///
/// # Invariants
/// Holds one reference on a non-null channel (taken with `ast_channel_ref`),
/// released on Drop.
pub struct ChannelRef(NonNull<sys::ast_channel>);

// SAFETY: the reference keeps the channel object alive; the only access is a
// lock-free read of its hangup flag, which Asterisk sets atomically enough for
// a yes/no answer.
unsafe impl Send for ChannelRef {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for ChannelRef {}

impl ChannelRef {
    /// Whether the channel has been asked to hang up.
    pub fn hanging_up(&self) -> bool {
        // SAFETY: we hold a reference (invariant); the read takes no lock.
        unsafe { sys::sb_channel_hanging_up(self.0.as_ptr()) != 0 }
    }
}

impl Drop for ChannelRef {
    fn drop(&mut self) {
        // SAFETY: we hold exactly one reference (invariant) and drop it once.
        unsafe { sys::sb_channel_unref(self.0.as_ptr()) };
    }
}

impl Channel<'_> {
    /// A counted reference to this channel.
    pub fn counted(&self) -> ChannelRef {
        // SAFETY: valid channel (invariant); the new reference is ours.
        let raw = unsafe { sys::sb_channel_ref(self.as_ptr()) };
        ChannelRef(NonNull::new(raw).expect("ast_channel_ref returns its argument"))
    }
}

/// Copies a C string that may not be UTF-8; `None` for null.
///
/// # Safety
/// `p` is null or a valid NUL-terminated string.
pub unsafe fn lossy_opt(p: *const std::os::raw::c_char) -> Option<String> {
    // SAFETY: the caller's promise.
    (!p.is_null()).then(|| unsafe { lossy(p) })
}

/// Copies a C string that may be null or not UTF-8.
///
/// # Safety
/// `p` is null or a valid NUL-terminated string.
pub unsafe fn lossy(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: non-null and NUL-terminated (caller's promise).
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}
