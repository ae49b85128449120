//! Behaviour under faults the test bed cannot produce, injected by a build of
//! the module with `--features fault-injection`. The test makes that build
//! itself (in target/fault-injection, against the same `ASTERISK_INCLUDE_DIR`),
//! runs the test bed with it for the duration, and the ordinary build again
//! afterwards.

mod common;

use std::thread;

use common::*;

const MODULE_PATH: &str = "/asterisk/modules/app_stasis_broadcast.so";

/// A forced unload (`module unload -f`; the loader refuses a plain one: the
/// module holds its shutdown reference): true when it went through.
fn unload() -> bool {
    cli("module unload -f app_stasis_broadcast.so");
    !running()
}

fn running() -> bool {
    ari("GET", MODULE_PATH, &[], None).body["status"] == "Running"
}

/// Loads the module again after an unload, and checks that it works.
fn load_again() {
    cli("module load app_stasis_broadcast.so");
    assert!(running());
    claimed_end_to_end("fault-w");
}

/// A claim held inside the optional API (fault `fault-slow-claim`: until an
/// unload has given up waiting for it), with the log mark taken before it;
/// the thread returns the claim's HTTP status.
fn claim_held_inside() -> (Log, thread::JoinHandle<u16>) {
    arm("fault-slow-claim");
    let log = Log::mark();
    let claiming = thread::spawn(|| claim("no-such-channel", "nobody-at-all"));
    log.wait_line(&["fault injection: claim pausing"]);
    (log, claiming)
}

/// Arms a fault with a call that ends at once (its arguments name the fault).
fn arm(fault: &str) {
    let call = Call::broadcast(&format!("0,^nobody-at-all$,{fault}"));
    assert_eq!(status(&call), "TIMEOUT");
}

/// Runs the test bed with the fault-injection build while alive. One for the
/// whole binary: a restart would cut the harness's observer off.
struct FaultBed;

impl FaultBed {
    fn start() -> FaultBed {
        assert_eq!(target(), Target::Ours, "fault tests run against ours");
        testbed(&["start", "--module", &fault_build().to_string_lossy()]);
        FaultBed
    }
}

impl Drop for FaultBed {
    fn drop(&mut self) {
        testbed(&["start"]);
    }
}

/// A hangup frame returned by the channel driver (not queued, so the channel
/// is not marked hung up by the read) must not be swallowed: the wait ends,
/// `STASISSTATUS=TIMEOUT`, and the dialplan does not go on (before the fix it
/// ran `Set(ASB_RESULT=…)` and the rest of the extension).
fn a_hangup_frame_from_the_driver_ends_the_dialplan() {
    // Answered, with audio from the far end: frames to read while waiting.
    let call = Call::start(
        "answered",
        "tone",
        &[("ASB_ARGS", "60000,^nobody-at-all$,fault-driver-hangup")],
    );
    assert_eq!(status(&call), "TIMEOUT");
    destroyed(&call.id);
    let result = observer().kept(&call.id, |v| {
        v["type"] == "ChannelVarset" && v["variable"] == "ASB_RESULT"
    });
    assert!(
        result.is_empty(),
        "the dialplan went on after the hangup: {result:?}"
    );
}

/// Issue 13, defect 1: a call that starts `StasisBroadcast()` while an unload
/// runs (Asterisk checked the use count before) must not be left inside the
/// module. The unload is held once every entry is stopped (in the build before
/// the fix: once its drain had returned) until a call comes in; that call is offered to
/// nobody, the unload goes through, and Asterisk lives on. Before the fix the
/// call got in and waited; the loader's hang-up of the module's calls woke it,
/// and the module was unmapped while it was still on its (slowed) way out.
fn a_call_starting_during_an_unload_is_not_left_inside() {
    arm("fault-slow-unload");
    let log = Log::mark();
    let unloading = thread::spawn(unload);
    log.wait_line(&["fault injection: unload pausing"]);
    // Slow on its way out (if it gets in): it would still be inside when
    // the module is unmapped.
    let call = Call::broadcast("10000,^nobody-at-all$,fault-slow-exit");
    let result = status(&call);
    assert!(
        result == "FAILED" || result == "TIMEOUT",
        "STASISSTATUS={result}"
    );
    assert!(unloading.join().expect("unload thread"));
    assert_eq!(ari("GET", "/asterisk/info", &[], None).status, 200);
    load_again();
}

/// Issue 13, defect 2: a thread inside the optional API (here a claim held
/// there until unload gives up waiting for it) makes the unload refused, with every entry
/// back in place; once it has left, the unload goes through. Before the fix,
/// unload ignored that drain, returned 0 and Asterisk crashed when the claim
/// went on in the unloaded code.
fn an_unload_is_refused_while_a_claim_stays_inside() {
    let (log, claiming) = claim_held_inside();
    assert!(!unload(), "unloaded with a claim inside the module");
    log.wait_line(&["Cannot unload", "optional API"]);
    assert_eq!(claiming.join().expect("claim thread"), 404);
    assert!(running());
    claimed_end_to_end("fault-w");
    assert!(unload());
    load_again();
}

/// A hard unload (`-h`) is carried out by Asterisk even when the module
/// refuses it. With a claim inside the optional API, the module refuses, keeps
/// its code mapped and its entries in place, and the next load takes it up
/// again: Asterisk lives on, and broadcasts work.
fn a_refused_hard_unload_leaves_a_module_that_loads_again() {
    let (log, claiming) = claim_held_inside();
    cli("module unload -h app_stasis_broadcast.so");
    log.wait_line(&["Cannot unload", "optional API"]);
    assert!(!running(), "Asterisk carries out a hard unload");
    assert_eq!(claiming.join().expect("claim thread"), 404);
    assert_eq!(ari("GET", "/asterisk/info", &[], None).status, 200);
    load_again();
    log.wait_line(&["NOTICE", "app_stasis_broadcast", "loaded again"]);
}

/// Every scenario above, one after the other on the fault-injection build.
#[test]
fn faults_injected_by_a_test_build() {
    let _bed = FaultBed::start();
    a_hangup_frame_from_the_driver_ends_the_dialplan();
    a_call_starting_during_an_unload_is_not_left_inside();
    an_unload_is_refused_while_a_claim_stays_inside();
    a_refused_hard_unload_leaves_a_module_that_loads_again();
    let capped = Log::since_start()
        .lines()
        .into_iter()
        .find(|l| l.contains("hold ended by its cap"));
    assert_eq!(capped, None, "a fault's hold never saw its event");
}
