//! Scaling out: one pool of workers (the ari-worker client's `Pool`, as the demo runs it) serves
//! two Asterisk nodes, each worker with one WebSocket per node under its application name. When
//! one node is stopped in the middle of the run, the pool goes on serving the other: every call
//! there ends SUCCESS, and nothing is left waiting on the stopped node's calls.
//!
//! The second node comes from the environment (see tests/common/nodes.rs).

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ari_worker::{Ari, Incoming, Originate, Policy, Pool, Worker};
use common::*;
use serde_json::json;

const A: usize = 0;
const B: usize = 1;
const WORKERS: usize = 4;

/// Calls of the run, followed through the observers' STASISSTATUS.
struct Calls {
    nodes: Vec<Ari>,
    observer: Worker,
    prefix: String,
    filter: String,
    next: usize,
    /// (node, `;2` id) -> originated when.
    outstanding: HashMap<(usize, String), Instant>,
    /// Per node: STASISSTATUS -> calls.
    ended: [HashMap<String, u32>; 2],
    originated: [u32; 2],
    gone: [bool; 2],
    /// Node B is being stopped: from now on it may refuse calls.
    b_stopping: bool,
    /// Outstanding on a node when it went away.
    with_node: [u32; 2],
}

impl Calls {
    /// Whether the call was originated (only node B, once being stopped, may refuse).
    async fn originate(&mut self, node: usize) -> bool {
        let far = format!("{}{}", self.prefix, self.next);
        self.next += 1;
        self.outstanding
            .insert((node, format!("{far};2")), Instant::now());
        let call = Originate {
            endpoint: "Local/raw@asb/n",
            extension: "hold",
            context: "asb",
            channel_id: &far,
            timeout_secs: 300,
            variables: json!({ "ASB_ARGS": format!("10000,{}", self.filter) }),
        };
        let r = self.nodes[node].originate(&call).await;
        match r {
            Ok(r) if r.status == 200 => {
                self.originated[node] += 1;
                true
            }
            _ if node == B && self.b_stopping => {
                self.outstanding.remove(&(node, format!("{far};2")));
                false
            }
            other => panic!("originate on node {node}: {other:?}"),
        }
    }

    /// Waits for the next end of a call (or of node B); panics past the liveness bound.
    async fn step(&mut self) {
        let until = Instant::now() + *LIVENESS;
        let left = until.saturating_duration_since(Instant::now());
        let incoming = tokio::time::timeout(left, self.observer.recv()).await;
        match incoming {
            Ok(Some(Incoming::Event { node, event })) => {
                if let Some(status) = event.stasis_status() {
                    let key = (node, event.channel_id().to_owned());
                    if self.outstanding.remove(&key).is_some() {
                        *self.ended[node].entry(status.to_owned()).or_default() += 1;
                    }
                }
            }
            Ok(Some(Incoming::Gone { node, why })) => {
                assert_eq!(node, B, "node A's observer went away: {why}");
                self.gone[B] = true;
                let before = self.outstanding.len();
                self.outstanding.retain(|(n, _), _| *n != B);
                self.with_node[B] += (before - self.outstanding.len()) as u32;
            }
            Ok(Some(Incoming::Back { node })) => panic!("node {node} came back while stopped"),
            Ok(None) => panic!("both observers went away"),
            Err(_) => panic!(
                "no call ended within {:?}; outstanding: {:?}",
                *LIVENESS,
                self.outstanding.keys().collect::<Vec<_>>()
            ),
        }
    }

    fn outstanding_on(&self, node: usize) -> usize {
        self.outstanding.keys().filter(|(n, _)| *n == node).count()
    }

    fn succeeded(&self, node: usize) -> u32 {
        self.ended[node].get("SUCCESS").copied().unwrap_or(0)
    }
}

#[test]
fn one_pool_serves_two_nodes_and_goes_on_when_one_stops() {
    asterisk();
    let second = SecondNode::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let nodes = vec![Ari::new(node().clone()), Ari::new(second.node().clone())];
        let tag = unique("twonodes");
        let prefix = format!("{tag}-c");
        let names: Vec<String> = (1..=WORKERS).map(|i| format!("{tag}-w{i}")).collect();
        let observer = Worker::connect(&format!("{tag}-observer"), &nodes, true)
            .await
            .unwrap();
        let policy = Policy {
            think_max: Duration::from_millis(2),
            hold: Duration::ZERO,
        };
        let mine = prefix.clone();
        let ours = Arc::new(move |id: &str| id.starts_with(&mine) && id.ends_with(";2"));
        let pool = Pool::start(&nodes, &names, policy, ours).await.unwrap();
        let mut calls = Calls {
            nodes,
            observer,
            filter: format!("^{tag}-w"),
            prefix,
            next: 0,
            outstanding: HashMap::new(),
            ended: [HashMap::new(), HashMap::new()],
            originated: [0, 0],
            gone: [false, false],
            b_stopping: false,
            with_node: [0, 0],
        };

        // Both nodes up: ten calls on each, two at a time per node.
        while calls.originated != [10, 10] || !calls.outstanding.is_empty() {
            for n in [A, B] {
                while calls.originated[n] < 10 && calls.outstanding_on(n) < 2 {
                    assert!(calls.originate(n).await, "originate on node {n}");
                }
            }
            if !calls.outstanding.is_empty() {
                calls.step().await;
            }
        }
        assert_eq!([calls.succeeded(A), calls.succeeded(B)], [10, 10], "{:?}", calls.ended);
        let state = pool.state().clone();
        let won: Vec<u64> = state.won_on.iter().map(|w| w.load(Relaxed)).collect();
        assert_eq!(won, [10, 10], "the pool won every call on both nodes");

        // Node B is stopped once it has served five more calls, with calls still outstanding
        // there; node A goes on until ten more of its calls have ended after B went away.
        let b_before = calls.succeeded(B);
        let mut stopping: Option<tokio::task::JoinHandle<()>> = None;
        let mut a_after_gone = None;
        loop {
            if calls.gone[B] && a_after_gone.is_none() {
                a_after_gone = Some(calls.originated[A] + 10);
            }
            let a_target = a_after_gone.unwrap_or(u32::MAX);
            while calls.originated[A] < a_target && calls.outstanding_on(A) < 2 {
                calls.originate(A).await;
            }
            // Node B stays busy until it is gone: calls are outstanding there when it stops.
            while !calls.gone[B] && calls.outstanding_on(B) < 2 {
                if !calls.originate(B).await {
                    break;
                }
            }
            if stopping.is_none() && calls.succeeded(B) >= b_before + 5 {
                calls.b_stopping = true;
                stopping = Some(tokio::task::spawn_blocking(second.stopper()));
            }
            if calls.outstanding.is_empty() && a_after_gone.is_some() {
                break;
            }
            calls.step().await;
        }
        stopping
            .expect("node B went away before it was stopped")
            .await
            .unwrap();

        let a_total = calls.originated[A];
        assert_eq!(calls.succeeded(A), a_total, "every call on node A ends SUCCESS: {:?}", calls.ended[A]);
        assert!(calls.gone[B], "node B's observer saw it go");
        // Nothing is left waiting: every claim and continue the pool sent got an answer or
        // failed with the node, and every worker noticed node B's WebSocket go.
        let until = Instant::now() + *LIVENESS;
        while state.in_flight() > 0 || state.gone_on[B].load(Relaxed) < WORKERS as u64 {
            assert!(
                Instant::now() < until,
                "pool still waiting: {} in flight, {} of {WORKERS} workers saw node B go",
                state.in_flight(),
                state.gone_on[B].load(Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!(
            "node A: {a_total} calls, all SUCCESS; node B: {} calls, {} SUCCESS, {} outstanding when it stopped",
            calls.originated[B],
            calls.succeeded(B),
            calls.with_node[B]
        );
        pool.stop().await;
        calls.observer.close().await;
    });
}
