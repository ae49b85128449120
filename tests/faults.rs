//! Behaviour under faults the test bed cannot produce, injected by a build of
//! the module with `--features fault-injection`. `ASB_FAULT_MODULE` names that
//! build; without it these tests say so and pass. The test bed runs that build
//! for the duration and the ordinary one again afterwards:
//!
//! ```sh
//! cargo build --release --features fault-injection
//! cp target/release/libapp_stasis_broadcast.so target/release/fault-injection.so
//! cargo build --release
//! ASB_FAULT_MODULE=target/release/fault-injection.so ASB_TARGET=ours cargo test --release --test faults
//! ```

mod common;

use common::*;

/// Runs the test bed with the fault-injection build while alive.
struct FaultBed;

impl FaultBed {
    fn start() -> Option<FaultBed> {
        assert_eq!(target(), Target::Ours, "fault tests run against ours");
        let Ok(path) = std::env::var("ASB_FAULT_MODULE") else {
            eprintln!("ASB_FAULT_MODULE is not set: no fault-injection build to test, skipped");
            return None;
        };
        let path = repo().join(path);
        testbed(&["start", "--module", &path.to_string_lossy()]);
        Some(FaultBed)
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
#[test]
fn a_hangup_frame_from_the_driver_ends_the_dialplan() {
    let Some(_bed) = FaultBed::start() else {
        return;
    };
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
