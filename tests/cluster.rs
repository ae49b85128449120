//! Scaling out on a real SIP proxy: SIPp's calls go to Kamailio (cluster/kamailio.cfg, started
//! by scripts/cluster), whose dispatcher spreads them over two Asterisk nodes; one pool of
//! workers (the ari-worker client's `Pool`, each worker one WebSocket per node) claims them on
//! the node that offered them. An observer on both nodes follows each call's STASISSTATUS.
//!
//! - spread: the calls go to both nodes, each is claimed exactly once, none fails. In the
//!   version matrix node 2 runs the matrix's release (chan_sip and the module's own claim route
//!   on 18.x and 20.x) beside node 1 on 22.10.1 (PJSIP, Asterisk's route): a cluster in the
//!   middle of an upgrade from one release to the next.
//! - a node dies (`kill -9`) under a steady stream of calls: only calls the dead node had taken
//!   fail, Kamailio takes it out, the pool goes on, and once restarted the node takes calls again.
//! - an upgrade: each node in turn is drained, restarted with the module as built now and put
//!   back, under a steady stream of calls: not one call fails.
//!
//! Node death and the upgrade are the same on every release: they run in the main run only.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ari_worker::{Incoming, Policy, Pool, PoolState, Worker};
use common::*;

const WORKERS: usize = 4;
const MAIN: &str = "22.10.1";

/// What the observer saw, per node (index 0 and 1).
#[derive(Default)]
struct Seen {
    /// Channel -> STASISSTATUS.
    statuses: [HashMap<String, String>; 2],
    /// Whether the observer's WebSocket to the node went away, and came back.
    gone: [bool; 2],
    back: [bool; 2],
    /// SUCCESS counted since the node came back.
    success_after_back: [usize; 2],
}

impl Seen {
    fn count(&self, node: usize, status: &str) -> usize {
        self.statuses[node]
            .values()
            .filter(|s| *s == status)
            .count()
    }
}

/// The pool and the observer, on a runtime of their own, with the names of this run.
struct Serving {
    runtime: tokio::runtime::Runtime,
    pool: Option<Pool>,
    seen: Arc<Mutex<Seen>>,
    /// The called user: `w-<filter>` offers the call to this run's workers only.
    user: String,
}

impl Serving {
    fn start(cluster: &Cluster) -> Serving {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let tag = unique("cl");
        let names: Vec<String> = (1..=WORKERS).map(|i| format!("{tag}-w{i}")).collect();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let nodes = cluster.nodes.clone();
        let pool = runtime.block_on(async {
            let mut observer = Worker::connect(&format!("observer-{tag}"), &nodes, true)
                .await
                .unwrap();
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Some(incoming) = observer.recv().await {
                    let mut seen = seen.lock().unwrap();
                    match incoming {
                        Incoming::Event { node, event } => {
                            if let Some(status) = event.stasis_status() {
                                let id = event.channel_id().to_owned();
                                seen.statuses[node].insert(id, status.to_owned());
                                if seen.back[node] && status == "SUCCESS" {
                                    seen.success_after_back[node] += 1;
                                }
                            }
                        }
                        Incoming::Gone { node, .. } => seen.gone[node] = true,
                        Incoming::Back { node } => seen.back[node] = true,
                    }
                }
            });
            let policy = Policy {
                think_max: Duration::from_millis(5),
                hold: Duration::from_millis(20),
            };
            Pool::start(&nodes, &names, policy, Arc::new(|_: &str| true))
                .await
                .unwrap()
        });
        Serving {
            runtime,
            pool: Some(pool),
            seen,
            user: format!("w-{tag}-w.*"),
        }
    }

    fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.seen.lock().unwrap())
    }

    fn pool(&self) -> &PoolState {
        self.pool.as_ref().unwrap().state()
    }

    /// Waits until `calls` calls have a STASISSTATUS and every claim has its answer.
    fn settle(&self, calls: usize) {
        eventually(&format!("{calls} calls with a STASISSTATUS"), || {
            self.seen(|s| s.statuses[0].len() + s.statuses[1].len()) >= calls
        });
        eventually("every claim answered", || self.pool().in_flight() == 0);
    }

    /// Every call ended SUCCESS on its node, and each was won exactly once.
    fn all_claimed_once(&self, calls: usize) {
        self.settle(calls);
        let pool = self.pool();
        let success = self.seen(|s| s.count(0, "SUCCESS") + s.count(1, "SUCCESS"));
        assert_eq!(success, calls, "calls ended SUCCESS");
        assert_eq!(
            pool.total(|c| &c.won) as usize,
            calls,
            "claims won: one per call"
        );
        assert_eq!(pool.total(|c| &c.other), 0, "{:?}", pool.problems());
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            self.runtime.block_on(pool.stop());
        }
    }
}

fn main_run_only() -> bool {
    let main = asterisk_version() == MAIN;
    if !main {
        println!("the main run ({MAIN}) tests this: a node's release does not change it");
    }
    main && sip_here()
}

#[test]
fn spread_over_two_nodes_each_call_claimed_once() {
    if !sip_here() {
        return;
    }
    let cluster = Cluster::up([MAIN, &asterisk_version()]);
    let serving = Serving::start(&cluster);
    let calls = 300;
    run_all(
        cluster.sipp("claimed", &serving.user).calls(calls, 50),
        calls as u64,
    );
    serving.all_claimed_once(calls as usize);
    let (on1, on2) = serving.seen(|s| (s.count(0, "SUCCESS"), s.count(1, "SUCCESS")));
    assert!(on1 > 0 && on2 > 0, "both nodes take calls: {on1} and {on2}");
    let won = &serving.pool().won_on;
    assert_eq!(
        (won[0].load(Relaxed), won[1].load(Relaxed)),
        (on1 as u64, on2 as u64),
        "each node's calls were claimed on that node"
    );
}

/// The calls node `k` had when it died: those it had answered anything for (so Kamailio will
/// not send them elsewhere), less those it had ended (a final failure or its BYE). Everything
/// from a dead node was sent before it died, so Kamailio's trace after the death is exact.
fn calls_on_node_at_death(cluster: &Cluster, k: usize) -> HashSet<String> {
    let from = format!("from {}", cluster.node_sip(k));
    let (mut taken, mut ended) = (HashSet::new(), HashSet::new());
    for line in cluster.trace() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if !line.ends_with(&from) {
            continue;
        }
        match words.as_slice() {
            ["reply", id, code, ..] => {
                taken.insert(id.to_string());
                if code.parse::<u16>().is_ok_and(|c| c >= 300) {
                    ended.insert(id.to_string());
                }
            }
            ["request", id, "BYE", ..] => {
                ended.insert(id.to_string());
            }
            _ => {}
        }
    }
    taken.difference(&ended).cloned().collect()
}

/// Two nodes on the main release, the pool, and SIPp placing `calls` calls at 30/s through
/// Kamailio in the background (None outside the main run).
fn steady_stream(calls: u32) -> Option<(Cluster, Serving, Running)> {
    if !main_run_only() {
        return None;
    }
    let cluster = Cluster::up([MAIN, MAIN]);
    let serving = Serving::start(&cluster);
    let stream = start_sipp(&cluster.sipp("claimed", &serving.user).calls(calls, 30));
    Some((cluster, serving, stream))
}

#[test]
fn a_node_that_dies_costs_only_its_calls_and_comes_back() {
    let calls = 450;
    let Some((cluster, serving, stream)) = steady_stream(calls) else {
        return;
    };
    eventually("node 2 has taken calls", || {
        serving.seen(|s| s.count(1, "SUCCESS")) >= 30
    });
    cluster.run(&["kill", "2"]);
    cluster.wait_dispatcher(2, "I");
    eventually("the pool saw node 2 go", || {
        serving.pool().gone_on[1].load(Relaxed) == WORKERS as u64
    });
    let on_node = calls_on_node_at_death(&cluster, 2);
    cluster.run(&["restart", "2"]);
    let r = stream.finish();
    assert_eq!(r.successful + r.failed, calls as u64, "{}", r.output);
    assert!(
        r.failed <= on_node.len() as u64,
        "{} calls failed, node 2 had {} when it died: {:?}\n{}",
        r.failed,
        on_node.len(),
        on_node,
        r.output
    );
    println!(
        "node 2 died with {} calls: {} failed, {} succeeded",
        on_node.len(),
        r.failed,
        r.successful
    );

    // Back: restart kept it out of the set until the workers had reconnected to it, and new
    // calls reach it again.
    assert!(
        serving.seen(|s| s.back[1]),
        "the observer is back on node 2"
    );
    let again = 40;
    run_all(
        cluster.sipp("claimed", &serving.user).calls(again, 20),
        again as u64,
    );
    eventually("node 2 ended calls again", || {
        serving.seen(|s| s.success_after_back[1]) > 0
    });
}

#[test]
fn an_upgrade_node_by_node_fails_no_call() {
    let calls = 1200;
    let Some((cluster, serving, stream)) = steady_stream(calls) else {
        return;
    };
    for k in [1, 2] {
        let before = serving.seen(|s| s.count(k - 1, "SUCCESS"));
        eventually(&format!("node {k} takes calls"), || {
            serving.seen(|s| s.count(k - 1, "SUCCESS")) >= before + 20
        });
        let k = k.to_string();
        // Out of the set: its calls finish there, new ones go to the other node.
        cluster.run(&["drain", &k]);
        // The new build (here the same one: the procedure is what is tested). A drained node
        // stays out of the set when restarted.
        cluster.run(&["restart", &k]);
        // Back once the workers are connected to it again.
        cluster.run(&["undrain", &k]);
    }
    finish_all(stream, calls as u64);
    serving.all_claimed_once(calls as usize);
}
