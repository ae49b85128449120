//! The module's lifecycle: a runtime unload is refused the conventional way
//! (the loader's shutdown reference), the drain switch (`stasis broadcast
//! disable|enable`), and forced unloads (`-f`) and loads while calls keep
//! arriving, claims and scrapes keep coming: Asterisk must never run code of
//! an unloaded module. Ours only (upstream's modules are Asterisk's own).
//!
//! `ASB_LIFECYCLE_CYCLES` sets how many forced unload/load cycles the storm
//! runs (default 300).

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

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

/// A plain (soft) unload through ARI, as Asterisk's own loader does it: its
/// HTTP status (409: refused).
fn soft_unload() -> u16 {
    ari("DELETE", &format!("/asterisk/modules/{MODULE}"), &[], None).status
}

/// A forced unload (`module unload -f`): the loader hangs up the calls in the
/// module, then the module stops its entries and drains; true when it went
/// through (the module may still refuse when a thread does not leave).
fn forced_unload() -> bool {
    cli(&format!("module unload -f {MODULE}"));
    !running()
}

/// Loads it with the CLI (ARI's load refuses a module that stays resident).
fn load() {
    let out = cli(&format!("module load {MODULE}"));
    assert!(running(), "load: {out}");
}

/// The loader's refusal of a plain unload: the use count its shutdown
/// reference holds (plus one per call in the module).
const REFUSED: &str = "Soft unload failed, 'app_stasis_broadcast.so' has use count";

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

/// A runtime unload is refused, idle and busy, the way res_pjsip_session's
/// is: the loader answers with the use count the shutdown reference holds;
/// `module refresh` and `module load` keep the running build; `module show`
/// and ARI say it runs, and the call waiting meanwhile is claimed as usual.
#[test]
fn a_runtime_unload_is_refused_idle_and_busy() {
    assert_eq!(target(), Target::Ours, "lifecycle tests run against ours");
    let _s = serial();
    asterisk();
    let log = Log::mark();
    assert_eq!(soft_unload(), 409, "ARI's unload of an idle module");
    let out = cli(&format!("module unload {MODULE}"));
    assert!(out.contains("Unable to unload"), "{out}");
    let out = cli(&format!("module refresh {MODULE}"));
    assert!(out.contains("Unable to unload"), "{out}");
    log.wait_line(&["WARNING", &format!("{REFUSED} 1")]);
    assert_eq!(module_status(), ("Running".into(), 1));
    let out = cli(&format!("module load {MODULE}"));
    assert!(out.contains("Unable to load"), "{out}");
    log.wait_line(&["already loaded and running"]);
    let show = cli("module show like stasis_broadcast");
    assert!(
        show.contains(" Running") && !show.contains("Not Running"),
        "{show}"
    );

    // Busy: one more use count per call in it.
    let mut w = App::connect(&unique("lc-busy"));
    let call = waiting_calls(&mut w, 1).remove(0);
    assert_eq!(soft_unload(), 409);
    cli(&format!("module unload {MODULE}"));
    log.wait_line(&["WARNING", &format!("{REFUSED} 2")]);
    assert!(running());
    assert!(
        !log.lines()
            .iter()
            .any(|l| l.contains("ERROR") && l.contains("stasis_broadcast")),
        "a refused unload logged an ERROR of ours"
    );
    win(&mut w, &call);
    finish(&call);
}

/// The drain switch: `stasis broadcast disable` answers new calls at once
/// (STASISSTATUS=FAILED, STASISBROADCAST_REASON=DISABLED, offered to nobody)
/// while a call already waiting is still claimed; `show` and the metrics say
/// so; `enable` restores offering.
#[test]
fn disable_refuses_new_calls_while_waiting_ones_finish() {
    let _s = serial();
    asterisk();
    let mut w = App::connect(&unique("lc-drain"));
    let filter = format!("60000,^{}$", w.name);
    let waiting = Call::broadcast(&filter);
    w.wait_event("CallBroadcast", &waiting.id);

    let out = cli("stasis broadcast disable");
    assert!(out.contains("disabled"), "{out}");
    assert!(cli("stasis broadcast show").contains("StasisBroadcast: disabled"));
    let metrics = http_request("GET", "/metrics", Auth::None, &[], None);
    assert!(
        metrics
            .body
            .contains("asterisk_stasis_broadcast_enabled 0\n"),
        "metrics: {metrics:?}"
    );
    let refused = Call::broadcast(&filter);
    assert_eq!(status(&refused), "FAILED");
    assert_eq!(var_set(&refused.id, "STASISBROADCAST_REASON"), "DISABLED");
    assert!(
        !w.was_offered(&refused.id),
        "a call was offered while disabled"
    );
    assert!(cli("stasis broadcast stats").contains("Refused while disabled"));

    // The call that was already waiting finishes normally.
    win(&mut w, &waiting);
    finish(&waiting);

    let out = cli("stasis broadcast enable");
    assert!(out.contains("enabled"), "{out}");
    let after = Call::broadcast(&filter);
    w.wait_event("CallBroadcast", &after.id);
    win(&mut w, &after);
    finish(&after);
}

/// A thread that read one of the module's function pointers just before its
/// unregistration (the application's, the optional API's, a channel
/// datastore's destroy callback) may run it after a forced unload returned:
/// the code must still be there. The module stays resident, and loads again.
#[test]
fn the_code_stays_mapped_after_a_forced_unload_and_loads_again() {
    let _s = serial();
    asterisk();
    assert!(running());
    assert!(forced_unload(), "an idle module unloads with -f");
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
/// read meanwhile. The module is unloaded with `-f` (the loader hangs up the
/// calls in it; the module may still refuse while a thread is inside) and
/// loaded again, cycle after cycle. Asterisk must be alive at the end, with no
/// call left in the module.
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
            Call::anonymous(&format!("{},{filter}", rng.below(40)));
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
        // Forced unloads until one goes through (calls keep arriving).
        let mut attempts = 0;
        while !forced_unload() {
            refused += 1;
            attempts += 1;
            assert!(attempts < 100, "cycle {cycle}: never unloadable");
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
        "lifecycle storm: {cycles} cycles, {went_through} forced unloads went through, {refused} refused; \
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
    // The shutdown reference is the one use count left.
    eventually("no call left in the module", || {
        module_status().1 == 1 && cli("stasis broadcast show").contains("0 live broadcast(s)")
    });
    eventually("every call of the storm ended", || {
        ari("GET", "/channels", &[], None)
            .body
            .as_array()
            .is_some_and(|a| a.is_empty())
    });
    claimed_end_to_end("lc-after");
}
