//! SIP load in the field's terms: SIPp's calls (scenario `sipp/claimed.xml`) at rising rates (25 to
//! 400 calls/s)
//! against StasisBroadcast (ours and upstream) and plain `Stasis()` on Asterisk 22.10.1, and
//! ours against plain `Stasis()` on 18.26.4 (chan_sip), side by side in one run.
//!
//! `cargo bench --bench sip` (about 10 minutes; `-- --quick`: fewer calls per step). Needs the
//! test bed's images and `cargo build --release` (the 18.26.4 build it makes itself, into
//! target/asterisk-18.26.4). Stops the test bed at the end.
//!
//! Each mode is a fresh test bed. A pool of 20 workers (client/, claim after 0..2 ms, send on at
//! once) is connected; at each rate SIPp places the calls to `w-<pool>-w.*` (context asb-sip:
//! `StasisBroadcast(10000,^<pool>-w.*$)`), or for the floor to `s-<app>` (`Stasis(<app>)` on one
//! of the same workers); a call sent back to the dialplan is answered and hung up 0.2 s later.
//! A step succeeds when SIPp counts every call successful and, with StasisBroadcast, the pool won
//! every one exactly once. Measured per step: Asterisk's CPU (the container's process, from
//! /proc) and SIPp's own CPU, per call.
//!
//! Writes `benchmarks/sip.md` and `benchmarks/sip.json`, and puts the report into
//! `BENCHMARKS.md` as its section "Real SIP calls (SIPp)" (which `--bench compare` keeps).
//! `--from benchmarks/sip.json` writes the report again from saved figures.

#[path = "../compare/meters.rs"]
#[allow(dead_code)]
mod meters;
#[path = "../shared.rs"]
mod shared;
#[path = "../sip_section.rs"]
mod sip_section;

use shared::{repo, sh};

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use ari_worker::{Ari, Node, Policy, Pool, Sipp};
use clap::Parser;
use serde_json::{json, Value};

/// The releases and modes measured: (Asterisk, mode).
const PLAN: [(&str, Mode); 5] = [
    ("22.10.1", Mode::Ours),
    ("22.10.1", Mode::Upstream),
    ("22.10.1", Mode::Floor),
    ("18.26.4", Mode::Ours),
    ("18.26.4", Mode::Floor),
];
const RATES: [u32; 5] = [25, 50, 100, 200, 400];
const WORKERS: usize = 20;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Ours,
    Upstream,
    Floor,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Ours => "StasisBroadcast (ours)",
            Mode::Upstream => "StasisBroadcast (upstream)",
            Mode::Floor => "plain Stasis()",
        }
    }
}

/// SIPp's calls against StasisBroadcast and plain Stasis() (`cargo bench --bench sip -- …`).
#[derive(Parser)]
struct Flags {
    /// Fewer calls per rate step (300 instead of 1,000)
    #[arg(long)]
    quick: bool,
    /// Regenerate the report from saved figures (benchmarks/sip.json), running nothing
    #[arg(long, value_name = "SIP_JSON")]
    from: Option<PathBuf>,
    /// Passed by `cargo bench`
    #[arg(long, hide = true)]
    bench: bool,
}

/// The test bed's HTTP port (ASB_HTTP_PORT, default 8088); its SIP port is 3018 below.
fn http_port() -> u16 {
    std::env::var("ASB_HTTP_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8088)
}

/// scripts/testbed for `version` (its output; panics with it on failure).
fn testbed(version: &str, args: &[&str]) -> String {
    let out = Command::new(repo().join("scripts/testbed"))
        .args(["--asterisk", version])
        .args(args)
        .output()
        .expect("run scripts/testbed");
    assert!(
        out.status.success(),
        "scripts/testbed {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The module for `version` as the test bed mounts it: 22.10.1's is the build of this run's
/// `cargo build --release`; another release's is built here against its headers.
fn build_for(version: &str) {
    if version == "22.10.1" {
        return;
    }
    let headers = testbed(version, &["headers"]);
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release"])
        .env("ASTERISK_INCLUDE_DIR", headers)
        .env(
            "CARGO_TARGET_DIR",
            repo().join(format!("target/asterisk-{version}")),
        )
        .current_dir(repo())
        .status()
        .expect("run cargo");
    assert!(status.success(), "the build for Asterisk {version} failed");
}

/// One rate step's figures.
fn step(pid: &str, pool: &Pool, calls: u32, rate: u32, user: &str, port: u16) -> Value {
    let won_before = pool.state().total(|c| &c.won);
    let cpu_before = meters::cpu_of(pid);
    let sip_port = http_port() - 3018;
    let result = Sipp::new(
        &repo().join("sipp/claimed.xml"),
        user,
        &format!("127.0.0.1:{sip_port}"),
        port,
        &repo().join("target/sipp"),
    )
    .calls(calls, rate)
    .start()
    .unwrap_or_else(|e| panic!("{e}"))
    .finish();
    let ast = meters::cpu_of(pid) - cpu_before;
    let won = pool.state().total(|c| &c.won) - won_before;
    json!({
        "rate": rate,
        "calls": calls,
        "successful": result.successful,
        "failed": result.failed,
        "sipp_exit": result.code,
        "won": won,
        "asterisk_cpu_ms_per_call": 1000.0 * ast / f64::from(calls),
        "sipp_cpu_ms_per_call": 1000.0 * result.cpu.as_secs_f64() / f64::from(calls),
        "wall_s": result.wall.as_secs_f64(),
    })
}

/// Waits until Asterisk has no channel left (the last calls' 0.2 s hang-up included).
async fn settle(ari: &Ari) {
    for _ in 0..300 {
        match ari
            .request(ari_worker::Method::GET, &["channels"], &[], None)
            .await
        {
            Ok(r) if r.body.as_array().is_some_and(|a| a.is_empty()) => return,
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    eprintln!("warning: channels still up 30 s after a step");
}

async fn run_mode(version: &str, mode: Mode, calls: u32) -> Value {
    let args: &[&str] = match mode {
        Mode::Upstream => &["start", "--upstream"],
        _ => &["start"],
    };
    testbed(version, args);
    let container = std::env::var("ASB_CONTAINER").unwrap_or_else(|_| "asb-asterisk".into());
    let pid = testbed(
        version,
        &["engine", "inspect", "-f", "{{.State.Pid}}", &container],
    );
    let ari = Ari::new(Node::local(http_port()));
    let tag = format!("sipbench{}", std::process::id());
    let names: Vec<String> = (1..=WORKERS).map(|i| format!("{tag}-w{i}")).collect();
    let policy = Policy {
        think_max: Duration::from_millis(2),
        hold: Duration::ZERO,
    };
    let pool = Pool::start(
        std::slice::from_ref(&ari),
        &names,
        policy,
        Arc::new(|_| true),
    )
    .await
    .expect("the pool connects");
    let user = match mode {
        Mode::Floor => format!("s-{}", names[0]),
        _ => format!("w-{tag}-w.*"),
    };
    let mut steps = Vec::new();
    for (i, rate) in RATES.into_iter().enumerate() {
        eprintln!(
            "Asterisk {version}, {}: {calls} calls at {rate}/s",
            mode.name()
        );
        let user = user.clone();
        let port = 30_000 + 10 * i as u16;
        let pid = pid.clone();
        let s = tokio::task::block_in_place(|| step(&pid, &pool, calls, rate, &user, port));
        steps.push(s);
        settle(&ari).await;
    }
    let problems = pool.state().problems();
    pool.stop().await;
    json!({ "asterisk": version, "mode": mode.name(), "steps": steps, "problems": problems })
}

/// Whether a step had every call succeed (and, with StasisBroadcast, claimed exactly once).
fn all_ok(step: &Value, mode: &str) -> bool {
    let calls = step["calls"].as_u64().unwrap_or(0);
    step["sipp_exit"] == 0
        && step["successful"].as_u64() == Some(calls)
        && (mode == Mode::Floor.name() || step["won"].as_u64() == Some(calls))
}

fn report(runs: &[Value], calls: u32, date: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## Real SIP calls (SIPp)\n\nSIPp places {calls} calls per step at 25, 50, 100, 200 and 400 calls/s (scenario \
         `sipp/claimed.xml`: INVITE, 180, the winner's 200 OK, ACK, Asterisk's BYE 0.2 s later); 20 ARI \
         workers compete for each call (StasisBroadcast) or one takes it (plain `Stasis()`, the floor). A \
         step passes (✓) when SIPp counts every call successful and, with StasisBroadcast, every call was \
         claimed exactly once. CPU per call: Asterisk's (its process) and SIPp's own, in ms; with \
         StasisBroadcast it includes answering the 20 claims of each call (one 204, nineteen 409). Generated by \
         `cargo bench --bench sip` on {date}, one run, every mode in turn on this 2-core machine.\n"
    );
    for version in ["22.10.1", "18.26.4"] {
        let of: Vec<&Value> = runs.iter().filter(|r| r["asterisk"] == version).collect();
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(md, "### Asterisk {version}\n");
        let mut head = String::from("| calls/s |");
        let mut rule = String::from("|---:|");
        for r in &of {
            let _ = write!(head, " {} |", r["mode"].as_str().unwrap_or("?"));
            rule.push_str("---|");
        }
        let _ = writeln!(md, "{head}\n{rule}");
        for (i, rate) in RATES.iter().enumerate() {
            let mut row = format!("| {rate} |");
            for r in &of {
                let s = &r["steps"][i];
                let mode = r["mode"].as_str().unwrap_or("");
                let _ = write!(
                    row,
                    " {} {:.2} ms (SIPp {:.2} ms) |",
                    if all_ok(s, mode) { "✓" } else { "✗" },
                    s["asterisk_cpu_ms_per_call"].as_f64().unwrap_or(f64::NAN),
                    s["sipp_cpu_ms_per_call"].as_f64().unwrap_or(f64::NAN)
                );
            }
            let _ = writeln!(md, "{row}");
        }
        let mut highest = String::from("| highest rate with every call ✓ |");
        for r in &of {
            let mode = r["mode"].as_str().unwrap_or("");
            let steps = r["steps"].as_array().map_or(&[][..], |a| a.as_slice());
            let passed = steps.iter().take_while(|s| all_ok(s, mode)).count();
            let best = match passed {
                0 => "none".to_owned(),
                // Every step passed: the limit lies above the highest one.
                n if n == steps.len() => format!("≥ {}/s", steps[n - 1]["rate"]),
                n => format!("{}/s", steps[n - 1]["rate"]),
            };
            let _ = write!(highest, " **{best}** |");
        }
        let _ = writeln!(md, "{highest}\n");
        // Ratios of Asterisk CPU per call, mode by mode, at each rate every mode passed.
        let cpu = |m: &str, i: usize| {
            of.iter()
                .find(|r| r["mode"] == m)
                .and_then(|r| r["steps"][i]["asterisk_cpu_ms_per_call"].as_f64())
        };
        let _ = writeln!(md, "| calls/s | Asterisk CPU per call: ours / upstream | ours / plain Stasis() |\n|---:|---:|---:|");
        for (i, rate) in RATES.iter().enumerate() {
            let ours = cpu(Mode::Ours.name(), i);
            let ratio = |other: Option<f64>| match (ours, other) {
                (Some(o), Some(x)) if x > 0.0 => format!("{:.2}", o / x),
                _ => "–".to_owned(),
            };
            let _ = writeln!(
                md,
                "| {rate} | {} | {} |",
                ratio(cpu(Mode::Upstream.name(), i)),
                ratio(cpu(Mode::Floor.name(), i))
            );
        }
        let _ = writeln!(md);
        for r in &of {
            if let Some(p) = r["problems"].as_array().filter(|p| !p.is_empty()) {
                let _ = writeln!(md, "- {}: the pool noted {:?}", r["mode"], p);
            }
        }
    }
    md
}

fn main() {
    let flags = Flags::parse();
    if let Some(path) = &flags.from {
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("read it")).expect("JSON");
        let runs = saved["runs"].as_array().cloned().unwrap_or_default();
        let calls = saved["calls"].as_u64().unwrap_or(0) as u32;
        write(&report(&runs, calls, saved["date"].as_str().unwrap_or("?")));
        return;
    }
    let calls = if flags.quick { 300 } else { 1000 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let mut runs = Vec::new();
    for (version, mode) in PLAN {
        build_for(version);
        runs.push(rt.block_on(run_mode(version, mode, calls)));
    }
    let _ = Command::new(repo().join("scripts/testbed"))
        .arg("stop")
        .output();
    let date = sh("date -u '+%Y-%m-%d %H:%M UTC'");
    std::fs::create_dir_all(repo().join("benchmarks")).ok();
    std::fs::write(
        repo().join("benchmarks/sip.json"),
        serde_json::to_string_pretty(&json!({ "calls": calls, "date": date, "runs": runs }))
            .unwrap(),
    )
    .expect("write benchmarks/sip.json");
    write(&report(&runs, calls, &date));
}

/// Writes the report to benchmarks/sip.md and into BENCHMARKS.md.
fn write(md: &str) {
    println!("{md}");
    std::fs::write(repo().join("benchmarks/sip.md"), md).expect("write benchmarks/sip.md");
    let path = repo().join("BENCHMARKS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, sip_section::splice(&old, &repo())).expect("write BENCHMARKS.md");
    println!("wrote benchmarks/sip.md and the section of BENCHMARKS.md");
}
