//! A thread that sleeps on inotify until a given file is replaced or rewritten, then calls back:
//! how the module notices, the moment it happens, that a new build was installed over the one
//! it runs. No periodic wake-ups: it blocks reading inotify's events between them.
//!
//! The thread lives as long as the process (the module's code stays mapped: see
//! `host::pin_module`); it only ever runs `on_change`.

use std::ffi::OsString;
use std::path::PathBuf;

use inotify::{Inotify, WatchMask};

/// Watches the directories of `files` (each file by its name in its directory) and calls
/// `on_change` after each batch of events that wrote one of them and closed it, or moved one
/// into place (as `install`, `mv`, `cp` and package managers leave a new file).
pub fn spawn(files: &[PathBuf], on_change: fn()) -> Result<(), String> {
    let inotify = Inotify::init().map_err(|e| format!("inotify: {e}"))?;
    let mut names: Vec<OsString> = Vec::new();
    for f in files {
        let (Some(dir), Some(name)) = (f.parent(), f.file_name()) else {
            continue;
        };
        inotify
            .watches()
            .add(dir, WatchMask::CLOSE_WRITE | WatchMask::MOVED_TO)
            .map_err(|e| format!("inotify on {}: {e}", dir.display()))?;
        names.push(name.to_owned());
    }
    std::thread::Builder::new()
        .name("asb-file-watch".into())
        .spawn(move || wait_for_changes(inotify, &names, on_change))
        .map(|_| ())
        .map_err(|e| format!("thread: {e}"))
}

fn wait_for_changes(mut inotify: Inotify, names: &[OsString], on_change: fn()) {
    let mut buffer = [0u8; 4096];
    while let Ok(events) = inotify.read_events_blocking(&mut buffer) {
        let mut hit = false;
        for ev in events {
            hit |= ev.name.is_some_and(|n| names.iter().any(|w| w == n));
        }
        if hit {
            on_change();
        }
    }
}
