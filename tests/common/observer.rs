//! The process's one subscribeAll observer and the waits built on it.

use super::*;

use std::sync::{MutexGuard, PoisonError};

/// The process's one observer: an application subscribed to every channel,
/// keeping the ChannelVarset, ChannelHangupRequest, ChannelDestroyed and
/// ChannelDtmfReceived events it sees. One per Asterisk run, never
/// re-registered while that Asterisk runs: Asterisk can deadlock ARI when a
/// `subscribeAll` application's WebSocket closes while a device state event is
/// delivered to it (asterisk/asterisk#2170; the test bed also keeps
/// res_stasis_device_state out for it, see testbed/asterisk/modules.conf.in).
/// After a test restarts the test bed, [`subscribed`] connects it afresh.
pub struct Observer {
    /// Kept events by channel id: waits look at one channel's events only.
    events: Mutex<std::collections::HashMap<String, Vec<Value>>>,
    arrived: std::sync::Condvar,
    /// When the Asterisk it is registered in started (ARI's `startup_time`).
    started: Mutex<String>,
}

/// The observer, as it is (for waits: it is not reconnected in the middle of
/// one, when Asterisk may be stopping on purpose).
pub fn observer() -> &'static Observer {
    static OBS: OnceLock<&'static Observer> = OnceLock::new();
    OBS.get_or_init(|| {
        let obs: &'static Observer = Box::leak(Box::new(Observer {
            events: Mutex::new(std::collections::HashMap::new()),
            arrived: std::sync::Condvar::new(),
            started: Mutex::new(String::new()),
        }));
        *obs.started.lock().unwrap_or_else(PoisonError::into_inner) = startup_time();
        obs.listen();
        obs
    })
}

/// The observer, subscribed in the Asterisk that runs now: call it before
/// placing a call, whose events it must not miss. A restarted test bed (another
/// startup time) has forgotten its application: it registers again. (Not by
/// asking ARI for the application: `GET /applications` is one of the requests
/// that hang behind the deadlock above.)
pub fn subscribed() -> &'static Observer {
    let obs = observer();
    let mut started = obs.started.lock().unwrap_or_else(PoisonError::into_inner);
    let now = startup_time();
    if *started != now {
        *started = now;
        obs.listen();
    }
    obs
}

/// Asterisk's start time as ARI reports it.
fn startup_time() -> String {
    let r = ari("GET", "/asterisk/info", &[("only", "status")], None);
    r.body["status"]["startup_time"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

impl Observer {
    /// Registers a new application and keeps its events on a thread of its
    /// own, which ends when the WebSocket does.
    fn listen(&'static self) {
        let mut app = App::connect_with(&unique("observer"), true);
        thread::spawn(move || {
            while let Some(ev) = app.next_until_closed(Duration::from_secs(1)) {
                let Some(ev) = ev else { continue };
                if matches!(
                    ev["type"].as_str(),
                    Some(
                        "ChannelVarset"
                            | "ChannelHangupRequest"
                            | "ChannelDestroyed"
                            | "ChannelDtmfReceived"
                    )
                ) {
                    let id = ev["channel"]["id"].as_str().unwrap_or_default().to_owned();
                    self.lock().entry(id).or_default().push(ev);
                    self.arrived.notify_all();
                }
            }
        });
    }

    /// The kept events, even after a test panicked while holding them (one
    /// failure must not fail every other test of the binary).
    fn lock(&self) -> MutexGuard<'_, std::collections::HashMap<String, Vec<Value>>> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The kept events about channel `id` that match, so far (no waiting).
    pub fn kept(&self, id: &str, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        let events = self.lock();
        events
            .get(id)
            .map(|evs| evs.iter().filter(|v| pred(v)).cloned().collect())
            .unwrap_or_default()
    }

    /// Waits for the first kept event about channel `id` that matches.
    pub fn wait_for(&self, id: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + *LIVENESS;
        let mut events = self.lock();
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
                // Not while holding the lock: the other tests' waits go on.
                drop(events);
                panic!(
                    "observer: no {what} for {id} within {:?}; its events:\n{}",
                    *LIVENESS,
                    seen.join("\n")
                );
            }
            events = self
                .arrived
                .wait_timeout(events, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
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

/// The digits of a channel as published so far (each ChannelDtmfReceived the observer saw).
pub fn digits_published(id: &str) -> String {
    observer()
        .kept(id, |v| v["type"] == "ChannelDtmfReceived")
        .iter()
        .map(|v| v["digit"].as_str().unwrap_or("?").to_owned())
        .collect()
}
