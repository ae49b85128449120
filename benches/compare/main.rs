//! Load generator: ours vs upstream `StasisBroadcast()`, through the real Asterisk of the test bed.
//!
//! `cargo bench --bench compare` (full run, about 10–12 minutes) or
//! `cargo bench --bench compare -- --quick` (or `ASB_BENCH_QUICK=1`; a couple of minutes).
//! `--rounds N` sets the rounds per mode (default 3; 2 with --quick). Needs the module built first
//! (`cargo build --release`) and the test bed (`scripts/testbed`). Stops the test bed at the end.
//!
//! Rounds alternate: ours, upstream, ours, upstream… each one a fresh `scripts/testbed start
//! [--upstream]`. One process drives everything: tokio tasks, one WebSocket per worker
//! application, the shared ari-worker client's keep-alive connections. Exactly one subscribeAll
//! observer per Asterisk run, connected once (Asterisk can deadlock ARI when a subscribeAll
//! application closes while a device state event is delivered to it: asterisk/asterisk#2170);
//! its `ChannelVarset` of `STASISSTATUS` is the clock for
//! "StasisBroadcast returned".
//!
//! `--no-upstream` (chosen by itself when `ASB_ASTERISK` names another version than 22.10.1, which
//! has no upstream module): ours only, measured against plain `Stasis()` on the same Asterisk.
//!
//! Writes `BENCHMARKS.md`, `benchmarks/ratios.svg` and the raw samples `benchmarks/results.json`
//! (with --no-upstream: `benchmarks/asterisk-<version>.md` and `.json`), and prints the table.
//! `--from <results.json>` regenerates the report from saved samples without running anything.
//!
//! What it measures: `calls.rs` (one call each) and `workloads.rs` (batches); how: `bed.rs` (the
//! test bed's ARI), `meters.rs` (CPU, memory), `stats.rs`; how it reports: `table.rs`,
//! `chart.rs`, `report.rs` (and `floor.rs` without upstream), `store.rs`.

mod bed;
mod calls;
mod chart;
mod config;
mod floor;
mod meters;
mod report;
#[path = "../shared.rs"]
mod shared;
#[path = "../sip_section.rs"]
mod sip_section;
mod stats;
mod store;
mod table;
mod workloads;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use ari_worker::{Ari, Node};
use clap::Parser;
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};

pub use crate::shared::{repo, sh};

use crate::bed::Bed;
use crate::calls::Round;
use crate::config::Cfg;
use crate::stats::{Mode, Results};

/// The worker every single-call workload uses.
pub const ONE: &str = "bw-0000";

/// The Asterisk version whose packages carry upstream's module.
pub const UPSTREAM_VERSION: &str = "22.10.1";

/// Ours vs upstream StasisBroadcast() through the test bed (`cargo bench --bench compare -- …`).
#[derive(Parser)]
struct Flags {
    /// A short run, few samples (also ASB_BENCH_QUICK=1)
    #[arg(long)]
    quick: bool,
    /// Rounds per mode (default 3; 2 with --quick)
    #[arg(long)]
    rounds: Option<usize>,
    /// Ours only, against plain Stasis() on the same Asterisk (for Asterisk versions without
    /// the upstream module; chosen by itself when ASB_ASTERISK is not 22.10.1)
    #[arg(long)]
    no_upstream: bool,
    /// Regenerate the report from saved samples, running nothing
    #[arg(long, value_name = "RESULTS_JSON")]
    from: Option<PathBuf>,
    /// Passed by `cargo bench`
    #[arg(long, hide = true)]
    bench: bool,
}

fn testbed(args: &[&str]) -> String {
    let out = Command::new(repo().join("scripts/testbed"))
        .args(args)
        .output()
        .expect("run scripts/testbed");
    if !out.status.success() {
        panic!(
            "scripts/testbed {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Stops the test bed when the run ends, however it ends: the benchmark leaves nothing running.
struct StopAtEnd;

impl Drop for StopAtEnd {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/testbed"))
            .arg("stop")
            .output();
    }
}

/// (Re)starts Asterisk in `mode`; returns its process id (as the host sees it).
fn start(mode: Mode) -> String {
    match mode {
        Mode::Ours => testbed(&["start"]),
        Mode::Upstream => testbed(&["start", "--upstream"]),
    };
    let container = std::env::var("ASB_CONTAINER").unwrap_or_else(|_| "asb-asterisk".into());
    testbed(&["engine", "inspect", "-f", "{{.State.Pid}}", &container])
}

/// Notes the machine's load average (at each round's start and at the end of the run).
fn push_load(info: &mut Value) {
    if let Some(loads) = info["load"].as_array_mut() {
        loads.push(json!(meters::load_average()));
    }
}

async fn run_round(cfg: &Cfg, mode: Mode, res: &mut Results, info: &mut Value) {
    push_load(info);
    let pid = tokio::task::spawn_blocking(move || start(mode))
        .await
        .unwrap();
    let port = std::env::var("ASB_HTTP_PORT").unwrap_or_else(|_| "8088".into());
    let bed = Bed::new(Ari::new(Node::local(port.parse().expect("ASB_HTTP_PORT"))));
    // Open the keep-alive connections before measuring anything (see warm_up).
    bed.ari.warm_up(24).await;
    let about = bed.ari.check().await.unwrap_or_else(|e| panic!("{e}"));
    info["asterisk"] = about["system"]["version"].clone();
    bed.connect("bobs", true).await.expect("observer");
    bed.connect(ONE, false).await.expect("worker");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let round = Round {
        bed: &bed,
        pid,
        cfg,
        mode,
    };
    round.phase_one(res).await;
    // 499 more workers: bw-0001 .. bw-0499
    stream::iter(1..500)
        .map(|i| {
            let bed = &bed;
            async move {
                if let Err(e) = bed.connect(&format!("bw-{i:04}"), false).await {
                    eprintln!("connect: {e}");
                }
            }
        })
        .buffer_unordered(4)
        .count()
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    round.phase_two(res).await;
    bed.close_all();
    log_counts(mode, res);
}

/// What Asterisk logged during the round (messages.log: notice, warning, error, verbose(3),
/// debug), as a note.
fn log_counts(mode: Mode, res: &mut Results) {
    let log = std::fs::read_to_string(testbed(&["logfile"])).unwrap_or_default();
    let mut counts: Vec<(String, usize)> = vec![];
    for l in log.lines() {
        let Some(level) = l
            .strip_prefix('[')
            .and_then(|l| l.split_once("] "))
            .and_then(|x| x.1.split('[').next())
            .filter(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_uppercase()))
        else {
            continue;
        };
        match counts.iter_mut().find(|c| c.0 == level) {
            Some(c) => c.1 += 1,
            None => counts.push((level.to_owned(), 1)),
        }
    }
    res.notes.push(format!(
        "{}: messages.log lines in one round: {}",
        mode.name(),
        counts
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
}

fn main() {
    let flags = Flags::parse();
    if let Some(path) = &flags.from {
        let (cfg, res, info, total) = store::load(path);
        report::report(&cfg, &res, &info, total);
        return;
    }
    let asterisk = std::env::var("ASB_ASTERISK").unwrap_or_else(|_| UPSTREAM_VERSION.into());
    let no_upstream = flags.no_upstream || asterisk != UPSTREAM_VERSION;
    if no_upstream && !flags.no_upstream {
        eprintln!("ASB_ASTERISK={asterisk} has no upstream module: measuring ours against plain Stasis() only");
    }
    let quick =
        flags.quick || std::env::var("ASB_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let rounds = flags.rounds.unwrap_or(if quick { 2 } else { 3 });
    let cfg = Cfg::preset(quick, rounds, no_upstream);
    let so = store::module_path();
    assert!(
        so.exists(),
        "{} missing: build the module first (`cargo build --release`, with CARGO_TARGET_DIR=target/asterisk-VERSION for another version)",
        so.display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let t0 = Instant::now();
    let mut res = Results::default();
    let mut info = json!({ "module": store::module_info(), "load": [] });
    if info["module"]["stale"] == true {
        eprintln!(
            "warning: sources are newer than {}: run `cargo build --release` first to measure them",
            so.display()
        );
    }
    let modes: &[Mode] = if no_upstream {
        &[Mode::Ours]
    } else {
        &[Mode::Ours, Mode::Upstream]
    };
    let stop = StopAtEnd;
    rt.block_on(async {
        for i in 0..cfg.rounds {
            for &mode in modes {
                eprintln!(
                    "round {}/{} {} ({:.0} s so far)",
                    i + 1,
                    cfg.rounds,
                    mode.name(),
                    t0.elapsed().as_secs_f64()
                );
                run_round(&cfg, mode, &mut res, &mut info).await;
            }
        }
    });
    drop(stop);
    push_load(&mut info);
    info["date"] = json!(sh("date -u '+%Y-%m-%d %H:%M UTC'"));
    store::save(&cfg, &res, &info, t0.elapsed());
    report::report(&cfg, &res, &info, t0.elapsed());
}
