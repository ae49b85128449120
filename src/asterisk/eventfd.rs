//! The wake-up a claim sends to the waiting PBX thread: an eventfd that the
//! thread polls together with its channel.
//!
//! # Invariants
//! `EventFd` owns an open eventfd descriptor, closed on Drop.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::core::broadcast::Wake;

/// A non-blocking eventfd.
pub struct EventFd(OwnedFd);

impl EventFd {
    /// A new, unsignalled eventfd.
    pub fn new() -> io::Result<EventFd> {
        // SAFETY: plain syscall; no pointers.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Consumes pending wake-ups so the descriptor is quiet again.
    pub fn drain(&self) {
        let mut buf = 0u64;
        // SAFETY: reads 8 bytes into a valid u64; EAGAIN when empty is fine.
        unsafe { libc::read(self.fd(), (&mut buf as *mut u64).cast(), 8) };
    }

    /// The descriptor to poll.
    pub fn fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl Wake for EventFd {
    fn wake(&self) {
        let one = 1u64;
        // SAFETY: writes 8 bytes from a valid u64; never blocks (EFD_NONBLOCK),
        // and the counter cannot overflow from single wake-ups.
        unsafe { libc::write(self.fd(), (&one as *const u64).cast(), 8) };
    }
}

/// What a broadcast's waiter is woken through, and how the claim path tells
/// that the caller is gone: the eventfd, and (for the application's own
/// broadcasts) a reference to the channel. Broadcasts opened through the
/// optional API hold none: their channel's datastore closes them, and a
/// reference here would keep the channel, hence the datastore, alive.
pub struct Wakeup {
    fd: EventFd,
    caller: Option<super::channel::ChannelRef>,
}

impl Wakeup {
    /// A wake-up for a broadcast, watching `caller` for hangups if given.
    pub fn new(caller: Option<super::channel::ChannelRef>) -> io::Result<Wakeup> {
        Ok(Wakeup {
            fd: EventFd::new()?,
            caller,
        })
    }

    /// The descriptor the waiter polls.
    pub fn fd(&self) -> RawFd {
        self.fd.fd()
    }

    /// Consumes pending wake-ups.
    pub fn drain(&self) {
        self.fd.drain();
    }
}

impl Wake for Wakeup {
    fn wake(&self) {
        self.fd.wake();
    }

    fn abandoned(&self) -> bool {
        self.caller.as_ref().is_some_and(|c| c.hanging_up())
    }
}
