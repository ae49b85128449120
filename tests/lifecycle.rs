//! The module's lifecycle under load: unloads and loads while calls keep
//! arriving, claims and scrapes keep coming, and Asterisk must never run code
//! of an unloaded module. Ours only (upstream's modules are Asterisk's own).
//!
//! `ASB_LIFECYCLE_CYCLES` sets how many unload/load cycles the storm runs
//! (default 300).

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const MODULE: &str = "app_stasis_broadcast.so";

/// The module as ARI reports it: (status, use count); "Gone" when Asterisk
/// no longer knows it (a module that does not stay resident).
fn module_status() -> (String, i64) {
    let r = ari("GET", &format!("/asterisk/modules/{MODULE}"), &[], None);
    if r.status == 404 {
        return ("Gone".into(), 0);
    }
    assert_eq!(r.status, 200, "module info: {:?}", r.body);
    (
        r.body["status"].as_str().unwrap_or_default().to_owned(),
        r.body["use_count"].as_i64().unwrap_or(-1),
    )
}

fn running() -> bool {
    module_status().0 == "Running"
}

/// A plain (soft) unload through ARI, as Asterisk's own loader does it: true
/// when it went through, false when it was refused (the module in use).
fn try_unload() -> bool {
    match ari("DELETE", &format!("/asterisk/modules/{MODULE}"), &[], None).status {
        204 => true,
        409 => false,
        s => panic!("unload: unexpected HTTP {s}"),
    }
}

/// Loads it with the CLI (ARI's load refuses a module that stays resident).
fn load() {
    let out = cli(&format!("module load {MODULE}"));
    assert!(running(), "load: {out}");
}

/// A small deterministic generator for pauses and timeouts (no dependency).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Originates a call into `StasisBroadcast(<args>)` without waiting for it.
fn originate(args: &str) {
    let r = ari(
        "POST",
        "/channels",
        &[
            ("endpoint", "Local/raw@asb/n"),
            ("extension", "hold"),
            ("context", "asb"),
            ("timeout", "30"),
        ],
        Some(json!({ "variables": { "ASB_ARGS": args } })),
    );
    assert_eq!(r.status, 200, "originate: {:?}", r.body);
}

/// Runs `f` on a thread until `stop`, counting its rounds.
fn background(
    stop: &Arc<AtomicBool>,
    rounds: &Arc<AtomicU64>,
    mut f: impl FnMut() + Send + 'static,
) -> thread::JoinHandle<()> {
    let (stop, rounds) = (stop.clone(), rounds.clone());
    thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            f();
            rounds.fetch_add(1, Ordering::Relaxed);
        }
    })
}

/// The Asterisk process's memory map: the container's first process is
/// Asterisk (or valgrind running it, which maps the module the same way).
fn asterisk_maps() -> String {
    testbed(&["engine", "exec", &container(), "cat", "/proc/1/maps"])
}

/// A thread that read one of the module's function pointers just before its
/// unregistration (the application's, the optional API's, a channel
/// datastore's destroy callback) may run it after unload returned: the code
/// must still be there. The module stays resident, and loads again.
#[test]
fn the_code_stays_mapped_after_an_unload_and_loads_again() {
    assert_eq!(target(), Target::Ours, "lifecycle tests run against ours");
    let _s = serial();
    asterisk();
    assert!(running());
    assert!(try_unload(), "an idle module unloads");
    assert!(
        asterisk_maps().contains(MODULE),
        "the module's code was unmapped by the unload"
    );
    assert_eq!(module_status().0, "Not Running");
    load();
    claimed_end_to_end("lc-mapped");
}

/// The storm: callers keep originating short calls into StasisBroadcast with
/// short random pauses (so the use count often drops to zero and unloads go
/// through while calls keep arriving); a worker claims some of them (calls in
/// a Stasis session keep the module in use); a claimer sends claims for
/// unknown channels (threads in the optional API); /metrics and the CLI are
/// read meanwhile. The module is unloaded (plain unload: refused while a call
/// is in it) and loaded again, cycle after cycle. Asterisk must be alive at
/// the end, with no call left in the module.
#[test]
fn unload_load_storm_with_calls_claims_and_scrapes() {
    let _s = serial();
    asterisk();
    let cycles: u32 = std::env::var("ASB_LIFECYCLE_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let stop = Arc::new(AtomicBool::new(false));
    let pool = unique("lc-pool");
    let mut workers = Vec::new();

    let originated = Arc::new(AtomicU64::new(0));
    for seed in 1..=3u64 {
        let filter = format!("^{pool}$");
        let mut rng = Rng::new(seed + std::process::id() as u64);
        workers.push(background(&stop, &originated, move || {
            originate(&format!("{},{filter}", rng.below(40)));
            thread::sleep(Duration::from_millis(rng.below(60)));
        }));
    }

    // The worker: claims about one call in three and sends it straight on.
    // Once stopped it claims no more, but stays until every call it won has
    // been sent on: closing its WebSocket earlier would leave a won call in a
    // Stasis session of a closed application, in the module, until hung up.
    let claimed = Arc::new(AtomicU64::new(0));
    let mut app = App::connect(&pool);
    let mut rng = Rng::new(7);
    let name = pool.clone();
    let (worker_stop, worker_claimed) = (stop.clone(), claimed.clone());
    workers.push(thread::spawn(move || {
        let mut pending = 0u32;
        let mut stopped_at = None;
        loop {
            if worker_stop.load(Ordering::SeqCst) {
                let since = *stopped_at.get_or_insert_with(Instant::now);
                if pending == 0 || since.elapsed() > *LIVENESS {
                    break;
                }
            }
            let Some(ev) = app.next(Duration::from_millis(100)) else {
                continue;
            };
            let id = ev["channel"]["id"].as_str().unwrap_or_default().to_owned();
            match ev["type"].as_str() {
                Some("CallBroadcast") if stopped_at.is_none() && rng.below(3) == 0 => {
                    if claim(&id, &name) == 204 {
                        pending += 1;
                    }
                    worker_claimed.fetch_add(1, Ordering::Relaxed);
                }
                Some("StasisStart") => {
                    ari("POST", &format!("/channels/{id}/continue"), &[], None);
                    pending = pending.saturating_sub(1);
                }
                _ => {}
            }
        }
    }));

    let claims = Arc::new(AtomicU64::new(0));
    let mut n = 0u64;
    workers.push(background(&stop, &claims, move || {
        n += 1;
        let status = claim(&format!("lc-nobody-{n}"), "lc-nobody");
        assert!(matches!(status, 404 | 501), "claim for nobody: {status}");
        thread::sleep(Duration::from_millis(2));
    }));

    let scrapes = Arc::new(AtomicU64::new(0));
    workers.push(background(&stop, &scrapes, move || {
        let r = http_request("GET", "/metrics", Auth::None, &[], None);
        assert_eq!(r.status, 200, "/metrics: {r:?}");
        thread::sleep(Duration::from_millis(2));
    }));

    let cli_runs = Arc::new(AtomicU64::new(0));
    workers.push(background(&stop, &cli_runs, || {
        cli("stasis broadcast stats");
    }));

    let (mut went_through, mut refused) = (0u32, 0u32);
    let mut rng = Rng::new(11);
    for cycle in 0..cycles {
        // Plain unloads until one goes through: refused while a call is in
        // the module, through when none is (while calls keep arriving).
        let mut attempts = 0;
        while !try_unload() {
            refused += 1;
            attempts += 1;
            assert!(attempts < 10_000, "cycle {cycle}: never unloadable");
            thread::sleep(Duration::from_millis(rng.below(10)));
        }
        went_through += 1;
        assert!(!running(), "cycle {cycle}: still running after its unload");
        thread::sleep(Duration::from_millis(rng.below(20)));
        load();
    }

    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().expect("a background thread failed");
    }
    println!(
        "lifecycle storm: {cycles} cycles, {went_through} unloads went through, {refused} refused; \
         {} calls originated, {} claim rounds, {} claims for nobody, {} scrapes, {} CLI commands",
        originated.load(Ordering::Relaxed),
        claimed.load(Ordering::Relaxed),
        claims.load(Ordering::Relaxed),
        scrapes.load(Ordering::Relaxed),
        cli_runs.load(Ordering::Relaxed),
    );
    assert_eq!(went_through, cycles);

    // Alive, loaded, and nothing left in the module.
    assert_eq!(ari("GET", "/asterisk/info", &[], None).status, 200);
    assert!(cli("core show uptime").contains("System uptime"));
    assert!(running());
    eventually("no call left in the module", || {
        module_status().1 == 0 && cli("stasis broadcast show").contains("0 live broadcast(s)")
    });
    eventually("every call of the storm ended", || {
        ari("GET", "/channels", &[], None)
            .body
            .as_array()
            .is_some_and(|a| a.is_empty())
    });
    claimed_end_to_end("lc-after");
}
