//! What both benchmarks (`compare`, `sip`) need of their surroundings: the repository, and facts
//! from the shell for their reports.

use std::path::PathBuf;
use std::process::Command;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A shell command's trimmed stdout, empty when it fails: facts about the machine and the
/// module for the report (a missing one leaves a blank, it does not stop the run).
pub fn sh(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
