//! The ARI worker client of app_stasis_broadcast: what an ARI worker of `StasisBroadcast()`
//! does, on one Asterisk node or several.
//!
//! - [`Node`]: one Asterisk's ARI (base URL, credentials) and the URLs built from it;
//! - [`Ari`]: its REST side (claim, continue, hang up, originate), keep-alive connections;
//! - [`Events`]: one application's event WebSocket (opening it registers the application);
//! - [`Worker`]: one application name with a WebSocket on every node, one stream of events;
//! - [`Pool`]: workers that claim every offer from every node and send won calls on;
//! - [`Sipp`]: SIP calls placed by SIPp with the repository's scenarios (`sipp/`).
//!
//! The worker-pool demo, the benchmark and the two-node and SIP tests use it; the blocking test
//! harness takes its URLs and credentials from [`Node`].

mod events;
mod node;
mod pool;
mod rest;
mod sipp;
mod worker;

pub use events::{Event, Events};
pub use node::Node;
pub use pool::{Claims, Ours, Policy, Pool, PoolState, MAX_PROBLEMS};
pub use rest::{Ari, Originate, Reply};
pub use sipp::{Running, Sipp, SippResult};
pub use worker::{Incoming, Worker};

/// Re-exported for callers of [`Ari::request`].
pub use reqwest::Method;
