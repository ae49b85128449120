//! The final tables: per worker, per node, overall.

use std::sync::atomic::Ordering::Relaxed;

use ari_worker::{Ari, PoolState, MAX_PROBLEMS};

use crate::calls::Outcome;
use crate::{Run, INTERRUPTED};

/// p in 0..=1 by nearest rank, in milliseconds.
fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

pub fn report(run: &Run, nodes: &[Ari], pool: &PoolState, out: &Outcome, leftovers: usize) {
    workers(pool);
    if nodes.len() > 1 {
        per_node(nodes, pool, out);
    }
    println!();
    let mut statuses = format!(
        "SUCCESS {}, TIMEOUT {}, FAILED {}",
        out.status("SUCCESS"),
        out.status("TIMEOUT"),
        out.status("FAILED")
    );
    let mut others = std::collections::BTreeMap::new();
    for n in &out.nodes {
        for (s, k) in &n.statuses {
            if !matches!(s.as_str(), "SUCCESS" | "TIMEOUT" | "FAILED") {
                *others.entry(s.clone()).or_insert(0) += k;
            }
        }
    }
    for (s, k) in others {
        statuses.push_str(&format!(", {s} {k}"));
    }
    println!("calls              {} ({statuses})", run.opts.calls);
    let lost = out.total(|n| n.lost_with_node);
    if lost > 0 {
        println!("ended with a node  {lost} (outstanding when their node went away)");
    }
    let unfinished = out.total(|n| n.unfinished);
    if unfinished + out.not_started > 0 {
        println!(
            "no STASISSTATUS    {} ({} never started)",
            unfinished + out.not_started,
            out.not_started
        );
    }
    let mut rtts = pool.round_trips.lock().unwrap().clone();
    rtts.sort_unstable();
    println!(
        "claim round trip   p50 {:.1} ms, p99 {:.1} ms ({} claims)",
        percentile(&rtts, 0.50),
        percentile(&rtts, 0.99),
        rtts.len()
    );
    let secs = out.wall.as_secs_f64();
    let ended = out.total(|n| n.ended());
    let rate = if secs > 0.0 { ended as f64 / secs } else { 0.0 };
    println!("wall time          {secs:.2} s ({rate:.1} calls/s)");
    if INTERRUPTED.load(Relaxed) {
        println!("interrupted (^C)");
    }
    if leftovers > 0 {
        println!("hung up {leftovers} leftover channel(s) of this run");
    }
    let problems = pool.problems();
    if !problems.is_empty() {
        let capped = if problems.len() == MAX_PROBLEMS {
            " (the first ones)"
        } else {
            ""
        };
        eprintln!("\nproblems{capped}:");
        for p in problems {
            eprintln!("  {p}");
        }
    }
}

/// The table per worker: offers, wins, losses, 404s and a total line.
pub fn workers_table(pool: &PoolState) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let row = |o: &mut String, name: &str, w: [u64; 4]| {
        let _ = writeln!(
            o,
            "{name:<10} {:>8} {:>8} {:>8} {:>10}",
            w[0], w[1], w[2], w[3]
        );
    };
    let _ = writeln!(
        o,
        "{:<10} {:>8} {:>8} {:>8} {:>10}",
        "worker", "offered", "won", "lost", "not found"
    );
    let mut total = [0; 4];
    for (name, claims) in &pool.workers {
        let c = claims.counts();
        let w = [c[0], c[1], c[2], c[3]];
        row(&mut o, name, w);
        for (t, v) in total.iter_mut().zip(w) {
            *t += v;
        }
    }
    row(&mut o, "total", total);
    let other = pool.total(|c| &c.other);
    if other > 0 {
        let _ = writeln!(o, "(and {other} claims with another answer or none)");
    }
    o
}

fn workers(pool: &PoolState) {
    print!("\n{}", workers_table(pool));
}

fn per_node(nodes: &[Ari], pool: &PoolState, out: &Outcome) {
    println!(
        "\n{:<22} {:>10} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "node", "originated", "SUCCESS", "TIMEOUT", "FAILED", "won", "with node"
    );
    for (i, ari) in nodes.iter().enumerate() {
        let n = &out.nodes[i];
        let label = if n.gone {
            format!("{} (gone)", ari.node().label())
        } else {
            ari.node().label()
        };
        println!(
            "{label:<22} {:>10} {:>8} {:>8} {:>8} {:>8} {:>10}",
            n.originated,
            n.status("SUCCESS"),
            n.status("TIMEOUT"),
            n.status("FAILED"),
            pool.won_on[i].load(Relaxed),
            n.lost_with_node
        );
    }
}
