//! The calls: originated on the nodes in turn, at most `concurrency` outstanding, each followed
//! until its STASISSTATUS arrives on the node's observer (or its node goes away).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use ari_worker::{Ari, Incoming, Method, Originate, PoolState, Worker};
use serde_json::json;

use crate::{live, Run, INTERRUPTED};

/// How the calls of one node ended.
#[derive(Default)]
pub struct NodeOutcome {
    /// STASISSTATUS value -> calls.
    pub statuses: BTreeMap<String, u64>,
    pub originated: u64,
    /// Outstanding when the node went away (its observer's WebSocket closed).
    pub lost_with_node: u64,
    /// Originated but no STASISSTATUS within the liveness bound (or before an interrupt).
    pub unfinished: u64,
    /// Whether the node went away during the run.
    pub gone: bool,
}

impl NodeOutcome {
    pub fn status(&self, s: &str) -> u64 {
        self.statuses.get(s).copied().unwrap_or(0)
    }

    pub fn ended(&self) -> u64 {
        self.statuses.values().sum()
    }
}

/// How the calls ended, per node and overall.
#[derive(Default)]
pub struct Outcome {
    pub nodes: Vec<NodeOutcome>,
    /// (node, `;2` channel id) of the calls that ended with a STASISSTATUS.
    pub finished: HashSet<(usize, String)>,
    /// Origination refused or failed, or never tried (after ^C or with every node gone).
    pub not_started: u64,
    pub wall: Duration,
}

impl Outcome {
    pub fn total(&self, f: impl Fn(&NodeOutcome) -> u64) -> u64 {
        self.nodes.iter().map(f).sum()
    }

    pub fn status(&self, s: &str) -> u64 {
        self.total(|n| n.status(s))
    }
}

/// Originates the calls and follows them until each has ended, given up, or lost its node.
pub async fn drive(run: &Run, observer: &mut Worker, pool: &PoolState) -> Outcome {
    let o = &run.opts;
    let nodes = observer.nodes().to_vec();
    // Generous: a call normally ends within timeout + think + hold.
    let liveness = Duration::from_millis((3 * o.timeout_ms).max(30_000));
    let variables = json!({ "ASB_TIMEOUT": o.timeout_ms.to_string() });
    let mut out = Outcome {
        nodes: nodes.iter().map(|_| NodeOutcome::default()).collect(),
        ..Outcome::default()
    };
    let mut outstanding: HashMap<(usize, String), Instant> = HashMap::new();
    let (mut next, mut turn) = (0, 0);
    let start = Instant::now();
    let mut shown = start;
    loop {
        let live: Vec<usize> = (0..nodes.len()).filter(|&n| !out.nodes[n].gone).collect();
        let stopping = live.is_empty() || INTERRUPTED.load(Relaxed);
        while !stopping && next < o.calls && (outstanding.len() as u64) < o.concurrency {
            let node = live[turn % live.len()];
            turn += 1;
            let far = format!("{}{next}", run.prefix);
            next += 1;
            // Registered before it exists: its STASISSTATUS may beat the originate's answer.
            let id = format!("{far};2");
            outstanding.insert((node, id.clone()), Instant::now());
            let call = Originate {
                endpoint: "Local/pool@asb/n",
                extension: "hold",
                context: "asb",
                channel_id: &far,
                timeout_secs: liveness.as_secs() + 30,
                variables: variables.clone(),
            };
            let failure = match nodes[node].originate(&call).await {
                Ok(r) if r.status == 200 => {
                    out.nodes[node].originated += 1;
                    continue;
                }
                Ok(r) => format!("originate {far}: HTTP {} {}", r.status, r.body),
                Err(e) => e,
            };
            pool.problem(failure);
            outstanding.remove(&(node, id));
            out.not_started += 1;
        }
        if outstanding.is_empty() && (stopping || next == o.calls) {
            break;
        }
        let tick = tokio::time::timeout(Duration::from_millis(100), observer.recv());
        match tick.await {
            Ok(Some(Incoming::Event { node, event })) => {
                if let Some(status) = event.stasis_status() {
                    let key = (node, event.channel_id().to_owned());
                    if outstanding.remove(&key).is_some() {
                        *out.nodes[node]
                            .statuses
                            .entry(status.to_owned())
                            .or_default() += 1;
                        out.finished.insert(key);
                    }
                }
            }
            Ok(Some(Incoming::Gone { node, why })) => {
                // Its calls went with it: none is left waiting for an answer from there.
                let label = nodes[node].node().label();
                pool.problem(format!("node {label} went away: {why}"));
                let before = outstanding.len();
                outstanding.retain(|(n, _), _| *n != node);
                out.nodes[node].lost_with_node += (before - outstanding.len()) as u64;
                out.nodes[node].gone = true;
            }
            // A node back during the run is not used again before the next run: its calls of
            // this run are already accounted for.
            Ok(Some(Incoming::Back { .. })) | Ok(None) | Err(_) => {}
        }
        // After ^C nothing more is waited for.
        if INTERRUPTED.load(Relaxed) {
            for ((node, _), _) in outstanding.drain() {
                out.nodes[node].unfinished += 1;
            }
        }
        let given_up: Vec<_> = outstanding
            .iter()
            .filter(|(_, since)| since.elapsed() >= liveness)
            .map(|(call, _)| call.clone())
            .collect();
        for call in given_up {
            // Given up on: hang it up now, so that it no longer takes a worker or a slot.
            outstanding.remove(&call);
            let (node, id) = call;
            out.nodes[node].unfinished += 1;
            pool.problem(format!(
                "{id}: no STASISSTATUS within {liveness:?}, hung up"
            ));
            for half in [id.as_str(), id.trim_end_matches(";2")] {
                let _ = nodes[node].hangup(half).await;
            }
        }
        let every = Duration::from_millis(if run.tty { 100 } else { 1000 });
        if shown.elapsed() >= every {
            shown = Instant::now();
            live::progress(run, pool, &out);
        }
    }
    out.wall = start.elapsed();
    out.not_started += (o.calls - next) as u64;
    out
}

/// Hangs up whatever is left of this run's calls on the nodes still up (both halves), e.g.
/// after ^C. Counts only the channels of calls that did not end: those of a call that did may
/// still be hanging up.
pub async fn hang_up_leftovers(run: &Run, nodes: &[Ari], out: &Outcome, pool: &PoolState) -> usize {
    let mut hung_up = 0;
    for (n, ari) in nodes.iter().enumerate() {
        if out.nodes.get(n).is_some_and(|o| o.gone) {
            continue;
        }
        let channels = match ari.request(Method::GET, &["channels"], &[], None).await {
            Ok(r) if r.status == 200 => r.body,
            answer => {
                let why = answer.map_or_else(|e| e, |r| format!("HTTP {} {}", r.status, r.body));
                pool.problem(format!("cannot list channels to hang up leftovers: {why}"));
                continue;
            }
        };
        for ch in channels.as_array().into_iter().flatten() {
            let id = ch["id"].as_str().unwrap_or_default();
            if id.starts_with(&run.prefix) {
                // 404: it ended by itself in the meantime.
                let gone = matches!(ari.hangup(id).await, Ok(204));
                let call = (n, format!("{};2", id.trim_end_matches(";2")));
                hung_up += usize::from(gone && !out.finished.contains(&call));
            }
        }
    }
    hung_up
}
