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
//! - `options.rs`: the flags; `calls.rs`: originating and following the calls;
//! - `live.rs`: the progress line; `table.rs`: the final tables.
//!
//! Run it with `scripts/demo [flags]`, or by hand against running test beds:
//! `cargo run --release --example worker_pool -- --help`.

mod calls;
mod live;
mod options;
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
    let pid = std::process::id();
    let run = Run {
        prefix: format!("demo-{pid}-"),
        tty: std::io::stderr().is_terminal(),
        opts,
    };
    // Exactly one subscribeAll connection per node for the whole run (Asterisk 22.10 can
    // deadlock when subscribeAll applications come and go concurrently). Its name must not
    // match the pool's filter ^pool-, or it would be offered the calls.
    let mut observer = Worker::connect(&format!("observer-{pid}"), &nodes, true).await?;
    let names: Vec<String> = (1..=run.opts.workers)
        .map(|n| format!("pool-{n}"))
        .collect();
    let policy = Policy {
        think_max: Duration::from_millis(run.opts.think_ms),
        hold: Duration::from_millis(run.opts.hold_ms),
    };
    let prefix = run.prefix.clone();
    let ours = Arc::new(move |id: &str| id.starts_with(&prefix) && id.ends_with(";2"));
    let pool = match Pool::start(&nodes, &names, policy, ours).await {
        Ok(pool) => pool,
        Err(e) => {
            observer.close().await;
            return Err(e);
        }
    };
    let o = &run.opts;
    eprintln!(
        "{} workers on {} node(s), {} calls, concurrency {}, think 0..={} ms, timeout {} ms, hold {} ms",
        o.workers,
        nodes.len(),
        o.calls,
        o.concurrency,
        o.think_ms,
        o.timeout_ms,
        o.hold_ms
    );
    let out = calls::drive(&run, &mut observer, pool.state()).await;
    // Hang up before disconnecting: a call left in a departed application's Stasis would
    // stay there.
    let leftovers = calls::hang_up_leftovers(&run, &nodes, &out, pool.state()).await;
    let state = pool.stop().await;
    observer.close().await;
    // Once every worker is done: late losers' claims count too.
    live::progress(&run, &state, &out);
    if run.tty {
        eprintln!();
    }
    table::report(&run, &nodes, &state, &out, leftovers);
    let unfinished = out.total(|n| n.unfinished) + out.not_started;
    let accounted = out.total(|n| n.ended() + n.lost_with_node);
    Ok(unfinished == 0 && accounted == run.opts.calls as u64)
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
