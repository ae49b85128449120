//! What an operator sees around restarts, with the module installed the way
//! an operator installs it (a new file renamed over the old one): Asterisk
//! shuts down cleanly with calls waiting, and a new build put on disk beside
//! the running one is named as not running until a restart runs it. Ours only.
//!
//! A restart cuts the harness's observer off (it is connected once, at the
//! first call), so after one this binary checks calls through its workers'
//! own WebSockets only, and runs its steps in order in one test; it leaves the
//! ordinary test bed up.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;

/// The module file in a directory of this test's own, which the test bed
/// mounts; the ordinary test bed again when dropped.
struct Staged {
    file: PathBuf,
}

impl Staged {
    /// Copies the build under test into the directory and starts the test
    /// bed with it.
    fn start() -> Staged {
        let line = testbed(&["start"]);
        let built = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("module="))
            .unwrap_or_else(|| panic!("no module= in {line:?}"))
            .to_owned();
        let dir = repo().join(format!("target/restart-test-{}", asterisk_version()));
        fs::create_dir_all(&dir).expect("create the staging directory");
        let file = dir.join("app_stasis_broadcast.so");
        install(Path::new(&built), &file);
        testbed(&["start", "--module", &file.to_string_lossy()]);
        Staged { file }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        testbed(&["start"]);
    }
}

/// Puts `from` at `to` as `install` and package managers do: a new file
/// renamed over the old one (never a write into the file a process maps).
fn install(from: &Path, to: &Path) {
    let tmp = to.with_extension("so.new");
    fs::copy(from, &tmp).expect("copy the module");
    fs::rename(&tmp, to).expect("rename it into place");
}

/// The build `stasis broadcast show` says runs ("0.1.0 (build id …)").
fn running_build() -> String {
    let show = cli("stasis broadcast show");
    show.lines()
        .find_map(|l| l.strip_prefix("Running build: app_stasis_broadcast "))
        .and_then(|l| l.split(';').next())
        .unwrap_or_else(|| panic!("no running build in:\n{show}"))
        .to_owned()
}

/// A broadcast claimed by a new worker, sent back to the dialplan (checked
/// on the worker's own WebSocket: no observer).
fn claimed(prefix: &str) {
    let (_w, call) = claimed_by_new_worker(prefix);
    continue_dialplan(&call.id);
}

/// `core stop now` with calls waiting: they are given back, Asterisk exits 0,
/// and the module logs no ERROR and re-registers nothing on the way out.
fn shutdown_with_calls_waiting_is_clean() {
    let mut w = App::connect(&unique("rs-stop"));
    let _calls = waiting_calls(&mut w, 3);
    let log = Log::mark();
    // The CLI's connection may end with the process: its status is not the point.
    let _ = testbed_command(&[], &["cli", "core stop now"]).output();
    eventually("Asterisk exited", || {
        !testbed_command(&[], &["status"])
            .output()
            .expect("scripts/testbed status")
            .status
            .success()
    });
    let code = testbed(&[
        "engine",
        "inspect",
        "--format",
        "{{.State.ExitCode}}",
        &container(),
    ]);
    assert_eq!(code.trim(), "0", "Asterisk's exit status");
    let lines = log.lines();
    assert!(
        lines.iter().any(|l| l.contains("Asterisk cleanly ending")),
        "{lines:#?}"
    );
    let ours: Vec<_> = lines
        .iter()
        .filter(|l| {
            l.contains("stasis_broadcast")
                && (l.contains("ERROR") || l.contains("Cannot unload") || l.contains("again after"))
        })
        .collect();
    assert!(ours.is_empty(), "at shutdown: {ours:#?}");
}

/// A new build installed over the running one: a WARNING names both builds the
/// moment the file is in place, and again on `module reload` and in `stasis
/// broadcast show`; `module load` keeps the running one, and after a restart
/// the new one runs, unwarned.
fn a_new_build_on_disk_runs_after_a_restart(staged: &Staged) {
    let old = running_build();
    assert!(!cli("stasis broadcast show").contains("WARNING"));
    let other = fault_build();

    let log = Log::mark();
    install(&other, &staged.file);
    let line = log.wait_line(&["WARNING", "the module file", "restart Asterisk"]);
    let again = Log::mark();
    cli("module reload app_stasis_broadcast.so");
    again.wait_line(&["WARNING", "the module file", "restart Asterisk"]);
    assert!(line.contains(&old), "the running build is named: {line}");
    let new = line
        .split(" is app_stasis_broadcast ")
        .nth(1)
        .and_then(|r| r.split(", but").next())
        .unwrap_or_else(|| panic!("no new build in: {line}"))
        .to_owned();
    assert_ne!(new, old, "{line}");

    let out = cli("module load app_stasis_broadcast.so");
    assert!(out.contains("Unable to load"), "{out}");
    let show = cli("stasis broadcast show");
    assert!(show.contains("WARNING: the module file"), "{show}");
    assert_eq!(
        running_build(),
        old,
        "module load replaced the running build"
    );
    claimed("rs-old");

    testbed(&["restart"]);
    assert_eq!(running_build(), new, "the restart runs the installed build");
    assert!(!cli("stasis broadcast show").contains("WARNING"));
    claimed("rs-new");
}

#[test]
fn restarts_shutdown_and_a_new_build_on_disk() {
    assert_eq!(target(), Target::Ours, "restart tests run against ours");
    let _s = serial();
    let staged = Staged::start();
    shutdown_with_calls_waiting_is_clean();
    testbed(&["start", "--module", &staged.file.to_string_lossy()]);
    a_new_build_on_disk_runs_after_a_restart(&staged);
}
