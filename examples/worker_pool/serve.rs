//! `--serve FILE`: the pool alone, as a service (scripts/cluster up runs it beside Kamailio).
//! Every worker connects to every node and claims whatever is offered to it, from anyone's
//! calls, until SIGTERM or ^C; a node that goes away is reconnected when it is back. The tables
//! per worker and per node are written to FILE (replaced whole) each second they changed, for
//! whoever wants to look (scripts/cluster calls prints it), or printed on stdout with FILE `-`
//! (compose.cluster.yaml: the container's log).

use std::fmt::Write;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use ari_worker::{Ari, Policy, Pool, PoolState};
use tokio::signal::unix::{signal, SignalKind};

use crate::table::workers_table;

pub async fn serve(
    nodes: &[Ari],
    names: &[String],
    policy: Policy,
    file: &Path,
) -> Result<(), String> {
    // Every offer is ours: a service claims what it is offered.
    let pool = Pool::start(nodes, names, policy, Arc::new(|_: &str| true)).await?;
    eprintln!(
        "serving: {} workers on {} node(s); tables in {}",
        names.len(),
        nodes.len(),
        file.display()
    );
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last = String::new();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = tick.tick() => {}
        }
        let now = tables(nodes, pool.state());
        if now != last {
            write(file, &now)?;
            last = now;
        }
    }
    let state = pool.stop().await;
    write(file, &tables(nodes, &state))?;
    eprintln!("stopped");
    Ok(())
}

fn tables(nodes: &[Ari], pool: &PoolState) -> String {
    let mut o = workers_table(pool);
    let _ = writeln!(o, "\n{:<22} {:>8} {:>14}", "node", "won", "connection lost");
    for (i, ari) in nodes.iter().enumerate() {
        let _ = writeln!(
            o,
            "{:<22} {:>8} {:>14}",
            ari.node().label(),
            pool.won_on[i].load(Relaxed),
            pool.gone_on[i].load(Relaxed)
        );
    }
    for p in pool.problems() {
        let _ = writeln!(o, "problem: {p}");
    }
    o
}

/// Replaces `file` whole (a reader never sees half a table); `-` prints it instead.
fn write(file: &Path, text: &str) -> Result<(), String> {
    if file == Path::new("-") {
        println!("{text}");
        return Ok(());
    }
    let tmp = file.with_extension("new");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, file))
        .map_err(|e| format!("{}: {e}", file.display()))
}
