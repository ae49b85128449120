//! The calls as real SIP calls (`--sip`): on each node, SIPp places its share of the calls at
//! `--rate` calls per second with scenario `sipp/claimed.xml`, to the called user `w-pool-.*` on
//! the node's SIP port. The test bed's context asb-sip runs `StasisBroadcast(10000,^pool-.*$)` on
//! them; a call claimed and sent on is answered and hung up 0.2 s later (a successful call for
//! SIPp), one that nobody claims gets 486 Busy Here (a failed one). Each call is followed until
//! its STASISSTATUS arrives on the node's observer, as the Local channels are.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ari_worker::{Ari, Incoming, PoolState, Running, Sipp, SippResult, Worker};

use crate::calls::Outcome;
use crate::{live, Run, INTERRUPTED};

/// A node's SIP port: the test bed's, its ARI port - 3018 (scripts/testbed's ASB_SIP_PORT).
fn sip_target(ari: &Ari) -> Result<String, String> {
    let base = ari.node().base();
    let port = base
        .port_or_known_default()
        .ok_or_else(|| format!("{base}: no port"))?;
    Ok(format!(
        "{}:{}",
        base.host_str().unwrap_or("127.0.0.1"),
        port - 3018
    ))
}

/// Whether a channel is one of SIPp's calls (PJSIP on 22.x, chan_sip on 18.x and 20.x).
fn is_sip(event: &ari_worker::Event) -> bool {
    let name = event.json["channel"]["name"].as_str().unwrap_or_default();
    name.starts_with("PJSIP/") || name.starts_with("SIP/")
}

/// Places the calls and follows them; returns how they ended and SIPp's count per node.
pub async fn drive(
    run: &Run,
    observer: &mut Worker,
    pool: &PoolState,
) -> Result<(Outcome, Vec<SippResult>), String> {
    let o = &run.opts;
    let nodes = observer.nodes().to_vec();
    let mut out = Outcome {
        nodes: nodes.iter().map(|_| Default::default()).collect(),
        ..Outcome::default()
    };
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut callers: Vec<Running> = Vec::new();
    for (n, ari) in nodes.iter().enumerate() {
        // The calls spread over the nodes: the first ones take the remainder.
        let share = o.calls / nodes.len() + usize::from(n < o.calls % nodes.len());
        let caller = Sipp::new(
            &repo.join("sipp/claimed.xml"),
            "w-pool-.*",
            &sip_target(ari)?,
            // SIPp's own ports, above the test bed's RTP range, ten per node.
            30_000 + 10 * n as u16,
            &repo.join("target/sipp"),
        )
        .calls(share as u32, o.rate);
        callers.push(caller.start()?);
        out.nodes[n].originated = share as u64;
    }
    let start = Instant::now();
    let mut shown = start;
    // After the last SIPp has ended, the STASISSTATUS of its last calls may still be on its way.
    let mut all_ended_at = None;
    loop {
        let ended = out.total(|n| n.ended());
        if ended >= o.calls as u64 || INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        if callers.iter_mut().all(|c| !c.running()) {
            let since = *all_ended_at.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_secs(5) {
                break;
            }
        }
        let tick = tokio::time::timeout(Duration::from_millis(100), observer.recv());
        match tick.await {
            Ok(Some(Incoming::Event { node, event })) => {
                if let (Some(status), true) = (event.stasis_status(), is_sip(&event)) {
                    *out.nodes[node]
                        .statuses
                        .entry(status.to_owned())
                        .or_default() += 1;
                    out.finished.insert((node, event.channel_id().to_owned()));
                }
            }
            Ok(Some(Incoming::Gone { node, why })) => {
                let label = nodes[node].node().label();
                pool.problem(format!("node {label} went away: {why}"));
                out.nodes[node].gone = true;
            }
            Ok(Some(Incoming::Back { .. })) | Ok(None) | Err(_) => {}
        }
        let every = Duration::from_millis(if run.tty { 100 } else { 1000 });
        if shown.elapsed() >= every {
            shown = Instant::now();
            live::progress(run, pool, &out);
        }
    }
    if INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed) {
        // Dropping them stops them.
        drop(callers);
        out.wall = start.elapsed();
        return Ok((out, Vec::new()));
    }
    let results = tokio::task::spawn_blocking(move || {
        callers.into_iter().map(Running::finish).collect::<Vec<_>>()
    })
    .await
    .map_err(|e| e.to_string())?;
    for (n, r) in results.iter().enumerate() {
        let placed = out.nodes[n].originated;
        let ended = out.nodes[n].ended();
        out.nodes[n].unfinished = placed.saturating_sub(ended);
        if r.code != 0 {
            let tail: String = r
                .output
                .lines()
                .rev()
                .take(3)
                .collect::<Vec<_>>()
                .join(" | ");
            pool.problem(format!("SIPp on node {n}: exit status {}: {tail}", r.code));
        }
    }
    out.wall = start.elapsed();
    Ok((out, results))
}
