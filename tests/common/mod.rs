//! The integration harness: a real Asterisk in a container (scripts/testbed),
//! ARI over real HTTP and WebSockets, real calls over Local channels.
//!
//! `ASB_TARGET=upstream` runs the same tests against Asterisk's own packaged
//! modules; tests of beyond-upstream behaviour go through [`beyond`], which
//! turns their failure there into an expected failure (and their success
//! there into a failure, so the marking stays honest).
//!
//! Waits for events have generous liveness bounds (`LIVENESS`); no test
//! asserts how fast anything happens.
#![allow(dead_code, unused_imports)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use ari_worker::Node;
use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

mod app;
mod beyond;
mod call;
mod cluster;
mod log;
mod nodes;
mod observer;
mod sipp;
mod wire;

pub use app::{App, Racer};
pub use beyond::beyond;
pub use call::Call;
pub use cluster::Cluster;
pub use log::Log;
pub use nodes::SecondNode;
pub use observer::{
    destroyed, digits_published, hangup_requested, observer, status, subscribed, var_set, Observer,
};
pub use sipp::{
    finish_all, has_sip, run_all, sip_here, sipp, sipp_to, start_sipp, wait_log, Running, Sipp,
};
pub use wire::{http_request, Answer, Auth};

/// The test bed's HTTP server: `127.0.0.1:<ASB_HTTP_PORT>` (default 8088), as
/// `scripts/testbed` starts it.
pub fn http_host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let port = std::env::var("ASB_HTTP_PORT").unwrap_or_else(|_| "8088".into());
        format!("127.0.0.1:{port}")
    })
}

/// The test bed as an ARI node (the ari-worker client's): URLs and credentials.
pub fn node() -> &'static Node {
    static NODE: OnceLock<Node> = OnceLock::new();
    NODE.get_or_init(|| Node::new(&format!("http://{}/ari", http_host()), USER, PASS).unwrap())
}

/// The test bed's ARI URL with the credentials in it: ureq sends them as Basic authentication.
pub(crate) fn authed(path_and_query: &str) -> String {
    authed_on(node(), path_and_query)
}

/// The same on another node.
fn authed_on(node: &Node, path_and_query: &str) -> String {
    format!("{}{path_and_query}", node.url_with_credentials(&[]))
}
pub const USER: &str = "asb";
pub const PASS: &str = "asb";
/// Upper bound for anything that should happen "soon" (an event, a log line):
/// 20 s, or `ASB_LIVENESS_SECS` (e.g. under valgrind, where all is slower).
pub static LIVENESS: std::sync::LazyLock<Duration> = std::sync::LazyLock::new(|| {
    let secs = std::env::var("ASB_LIVENESS_SECS")
        .ok()
        .and_then(|v| v.parse().ok());
    Duration::from_secs(secs.unwrap_or(20))
});

/// Which implementation the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Ours,
    Upstream,
}

pub fn target() -> Target {
    match std::env::var("ASB_TARGET").as_deref() {
        Ok("upstream") => Target::Upstream,
        _ => Target::Ours,
    }
}

impl Target {
    /// The test bed's mode for it (scripts/testbed's run/mode).
    pub fn mode(self) -> &'static str {
        match self {
            Target::Ours => "ours",
            Target::Upstream => "upstream",
        }
    }

    /// `scripts/testbed start` for it.
    pub fn start_args(self) -> &'static [&'static str] {
        match self {
            Target::Ours => &["start"],
            Target::Upstream => &["start", "--upstream"],
        }
    }
}

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The test bed's cache and run-time directory (`ASB_CACHE`).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("ASB_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/app_stasis_broadcast"))
}

/// Runs scripts/testbed with arguments; panics with its output on failure.
pub fn testbed(args: &[&str]) -> String {
    testbed_env(&[], args)
}

/// scripts/testbed as a command, with `env` set (e.g. another node's port,
/// container and cache).
pub fn testbed_command(env: &[(&str, String)], args: &[&str]) -> Command {
    let mut cmd = Command::new(repo().join("scripts/testbed"));
    cmd.args(args).envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// Runs scripts/testbed with `env` set; panics with its output on failure.
pub fn testbed_env(env: &[(&str, String)], args: &[&str]) -> String {
    stdout_of(
        testbed_command(env, args),
        &format!("scripts/testbed {args:?} (env {env:?})"),
    )
}

/// Runs `cmd` (one of the repository's scripts, `what`) to its end; its stdout, or a panic with
/// its output when it fails.
pub fn stdout_of(mut cmd: Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The Asterisk version the test bed runs (`ASB_ASTERISK`, default 22.10.1:
/// Debian's package; the others are built from release source).
pub fn asterisk_version() -> String {
    std::env::var("ASB_ASTERISK").unwrap_or_else(|_| "22.10.1".into())
}

/// Whether that Asterisk has its own `POST /ari/events/claim` route (20.20+,
/// 22.10+, 23.4+): there a claim with no StasisBroadcast module loaded gets
/// 501; elsewhere the route is the module's own and goes away with it.
pub fn asterisk_has_claim_route() -> bool {
    release::has_own_claim_route(&asterisk_version()).unwrap_or(false)
}

/// The module's own rule of which releases have the route (the pure core's file).
#[path = "../../src/core/release.rs"]
mod release;

/// The module built as for a release without Asterisk's claim route: against this test bed's
/// headers without `asterisk/stasis_app_broadcast.h` (links to all the others), into
/// target/module-route-VERSION. Returns the module's path.
pub fn module_route_build() -> PathBuf {
    let headers = PathBuf::from(testbed(&["headers"]).trim());
    let dir = repo().join(format!("target/module-route-{}", asterisk_version()));
    let include = dir.join("include");
    let _ = std::fs::remove_dir_all(&include);
    std::fs::create_dir_all(include.join("asterisk")).expect("create the header overlay");
    std::os::unix::fs::symlink(headers.join("asterisk.h"), include.join("asterisk.h"))
        .expect("link asterisk.h");
    for entry in std::fs::read_dir(headers.join("asterisk")).expect("read the headers") {
        let entry = entry.expect("a header");
        if entry.file_name() != "stasis_app_broadcast.h" {
            std::os::unix::fs::symlink(
                entry.path(),
                include.join("asterisk").join(entry.file_name()),
            )
            .expect("link a header");
        }
    }
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--lib", "-p", "app_stasis_broadcast"])
        .env("ASTERISK_INCLUDE_DIR", &include)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("ASB_CLAIM_ROUTE")
        .current_dir(repo())
        .status()
        .expect("run cargo");
    assert!(status.success(), "the module-route build failed");
    dir.join("target/release/libapp_stasis_broadcast.so")
}

/// The test bed's image for that version, as `scripts/testbed image` tags it.
pub fn testbed_image() -> String {
    match asterisk_version().as_str() {
        "22.10.1" => "localhost/asb-asterisk:22.10".into(),
        v => format!("localhost/asb-asterisk:{v}"),
    }
}

/// The test bed's container (`ASB_CONTAINER`, default `asb-asterisk`).
pub fn container() -> String {
    std::env::var("ASB_CONTAINER").unwrap_or_else(|_| "asb-asterisk".into())
}

/// Builds the module with `--features fault-injection` (into
/// target/fault-injection, against the same `ASTERISK_INCLUDE_DIR`) and
/// returns its path: another build than the one under test.
pub fn fault_build() -> PathBuf {
    let dir = repo().join("target/fault-injection");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--features",
            "fault-injection",
            "--target-dir",
        ])
        .arg(&dir)
        .current_dir(repo())
        .status()
        .expect("run cargo");
    assert!(status.success(), "the fault-injection build failed");
    dir.join("release/libapp_stasis_broadcast.so")
}

/// Makes sure Asterisk runs in the mode and version this run targets (once
/// per test binary).
pub fn asterisk() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let want = target().mode();
        let mode = std::fs::read_to_string(cache_dir().join("run/mode")).unwrap_or_default();
        let version = std::fs::read_to_string(cache_dir().join("run/version")).unwrap_or_default();
        let running = Command::new(repo().join("scripts/testbed"))
            .arg("status")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !(running && mode.trim() == want && version.trim() == asterisk_version() && ari_up()) {
            testbed(target().start_args());
        }
    });
}

fn ari_up() -> bool {
    agent().get(&authed("/asterisk/info")).call().is_ok()
}

/// Runs an Asterisk CLI command.
pub fn cli(cmd: &str) -> String {
    testbed(&["cli", cmd])
}

/// A unique name for this test run: `prefix-<pid>-<n>`.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// The longest any one HTTP request of the harness may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) fn agent() -> ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT
        .get_or_init(|| {
            ureq::AgentBuilder::new()
                .timeout(TIMEOUT)
                .max_idle_connections_per_host(64)
                .build()
        })
        .clone()
}

/// An HTTP answer: status and body (JSON when there is one).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// One ARI request. `query` values are percent-encoded here.
pub fn ari(method: &str, path: &str, query: &[(&str, &str)], body: Option<Value>) -> Reply {
    ari_on(node(), method, path, query, body)
}

/// The same request to another node's ARI.
pub fn ari_on(
    node: &Node,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let mut req = agent().request(method, &authed_on(node, path));
    for (k, v) in query {
        req = req.query(k, v);
    }
    let res = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = resp.status();
    let text = resp.into_string().unwrap_or_default();
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

/// A request with a raw (already encoded) path and query; returns the HTTP status.
pub fn ari_raw(method: &str, path_and_query: &str) -> u16 {
    match agent().request(method, &authed(path_and_query)).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{method} {path_and_query:.80}: {e}"),
    }
}

/// `POST /ari/events/claim` with query parameters; returns the HTTP status.
pub fn claim(channel_id: &str, app: &str) -> u16 {
    ari(
        "POST",
        "/events/claim",
        &[("channelId", channel_id), ("application", app)],
        None,
    )
    .status
}

/// Claims `call` for `app` (204 expected) and waits for the StasisStart that
/// follows on its WebSocket; returns that event.
pub fn win(app: &mut App, call: &Call) -> Value {
    assert_eq!(
        claim(&call.id, &app.name),
        204,
        "{} claiming {}",
        app.name,
        call.id
    );
    app.wait_event("StasisStart", &call.id)
}

/// Sends a won call on to the dialplan and waits for STASISSTATUS=SUCCESS.
pub fn finish(call: &Call) {
    continue_dialplan(&call.id);
    assert_eq!(status(call), "SUCCESS");
}

/// The `args` of a StasisStart event.
pub fn args_of(start: &Value) -> Vec<String> {
    start["args"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Sends the channel on in the dialplan (ends the winner's Stasis session).
pub fn continue_dialplan(id: &str) {
    let r = ari("POST", &format!("/channels/{id}/continue"), &[], None);
    assert_eq!(r.status, 204, "continue: {:?}", r.body);
}

/// The key set of a JSON object.
pub fn keys(v: &Value) -> HashSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// The channel name of a call's broadcasting half, from an event about it.
pub fn channel_name(event: &Value) -> String {
    event["channel"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// One test at a time within a test binary, for tests that load and unload
/// the module, edit ari.conf or turn ARI off for a moment.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Polls until `cond` holds, within the liveness bound (for what Asterisk or
/// the module does asynchronously, such as following a reload).
pub fn eventually(what: &str, cond: impl Fn() -> bool) {
    eventually_within(*LIVENESS, what, cond);
}

/// Polls until `cond` holds, within `bound` (for waits whose length the test
/// bed sets, such as a tombstone's life).
pub fn eventually_within(bound: Duration, what: &str, cond: impl Fn() -> bool) {
    let until = Instant::now() + bound;
    while !cond() {
        assert!(Instant::now() < until, "not within {bound:?}: {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// A broadcast claimed by a new worker (named `<prefix>-…`): CallBroadcast,
/// 204 and StasisStart on the worker's own WebSocket. The call is left in the
/// worker's Stasis session.
pub fn claimed_by_new_worker(prefix: &str) -> (App, Call) {
    let mut w = App::connect(&unique(prefix));
    let call = Call::broadcast(&format!("10000,^{}$", w.name));
    w.wait_event("CallBroadcast", &call.id);
    win(&mut w, &call);
    (w, call)
}

/// A broadcast claimed by a worker (named `<prefix>-…`) ends in SUCCESS: the
/// module works end to end.
pub fn claimed_end_to_end(prefix: &str) {
    let (_w, call) = claimed_by_new_worker(prefix);
    finish(&call);
}

/// `n` calls waiting (up to 60 s) for `app` alone, each one offered to it.
pub fn waiting_calls(app: &mut App, n: usize) -> Vec<Call> {
    let calls: Vec<Call> = (0..n)
        .map(|_| Call::broadcast(&format!("60000,^{}$", app.name)))
        .collect();
    for c in &calls {
        app.wait_event("CallBroadcast", &c.id);
    }
    calls
}
