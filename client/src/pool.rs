//! A pool of workers competing for the calls `StasisBroadcast()` offers them, on every node:
//! each worker claims every offer (after a random think time), keeps a won call a while, then
//! sends it back to its dialplan with `continue`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::{Ari, Incoming, Worker};

/// How the workers behave.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// A worker waits a random 0..=`think_max` before each claim.
    pub think_max: Duration,
    /// A winner keeps its call in Stasis this long, then `continue`s it.
    pub hold: Duration,
}

/// Claims of one worker, by answer.
#[derive(Default, Debug)]
pub struct Claims {
    pub offered: AtomicU64,
    pub won: AtomicU64,
    pub lost: AtomicU64,
    pub not_found: AtomicU64,
    /// Any other answer (e.g. 501: no StasisBroadcast module loaded) or none (node gone).
    pub other: AtomicU64,
}

impl Claims {
    /// `[offered, won, lost, not_found, other]` now.
    pub fn counts(&self) -> [u64; 5] {
        [
            &self.offered,
            &self.won,
            &self.lost,
            &self.not_found,
            &self.other,
        ]
        .map(|c| c.load(Relaxed))
    }
}

/// What the pool has done so far, readable while it runs.
pub struct PoolState {
    /// Per worker: its name and its claims.
    pub workers: Vec<(String, Claims)>,
    /// Per node: calls won there (by any worker).
    pub won_on: Vec<AtomicU64>,
    /// Per node: how many times a worker lost its WebSocket to it.
    pub gone_on: Vec<AtomicU64>,
    /// Claim round trips, microseconds (claims that got an answer).
    pub round_trips: Mutex<Vec<u64>>,
    problems: Mutex<Vec<String>>,
    /// Claims and continues still waiting for their answer (holds included).
    in_flight: AtomicU64,
}

/// Enough problems to see what went wrong without flooding a terminal.
pub const MAX_PROBLEMS: usize = 20;

impl PoolState {
    /// Sum over the workers of one of their counters.
    pub fn total(&self, f: impl Fn(&Claims) -> &AtomicU64) -> u64 {
        self.workers.iter().map(|(_, c)| f(c).load(Relaxed)).sum()
    }

    /// Claims and continues not yet answered.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Relaxed)
    }

    /// Problems worth reporting once (the first [`MAX_PROBLEMS`]).
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap().clone()
    }

    pub fn problem(&self, p: String) {
        let mut problems = self.problems.lock().unwrap();
        if problems.len() < MAX_PROBLEMS {
            problems.push(p);
        }
    }
}

/// A running pool; [`Pool::stop`] ends it.
pub struct Pool {
    state: Arc<PoolState>,
    stop: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
}

/// Which channels are the pool's business (other people's calls may be offered too).
pub type Ours = Arc<dyn Fn(&str) -> bool + Send + Sync>;

impl Pool {
    /// Connects every worker to every node, then lets them work.
    pub async fn start(
        nodes: &[Ari],
        names: &[String],
        policy: Policy,
        ours: Ours,
    ) -> Result<Pool, String> {
        let mut connected = Vec::new();
        for name in names {
            match Worker::connect(name, nodes, false).await {
                Ok(w) => connected.push(w),
                Err(e) => {
                    for w in connected {
                        w.close().await;
                    }
                    return Err(e);
                }
            }
        }
        let per_node = || nodes.iter().map(|_| AtomicU64::new(0)).collect();
        let state = Arc::new(PoolState {
            workers: names
                .iter()
                .map(|n| (n.clone(), Claims::default()))
                .collect(),
            won_on: per_node(),
            gone_on: per_node(),
            round_trips: Mutex::new(Vec::new()),
            problems: Mutex::new(Vec::new()),
            in_flight: AtomicU64::new(0),
        });
        let (stop, stopped) = watch::channel(false);
        let workers = connected
            .into_iter()
            .enumerate()
            .map(|(i, w)| {
                let job = work(i, w, state.clone(), policy, ours.clone(), stopped.clone());
                tokio::spawn(job)
            })
            .collect();
        Ok(Pool {
            state,
            stop,
            workers,
        })
    }

    pub fn state(&self) -> &Arc<PoolState> {
        &self.state
    }

    /// Stops reading events; claims in flight get their answers, holds are cut short (without
    /// a `continue`: by now the caller of `stop` hung the calls up), and every WebSocket is
    /// closed when this returns.
    pub async fn stop(self) -> Arc<PoolState> {
        let _ = self.stop.send(true);
        for w in self.workers {
            let _ = w.await;
        }
        self.state
    }
}

/// One worker: each offer and each won call is handled by a task of its own, so that one
/// call's think or hold time does not delay the worker's answer to the next offer.
async fn work(
    index: usize,
    mut worker: Worker,
    state: Arc<PoolState>,
    policy: Policy,
    ours: Ours,
    mut stop: watch::Receiver<bool>,
) {
    let mut tasks = JoinSet::new();
    loop {
        let incoming = tokio::select! {
            _ = stop.changed() => break,
            incoming = worker.recv() => incoming,
        };
        while tasks.try_join_next().is_some() {}
        let (node, event) = match incoming {
            None => break,
            // The worker reopened it: nothing to count (a loss was counted when it went).
            Some(Incoming::Back { .. }) => continue,
            Some(Incoming::Gone { node, why }) => {
                state.gone_on[node].fetch_add(1, Relaxed);
                let label = worker.node(node).node().label();
                state.problem(format!("{}: lost node {label}: {why}", worker.name()));
                continue;
            }
            Some(Incoming::Event { node, event }) => (node, event),
        };
        // Only offers and won calls are acted on: other events cost no copies.
        let offer = match event.kind() {
            "CallBroadcast" => true,
            "StasisStart" => false,
            _ => continue,
        };
        if !ours(event.channel_id()) {
            continue;
        }
        let (id, ari, app, state) = (
            event.channel_id().to_owned(),
            worker.node(node).clone(),
            worker.name().to_owned(),
            state.clone(),
        );
        if offer {
            state.workers[index].1.offered.fetch_add(1, Relaxed);
            let think = fastrand::u64(0..=policy.think_max.as_micros() as u64);
            state.in_flight.fetch_add(1, Relaxed);
            tasks.spawn(async move {
                // Not cut short by `stop`: every offer gets its claim, and late losers'
                // answers are part of what a pool sees.
                tokio::time::sleep(Duration::from_micros(think)).await;
                claim(&ari, &app, &id, node, index, &state).await;
                state.in_flight.fetch_sub(1, Relaxed);
            });
        } else {
            let mut stop = stop.clone();
            state.in_flight.fetch_add(1, Relaxed);
            tasks.spawn(async move {
                let held = tokio::select! {
                    _ = tokio::time::sleep(policy.hold) => true,
                    _ = stop.changed() => false,
                };
                if held {
                    match ari.continue_in_dialplan(&id).await {
                        Ok(204) => {}
                        Ok(s) => state.problem(format!("{app}: continue {id}: HTTP {s}")),
                        Err(e) => state.problem(format!("{app}: {e}")),
                    }
                }
                state.in_flight.fetch_sub(1, Relaxed);
            });
        }
    }
    while tasks.join_next().await.is_some() {}
    worker.close().await;
}

async fn claim(ari: &Ari, app: &str, id: &str, node: usize, index: usize, state: &PoolState) {
    let sent = Instant::now();
    let answer = ari.claim(id, app).await;
    if answer.is_ok() {
        let rtt = sent.elapsed().as_micros() as u64;
        state.round_trips.lock().unwrap().push(rtt);
    }
    let claims = &state.workers[index].1;
    let counter = match answer {
        Ok(204) => {
            state.won_on[node].fetch_add(1, Relaxed);
            &claims.won
        }
        Ok(409) => &claims.lost,
        Ok(404) => &claims.not_found,
        Ok(s) => {
            state.problem(format!("{app}: claim of {id}: HTTP {s}"));
            &claims.other
        }
        Err(e) => {
            state.problem(format!("{app}: {e}"));
            &claims.other
        }
    };
    counter.fetch_add(1, Relaxed);
}
