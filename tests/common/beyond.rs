//! Beyond-upstream tests: expected failures on upstream.

use super::*;

thread_local! {
    /// Set while a beyond-upstream test runs on upstream: its panic is expected.
    static EXPECTING_FAILURE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps expected panics quiet (their one-line summary is printed instead).
fn install_quiet_hook() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !EXPECTING_FAILURE.with(|e| e.get()) {
                default(info);
            }
        }));
    });
}

/// Runs a beyond-upstream test: as is on ours; on upstream it must fail,
/// reported as "expected failure" with its reason, and passing there is an error.
pub fn beyond(what: &str, test: impl FnOnce()) {
    match target() {
        Target::Ours => test(),
        Target::Upstream => {
            install_quiet_hook();
            EXPECTING_FAILURE.with(|e| e.set(true));
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(test));
            EXPECTING_FAILURE.with(|e| e.set(false));
            match r {
                Err(p) => {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    let first = msg.lines().next().unwrap_or_default();
                    println!("expected failure on upstream: {what}: {first:.200}");
                }
                Ok(()) => panic!(
                    "beyond-upstream test '{what}' passed on upstream: it does not show the defect"
                ),
            }
        }
    }
}
