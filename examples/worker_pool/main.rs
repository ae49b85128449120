//! The worker-pool demo: N ARI workers compete for M calls offered by `StasisBroadcast()`.
//!
//! Each worker is its own ARI application (`pool-1` … `pool-N`) on its own WebSocket and thread.
//! Calls are Local channels whose `;2` half runs extension `pool` of the test bed's dialplan
//! (`StasisBroadcast(${ASB_TIMEOUT},^pool-)`). A worker that is offered a call (`CallBroadcast`)
//! thinks for a random while, then claims it; the winner gets `StasisStart`, keeps the call for a
//! moment and sends it on with `continue`. One observer application subscribed to every channel
//! learns how each call ended (`STASISSTATUS`). At the end: a table per worker and overall.
//!
//! Run it with `scripts/demo [flags]`, or by hand against a running test bed:
//! `cargo run --release --example worker_pool -- --help`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{HandshakeError, Message, WebSocket};

const USAGE: &str = "\
Usage: worker_pool [OPTIONS]

N ARI workers (applications pool-1 .. pool-N, one WebSocket and thread each) compete for M calls
that StasisBroadcast() offers them (extension `pool` of the test bed: filter ^pool-). Prints live
progress on stderr and a table per worker and overall on stdout. Exit status 0 when every call
ended with a STASISSTATUS, 1 otherwise.

Options:
  --workers N        worker applications (default 8)
  --calls M          calls to originate (default 40)
  --concurrency C    calls outstanding at a time: originated, no STASISSTATUS yet (default 4)
  --think-ms T       a worker waits a random 0..=T ms before each claim (default 20)
  --timeout-ms MS    StasisBroadcast's timeout, 0..=60000 (default 2000)
  --hold-ms H        a winner keeps its call in Stasis this long, then `continue`s (default 50)
  --ari URL          ARI base URL, plain http (default http://127.0.0.1:8088/ari)
  --user U           ARI user (default asb)
  --password P       ARI password (default asb)
  -h, --help         this text
";

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// Enough to see what went wrong without flooding the terminal.
const MAX_PROBLEMS: usize = 20;

/// Set by SIGINT: stop originating, clean up, report what happened so far.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Relaxed);
}

struct Options {
    workers: usize,
    calls: usize,
    concurrency: usize,
    think_ms: u64,
    timeout_ms: u64,
    hold_ms: u64,
    ari: String,
    user: String,
    password: String,
}

/// `Ok(None)` means `--help` was asked for.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut o = Options {
        workers: 8,
        calls: 40,
        concurrency: 4,
        think_ms: 20,
        timeout_ms: 2000,
        hold_ms: 50,
        ari: "http://127.0.0.1:8088/ari".into(),
        user: "asb".into(),
        password: "asb".into(),
    };
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        // Both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{flag} needs a value"))
        };
        let num = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a non-negative integer: {v:?}"))
        };
        match flag.as_str() {
            "--workers" => o.workers = num(value()?)? as usize,
            "--calls" => o.calls = num(value()?)? as usize,
            "--concurrency" => o.concurrency = num(value()?)? as usize,
            "--think-ms" => o.think_ms = num(value()?)?,
            "--timeout-ms" => o.timeout_ms = num(value()?)?,
            "--hold-ms" => o.hold_ms = num(value()?)?,
            "--ari" => o.ari = value()?.trim_end_matches('/').to_owned(),
            "--user" => o.user = value()?,
            "--password" => o.password = value()?,
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    if o.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    // Out of range, the module would fall back to its default and the liveness bound be wrong.
    if o.timeout_ms > 60_000 {
        return Err("--timeout-ms must be 0..=60000 (StasisBroadcast's range)".into());
    }
    Ok(Some(o))
}

/// A tiny xorshift64 generator: think times need to be spread, not unpredictable.
struct Rng(u64);

impl Rng {
    fn seeded(salt: u64) -> Rng {
        let clock = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        // Workers seeded in the same nanosecond must still differ.
        Rng((clock ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    /// Uniform enough in 0..=max.
    fn up_to(&mut self, max: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % (max + 1)
    }
}

/// ARI over plain HTTP and WebSockets.
struct Ari {
    base: String,
    /// `host:port` of the ARI URL.
    host: String,
    ws_base: String,
    auth: String,
    api_key: String,
    agent: ureq::Agent,
}

impl Ari {
    fn new(o: &Options) -> Result<Ari, String> {
        let rest = o.ari.strip_prefix("http://").ok_or(format!(
            "--ari {}: only plain http:// URLs are supported (this demo has no TLS)",
            o.ari
        ))?;
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(10))
            // Every worker claims concurrently: keep their connections alive between claims so
            // the round trip measures the claim, not a TCP handshake.
            .max_idle_connections_per_host(o.workers * o.concurrency + 16)
            .build();
        Ok(Ari {
            base: o.ari.clone(),
            host: rest.split('/').next().unwrap_or_default().to_owned(),
            ws_base: format!("ws://{rest}/events"),
            auth: format!("Basic {}", base64(&format!("{}:{}", o.user, o.password))),
            api_key: format!("{}:{}", percent(&o.user), percent(&o.password)),
            agent,
        })
    }

    /// One request; any HTTP status is an answer, only a transport failure is an error.
    fn call(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        let mut req = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .set("Authorization", &self.auth);
        for (k, v) in query {
            req = req.query(k, v);
        }
        let sent = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        let resp = match sent {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(format!("{method} {path}: {e}")),
        };
        let status = resp.status();
        let text = resp.into_string().unwrap_or_default();
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// Fails early, with a hint, when Asterisk is down or refuses our credentials.
    fn check(&self) -> Result<(), String> {
        match self.call("GET", "/asterisk/info", &[], None) {
            Err(e) => Err(format!(
                "cannot reach ARI at {}: is Asterisk running? (scripts/testbed start)\n  ({e})",
                self.base
            )),
            Ok((200, _)) => Ok(()),
            Ok((401, _)) => Err(format!(
                "ARI at {} refused the user and password",
                self.base
            )),
            Ok((s, body)) => Err(format!("ARI at {} answered HTTP {s}: {body}", self.base)),
        }
    }

    /// Registers application `app` by opening its event WebSocket.
    fn connect(&self, app: &str, subscribe_all: bool) -> Result<Ws, String> {
        let all = if subscribe_all {
            "&subscribeAll=true"
        } else {
            ""
        };
        let url = format!("{}?app={app}&api_key={}{all}", self.ws_base, self.api_key);
        let unreachable = |e: &dyn std::fmt::Display| {
            format!(
                "cannot open the WebSocket of application {app} at {}: {e}\n  \
                 is Asterisk running? (scripts/testbed start)",
                self.ws_base
            )
        };
        let addr = self
            .host
            .to_socket_addrs()
            .map_err(|e| unreachable(&e))?
            .next()
            .ok_or_else(|| unreachable(&"no address"))?;
        let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(|e| unreachable(&e))?;
        // tungstenite itself would wait forever for the handshake's answer, and a wedged Asterisk
        // (stuck registering the application) never sends it.
        let timeouts = |t| tcp.set_read_timeout(t).and(tcp.set_write_timeout(t));
        timeouts(Some(Duration::from_secs(10))).map_err(|e| unreachable(&e))?;
        let (ws, _) = tungstenite::client(
            url.as_str(),
            MaybeTlsStream::Plain(tcp.try_clone().map_err(|e| unreachable(&e))?),
        )
        .map_err(|e| match e {
            HandshakeError::Interrupted(_) => format!(
                "Asterisk did not answer the WebSocket handshake of application {app} within \
                 10 s: it may be deadlocked (Asterisk 22.10 can be, after subscribeAll \
                 applications came and went); scripts/testbed start restarts it"
            ),
            HandshakeError::Failure(tungstenite::Error::Http(r)) => format!(
                "ARI refused the WebSocket of application {app}: HTTP {}",
                r.status()
            ),
            HandshakeError::Failure(e) => unreachable(&e),
        })?;
        // From now on a short read timeout lets the reading thread notice the end of the run.
        timeouts(Some(Duration::from_millis(100))).map_err(|e| unreachable(&e))?;
        Ok(ws)
    }
}

fn base64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            let c = T[(n >> (18 - 6 * i) & 63) as usize] as char;
            out.push(if i <= chunk.len() { c } else { '=' });
        }
    }
    out
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

enum Read {
    Event(Value),
    Idle,
    Closed(String),
}

fn read_event(ws: &mut Ws) -> Read {
    match ws.read() {
        Ok(Message::Text(t)) => serde_json::from_str(&t).map_or(Read::Idle, Read::Event),
        // Pings are answered by tungstenite itself.
        Ok(_) => Read::Idle,
        Err(tungstenite::Error::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Read::Idle
        }
        Err(e) => Read::Closed(e.to_string()),
    }
}

/// Closes the WebSocket and waits (briefly) for Asterisk's close frame, so the application is
/// unregistered before we report.
fn close(mut ws: Ws) {
    let _ = ws.close(None);
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        if let Read::Closed(_) = read_event(&mut ws) {
            break;
        }
    }
}

/// What one worker saw of the demo's calls.
#[derive(Default)]
struct WorkerStats {
    offered: AtomicU64,
    won: AtomicU64,
    lost: AtomicU64,
    not_found: AtomicU64,
    /// Any other answer (e.g. 501: no StasisBroadcast module loaded) or no answer at all.
    other: AtomicU64,
}

/// Everything the threads share.
struct Shared {
    opts: Options,
    ari: Ari,
    /// Channel ids of this run start with it (`demo-<pid>-`): other people's calls to the same
    /// extension are offered to our workers too, and are none of our business.
    prefix: String,
    stop: AtomicBool,
    /// Whether stderr is a terminal: progress is then rewritten in place.
    tty: bool,
    workers: Vec<WorkerStats>,
    /// Claim round trips in microseconds.
    rtts: Mutex<Vec<u64>>,
    /// Problems worth reporting once (a WebSocket that closed, a failed `continue`).
    problems: Mutex<Vec<String>>,
}

impl Shared {
    /// The broadcasting (`;2`) half of one of our calls.
    fn ours(&self, id: &str) -> bool {
        id.starts_with(&self.prefix) && id.ends_with(";2")
    }

    fn problem(&self, p: String) {
        let mut problems = self.problems.lock();
        if problems.len() < MAX_PROBLEMS {
            problems.push(p);
        }
    }

    fn claims(&self, f: impl Fn(&WorkerStats) -> &AtomicU64) -> u64 {
        self.workers.iter().map(|w| f(w).load(Relaxed)).sum()
    }

    /// Sleeps for `d`, or less when the run ends; whether the run goes on.
    fn nap(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        while !self.stop.load(Relaxed) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            thread::sleep(left.min(Duration::from_millis(20)));
        }
        false
    }
}

/// One worker: reads its WebSocket; each offer and each won call is handled on a thread of its
/// own, as an asynchronous worker would, so that one call's think or hold time does not delay
/// the worker's answer to the next offer.
fn work(shared: &Shared, index: usize, mut ws: Ws) {
    let app = format!("pool-{}", index + 1);
    let stats = &shared.workers[index];
    let mut rng = Rng::seeded(index as u64 + 1);
    thread::scope(|tasks| {
        while !shared.stop.load(Relaxed) {
            let ev = match read_event(&mut ws) {
                Read::Event(ev) => ev,
                Read::Idle => continue,
                Read::Closed(e) => {
                    shared.problem(format!("{app}: WebSocket closed: {e}"));
                    return;
                }
            };
            let id = ev["channel"]["id"].as_str().unwrap_or_default().to_owned();
            if !shared.ours(&id) {
                continue;
            }
            let app = app.as_str();
            match ev["type"].as_str() {
                Some("CallBroadcast") => {
                    stats.offered.fetch_add(1, Relaxed);
                    let think = Duration::from_micros(rng.up_to(shared.opts.think_ms * 1000));
                    tasks.spawn(move || {
                        // Not cut short at the end of the run: every offer gets its claim, and
                        // late losers' answers are part of what the demo shows.
                        thread::sleep(think);
                        let sent = Instant::now();
                        let answer = shared.ari.call(
                            "POST",
                            "/events/claim",
                            &[("channelId", &id), ("application", app)],
                            None,
                        );
                        let rtt = sent.elapsed().as_micros() as u64;
                        if answer.is_ok() {
                            shared.rtts.lock().push(rtt);
                        }
                        let counter = match answer {
                            Ok((204, _)) => &stats.won,
                            Ok((409, _)) => &stats.lost,
                            Ok((404, _)) => &stats.not_found,
                            Ok((s, body)) => {
                                shared.problem(format!("{app}: claim of {id}: HTTP {s} {body}"));
                                &stats.other
                            }
                            Err(e) => {
                                shared.problem(format!("{app}: {e}"));
                                &stats.other
                            }
                        };
                        counter.fetch_add(1, Relaxed);
                    });
                }
                Some("StasisStart") => {
                    tasks.spawn(move || {
                        // Cut short at the end of the run: the call has been hung up by then.
                        if !shared.nap(Duration::from_millis(shared.opts.hold_ms)) {
                            return;
                        }
                        let path = format!("/channels/{id}/continue");
                        match shared.ari.call("POST", &path, &[], None) {
                            Ok((204, _)) => {}
                            Ok((s, body)) => {
                                shared.problem(format!("{app}: continue {id}: HTTP {s} {body}"))
                            }
                            Err(e) => shared.problem(format!("{app}: {e}")),
                        }
                    });
                }
                _ => {}
            }
        }
    });
    close(ws);
}

/// The observer: reports `(channel id, STASISSTATUS)` of our calls to the main thread.
fn observe(shared: &Shared, mut ws: Ws, ended: Sender<(String, String)>) {
    while !shared.stop.load(Relaxed) {
        let ev = match read_event(&mut ws) {
            Read::Event(ev) => ev,
            Read::Idle => continue,
            Read::Closed(e) => {
                shared.problem(format!("observer: WebSocket closed: {e}"));
                return; // dropping `ended` tells the main thread
            }
        };
        let id = ev["channel"]["id"].as_str().unwrap_or_default();
        let value = ev["value"].as_str().unwrap_or_default();
        // STASISSTATUS is set empty when StasisBroadcast starts: only the final value counts.
        if ev["type"] == "ChannelVarset"
            && ev["variable"] == "STASISSTATUS"
            && !value.is_empty()
            && shared.ours(id)
            && ended.send((id.to_owned(), value.to_owned())).is_err()
        {
            break;
        }
    }
    close(ws);
}

/// How the calls ended, as the main thread counts them.
#[derive(Default)]
struct Outcome {
    /// STASISSTATUS value -> calls.
    statuses: BTreeMap<String, u64>,
    /// Channel ids of the calls that ended with a STASISSTATUS (their `;2` halves).
    finished: HashSet<String>,
    /// Originated but no STASISSTATUS within the liveness bound (or before an interrupt).
    unfinished: u64,
    /// Origination refused or failed, or never tried (after ^C or losing the observer).
    not_started: u64,
    wall: Duration,
}

impl Outcome {
    fn status(&self, s: &str) -> u64 {
        self.statuses.get(s).copied().unwrap_or(0)
    }

    fn ended(&self) -> u64 {
        self.statuses.values().sum()
    }
}

/// Originates the calls, at most `concurrency` outstanding, until each has ended or given up.
fn drive(shared: &Shared, ended: &Receiver<(String, String)>) -> Outcome {
    let o = &shared.opts;
    // Generous: a call normally ends within timeout + think + hold.
    let liveness = Duration::from_millis((3 * o.timeout_ms).max(30_000));
    let originate_timeout = (liveness.as_secs() + 30).to_string();
    let variables = json!({ "variables": { "ASB_TIMEOUT": o.timeout_ms.to_string() } });
    let mut out = Outcome::default();
    let mut outstanding: HashMap<String, Instant> = HashMap::new();
    let mut next = 0;
    let start = Instant::now();
    let mut shown = start;
    let mut observer_gone = false;
    loop {
        let stopping = observer_gone || INTERRUPTED.load(Relaxed);
        while !stopping && next < o.calls && outstanding.len() < o.concurrency {
            let far = format!("{}{next}", shared.prefix);
            next += 1;
            // Registered before it exists: its STASISSTATUS may beat the originate's answer.
            let id = format!("{far};2");
            outstanding.insert(id.clone(), Instant::now());
            let query = [
                ("endpoint", "Local/pool@asb/n"),
                ("extension", "hold"),
                ("context", "asb"),
                ("channelId", far.as_str()),
                ("timeout", originate_timeout.as_str()),
            ];
            let answer = shared
                .ari
                .call("POST", "/channels", &query, Some(variables.clone()));
            let failure = match answer {
                Ok((200, _)) => continue,
                Ok((s, body)) => format!("originate {far}: HTTP {s} {body}"),
                Err(e) => e,
            };
            shared.problem(failure);
            outstanding.remove(&id);
            out.not_started += 1;
        }
        if outstanding.is_empty() && (stopping || next == o.calls) {
            break;
        }
        match ended.recv_timeout(Duration::from_millis(100)) {
            Ok((id, status)) => {
                if outstanding.remove(&id).is_some() {
                    *out.statuses.entry(status).or_default() += 1;
                    out.finished.insert(id);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => observer_gone = true,
        }
        // Without an observer (or after ^C) nothing more can be learnt.
        if observer_gone || INTERRUPTED.load(Relaxed) {
            out.unfinished += outstanding.len() as u64;
            outstanding.clear();
        }
        outstanding.retain(|id, since| {
            if since.elapsed() < liveness {
                return true;
            }
            // Given up on: hang it up now, so that it no longer takes a worker or a slot.
            out.unfinished += 1;
            shared.problem(format!(
                "{id}: no STASISSTATUS within {liveness:?}, hung up"
            ));
            for half in [id.as_str(), id.trim_end_matches(";2")] {
                let _ = shared
                    .ari
                    .call("DELETE", &format!("/channels/{half}"), &[], None);
            }
            false
        });
        let every = Duration::from_millis(if shared.tty { 100 } else { 1000 });
        if shown.elapsed() >= every {
            shown = Instant::now();
            progress(shared, &out);
        }
    }
    out.wall = start.elapsed();
    out.not_started += (o.calls - next) as u64;
    out
}

/// The live progress line: rewritten in place on a terminal, one line per second otherwise.
fn progress(shared: &Shared, out: &Outcome) {
    let done = out.ended() + out.unfinished + out.not_started;
    let line = format!(
        "calls {done}/{}  success {}  timeout {}  failed {}  claims 204:{} 409:{} 404:{}",
        shared.opts.calls,
        out.status("SUCCESS"),
        out.status("TIMEOUT"),
        out.status("FAILED"),
        shared.claims(|w| &w.won),
        shared.claims(|w| &w.lost),
        shared.claims(|w| &w.not_found),
    );
    if shared.tty {
        eprint!("\r{line}\x1b[K");
    } else {
        eprintln!("{line}");
    }
}

/// Hangs up whatever is left of this run's calls (both halves), e.g. after ^C. Counts only the
/// channels of calls that did not end: those of a call that did may still be hanging up.
fn hang_up_leftovers(shared: &Shared, finished: &HashSet<String>) -> usize {
    let channels = match shared.ari.call("GET", "/channels", &[], None) {
        Ok((200, Value::Array(channels))) => channels,
        answer => {
            let why = answer.map_or_else(|e| e, |(s, body)| format!("HTTP {s} {body}"));
            shared.problem(format!("cannot list channels to hang up leftovers: {why}"));
            return 0;
        }
    };
    let mut hung_up = 0;
    for ch in &channels {
        let id = ch["id"].as_str().unwrap_or_default();
        if id.starts_with(&shared.prefix) {
            // 404: it ended by itself in the meantime.
            let path = format!("/channels/{id}");
            let gone = matches!(shared.ari.call("DELETE", &path, &[], None), Ok((204, _)));
            let call = format!("{};2", id.trim_end_matches(";2"));
            hung_up += usize::from(gone && !finished.contains(&call));
        }
    }
    hung_up
}

/// p in 0..=1 by nearest rank, in milliseconds.
fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

fn report(shared: &Shared, out: &Outcome, leftovers: usize) {
    let o = &shared.opts;
    let row = |name: &str, w: [u64; 4]| {
        println!(
            "{name:<10} {:>8} {:>8} {:>8} {:>10}",
            w[0], w[1], w[2], w[3]
        )
    };
    println!(
        "\n{:<10} {:>8} {:>8} {:>8} {:>10}",
        "worker", "offered", "won", "lost", "not found"
    );
    let counts =
        |w: &WorkerStats| [&w.offered, &w.won, &w.lost, &w.not_found].map(|c| c.load(Relaxed));
    for (i, w) in shared.workers.iter().enumerate() {
        row(&format!("pool-{}", i + 1), counts(w));
    }
    let total = shared.workers.iter().map(counts).fold([0; 4], |a, b| {
        [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]]
    });
    row("total", total);
    let other = shared.claims(|w| &w.other);
    if other > 0 {
        println!("(and {other} claims with another answer or none: see below)");
    }
    println!();
    let mut statuses = format!(
        "SUCCESS {}, TIMEOUT {}, FAILED {}",
        out.status("SUCCESS"),
        out.status("TIMEOUT"),
        out.status("FAILED")
    );
    for (s, n) in out.statuses.iter() {
        if !matches!(s.as_str(), "SUCCESS" | "TIMEOUT" | "FAILED") {
            statuses.push_str(&format!(", {s} {n}"));
        }
    }
    println!("calls              {} ({statuses})", o.calls);
    if out.unfinished + out.not_started > 0 {
        println!(
            "no STASISSTATUS    {} ({} never started)",
            out.unfinished + out.not_started,
            out.not_started
        );
    }
    let mut rtts = shared.rtts.lock().clone();
    rtts.sort_unstable();
    println!(
        "claim round trip   p50 {:.1} ms, p99 {:.1} ms ({} claims)",
        percentile(&rtts, 0.50),
        percentile(&rtts, 0.99),
        rtts.len()
    );
    let secs = out.wall.as_secs_f64();
    let rate = if secs > 0.0 {
        out.ended() as f64 / secs
    } else {
        0.0
    };
    println!("wall time          {secs:.2} s ({rate:.1} calls/s)");
    if INTERRUPTED.load(Relaxed) {
        println!("interrupted (^C)");
    }
    if leftovers > 0 {
        println!("hung up {leftovers} leftover channel(s) of this run");
    }
    let problems = shared.problems.lock();
    if !problems.is_empty() {
        let capped = if problems.len() == MAX_PROBLEMS {
            " (the first ones)"
        } else {
            ""
        };
        eprintln!("\nproblems{capped}:");
        for p in problems.iter() {
            eprintln!("  {p}");
        }
    }
}

/// Runs the demo; `Ok(true)` when every call ended with a STASISSTATUS.
fn run(opts: Options) -> Result<bool, String> {
    let ari = Ari::new(&opts)?;
    ari.check()?;
    let pid = std::process::id();
    let shared = Shared {
        workers: (0..opts.workers).map(|_| WorkerStats::default()).collect(),
        opts,
        ari,
        prefix: format!("demo-{pid}-"),
        stop: AtomicBool::new(false),
        // SAFETY: isatty only inspects a file descriptor.
        tty: unsafe { libc::isatty(libc::STDERR_FILENO) } == 1,
        rtts: Mutex::new(Vec::new()),
        problems: Mutex::new(Vec::new()),
    };
    let shared = &shared;
    let (tx, rx) = mpsc::channel();
    let (result, leftovers) = thread::scope(|s| {
        let result: Result<Outcome, String> = (|| {
            // Exactly one subscribeAll connection for the whole run (Asterisk 22.10 can deadlock
            // when subscribeAll applications come and go concurrently). Its name must not match
            // the pool's filter ^pool-, or it would be offered the calls.
            let observer = shared.ari.connect(&format!("observer-{pid}"), true)?;
            s.spawn(move || observe(shared, observer, tx));
            for n in 0..shared.opts.workers {
                let ws = shared.ari.connect(&format!("pool-{}", n + 1), false)?;
                s.spawn(move || work(shared, n, ws));
            }
            eprintln!(
                "{} workers, {} calls, concurrency {}, think 0..={} ms, timeout {} ms, hold {} ms",
                shared.opts.workers,
                shared.opts.calls,
                shared.opts.concurrency,
                shared.opts.think_ms,
                shared.opts.timeout_ms,
                shared.opts.hold_ms
            );
            Ok(drive(shared, &rx))
        })();
        // Hang up before disconnecting: a call left in a departed application's Stasis would
        // stay there.
        let none = HashSet::new();
        let finished = result.as_ref().map_or(&none, |out| &out.finished);
        let leftovers = hang_up_leftovers(shared, finished);
        shared.stop.store(true, Relaxed);
        (result, leftovers)
    });
    let out = result?;
    // Once every worker is done: late losers' claims count too.
    progress(shared, &out);
    if shared.tty {
        eprintln!();
    }
    report(shared, &out, leftovers);
    Ok(out.unfinished + out.not_started == 0 && out.ended() == shared.opts.calls as u64)
}

fn main() -> ExitCode {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("worker_pool: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let handler: extern "C" fn(libc::c_int) = on_sigint;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe { libc::signal(libc::SIGINT, handler as libc::sighandler_t) };
    match run(opts) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("worker_pool: {e}");
            ExitCode::FAILURE
        }
    }
}
