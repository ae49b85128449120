//! ARI applications on their own WebSockets, and racing workers built on them.

use super::*;

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

    pub(crate) fn connect_with(name: &str, subscribe_all: bool) -> App {
        asterisk();
        let url = node().events_url(name, subscribe_all);
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

    /// Like [`App::next`], but `None` only once the WebSocket has closed
    /// (`Some(None)`: nothing within `limit`).
    pub fn next_until_closed(&mut self, limit: Duration) -> Option<Option<Value>> {
        if !self.seen.is_empty() {
            return Some(Some(self.seen.remove(0)));
        }
        match self.events.recv_timeout(limit) {
            Ok(v) => Some(Some(v)),
            Err(RecvTimeoutError::Timeout) => Some(None),
            Err(RecvTimeoutError::Disconnected) => None,
        }
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
