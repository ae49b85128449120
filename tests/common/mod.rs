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
#![allow(dead_code)]

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

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// The test bed's HTTP server: `127.0.0.1:<ASB_HTTP_PORT>` (default 8088), as
/// `scripts/testbed` starts it.
pub fn http_host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let port = std::env::var("ASB_HTTP_PORT").unwrap_or_else(|_| "8088".into());
        format!("127.0.0.1:{port}")
    })
}

/// ARI's base URL on the test bed (`http://127.0.0.1:8088/ari` by default).
pub fn ari_url() -> String {
    format!("http://{}/ari", http_host())
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
    let out = Command::new(repo().join("scripts/testbed"))
        .args(args)
        .output()
        .expect("run scripts/testbed");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "scripts/testbed {args:?} failed:\n{stdout}\n{}",
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
    let v: Vec<u32> = asterisk_version()
        .split('.')
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    match (v.first().copied(), v.get(1).copied().unwrap_or(0)) {
        (Some(20), minor) => minor >= 20,
        (Some(22), minor) => minor >= 10,
        (Some(23), minor) => minor >= 4,
        (Some(major), _) => major > 23,
        (None, _) => false,
    }
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

/// Makes sure Asterisk runs in the mode and version this run targets (once
/// per test binary).
pub fn asterisk() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let want = match target() {
            Target::Ours => "ours",
            Target::Upstream => "upstream",
        };
        let mode = std::fs::read_to_string(cache_dir().join("run/mode")).unwrap_or_default();
        let version = std::fs::read_to_string(cache_dir().join("run/version")).unwrap_or_default();
        let running = Command::new(repo().join("scripts/testbed"))
            .arg("status")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !(running && mode.trim() == want && version.trim() == asterisk_version() && ari_up()) {
            match target() {
                Target::Ours => testbed(&["start"]),
                Target::Upstream => testbed(&["start", "--upstream"]),
            };
        }
    });
}

fn ari_up() -> bool {
    agent()
        .get(&format!("{}/asterisk/info", ari_url()))
        .set("Authorization", &auth())
        .call()
        .is_ok()
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

fn agent() -> ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT
        .get_or_init(|| {
            ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .max_idle_connections_per_host(64)
                .build()
        })
        .clone()
}

fn auth() -> String {
    let raw = format!("{USER}:{PASS}");
    // Tiny base64 for the Authorization header.
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = raw.as_bytes();
    let mut s = String::from("Basic ");
    for chunk in b.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// An HTTP answer: status and body (JSON when there is one).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// One ARI request. `query` values are percent-encoded here.
pub fn ari(method: &str, path: &str, query: &[(&str, &str)], body: Option<Value>) -> Reply {
    let mut req = agent()
        .request(method, &format!("{}{path}", ari_url()))
        .set("Authorization", &auth());
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
    match agent()
        .request(method, &format!("{}{path_and_query}", ari_url()))
        .set("Authorization", &auth())
        .call()
    {
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

/// A call: the `;2` half runs `exten` in context `asb` (where StasisBroadcast
/// is), the `;1` half runs `far` once `;2` answers.
pub struct Call {
    /// Unique id of the `;2` half: the channel StasisBroadcast runs on.
    pub id: String,
    /// Unique id of the `;1` half.
    pub far_id: String,
}

impl Call {
    /// Originates a call with channel variables on `;2`.
    pub fn start(exten: &str, far: &str, vars: &[(&str, &str)]) -> Call {
        Call::start_with(exten, far, vars, &[])
    }

    /// As `start`, with extra originate query parameters (e.g. callerId).
    pub fn start_with(
        exten: &str,
        far: &str,
        vars: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Call {
        Call::originate(&unique("call"), exten, far, vars, extra)
    }

    /// As `start`, with the `;1` half's id chosen by the caller (`;2` is `<name>;2`).
    pub fn start_named(name: &str, exten: &str, far: &str, vars: &[(&str, &str)]) -> Call {
        Call::originate(name, exten, far, vars, &[])
    }

    fn originate(
        name: &str,
        exten: &str,
        far: &str,
        vars: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Call {
        let far_id = name.to_owned();
        // Local channels name the ;2 half after the ;1 half's id. (ARI refuses
        // channelId and otherChannelId together.)
        let id = format!("{far_id};2");
        let endpoint = format!("Local/{exten}@asb/n");
        let mut query = vec![
            ("endpoint", endpoint.as_str()),
            ("extension", far),
            ("context", "asb"),
            ("channelId", far_id.as_str()),
            ("timeout", "300"),
        ];
        query.extend_from_slice(extra);
        observer(); // subscribed before the call exists
        let variables: serde_json::Map<String, Value> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let r = ari(
            "POST",
            "/channels",
            &query,
            Some(json!({ "variables": variables })),
        );
        assert_eq!(r.status, 200, "originate: {:?}", r.body);
        Call { id, far_id }
    }

    /// A call running `StasisBroadcast(<args>)` (extension `raw`), far end silent.
    /// Asterisk cuts a variable's value at 4 KiB when it substitutes it, so a
    /// longer argument string is passed in two variables the dialplan joins.
    pub fn broadcast(args: &str) -> Call {
        let cut = args
            .char_indices()
            .map(|(i, _)| i)
            .take_while(|i| *i <= 4000)
            .last()
            .unwrap_or(0);
        let (head, tail) = if args.len() > 4000 {
            args.split_at(cut)
        } else {
            (args, "")
        };
        Call::start(
            "raw",
            "hold",
            &[("ASB_ARGS", head), ("ASB_ARGS_MORE", tail)],
        )
    }

    /// Hangs up the broadcasting half.
    pub fn hangup(&self) -> u16 {
        ari("DELETE", &format!("/channels/{}", self.id), &[], None).status
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // Leave nothing behind; either half may be gone already.
        let _ = agent()
            .delete(&format!("{}/channels/{}", ari_url(), self.far_id))
            .set("Authorization", &auth())
            .call();
        let _ = agent()
            .delete(&format!("{}/channels/{}", ari_url(), self.id))
            .set("Authorization", &auth())
            .call();
    }
}

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// An ARI application on its own WebSocket; events arrive on a channel.
pub struct App {
    pub name: String,
    events: Receiver<Value>,
    seen: Vec<Value>,
    ws: Arc<Mutex<Option<Ws>>>,
    barrier: AtomicU32,
}

impl App {
    /// Connects an application (registers it with Stasis).
    pub fn connect(name: &str) -> App {
        App::connect_with(name, false)
    }

    fn connect_with(name: &str, subscribe_all: bool) -> App {
        asterisk();
        let url = format!(
            "ws://{}/ari/events?app={name}&api_key={USER}:{PASS}{}",
            http_host(),
            if subscribe_all {
                "&subscribeAll=true"
            } else {
                ""
            }
        );
        let (ws, _) = tungstenite::connect(url.as_str()).expect("connect ARI WebSocket");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_millis(100))).ok();
        }
        let ws = Arc::new(Mutex::new(Some(ws)));
        let (tx, rx) = channel();
        let reader = ws.clone();
        thread::spawn(move || loop {
            let msg = {
                let mut guard = reader.lock().unwrap();
                let Some(ws) = guard.as_mut() else { return };
                match ws.read() {
                    Ok(m) => Some(m),
                    Err(tungstenite::Error::Io(e))
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        None
                    }
                    Err(_) => return,
                }
            };
            match msg {
                Some(Message::Text(t)) => {
                    if let Ok(v) = serde_json::from_str::<Value>(&t) {
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                }
                Some(_) => {}
                None => thread::sleep(Duration::from_millis(1)),
            }
        });
        App {
            name: name.to_owned(),
            events: rx,
            seen: Vec::new(),
            ws,
            barrier: AtomicU32::new(0),
        }
    }

    /// Waits for the first event (including ones already seen and kept) that
    /// matches; it is removed from the kept ones.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&pred) {
            return self.seen.remove(i);
        }
        let until = Instant::now() + *LIVENESS;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(v) if pred(&v) => return v,
                Ok(v) => self.seen.push(v),
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "{}: no {what} within {:?}; saw {:#?}",
                        self.name, *LIVENESS, self.seen
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("{}: WebSocket closed waiting for {what}", self.name)
                }
            }
        }
    }

    /// Waits for an event of `type` about channel `id`.
    pub fn wait_event(&mut self, kind: &str, id: &str) -> Value {
        let (k, i) = (kind.to_owned(), id.to_owned());
        self.wait_for(&format!("{kind} for {id}"), move |v| {
            v["type"] == k.as_str() && v["channel"]["id"] == i.as_str()
        })
    }

    /// Every event up to now has been received: a UserEvent sent to this
    /// application after them comes back on the same WebSocket, in order.
    pub fn sync(&mut self) {
        let n = format!(
            "asb-barrier-{}",
            self.barrier.fetch_add(1, Ordering::SeqCst)
        );
        let r = ari(
            "POST",
            &format!("/events/user/{n}"),
            &[("application", self.name.as_str())],
            None,
        );
        assert_eq!(r.status, 204, "user event: {:?}", r.body);
        let name = n.clone();
        self.wait_for(&format!("user event {n}"), move |v| {
            v["eventname"] == name.as_str()
        });
    }

    /// The next event not yet looked at, waiting up to `limit`.
    pub fn next(&mut self, limit: Duration) -> Option<Value> {
        if !self.seen.is_empty() {
            return Some(self.seen.remove(0));
        }
        self.events.recv_timeout(limit).ok()
    }

    /// Whether an event matching `pred` was received (call `sync` first).
    pub fn received(&mut self, pred: impl Fn(&Value) -> bool) -> bool {
        while let Ok(v) = self.events.try_recv() {
            self.seen.push(v);
        }
        self.seen.iter().any(pred)
    }

    /// Whether a CallBroadcast for `id` was received (after `sync`).
    pub fn was_offered(&mut self, id: &str) -> bool {
        self.sync();
        let id = id.to_owned();
        self.received(move |v| v["type"] == "CallBroadcast" && v["channel"]["id"] == id.as_str())
    }

    /// Closes the WebSocket (the application goes away).
    pub fn disconnect(&self) {
        if let Some(mut ws) = self.ws.lock().unwrap().take() {
            let _ = ws.close(None);
            let _ = ws.flush();
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.disconnect();
    }
}

/// The process's one observer: an application subscribed to every channel,
/// keeping the ChannelVarset, ChannelHangupRequest and ChannelDestroyed events
/// it sees. One per
/// process, never re-registered: Asterisk 22.10 can deadlock when
/// `subscribeAll` applications register and unregister concurrently.
pub struct Observer {
    /// Kept events by channel id: waits look at one channel's events only.
    events: Mutex<std::collections::HashMap<String, Vec<Value>>>,
    arrived: std::sync::Condvar,
}

pub fn observer() -> &'static Observer {
    static OBS: OnceLock<&'static Observer> = OnceLock::new();
    OBS.get_or_init(|| {
        let obs: &'static Observer = Box::leak(Box::new(Observer {
            events: Mutex::new(std::collections::HashMap::new()),
            arrived: std::sync::Condvar::new(),
        }));
        let mut app = App::connect_with(&unique("observer"), true);
        thread::spawn(move || loop {
            if let Some(ev) = app.next(Duration::from_secs(1)) {
                if matches!(
                    ev["type"].as_str(),
                    Some("ChannelVarset" | "ChannelHangupRequest" | "ChannelDestroyed")
                ) {
                    let id = ev["channel"]["id"].as_str().unwrap_or_default().to_owned();
                    obs.events.lock().unwrap().entry(id).or_default().push(ev);
                    obs.arrived.notify_all();
                }
            }
        });
        obs
    })
}

impl Observer {
    /// Waits for the first kept event about channel `id` that matches.
    pub fn wait_for(&self, id: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + *LIVENESS;
        let mut events = self.events.lock().unwrap();
        loop {
            if let Some(v) = events.get(id).and_then(|evs| evs.iter().find(|v| pred(v))) {
                return v.clone();
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let seen: Vec<String> = events
                    .get(id)
                    .map(|evs| evs.iter().map(|v| v.to_string()).collect())
                    .unwrap_or_default();
                panic!(
                    "observer: no {what} for {id} within {:?}; its events:\n{}",
                    *LIVENESS,
                    seen.join("\n")
                );
            }
            events = self.arrived.wait_timeout(events, left).unwrap().0;
        }
    }
}

/// Waits for the (first non-empty) value a channel variable was set to.
pub fn var_set(id: &str, var: &str) -> String {
    let v = observer().wait_for(id, var, |v| {
        v["type"] == "ChannelVarset" && v["variable"] == var && v["value"] != ""
    });
    v["value"].as_str().unwrap_or_default().to_owned()
}

/// STASISSTATUS of a broadcast call once StasisBroadcast returned.
pub fn status(call: &Call) -> String {
    var_set(&call.id, "STASISSTATUS")
}

/// Waits until the channel is gone.
pub fn destroyed(id: &str) {
    observer().wait_for(id, "ChannelDestroyed", |v| v["type"] == "ChannelDestroyed");
}

/// Waits until Asterisk has published a hangup request for the channel.
pub fn hangup_requested(id: &str) {
    observer().wait_for(id, "ChannelHangupRequest", |v| {
        v["type"] == "ChannelHangupRequest"
    });
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

/// Asterisk's log as the container writes it.
pub struct Log {
    path: PathBuf,
    start: u64,
}

impl Log {
    /// Marks the current end of messages.log; `wait_line` looks after it.
    pub fn mark() -> Log {
        asterisk();
        let path = cache_dir().join("run/log/messages.log");
        let start = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Log { path, start }
    }

    /// Lines written since the mark.
    pub fn lines(&self) -> Vec<String> {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        if f.seek(SeekFrom::Start(self.start)).is_err() {
            return Vec::new();
        }
        BufReader::new(f).lines().map_while(Result::ok).collect()
    }

    /// Waits for a line (after the mark) containing every one of `parts`.
    pub fn wait_line(&self, parts: &[&str]) -> String {
        let until = Instant::now() + *LIVENESS;
        loop {
            if let Some(l) = self
                .lines()
                .into_iter()
                .find(|l| parts.iter().all(|p| l.contains(p)))
            {
                return l;
            }
            assert!(
                Instant::now() < until,
                "no log line with {parts:?} within {:?}; lines since mark:\n{}",
                *LIVENESS,
                self.lines().join("\n")
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

thread_local! {
    /// Set while a beyond-upstream test runs on upstream: its panic is expected.
    static EXPECTING_FAILURE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps expected panics quiet (their one-line summary is printed instead).
fn install_quiet_hook() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !EXPECTING_FAILURE.with(|e| e.get()) {
                default(info);
            }
        }));
    });
}

/// Runs a beyond-upstream test: as is on ours; on upstream it must fail,
/// reported as "expected failure" with its reason, and passing there is an error.
pub fn beyond(what: &str, test: impl FnOnce()) {
    match target() {
        Target::Ours => test(),
        Target::Upstream => {
            install_quiet_hook();
            EXPECTING_FAILURE.with(|e| e.set(true));
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(test));
            EXPECTING_FAILURE.with(|e| e.set(false));
            match r {
                Err(p) => {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    let first = msg.lines().next().unwrap_or_default();
                    println!("expected failure on upstream: {what}: {first:.200}");
                }
                Ok(()) => panic!(
                    "beyond-upstream test '{what}' passed on upstream: it does not show the defect"
                ),
            }
        }
    }
}

/// The channel name of a call's broadcasting half, from an event about it.
pub fn channel_name(event: &Value) -> String {
    event["channel"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A worker on its own thread: claims every CallBroadcast for a channel in
/// `calls` as soon as it arrives, records each claim's HTTP status, and sends
/// the channel on at once when it wins (a fast winner).
pub struct Racer {
    pub name: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

impl Racer {
    pub fn spawn(
        name: String,
        calls: Arc<Mutex<HashSet<String>>>,
        answers: Arc<Mutex<Vec<u16>>>,
    ) -> Racer {
        let mut app = App::connect(&name);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                let Some(ev) = app.next(Duration::from_millis(50)) else {
                    continue;
                };
                let id = ev["channel"]["id"].as_str().unwrap_or_default().to_owned();
                if !calls.lock().unwrap().contains(&id) {
                    continue;
                }
                match ev["type"].as_str() {
                    Some("CallBroadcast") => {
                        let status = claim(&id, &app.name);
                        answers.lock().unwrap().push(status);
                    }
                    Some("StasisStart") => {
                        let _ = ari("POST", &format!("/channels/{id}/continue"), &[], None);
                    }
                    _ => {}
                }
            }
        });
        Racer {
            name,
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Racer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
