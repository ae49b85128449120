//! Fault injection, in test builds only (`--features fault-injection`; the
//! release build has none of it): faults and slow paths the test bed cannot
//! produce on demand, armed by a `StasisBroadcast` call's arguments and used
//! by `tests/faults.rs`.
//!
//! - `fault-driver-hangup`: the first frame this call reads while waiting is
//!   replaced by a hangup frame, as a channel driver returns one (no driver in
//!   the test bed does: they all queue theirs).
//! - `fault-slow-exit`: this call pauses for `EXIT_PAUSE` once its wait is
//!   over, still inside the module (a slow way out of a waiting call).
//! - `fault-slow-unload`: the next unload is held once every entry is
//!   stopped, until a call has come into `StasisBroadcast` during it.
//! - `fault-slow-claim`: the next claim is held inside the optional API until
//!   an unload has given up waiting for it.
//!
//! The two holds wait for the event they exist for, not for a fixed time: a
//! slow test host (a `podman exec` can take seconds under load) must not turn
//! "held longer than unload waits" into "gone before unload looked". Each has
//! a cap so that a test that never brings the event does not hang Asterisk.
//! Each pause logs a NOTICE when it starts, which the tests wait for.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::asterisk::frame::Frame;

/// Longer than unload's grace for threads to leave (2 s).
const EXIT_PAUSE: Duration = Duration::from_secs(4);
/// The most a hold waits for its event.
const HOLD_CAP: Duration = Duration::from_secs(60);

thread_local! {
    /// Armed by `arm` on the waiting PBX thread, used up by its first read.
    static DRIVER_HANGUP: Cell<bool> = const { Cell::new(false) };
    /// Armed by `arm` on the waiting PBX thread, used up after its wait.
    static SLOW_EXIT: Cell<bool> = const { Cell::new(false) };
}
static SLOW_UNLOAD: AtomicBool = AtomicBool::new(false);
static SLOW_CLAIM: AtomicBool = AtomicBool::new(false);

/// An unload held until a call has come in.
static CALL_CAME_IN: Event = Event::new();
/// A claim held until an unload has refused.
static UNLOAD_REFUSED: Event = Event::new();

/// A one-shot event a held thread waits for.
struct Event {
    happened: Mutex<bool>,
    cond: Condvar,
}

impl Event {
    const fn new() -> Event {
        Event {
            happened: Mutex::new(false),
            cond: Condvar::new(),
        }
    }

    /// Forgets an earlier occurrence (before a hold starts).
    fn reset(&self) {
        *self.happened.lock().unwrap_or_else(|p| p.into_inner()) = false;
    }

    fn signal(&self) {
        *self.happened.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.cond.notify_all();
    }

    /// Waits for the event, at most `HOLD_CAP`.
    fn wait(&self) {
        let happened = self.happened.lock().unwrap_or_else(|p| p.into_inner());
        let (_happened, timeout) = self
            .cond
            .wait_timeout_while(happened, HOLD_CAP, |h| !*h)
            .unwrap_or_else(|p| p.into_inner());
        if timeout.timed_out() {
            warning!("fault injection: hold ended by its cap, the event never came");
        }
    }
}

/// Arms the faults a call's Stasis arguments name.
pub fn arm(args: &[String]) {
    let has = |name: &str| args.iter().any(|a| a == name);
    DRIVER_HANGUP.set(has("fault-driver-hangup"));
    SLOW_EXIT.set(has("fault-slow-exit"));
    if has("fault-slow-unload") {
        CALL_CAME_IN.reset();
        SLOW_UNLOAD.store(true, Ordering::SeqCst);
    }
    if has("fault-slow-claim") {
        UNLOAD_REFUSED.reset();
        SLOW_CLAIM.store(true, Ordering::SeqCst);
    }
}

/// `f`, or a driver's hangup frame in its place when one is due.
pub fn driver_hangup(f: Frame) -> Frame {
    if DRIVER_HANGUP.replace(false) {
        Frame::hangup().unwrap_or(f)
    } else {
        f
    }
}

/// Pauses a call on its way out of the wait, if armed.
pub fn exit_pause() {
    if SLOW_EXIT.replace(false) {
        notice!("fault injection: call pausing on its way out");
        std::thread::sleep(EXIT_PAUSE);
    }
}

/// A call has come into the application (releases a held unload).
pub fn call_came_in() {
    CALL_CAME_IN.signal();
}

/// Holds an unload until a call has come in, if armed.
pub fn unload_pause() {
    if SLOW_UNLOAD.swap(false, Ordering::SeqCst) {
        notice!("fault injection: unload pausing");
        CALL_CAME_IN.wait();
    }
}

/// An unload has refused (releases a held claim).
pub fn unload_refused() {
    UNLOAD_REFUSED.signal();
}

/// Holds a claim until an unload has refused, if armed.
pub fn claim_pause() {
    if SLOW_CLAIM.swap(false, Ordering::SeqCst) {
        notice!("fault injection: claim pausing");
        UNLOAD_REFUSED.wait();
    }
}
