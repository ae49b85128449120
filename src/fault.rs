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
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
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
/// The next unload, held until a call has come in.
static UNLOAD_HOLD: Hold = Hold::new("unload");
/// The next claim, held until an unload has refused.
static CLAIM_HOLD: Hold = Hold::new("claim");

/// A thread held once, when armed, until the event it waits for is released
/// (or `HOLD_CAP` has passed).
struct Hold {
    what: &'static str,
    state: Mutex<HoldState>,
    released: Condvar,
}

struct HoldState {
    armed: bool,
    released: bool,
}

impl Hold {
    const fn new(what: &'static str) -> Hold {
        Hold {
            what,
            state: Mutex::new(HoldState {
                armed: false,
                released: false,
            }),
            released: Condvar::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, HoldState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next `hold` waits; an earlier release is forgotten.
    fn arm(&self) {
        *self.state() = HoldState {
            armed: true,
            released: false,
        };
    }

    fn release(&self) {
        self.state().released = true;
        self.released.notify_all();
    }

    /// Waits for the release, if armed (once per arming).
    fn hold(&self) {
        let mut state = self.state();
        if !std::mem::replace(&mut state.armed, false) {
            return;
        }
        notice!("fault injection: {} pausing", self.what);
        let (_state, waited) = self
            .released
            .wait_timeout_while(state, HOLD_CAP, |s| !s.released)
            .unwrap_or_else(PoisonError::into_inner);
        if waited.timed_out() {
            warning!(
                "fault injection: {} hold ended by its cap, the event never came",
                self.what
            );
        }
    }
}

/// Arms the faults a call's Stasis arguments name.
pub fn arm(args: &[String]) {
    let has = |name: &str| args.iter().any(|a| a == name);
    DRIVER_HANGUP.set(has("fault-driver-hangup"));
    SLOW_EXIT.set(has("fault-slow-exit"));
    if has("fault-slow-unload") {
        UNLOAD_HOLD.arm();
    }
    if has("fault-slow-claim") {
        CLAIM_HOLD.arm();
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
    UNLOAD_HOLD.release();
}

/// Holds an unload until a call has come in, if armed.
pub fn unload_pause() {
    UNLOAD_HOLD.hold();
}

/// An unload has refused (releases a held claim).
pub fn unload_refused() {
    CLAIM_HOLD.release();
}

/// Holds a claim until an unload has refused, if armed.
pub fn claim_pause() {
    CLAIM_HOLD.hold();
}
