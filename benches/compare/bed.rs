//! The test bed as the benchmark drives it: one node's REST client (the shared ari-worker
//! client) and its applications' events, routed to the call they are about.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ari_worker::{Ari, Events, Originate};
use serde_json::{json, Value};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

#[derive(Debug)]
pub enum Kind {
    Broadcast,
    StasisStart,
    /// Non-empty STASISSTATUS set (seen by the observer).
    Status,
}

#[derive(Debug)]
pub struct Ev {
    pub t: Instant,
    pub app: String,
    pub kind: Kind,
}

type Registry = Arc<Mutex<HashMap<String, UnboundedSender<Ev>>>>;

pub struct Bed {
    pub ari: Ari,
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
    pub fn new(ari: Ari) -> Bed {
        Bed {
            ari,
            reg: Arc::new(Mutex::new(HashMap::new())),
            readers: Mutex::new(vec![]),
            seq: AtomicU64::new(0),
        }
    }

    /// Connects one application's WebSocket; its reader routes events by channel id.
    pub async fn connect(&self, app: &str, subscribe_all: bool) -> Result<(), String> {
        let mut events = Events::connect(self.ari.node(), app, subscribe_all).await?;
        let reg = self.reg.clone();
        let app = app.to_owned();
        let h = tokio::spawn(async move {
            while let Some(Ok((t, text))) = events.next_text().await {
                // The observer sees every channel's events: parse only what may matter.
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
                let app = app.clone();
                route(&reg, chan, Ev { t, app, kind });
            }
        });
        self.readers.lock().unwrap().push(h);
        Ok(())
    }

    /// Drops every application (their sockets close with their readers).
    pub fn close_all(&self) {
        for h in self.readers.lock().unwrap().drain(..) {
            h.abort();
        }
        self.reg.lock().unwrap().clear();
    }

    /// A new call id (the `;1` half) and the receiver of its `;2` half's events.
    pub fn call(&self) -> (String, UnboundedReceiver<Ev>) {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let id = format!("bc{}x{n}", std::process::id());
        let (tx, rx) = unbounded_channel();
        self.reg.lock().unwrap().insert(format!("{id};2"), tx);
        (id, rx)
    }

    pub fn done(&self, id: &str) {
        self.reg.lock().unwrap().remove(&format!("{id};2"));
    }

    /// Originates `Local/<exten>@asb/n` (far end silent), variables on `;2`.
    pub async fn originate(&self, id: &str, exten: &str, vars: Value) -> bool {
        let endpoint = format!("Local/{exten}@asb/n");
        let call = Originate {
            endpoint: &endpoint,
            extension: "hold",
            context: "asb",
            channel_id: id,
            timeout_secs: 300,
            variables: vars,
        };
        match self.ari.originate(&call).await {
            Ok(r) if r.status == 200 => true,
            Ok(r) => {
                eprintln!("originate {id}: {} {:.200}", r.status, r.body.to_string());
                false
            }
            Err(e) => {
                eprintln!("originate {id}: {e}");
                false
            }
        }
    }

    pub async fn broadcast(&self, id: &str, args: &str) -> bool {
        self.originate(id, "raw", json!({ "ASB_ARGS": args })).await
    }

    /// The answers' statuses; 0 when there was none (a transport failure, reported).
    fn status(what: &str, answer: Result<u16, String>) -> u16 {
        answer.unwrap_or_else(|e| {
            eprintln!("{what}: {e}");
            0
        })
    }

    pub async fn hangup(&self, id: &str) -> u16 {
        Bed::status("hangup", self.ari.hangup(&format!("{id};2")).await)
    }

    pub async fn claim(&self, id: &str, app: &str) -> u16 {
        Bed::status("claim", self.ari.claim(&format!("{id};2"), app).await)
    }

    pub async fn cont(&self, id: &str) -> u16 {
        let answer = self.ari.continue_in_dialplan(&format!("{id};2")).await;
        Bed::status("continue", answer)
    }
}

const LIVE: Duration = Duration::from_secs(10);

pub async fn next_ev(rx: &mut UnboundedReceiver<Ev>, want: fn(&Kind) -> bool) -> Option<Ev> {
    let until = tokio::time::Instant::now() + LIVE;
    loop {
        match tokio::time::timeout_at(until, rx.recv()).await {
            Ok(Some(ev)) if want(&ev.kind) => return Some(ev),
            Ok(Some(_)) => {}
            _ => return None,
        }
    }
}

pub fn is_bc(k: &Kind) -> bool {
    matches!(k, Kind::Broadcast)
}
pub fn is_ss(k: &Kind) -> bool {
    matches!(k, Kind::StasisStart)
}
pub fn is_status(k: &Kind) -> bool {
    matches!(k, Kind::Status)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
