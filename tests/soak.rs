//! Soak (ours): 10,000 broadcasts — claimed, timed out and hung up, mixed —
//! after which Asterisk's memory has not grown (after a warm-up) and nothing
//! is left in the module. `ASB_SOAK_CALLS` changes the number;
//! `ASB_SOAK_SKIP_RSS=1` (for scripts/memcheck, under valgrind) skips the RSS check.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::*;

/// Timeout of the claimed calls: their 409 tombstones live this + 5 s.
const CLAIM_TIMEOUT_MS: u64 = 2000;
/// Long enough for every tombstone of the calls before to have expired, so
/// that what is measured is what stays.
const SETTLE: Duration = Duration::from_millis(CLAIM_TIMEOUT_MS + 5_000 + 1_000);

/// How long a won broadcast of an earlier test binary may still be remembered:
/// the longest claimed timeout in the suite (60 s) plus the 5 s grace.
const EARLIER_TOMBSTONES: Duration = Duration::from_secs(65);

/// Nothing live and nothing remembered in the module.
fn module_idle() -> bool {
    cli("stasis broadcast show").contains("0 live broadcast(s), 0 won broadcast(s) remembered")
}

/// Asterisk's resident set, in KiB, read from the host's /proc.
fn asterisk_rss_kib() -> u64 {
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/testbed"))
        .args(["engine", "inspect", "-f", "{{.State.Pid}}", &container()])
        .output()
        .expect("inspect the container");
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("Asterisk's /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// A worker thread: `on_offer` runs for each CallBroadcast; a won call is sent on.
fn worker(name: String, stop: Arc<AtomicBool>, on_offer: fn(&str, &str)) -> thread::JoinHandle<()> {
    let mut app = App::connect(&name);
    thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            let Some(ev) = app.next(Duration::from_millis(50)) else {
                continue;
            };
            let id = ev["channel"]["id"].as_str().unwrap_or_default().to_owned();
            match ev["type"].as_str() {
                Some("CallBroadcast") => on_offer(&id, &app.name),
                Some("StasisStart") => {
                    ari("POST", &format!("/channels/{id}/continue"), &[], None);
                }
                _ => {}
            }
        }
    })
}

fn claim_it(id: &str, app: &str) {
    claim(id, app);
}

fn hang_it_up(id: &str, _app: &str) {
    ari("DELETE", &format!("/channels/{id}"), &[], None);
}

/// Runs `n` calls, `threads` at a time, cycling claimed / timed out / hung up.
fn run_calls(n: usize, threads: usize, claimer: &str, hanger: &str) {
    let next = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    return;
                }
                let (args, want) = match i % 3 {
                    0 => (format!("{CLAIM_TIMEOUT_MS},^{claimer}$"), ["SUCCESS"; 2]),
                    1 => ("0,^no-such-application$".to_owned(), ["TIMEOUT"; 2]),
                    // A hangup races the module's own end of the wait: either is fine.
                    _ => (
                        format!("{CLAIM_TIMEOUT_MS},^{hanger}$"),
                        ["TIMEOUT", "FAILED"],
                    ),
                };
                let call = Call::broadcast(&args);
                let got = status(&call);
                assert!(want.contains(&got.as_str()), "call {i} ({args}): {got}");
                destroyed(&call.id);
            });
        }
    });
}

#[test]
fn ten_thousand_mixed_broadcasts_leave_no_growth_and_nothing_behind() {
    assert_eq!(target(), Target::Ours, "the soak runs against ours");
    let total: usize = std::env::var("ASB_SOAK_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let warmup = (total / 5).max(30);
    // The test binary before may have left tombstones (reliability's claimed
    // 30 s broadcasts live 35 s): the soak starts from an idle module, so
    // that what is left at the end is its own.
    eventually_within(
        EARLIER_TOMBSTONES + *LIVENESS,
        "earlier tests' tombstones expired",
        module_idle,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let claimer = unique("soak-claim");
    let hanger = unique("soak-hang");
    let workers = [
        worker(claimer.clone(), stop.clone(), claim_it),
        worker(hanger.clone(), stop.clone(), hang_it_up),
    ];

    run_calls(warmup, 8, &claimer, &hanger);
    thread::sleep(SETTLE);
    let before = asterisk_rss_kib();
    run_calls(total - warmup, 8, &claimer, &hanger);
    thread::sleep(SETTLE);
    let after = asterisk_rss_kib();

    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    assert!(module_idle(), "{}", cli("stasis broadcast show"));
    eprintln!(
        "soak: {total} broadcasts; Asterisk RSS after {warmup} warm-up: {before} KiB, at the end: {after} KiB ({:+} KiB)",
        after as i64 - before as i64
    );
    if std::env::var("ASB_SOAK_SKIP_RSS").as_deref() == Ok("1") {
        // scripts/memcheck: under valgrind, RSS says nothing about the module.
        eprintln!("soak: RSS check skipped (ASB_SOAK_SKIP_RSS=1)");
        return;
    }
    assert!(
        after < before + 1024,
        "Asterisk grew by {} KiB over {} broadcasts",
        after - before,
        total - warmup
    );
}
