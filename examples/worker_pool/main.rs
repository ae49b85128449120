//! The worker-pool demo: N ARI workers compete for M calls offered by `StasisBroadcast()`, on
//! one Asterisk node or several.
//!
//! Each worker is its own ARI application (`pool-1` … `pool-N`) with one WebSocket on every node
//! (the pool of the `ari-worker` client, client/). Calls are Local channels, originated on the
//! nodes in turn, whose `;2` half runs extension `pool` of the test bed's dialplan
//! (`StasisBroadcast(${ASB_TIMEOUT},^pool-)`). A worker that is offered a call (`CallBroadcast`)
//! thinks for a random while, then claims it on the node that offered it; the winner gets
//! `StasisStart`, keeps the call for a moment and sends it on with `continue`. One observer
//! application per node, subscribed to every channel, learns how each call ended
//! (`STASISSTATUS`). A node that goes away during the run takes its outstanding calls with it;
//! the pool goes on with the others. At the end: tables per worker, per node and overall.
//!
//! With `--sip` the calls are real SIP calls that SIPp places on each node (`sip.rs`), followed
//! the same way, and SIPp's own count of successful and failed calls is printed too.
//!
//! - `options.rs`: the flags; `calls.rs`: originating and following the calls; `sip.rs`: the
//!   same with SIPp's calls;
//! - `live.rs`: the progress line; `table.rs`: the final tables;
//! - `serve.rs`: `--serve`, the pool alone as a service (scripts/cluster).
//!
//! Run it with `scripts/demo [flags]`, or by hand against running test beds:
//! `cargo run --release --example worker_pool -- --help`.

mod calls;
mod live;
mod options;
mod serve;
mod sip;
mod table;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use ari_worker::{Ari, Node, Policy, Pool, Worker};
use clap::Parser;

use crate::options::Options;

/// Set by ^C: stop originating, clean up, report what happened so far.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// What the whole run shares.
pub struct Run {
    pub opts: Options,
    /// Channel ids of this run start with it (`demo-<pid>-`): other people's calls to the same
    /// extension are offered to our workers too, and are none of our business.
    pub prefix: String,
    /// Whether stderr is a terminal: progress is then rewritten in place.
    pub tty: bool,
}

/// Runs the demo; `Ok(true)` when every call ended with a STASISSTATUS or with its node.
async fn run(opts: Options) -> Result<bool, String> {
    let mut nodes = Vec::new();
    for url in &opts.ari {
        let ari = Ari::new(Node::new(url, &opts.user, &opts.password)?);
        ari.check().await?;
        nodes.push(ari);
    }
    let policy = Policy {
        think_max: Duration::from_millis(opts.think_ms),
        hold: Duration::from_millis(opts.hold_ms),
    };
    let names: Vec<String> = (1..=opts.workers).map(|n| format!("pool-{n}")).collect();
    if let Some(file) = &opts.serve {
        return serve::serve(&nodes, &names, policy, file)
            .await
            .map(|()| true);
    }
    let pid = std::process::id();
    let run = Run {
        prefix: format!("demo-{pid}-"),
        tty: std::io::stderr().is_terminal(),
        opts,
    };
    // Exactly one subscribeAll connection per node for the whole run (Asterisk can deadlock
    // ARI when a subscribeAll application's WebSocket closes while a device state event is
    // delivered to it: asterisk/asterisk#2170). Its name must not match the pool's filter
    // ^pool-, or it would be offered the calls.
    let mut observer = Worker::connect(&format!("observer-{pid}"), &nodes, true).await?;
    let prefix = run.prefix.clone();
    let sip = run.opts.sip;
    // SIP calls have Asterisk's own channel ids: every offer to pool-N is one of the run's.
    let ours = Arc::new(move |id: &str| sip || (id.starts_with(&prefix) && id.ends_with(";2")));
    let pool = match Pool::start(&nodes, &names, policy, ours).await {
        Ok(pool) => pool,
        Err(e) => {
            observer.close().await;
            return Err(e);
        }
    };
    let o = &run.opts;
    let placing = if o.sip {
        format!("SIP calls from SIPp at {}/s per node", o.rate)
    } else {
        format!("concurrency {}", o.concurrency)
    };
    eprintln!(
        "{} workers on {} node(s), {} calls, {placing}, think 0..={} ms, timeout {} ms, hold {} ms",
        o.workers,
        nodes.len(),
        o.calls,
        o.think_ms,
        if o.sip { 10_000 } else { o.timeout_ms },
        o.hold_ms
    );
    let (out, sipp) = if o.sip {
        match sip::drive(&run, &mut observer, pool.state()).await {
            Ok(r) => r,
            Err(e) => {
                pool.stop().await;
                observer.close().await;
                return Err(e);
            }
        }
    } else {
        (
            calls::drive(&run, &mut observer, pool.state()).await,
            Vec::new(),
        )
    };
    // Hang up before disconnecting: a call left in a departed application's Stasis would
    // stay there. (SIPp's calls end with their scenario.)
    let leftovers = calls::hang_up_leftovers(&run, &nodes, &out, pool.state()).await;
    let state = pool.stop().await;
    observer.close().await;
    // Once every worker is done: late losers' claims count too.
    live::progress(&run, &state, &out);
    if run.tty {
        eprintln!();
    }
    table::report(&run, &nodes, &state, &out, leftovers);
    for (n, r) in sipp.iter().enumerate() {
        println!(
            "SIPp on node {}: {} successful, {} failed calls (exit status {}; SIPp CPU {:.2} s in {:.1} s)",
            nodes[n].node().label(),
            r.successful,
            r.failed,
            r.code,
            r.cpu.as_secs_f64(),
            r.wall.as_secs_f64()
        );
    }
    let unfinished = out.total(|n| n.unfinished) + out.not_started;
    let accounted = out.total(|n| n.ended() + n.lost_with_node);
    let sipp_ok = sipp.iter().all(|r| r.code == 0);
    Ok(unfinished == 0 && accounted == run.opts.calls as u64 && sipp_ok)
}

fn main() -> ExitCode {
    let opts = Options::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        tokio::spawn(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                INTERRUPTED.store(true, Relaxed);
            }
        });
        run(opts).await
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("worker_pool: {e}");
            ExitCode::FAILURE
        }
    }
}
