//! Fault injection, in test builds only (`--features fault-injection`; the
//! release build has none of it): faults and slow paths the test bed cannot
//! produce on demand, armed by a `StasisBroadcast` call's arguments and used
//! by `tests/faults.rs`.
//!
//! - `fault-driver-hangup`: the first frame this call reads while waiting is
//!   replaced by a hangup frame, as a channel driver returns one (no driver in
//!   the test bed does: they all queue theirs).
//! - `fault-slow-exit`: this call pauses for `PAUSE` once its wait is over,
//!   still inside the module (a slow way out of a waiting call).
//! - `fault-slow-unload`: the next unload pauses for `PAUSE` once every entry
//!   is stopped, so that a call can start `StasisBroadcast` during it.
//! - `fault-slow-claim`: the next claim pauses for `PAUSE` inside the optional
//!   API, longer than unload waits for threads to leave.
//!
//! Each pause logs a NOTICE when it starts, which the tests wait for.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::asterisk::frame::Frame;

/// Longer than unload's grace for threads to leave (2 s).
const PAUSE: Duration = Duration::from_secs(4);

thread_local! {
    /// Armed by `arm` on the waiting PBX thread, used up by its first read.
    static DRIVER_HANGUP: Cell<bool> = const { Cell::new(false) };
    /// Armed by `arm` on the waiting PBX thread, used up after its wait.
    static SLOW_EXIT: Cell<bool> = const { Cell::new(false) };
}
static SLOW_UNLOAD: AtomicBool = AtomicBool::new(false);
static SLOW_CLAIM: AtomicBool = AtomicBool::new(false);

/// Arms the faults a call's Stasis arguments name.
pub fn arm(args: &[String]) {
    let has = |name: &str| args.iter().any(|a| a == name);
    DRIVER_HANGUP.set(has("fault-driver-hangup"));
    SLOW_EXIT.set(has("fault-slow-exit"));
    if has("fault-slow-unload") {
        SLOW_UNLOAD.store(true, Ordering::SeqCst);
    }
    if has("fault-slow-claim") {
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
        std::thread::sleep(PAUSE);
    }
}

/// Pauses an unload, if armed.
pub fn unload_pause() {
    if SLOW_UNLOAD.swap(false, Ordering::SeqCst) {
        notice!("fault injection: unload pausing");
        std::thread::sleep(PAUSE);
    }
}

/// Pauses a claim, if armed.
pub fn claim_pause() {
    if SLOW_CLAIM.swap(false, Ordering::SeqCst) {
        notice!("fault injection: claim pausing");
        std::thread::sleep(PAUSE);
    }
}
