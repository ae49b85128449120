//! Load generator: ours vs upstream `StasisBroadcast()`, through the real Asterisk of the test bed.
//!
//! `cargo bench --bench compare` (full run, about 10–12 minutes) or
//! `cargo bench --bench compare -- --quick` (or `ASB_BENCH_QUICK=1`; a couple of minutes).
//! `--rounds N` sets the rounds per mode (default 3; 2 with --quick). Needs the module built first
//! (`cargo build --release`) and the test bed (`scripts/testbed`). Leaves the test bed in "ours" mode.
//!
//! Rounds alternate: ours, upstream, ours, upstream… each one a fresh `scripts/testbed start
//! [--upstream]`. One process drives everything: tokio tasks, one WebSocket per worker
//! application, a small HTTP/1.1 keep-alive client. Exactly one subscribeAll observer per
//! Asterisk run, connected once (Asterisk 22.10 deadlocks if subscribeAll applications come and
//! go concurrently); its `ChannelVarset` of `STASISSTATUS` is the clock for "StasisBroadcast
//! returned".
//!
//! Writes `BENCHMARKS.md`, `benchmarks/ratios.svg` and the raw samples `benchmarks/results.json`,
//! and prints the table. `--from benchmarks/results.json` regenerates the report from saved samples
//! without running anything.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio_tungstenite::tungstenite::Message;

/// The test bed's HTTP server, as scripts/testbed starts it (`ASB_HTTP_PORT`, default 8088).
fn host() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let port = std::env::var("ASB_HTTP_PORT").unwrap_or_else(|_| "8088".into());
        format!("127.0.0.1:{port}")
    })
}
const AUTH: &str = "Basic YXNiOmFzYg=="; // asb:asb
const ONE: &str = "bw-0000";

// ------------------------------------------------------------------ configuration

struct Cfg {
    quick: bool,
    rounds: usize,
    claim_rt: usize,
    hangup: usize,
    timeout: usize,
    saturation: usize,
    churn: usize,
    fanout: [(usize, usize); 3],
    offer: usize,
    waiting: [usize; 3],
    waiting_secs: u64,
}

impl Cfg {
    fn new() -> Cfg {
        let args: Vec<String> = std::env::args().collect();
        let quick = args.iter().any(|a| a == "--quick")
            || std::env::var("ASB_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let rounds = args
            .iter()
            .position(|a| a == "--rounds")
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(if quick { 2 } else { 3 });
        Cfg::preset(quick, rounds)
    }

    fn preset(quick: bool, rounds: usize) -> Cfg {
        if quick {
            Cfg {
                quick,
                rounds,
                claim_rt: 20,
                hangup: 10,
                timeout: 8,
                saturation: 80,
                churn: 200,
                fanout: [(10, 8), (100, 8), (500, 5)],
                offer: 50,
                waiting: [1, 100, 300],
                waiting_secs: 2,
            }
        } else {
            Cfg {
                quick,
                rounds,
                claim_rt: 200,
                hangup: 50,
                timeout: 40,
                saturation: 1000,
                churn: 10_000,
                fanout: [(10, 40), (100, 40), (500, 25)],
                offer: 300,
                // 1000 waiting calls hold 2000 channel threads: scripts/testbed raises the
                // container's pids limit for that.
                waiting: [1, 300, 1000],
                waiting_secs: 5,
            }
        }
    }
}

// ------------------------------------------------------------------ HTTP

struct Http {
    pool: Mutex<Vec<BufReader<TcpStream>>>,
}

impl Http {
    async fn connect() -> Result<BufReader<TcpStream>, String> {
        let s = TcpStream::connect(host())
            .await
            .map_err(|e| e.to_string())?;
        s.set_nodelay(true).ok();
        Ok(BufReader::new(s))
    }

    /// One request; `path` is below /ari and already encoded. Returns status and body.
    async fn req(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let head = format!(
            "{method} /ari{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {AUTH}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            host(),
            body.len()
        );
        let mut failures = 0;
        while failures < 3 {
            let pooled = self.pool.lock().unwrap().pop();
            let reused = pooled.is_some();
            let mut conn = match pooled {
                Some(c) => c,
                None => match Http::connect().await {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("connect: {e}");
                        failures += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            match Http::exchange(&mut conn, &head).await {
                Ok((status, text, keep)) => {
                    if keep {
                        self.pool.lock().unwrap().push(conn);
                    }
                    return (status, text);
                }
                Err((e, sent)) => {
                    // A pooled connection the server closed meanwhile: just take another.
                    if sent || !reused {
                        eprintln!("{method} {path}: {e}");
                        failures += 1;
                    }
                }
            }
        }
        (0, String::new())
    }

    async fn exchange(
        conn: &mut BufReader<TcpStream>,
        head: &str,
    ) -> Result<(u16, String, bool), (String, bool)> {
        conn.get_mut()
            .write_all(head.as_bytes())
            .await
            .map_err(|e| (e.to_string(), false))?;
        let mut line = String::new();
        let n = conn
            .read_line(&mut line)
            .await
            .map_err(|e| (e.to_string(), false))?;
        if n == 0 {
            return Err(("closed".into(), false));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| (format!("bad status line {line:?}"), true))?;
        let (mut len, mut keep) = (0usize, true);
        loop {
            line.clear();
            conn.read_line(&mut line)
                .await
                .map_err(|e| (e.to_string(), true))?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    len = v.parse().unwrap_or(0);
                } else if k == "connection" && v.eq_ignore_ascii_case("close") {
                    keep = false;
                }
            }
        }
        let mut buf = vec![0u8; len];
        conn.read_exact(&mut buf)
            .await
            .map_err(|e| (e.to_string(), true))?;
        Ok((status, String::from_utf8_lossy(&buf).into_owned(), keep))
    }
}

// ------------------------------------------------------------------ events

#[derive(Debug)]
enum Kind {
    Broadcast,
    StasisStart,
    /// Non-empty STASISSTATUS set (seen by the observer).
    Status,
}

#[derive(Debug)]
struct Ev {
    t: Instant,
    app: String,
    kind: Kind,
}

type Registry = Arc<Mutex<HashMap<String, UnboundedSender<Ev>>>>;

struct Bed {
    http: Http,
    reg: Registry,
    readers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    seq: AtomicU64,
}

fn route(reg: &Registry, chan: &str, ev: Ev) {
    if let Some(tx) = reg.lock().unwrap().get(chan) {
        let _ = tx.send(ev);
    }
}

impl Bed {
    /// Connects one application's WebSocket; its reader routes events by channel id.
    async fn connect(&self, app: &str, subscribe_all: bool) -> Result<(), String> {
        let url = format!(
            "ws://{}/ari/events?app={app}&api_key=asb:asb{}",
            host(),
            if subscribe_all {
                "&subscribeAll=true"
            } else {
                ""
            }
        );
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .map_err(|e| format!("{app}: {e}"))?;
        let (sink, mut read) = ws.split();
        let reg = self.reg.clone();
        let app = app.to_owned();
        let h = tokio::spawn(async move {
            let _sink = sink; // keep the connection whole
            while let Some(Ok(msg)) = read.next().await {
                let Message::Text(text) = msg else { continue };
                let t = Instant::now();
                if subscribe_all && !text.contains("\"STASISSTATUS\"") {
                    continue;
                }
                let Ok(v) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let kind = match v["type"].as_str().unwrap_or("") {
                    "CallBroadcast" if !subscribe_all => Kind::Broadcast,
                    "StasisStart" if !subscribe_all => Kind::StasisStart,
                    "ChannelVarset" if subscribe_all && v["variable"] == "STASISSTATUS" => {
                        match v["value"].as_str() {
                            Some(s) if !s.is_empty() => Kind::Status,
                            _ => continue,
                        }
                    }
                    _ => continue,
                };
                let chan = v["channel"]["id"].as_str().unwrap_or("");
                route(
                    &reg,
                    chan,
                    Ev {
                        t,
                        app: app.clone(),
                        kind,
                    },
                );
            }
        });
        self.readers.lock().unwrap().push(h);
        Ok(())
    }

    fn close_all(&self) {
        for h in self.readers.lock().unwrap().drain(..) {
            h.abort();
        }
        self.http.pool.lock().unwrap().clear();
        self.reg.lock().unwrap().clear();
    }

    /// A new call id (the `;1` half) and the receiver of its `;2` half's events.
    fn call(&self) -> (String, UnboundedReceiver<Ev>) {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let id = format!("bc{}x{n}", std::process::id());
        let (tx, rx) = unbounded_channel();
        self.reg.lock().unwrap().insert(format!("{id};2"), tx);
        (id, rx)
    }

    fn done(&self, id: &str) {
        self.reg.lock().unwrap().remove(&format!("{id};2"));
    }

    /// Originates `Local/<exten>@asb/n` (far end silent), variables on `;2`.
    async fn originate(&self, id: &str, exten: &str, vars: Value) -> bool {
        let path = format!(
            "/channels?endpoint=Local%2F{exten}%40asb%2Fn&extension=hold&context=asb&channelId={id}&timeout=300"
        );
        let (st, body) = self
            .http
            .req("POST", &path, Some(&json!({ "variables": vars })))
            .await;
        if st != 200 {
            eprintln!("originate {id}: {st} {body:.200}");
        }
        st == 200
    }

    async fn broadcast(&self, id: &str, args: &str) -> bool {
        self.originate(id, "raw", json!({ "ASB_ARGS": args })).await
    }

    async fn hangup(&self, id: &str) -> u16 {
        self.http
            .req("DELETE", &format!("/channels/{id}%3B2"), None)
            .await
            .0
    }

    async fn claim(&self, id: &str, app: &str) -> u16 {
        self.http
            .req(
                "POST",
                &format!("/events/claim?channelId={id}%3B2&application={app}"),
                None,
            )
            .await
            .0
    }

    async fn cont(&self, id: &str) -> u16 {
        self.http
            .req("POST", &format!("/channels/{id}%3B2/continue"), None)
            .await
            .0
    }
}

const LIVE: Duration = Duration::from_secs(10);

async fn next_ev(rx: &mut UnboundedReceiver<Ev>, want: fn(&Kind) -> bool) -> Option<Ev> {
    let until = tokio::time::Instant::now() + LIVE;
    loop {
        match tokio::time::timeout_at(until, rx.recv()).await {
            Ok(Some(ev)) if want(&ev.kind) => return Some(ev),
            Ok(Some(_)) => {}
            _ => return None,
        }
    }
}

fn is_bc(k: &Kind) -> bool {
    matches!(k, Kind::Broadcast)
}
fn is_ss(k: &Kind) -> bool {
    matches!(k, Kind::StasisStart)
}
fn is_status(k: &Kind) -> bool {
    matches!(k, Kind::Status)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

// ------------------------------------------------------------------ CPU and memory

fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }) as f64
}

/// utime + stime of a process, in seconds.
fn cpu_of(pid: &str) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // fields 14 and 15 of stat; index 0 here is field 3 (state)
    (tick(11) + tick(12)) / clk_tck()
}

fn rss_kib(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Asterisk's and the client's CPU seconds, and wall time, over a stretch.
struct Meter {
    pid: String,
    wall: Instant,
    ast: f64,
    me: f64,
}

impl Meter {
    fn start(pid: &str) -> Meter {
        Meter {
            pid: pid.to_owned(),
            wall: Instant::now(),
            ast: cpu_of(pid),
            me: cpu_of("self"),
        }
    }
    /// (wall s, Asterisk CPU s, client CPU s)
    fn stop(&self) -> (f64, f64, f64) {
        (
            self.wall.elapsed().as_secs_f64(),
            cpu_of(&self.pid) - self.ast,
            cpu_of("self") - self.me,
        )
    }
}

// ------------------------------------------------------------------ results

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Ours,
    Upstream,
}

#[derive(Default)]
struct Results {
    /// (metric key, mode index) -> samples
    samples: HashMap<(String, usize), Vec<f64>>,
    order: Vec<String>,
    /// Client CPU vs Asterisk CPU per loaded workload: (label, client s, Asterisk s)
    cpu: Vec<(String, f64, f64)>,
    notes: Vec<String>,
}

impl Results {
    fn add(&mut self, key: &str, mode: Mode, v: impl IntoIterator<Item = f64>) {
        if !self.order.iter().any(|k| k == key) {
            self.order.push(key.to_owned());
        }
        self.samples
            .entry((key.to_owned(), mode as usize))
            .or_default()
            .extend(v);
    }
    fn cpu(&mut self, label: &str, client: f64, ast: f64) {
        self.cpu.push((label.to_owned(), client, ast));
    }
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

// ------------------------------------------------------------------ workloads

struct Round<'a> {
    bed: &'a Bed,
    pid: String,
    cfg: &'a Cfg,
    mode: Mode,
}

impl Round<'_> {
    /// Originate -> first and last of `w` workers holding CallBroadcast.
    async fn fanout(&self, w: usize, n: usize, filter: &str) -> (Vec<f64>, Vec<f64>) {
        let (mut first, mut last) = (vec![], vec![]);
        for _ in 0..n {
            let (id, mut rx) = self.bed.call();
            let t0 = Instant::now();
            if self.bed.broadcast(&id, &format!("5000,{filter}")).await {
                let mut times = vec![];
                while times.len() < w {
                    match next_ev(&mut rx, is_bc).await {
                        Some(ev) => times.push(ev.t),
                        None => break,
                    }
                }
                if times.len() == w {
                    first.push(ms(*times.iter().min().unwrap() - t0));
                    last.push(ms(*times.iter().max().unwrap() - t0));
                } else {
                    eprintln!("fan-out {w}: only {} offers", times.len());
                }
                self.bed.hangup(&id).await;
                next_ev(&mut rx, is_status).await;
            }
            self.bed.done(&id);
        }
        (first, last)
    }

    /// A call claimed by `bw-0000` at once and sent on; returns the claim round trip
    /// (CallBroadcast received -> 204 -> StasisStart received), ms. `floor`: plain Stasis().
    /// A claimed (or floor) call; returns its duration, originate sent -> returned, ms.
    async fn claimed_call(&self, floor: bool) -> Option<f64> {
        let t = Instant::now();
        self.claimed_call_phases(floor)
            .await
            .map(|_| ms(t.elapsed()))
    }

    /// As `claimed_call`; returns [claim round trip, originate sent -> CallBroadcast read,
    /// continue sent -> StasisBroadcast returned (varset)], ms.
    async fn claimed_call_phases(&self, floor: bool) -> Option<[f64; 3]> {
        let b = self.bed;
        let (id, mut rx) = b.call();
        let t0 = Instant::now();
        let r = async {
            let rt = if floor {
                if !b.originate(&id, "stasis", json!({ "ASB_APP": ONE })).await {
                    return None;
                }
                next_ev(&mut rx, is_ss).await?;
                (0.0, 0.0)
            } else {
                if !b.broadcast(&id, &format!("5000,^{ONE}$")).await {
                    return None;
                }
                let cb = next_ev(&mut rx, is_bc).await?;
                let st = b.claim(&id, &cb.app).await;
                if st != 204 {
                    eprintln!("claim {id}: {st}");
                    return None;
                }
                let ss = next_ev(&mut rx, is_ss).await?;
                (ms(ss.t - cb.t), ms(cb.t - t0))
            };
            let tc = Instant::now();
            b.cont(&id).await;
            let end = next_ev(&mut rx, is_status).await?;
            Some([rt.0, rt.1, ms(end.t - tc)])
        }
        .await;
        if r.is_none() {
            eprintln!("call {id} did not complete");
            b.hangup(&id).await;
        }
        b.done(&id);
        r
    }

    /// Hang up while waiting -> StasisBroadcast returned (observer's varset), ms.
    async fn hangup_return(&self) -> Option<f64> {
        let b = self.bed;
        let (id, mut rx) = b.call();
        let r = async {
            if !b.broadcast(&id, &format!("10000,^{ONE}$")).await {
                return None;
            }
            next_ev(&mut rx, is_bc).await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let t = Instant::now();
            b.hangup(&id).await;
            let ev = next_ev(&mut rx, is_status).await?;
            Some(ms(ev.t - t))
        }
        .await;
        b.done(&id);
        r
    }

    /// Timeout 200 ms: (originate -> varset) - 200, ms.
    async fn overshoot(&self) -> Option<f64> {
        let b = self.bed;
        let (id, mut rx) = b.call();
        let t = Instant::now();
        let r = async {
            if !b.broadcast(&id, &format!("200,^{ONE}$")).await {
                return None;
            }
            let ev = next_ev(&mut rx, is_status).await?;
            Some(ms(ev.t - t) - 200.0)
        }
        .await;
        b.done(&id);
        r
    }

    /// A broadcast nobody claims (timeout 100 ms), until it returned.
    async fn unclaimed(&self, filter: &str) -> bool {
        let b = self.bed;
        let (id, mut rx) = b.call();
        let ok = b.broadcast(&id, &format!("100,{filter}")).await
            && next_ev(&mut rx, is_status).await.is_some();
        b.done(&id);
        ok
    }

    async fn phase_one(&self, res: &mut Results) {
        let (cfg, mode, pid) = (self.cfg, self.mode, self.pid.as_str());
        // warm-up
        for _ in 0..10 {
            self.claimed_call(false).await;
        }

        let (mut v, mut o, mut c) = (vec![], vec![], vec![]);
        for _ in 0..cfg.claim_rt {
            if let Some(p) = self.claimed_call_phases(false).await {
                v.push(p[0]);
                o.push(p[1]);
                c.push(p[2]);
            }
        }
        res.add("claim round trip (1 worker) [ms]", mode, v);
        res.add("same calls: originate → CallBroadcast read [ms]", mode, o);
        res.add(
            "same calls: continue → StasisBroadcast returned [ms]",
            mode,
            c,
        );

        let mut v = vec![];
        for _ in 0..cfg.hangup {
            v.extend(self.hangup_return().await);
        }
        res.add("hangup while waiting → return [ms]", mode, v);

        let mut v = vec![];
        for _ in 0..cfg.timeout {
            v.extend(self.overshoot().await);
        }
        res.add("timeout 200 ms: overshoot [ms]", mode, v);

        for floor in [false, true] {
            let m = Meter::start(pid);
            let durs: Vec<f64> = stream::iter(0..cfg.saturation)
                .map(|_| self.claimed_call(floor))
                .buffer_unordered(20)
                .filter_map(std::future::ready)
                .collect()
                .await;
            let (wall, ast, me) = m.stop();
            let ok = durs.len();
            let what = if floor {
                "plain Stasis() (floor)"
            } else {
                "StasisBroadcast, 1 worker"
            };
            res.add(
                &format!("saturation, {what}: call duration [ms]"),
                mode,
                durs,
            );
            res.add(
                &format!("saturation, {what}: calls/s ↑"),
                mode,
                [ok as f64 / wall],
            );
            res.add(
                &format!("saturation, {what}: Asterisk CPU per call [ms]"),
                mode,
                [ast * 1e3 / ok.max(1) as f64],
            );
            res.cpu(&format!("saturation ({what})"), me, ast);
        }

        // memory after many completed broadcasts (claimed and continued)
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = rss_kib(pid);
        let m = Meter::start(pid);
        let ok = stream::iter(0..cfg.churn)
            .map(|_| self.claimed_call(false))
            .buffer_unordered(20)
            .filter(|r| std::future::ready(r.is_some()))
            .count()
            .await;
        let (_, ast, me) = m.stop();
        res.cpu(&format!("{} completed broadcasts", cfg.churn), me, ast);
        tokio::time::sleep(Duration::from_millis(500)).await;
        res.add(
            &format!(
                "RSS growth after {} completed broadcasts, 0.5 s later [KiB]",
                cfg.churn
            ),
            mode,
            [rss_kib(pid) - before],
        );
        // 409 tombstones live for timeout (5 s) + 5 s after a win; look again once they expired
        // (one more call lets the registry drop them).
        tokio::time::sleep(Duration::from_millis(10_500)).await;
        self.claimed_call(false).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        res.add(
            &format!(
                "RSS growth after {} completed broadcasts, 11 s later [KiB]",
                cfg.churn
            ),
            mode,
            [rss_kib(pid) - before],
        );
        if ok < cfg.churn {
            res.notes
                .push(format!("churn: only {ok} of {} calls completed", cfg.churn));
        }

        // waiting cost
        let base_rss = rss_kib(pid);
        for &k in &cfg.waiting {
            let calls: Vec<(String, UnboundedReceiver<Ev>)> = stream::iter(0..k)
                .map(|_| async {
                    let (id, mut rx) = self.bed.call();
                    if self.bed.broadcast(&id, &format!("60000,^{ONE}$")).await
                        && next_ev(&mut rx, is_bc).await.is_some()
                    {
                        Some((id, rx))
                    } else {
                        self.bed.done(&id);
                        None
                    }
                })
                .buffer_unordered(20)
                .filter_map(std::future::ready)
                .collect()
                .await;
            if calls.len() < k {
                res.notes.push(format!(
                    "waiting {k}: only {} broadcasts started",
                    calls.len()
                ));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            let m = Meter::start(pid);
            tokio::time::sleep(Duration::from_secs(cfg.waiting_secs)).await;
            let (wall, ast, me) = m.stop();
            res.add(
                &format!("waiting cost, {k} waiting: Asterisk CPU [%]"),
                mode,
                [ast / wall * 100.0],
            );
            res.cpu(&format!("{k} waiting"), me, ast);
            if k == *cfg.waiting.last().unwrap() {
                res.add(
                    "RSS per waiting broadcast (incl. its Local channel pair) [KiB]",
                    mode,
                    [(rss_kib(pid) - base_rss) / calls.len().max(1) as f64],
                );
            }
            stream::iter(calls)
                .map(|(id, mut rx)| async move {
                    self.bed.hangup(&id).await;
                    next_ev(&mut rx, is_status).await;
                    self.bed.done(&id);
                })
                .buffer_unordered(20)
                .count()
                .await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn phase_two(&self, res: &mut Results) {
        let (cfg, mode, pid) = (self.cfg, self.mode, self.pid.as_str());
        for (w, n) in cfg.fanout {
            let filter = match w {
                10 => "^bw-000",
                100 => "^bw-00",
                _ => "^bw-0[0-4]",
            };
            self.fanout(w, 2, filter).await; // warm-up
            let m = Meter::start(pid);
            let (first, last) = self.fanout(w, n, filter).await;
            let (_, ast, me) = m.stop();
            res.cpu(&format!("fan-out to {w}"), me, ast);
            res.add(&format!("fan-out {w}: first worker [ms]"), mode, first);
            res.add(&format!("fan-out {w}: last worker [ms]"), mode, last);
        }
        let mut per = [0.0; 2];
        for (i, (k, filter)) in [(1, "^bw-0000$"), (100, "^bw-00")].into_iter().enumerate() {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let m = Meter::start(pid);
            let ok = stream::iter(0..cfg.offer)
                .map(|_| self.unclaimed(filter))
                .buffer_unordered(10)
                .filter(|r| std::future::ready(*r))
                .count()
                .await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let (_, ast, me) = m.stop();
            res.cpu(&format!("offers to {k}"), me, ast);
            per[i] = ast * 1e3 / ok.max(1) as f64;
            res.add(
                &format!("offer cost: Asterisk CPU per broadcast to {k} [ms]"),
                mode,
                [per[i]],
            );
        }
        res.add(
            "offer cost: Asterisk CPU per offered application [µs]",
            mode,
            [(per[1] - per[0]) * 1e3 / 99.0],
        );
    }
}

// ------------------------------------------------------------------ the test bed

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn testbed(args: &[&str]) -> String {
    let out = Command::new(repo().join("scripts/testbed"))
        .args(args)
        .output()
        .expect("run scripts/testbed");
    if !out.status.success() {
        panic!(
            "scripts/testbed {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn start(mode: Mode) -> String {
    match mode {
        Mode::Ours => testbed(&["start"]),
        Mode::Upstream => testbed(&["start", "--upstream"]),
    };
    let container = std::env::var("ASB_CONTAINER").unwrap_or_else(|_| "asb-asterisk".into());
    testbed(&["engine", "inspect", "-f", "{{.State.Pid}}", &container])
}

async fn run_round(cfg: &Cfg, mode: Mode, res: &mut Results, info: &mut Value) {
    let pid = tokio::task::spawn_blocking(move || start(mode))
        .await
        .unwrap();
    let bed = Bed {
        http: Http {
            pool: Mutex::new(vec![]),
        },
        reg: Arc::new(Mutex::new(HashMap::new())),
        readers: Mutex::new(vec![]),
        seq: AtomicU64::new(0),
    };
    // Open the keep-alive connections one by one: Asterisk's HTTP server listens with a short
    // backlog, and 20 simultaneous connects lose SYNs (a 1 s retransmit) on the first requests.
    for _ in 0..24 {
        if let Ok(c) = Http::connect().await {
            bed.http.pool.lock().unwrap().push(c);
        }
    }
    let (_, body) = bed.http.req("GET", "/asterisk/info", None).await;
    if let Ok(v) = serde_json::from_str::<Value>(&body) {
        info["asterisk"] = v["system"]["version"].clone();
    }
    bed.connect("bobs", true).await.expect("observer");
    bed.connect(ONE, false).await.expect("worker");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let round = Round {
        bed: &bed,
        pid,
        cfg,
        mode,
    };
    round.phase_one(res).await;
    // 499 more workers: bw-0001 .. bw-0499
    stream::iter(1..500)
        .map(|i| {
            let bed = &bed;
            async move {
                if let Err(e) = bed.connect(&format!("bw-{i:04}"), false).await {
                    eprintln!("connect: {e}");
                }
            }
        })
        .buffer_unordered(4)
        .count()
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    round.phase_two(res).await;
    bed.close_all();
    // What Asterisk logged during the round (messages.log: notice, warning, error, verbose(3), debug).
    let log = std::fs::read_to_string(testbed(&["logfile"])).unwrap_or_default();
    let mut counts: Vec<(String, usize)> = vec![];
    for l in log.lines() {
        let Some(level) = l
            .strip_prefix('[')
            .and_then(|l| l.split_once("] "))
            .and_then(|x| x.1.split('[').next())
            .filter(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_uppercase()))
        else {
            continue;
        };
        match counts.iter_mut().find(|c| c.0 == level) {
            Some(c) => c.1 += 1,
            None => counts.push((level.to_owned(), 1)),
        }
    }
    let name = if mode == Mode::Ours {
        "ours"
    } else {
        "upstream"
    };
    res.notes.push(format!(
        "{name}: messages.log lines in one round: {}",
        counts
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
}

// ------------------------------------------------------------------ report

struct Row {
    key: String,
    om: f64,
    op: f64,
    um: f64,
    up: f64,
    higher_better: bool,
}

impl Row {
    /// ours/upstream of the medians.
    fn ratio(&self) -> f64 {
        self.om / self.um
    }
    /// Oriented so that below 1 is better for ours.
    fn cost_ratio(&self) -> f64 {
        if self.higher_better {
            self.um / self.om
        } else {
            self.ratio()
        }
    }
}

fn rows(res: &Results) -> Vec<Row> {
    res.order
        .iter()
        .map(|k| {
            let get = |m: usize| {
                res.samples
                    .get(&(k.clone(), m))
                    .cloned()
                    .unwrap_or_default()
            };
            let (o, u) = (get(0), get(1));
            Row {
                key: k.clone(),
                om: median(&o),
                op: pct(&o, 99.0),
                um: median(&u),
                up: pct(&u, 99.0),
                higher_better: k.contains('↑'),
            }
        })
        .collect()
}

fn f(v: f64) -> String {
    if v.is_nan() {
        "—".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else if v.abs() >= 0.1 || v == 0.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| workload | ours median | ours p99 | upstream median | upstream p99 | ratio median | ratio p99 |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | **{}** | {} |",
            r.key,
            f(r.om),
            f(r.op),
            f(r.um),
            f(r.up),
            f(r.ratio()),
            f(r.op / r.up)
        );
    }
    s
}

fn find<'a>(rows: &'a [Row], key: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.key.starts_with(key))
}

fn targets(rows: &[Row], cfg: &Cfg) -> Vec<(String, bool, String)> {
    let mut t = vec![];
    let mut push = |name: &str, ok: Option<bool>, detail: String| {
        t.push((name.to_owned(), ok.unwrap_or(false), detail));
    };
    let r = find(rows, "hangup while waiting");
    push(
        "hangup → return under 5 ms at p99",
        r.map(|r| r.op < 5.0),
        r.map(|r| format!("p99 {} ms", f(r.op))).unwrap_or_default(),
    );
    let k = *cfg.waiting.last().unwrap();
    let (a, b) = (
        find(rows, "waiting cost, 1 waiting"),
        find(rows, &format!("waiting cost, {k} waiting")),
    );
    push(
        &format!("waiting cost: {k} waiting within 1 percentage point of 1 waiting"),
        a.zip(b).map(|(a, b)| b.om - a.om <= 1.0),
        a.zip(b)
            .map(|(a, b)| format!("{} % vs {} %", f(b.om), f(a.om)))
            .unwrap_or_default(),
    );
    let r = find(rows, "offer cost: Asterisk CPU per offered application");
    push(
        "CPU per offered application ≤ 0.7 × upstream",
        r.map(|r| r.ratio() <= 0.7),
        r.map(|r| format!("ratio {}", f(r.ratio())))
            .unwrap_or_default(),
    );
    for w in [100, 500] {
        let r = find(rows, &format!("fan-out {w}: last"));
        push(
            &format!("fan-out to {w} (last worker, median) ≤ 0.7 × upstream"),
            r.map(|r| r.ratio() <= 0.7),
            r.map(|r| format!("ratio {}", f(r.ratio())))
                .unwrap_or_default(),
        );
    }
    for (name, key) in [
        (
            "CPU per call with one worker no worse than upstream",
            "offer cost: Asterisk CPU per broadcast to 1 ",
        ),
        (
            "claim round trip no worse than upstream",
            "claim round trip",
        ),
        (
            "saturation calls/s no worse than upstream",
            "saturation, StasisBroadcast, 1 worker: calls/s",
        ),
        (
            "saturation CPU per call no worse than upstream",
            "saturation, StasisBroadcast, 1 worker: Asterisk CPU",
        ),
    ] {
        let r = find(rows, key);
        push(
            &format!("{name} (median, 5 % noise allowance)"),
            r.map(|r| r.cost_ratio() <= 1.05),
            r.map(|r| format!("ratio {}", f(r.ratio())))
                .unwrap_or_default(),
        );
    }
    t
}

fn svg(rows: &[Row]) -> String {
    let (w, bar, left, plot) = (1040.0, 22.0, 540.0, 440.0);
    let h = 70.0 + bar * rows.len() as f64 + 40.0;
    let x = |r: f64| {
        let l = r.clamp(0.01, 100.0).log10(); // -2 .. 2
        left + (l + 2.0) / 4.0 * plot
    };
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"15\">StasisBroadcast: ours / upstream (medians; log scale, capped at 0.01 and 100)</text>\n\
         <text x=\"10\" y=\"38\" fill=\"#555\">Oriented so that left of 1 is better for ours (calls/s is shown as upstream / ours). Green: better, red: worse.</text>\n"
    );
    for t in [0.01, 0.1, 1.0, 10.0, 100.0] {
        let _ = writeln!(
            s,
            "<line x1=\"{0}\" y1=\"50\" x2=\"{0}\" y2=\"{1}\" stroke=\"{2}\"/><text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{t}</text>",
            x(t),
            h - 30.0,
            if t == 1.0 { "#000" } else { "#ccc" },
            h - 15.0
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = 55.0 + bar * i as f64;
        let v = r.cost_ratio();
        let label = r.key.replace('&', "&amp;").replace('<', "&lt;");
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{label}</text>",
            left - 8.0,
            y + 14.0
        );
        if v.is_finite() && v > 0.0 {
            let (a, b) = (x(1.0), x(v));
            let _ = writeln!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>",
                a.min(b),
                y + 3.0,
                (a - b).abs().max(1.0),
                bar - 6.0,
                if v <= 1.0 { "#3a3" } else { "#c33" },
                a.max(b) + 4.0,
                y + 14.0,
                f(v)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

fn sh(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn report(cfg: &Cfg, res: &Results, info: &Value, total: Duration) {
    let rows = rows(res);
    let tab = table(&rows);
    let tg = targets(&rows, cfg);
    let mut tgt = String::new();
    for (name, ok, detail) in &tg {
        let _ = writeln!(
            tgt,
            "- {}: {name} ({detail})",
            if *ok { "**met**" } else { "**not met**" }
        );
    }
    let mut cpu = String::from(
        "| workload (all rounds) | client CPU [s] | Asterisk CPU [s] | client / Asterisk |\n|---|---:|---:|---:|\n",
    );
    let mut agg: Vec<(String, f64, f64)> = vec![];
    for (l, me, ast) in &res.cpu {
        match agg.iter_mut().find(|a| &a.0 == l) {
            Some(a) => {
                a.1 += me;
                a.2 += ast;
            }
            None => agg.push((l.clone(), *me, *ast)),
        }
    }
    for (l, me, ast) in &agg {
        let _ = writeln!(cpu, "| {l} | {me:.2} | {ast:.2} | {:.2} |", me / ast);
    }
    println!("\n{tab}\nTargets:\n{tgt}\nClient vs Asterisk CPU:\n{cpu}");
    for n in &res.notes {
        println!("note: {n}");
    }

    let date = info["date"].as_str().unwrap_or("?");
    let cpu_model = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2");
    let mut md = String::new();
    let _ = write!(
        md,
        "# Benchmarks: ours vs upstream\n\n\
         Generated by `cargo bench --bench compare{quick}` ([benches/compare.rs](benches/compare.rs)) on {date}; \
         do not edit by hand.\n\n\
         - machine: {nproc} cores, {cpu_model}, kernel {kernel}\n\
         - Asterisk {ast} (the test bed, `scripts/testbed`); upstream = its packaged `res_stasis_broadcast.so` + \
         `app_stasis_broadcast.so`; ours = app_stasis_broadcast {ver} (release build, \
         `target/release/libapp_stasis_broadcast.so` sha256 {sha}…, built {built}{stale})\n\
         - {rounds} rounds per mode, alternating ours, upstream, ours, upstream…; each round a fresh \
         `scripts/testbed start [--upstream]`; whole run {mins:.1} min{quicknote}\n\n\
         ![ratios](benchmarks/ratios.svg)\n\n\
         ## Results\n\n\
         Latencies: median and p99 over all samples of all rounds. Per-round figures (calls/s, CPU, RSS): \
         median and maximum over the rounds (in the p99 columns). Ratio = ours / upstream (for ↑ rows higher is \
         better, otherwise lower is better).\n\n{tab}\n\
         {noise}\
         ## Targets\n\n{tgt}\n\
         ## Method\n\n\
         One Rust process (tokio, 2 worker threads' worth of load on a 2-core machine shared with Asterisk) drives \
         Asterisk through ARI: one WebSocket per worker application (`bw-0000` … `bw-0499`), a hand-written \
         HTTP/1.1 keep-alive client for requests, and exactly one subscribeAll observer per Asterisk run whose \
         `ChannelVarset` of `STASISSTATUS` (non-empty) marks \"StasisBroadcast returned\". Calls are \
         `Local/raw@asb/n` (the `;2` half runs `StasisBroadcast(${{ASB_ARGS}})`, the far end answers and waits \
         silently); the floor is extension `stasis`, plain `Stasis(bw-0000)`. Times are taken in the client \
         when an event is read off its socket.\n\n\
         - claim round trip: 1 worker, sequential calls: CallBroadcast read → claim → 204 → StasisStart read; \
         then the call is continued and the next starts once it returned.\n\
         - hangup while waiting: timeout 10 s; 20 ms after the offer arrives, `DELETE /channels/X;2`; time from \
         sending it to the observer's varset.\n\
         - timeout overshoot: timeout 200 ms, nobody claims; originate → varset, minus 200 ms.\n\
         - saturation: {sat} calls, 20 at a time, each claimed at once by `bw-0000` and continued; Asterisk CPU \
         (utime+stime of its process) over the batch / calls. The floor: the same with plain `Stasis()`.\n\
         - RSS growth: VmRSS before and after {churn} more such calls (after the warm-up calls and the \
         saturation batches), half a second after the last one returned, and again 11 s later (after one more call), once \
         ours' 409 tombstones (kept for timeout + 5 s after a win) have expired; the quick run does only 200.\n\
         - waiting cost: {waiting:?} broadcasts waiting (timeout 60 s, offered to 1 worker, no media), 1 s to \
         settle, then Asterisk CPU over {ws} s as % of one core. RSS per waiting broadcast: (VmRSS with the most \
         waiting − before any) / count; it includes the Local channel pair and its two threads.\n\
         - fan-out: workers `bw-0000`…`bw-0499` connected (filters `^bw-000`, `^bw-00`, `^bw-0[0-4]` pick \
         10/100/500); sequential broadcasts; originate sent → first / last worker reads CallBroadcast; then \
         hang-up. Samples: {fan:?} (W, n) per round.\n\
         - offer cost: {offer} broadcasts, 10 at a time, timeout 100 ms, nobody claims, offered to 1 \
         (`^bw-0000$`) and to 100 (`^bw-00`) of the 500 registered workers; Asterisk CPU / broadcasts (this \
         includes creating and hanging up the Local pair). Per offered application: (to 100 − to 1) / 99.\n\n\
         ## Client vs Asterisk CPU\n\n\
         The client must not be the bottleneck; its own CPU (utime+stime of the bench process) next to \
         Asterisk's, summed over all rounds of both modes:\n\n{cpu}\n",
        noise = find(&rows, "saturation, plain Stasis() (floor): Asterisk CPU")
            .map(|r| format!(
                "Reading it: the floor (plain `Stasis()`, which neither module takes part in) came out at \
                 {} × between the modes for Asterisk CPU per call and {} × for calls/s, so differences of \
                 that size are noise of this 2-core machine, which the client shares with Asterisk.\n\n",
                f(r.ratio()),
                find(&rows, "saturation, plain Stasis() (floor): calls/s")
                    .map(|r| f(r.ratio()))
                    .unwrap_or_default()
            ))
            .unwrap_or_default(),
        quick = if cfg.quick { " -- --quick" } else { "" },
        nproc = sh("nproc"),
        kernel = sh("uname -r"),
        ast = info["asterisk"].as_str().unwrap_or("?"),
        ver = env!("CARGO_PKG_VERSION"),
        sha = info["module"]["sha256"].as_str().unwrap_or("?"),
        built = info["module"]["built"].as_str().unwrap_or("?"),
        stale = if info["module"]["stale"] == true {
            "; **sources were newer than this build**"
        } else {
            ""
        },
        rounds = cfg.rounds,
        mins = total.as_secs_f64() / 60.0,
        quicknote = if cfg.quick {
            " (**quick run**: few samples)"
        } else {
            ""
        },
        sat = cfg.saturation,
        churn = cfg.churn,
        waiting = cfg.waiting,
        ws = cfg.waiting_secs,
        fan = cfg.fanout,
        offer = cfg.offer,
    );
    if !res.notes.is_empty() {
        md.push_str("## Notes from the run\n\n");
        for n in &res.notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    std::fs::create_dir_all(repo().join("benchmarks")).ok();
    std::fs::write(repo().join("benchmarks/ratios.svg"), svg(&rows)).expect("write svg");
    std::fs::write(repo().join("BENCHMARKS.md"), md).expect("write BENCHMARKS.md");
    println!("wrote BENCHMARKS.md and benchmarks/ratios.svg");
}

/// Which module build "ours" is: sha256 prefix and build time of the .so the test bed mounts, and
/// whether any source is newer (then the run measured an older build).
fn module_info() -> Value {
    let so = repo().join("target/release/libapp_stasis_broadcast.so");
    let mtime = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let built = mtime(&so);
    let mut newest = None;
    let mut stack = vec![
        repo().join("src"),
        repo().join("include"),
        repo().join("build.rs"),
        repo().join("wrapper.h"),
    ];
    while let Some(p) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&p) {
            stack.extend(rd.flatten().map(|e| e.path()));
        } else if let Some(t) = mtime(&p) {
            newest = newest.max(Some(t));
        }
    }
    json!({
        "sha256": sh(&format!("sha256sum '{}' | cut -c1-16", so.display())),
        "built": sh(&format!("date -u -r '{}' '+%Y-%m-%d %H:%M:%S UTC'", so.display())),
        "stale": newest > built,
    })
}

/// The raw samples, so that the report can be regenerated (`--from benchmarks/results.json`).
fn save(cfg: &Cfg, res: &Results, info: &Value, total: Duration) {
    let samples: Vec<Value> = res
        .samples
        .iter()
        .map(|((k, m), v)| json!({ "key": k, "mode": if *m == 0 { "ours" } else { "upstream" }, "values": v }))
        .collect();
    let v = json!({
        "quick": cfg.quick,
        "rounds": cfg.rounds,
        "info": info,
        "total_secs": total.as_secs_f64(),
        "date": sh("date -u '+%Y-%m-%d %H:%M UTC'"),
        "order": res.order,
        "samples": samples,
        "cpu": res.cpu.iter().map(|(l, me, ast)| json!([l, me, ast])).collect::<Vec<_>>(),
        "notes": res.notes,
    });
    std::fs::create_dir_all(repo().join("benchmarks")).ok();
    std::fs::write(
        repo().join("benchmarks/results.json"),
        serde_json::to_string_pretty(&v).unwrap(),
    )
    .expect("write results.json");
}

fn load(path: &str) -> (Cfg, Results, Value, Duration) {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read results"))
        .expect("parse results");
    let mut cfg = Cfg::new();
    if v["quick"].as_bool() != Some(cfg.quick) {
        cfg = Cfg::preset(v["quick"].as_bool().unwrap_or(false), 0);
    }
    cfg.rounds = v["rounds"].as_u64().unwrap_or(0) as usize;
    let strs = |x: &Value| -> Vec<String> {
        x.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut res = Results {
        order: strs(&v["order"]),
        notes: strs(&v["notes"]),
        ..Results::default()
    };
    for smp in v["samples"].as_array().into_iter().flatten() {
        let mode = usize::from(smp["mode"] != "ours");
        let vals = smp["values"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        res.samples
            .insert((smp["key"].as_str().unwrap_or("").to_owned(), mode), vals);
    }
    for c in v["cpu"].as_array().into_iter().flatten() {
        res.cpu.push((
            c[0].as_str().unwrap_or("").to_owned(),
            c[1].as_f64().unwrap_or(0.0),
            c[2].as_f64().unwrap_or(0.0),
        ));
    }
    let mut info = v["info"].clone();
    info["date"] = v["date"].clone();
    let total = Duration::from_secs_f64(v["total_secs"].as_f64().unwrap_or(0.0));
    (cfg, res, info, total)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(path) = args
        .iter()
        .position(|a| a == "--from")
        .and_then(|i| args.get(i + 1))
    {
        let (cfg, res, info, total) = load(path);
        report(&cfg, &res, &info, total);
        return;
    }
    let cfg = Cfg::new();
    let so = repo().join("target/release/libapp_stasis_broadcast.so");
    assert!(
        so.exists(),
        "{} missing: run `cargo build --release` first",
        so.display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let t0 = Instant::now();
    let mut res = Results::default();
    let mut info = json!({ "module": module_info() });
    if info["module"]["stale"] == true {
        eprintln!(
            "warning: sources are newer than {}: run `cargo build --release` first to measure them",
            so.display()
        );
    }
    rt.block_on(async {
        for i in 0..cfg.rounds {
            for mode in [Mode::Ours, Mode::Upstream] {
                let name = if mode == Mode::Ours {
                    "ours"
                } else {
                    "upstream"
                };
                eprintln!(
                    "round {}/{} {name} ({:.0} s so far)",
                    i + 1,
                    cfg.rounds,
                    t0.elapsed().as_secs_f64()
                );
                run_round(&cfg, mode, &mut res, &mut info).await;
            }
        }
    });
    // Leave the test bed in "ours" mode.
    testbed(&["start"]);
    info["date"] = json!(sh("date -u '+%Y-%m-%d %H:%M UTC'"));
    save(&cfg, &res, &info, t0.elapsed());
    report(&cfg, &res, &info, t0.elapsed());
}
