//! An ARI application's event WebSocket: opening it registers the application with Stasis;
//! closing it unregisters the application.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::Node;

/// One event, with the moment it was read off the socket.
#[derive(Debug, Clone)]
pub struct Event {
    pub at: Instant,
    pub json: Value,
}

impl Event {
    /// `type`: `CallBroadcast`, `StasisStart`, `ChannelVarset`, …
    pub fn kind(&self) -> &str {
        self.json["type"].as_str().unwrap_or_default()
    }

    /// The id of the channel the event is about (`""` when none).
    pub fn channel_id(&self) -> &str {
        self.json["channel"]["id"].as_str().unwrap_or_default()
    }

    /// A non-empty value set to `STASISSTATUS` (StasisBroadcast sets it empty when it starts,
    /// then to its outcome when it returns).
    pub fn stasis_status(&self) -> Option<&str> {
        let value = self.json["value"].as_str().unwrap_or_default();
        (self.kind() == "ChannelVarset"
            && self.json["variable"] == "STASISSTATUS"
            && !value.is_empty())
        .then_some(value)
    }
}

/// How long Asterisk gets to answer a WebSocket handshake. A wedged Asterisk (stuck registering
/// an application) never answers, and tungstenite alone would wait forever.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// The event WebSocket of one application on one node.
pub struct Events {
    app: String,
    subscribe_all: bool,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Events {
    /// Opens the WebSocket of `app` (registering it); with `subscribe_all` the application
    /// sees every channel's events.
    pub async fn connect(node: &Node, app: &str, subscribe_all: bool) -> Result<Events, String> {
        let url = node.events_url(app, subscribe_all);
        let place = format!("{}/events", node.base());
        let connecting = tokio_tungstenite::connect_async(url.as_str());
        let (ws, _) = match tokio::time::timeout(HANDSHAKE, connecting).await {
            Err(_) => {
                return Err(format!(
                    "{place} did not answer the WebSocket handshake of application {app} within \
                     {HANDSHAKE:?}: Asterisk may be deadlocked (22.10 can be, after subscribeAll \
                     applications came and went); scripts/testbed start restarts it"
                ))
            }
            Ok(Err(tungstenite::Error::Http(r))) => {
                return Err(format!(
                    "ARI at {place} refused the WebSocket of application {app}: HTTP {}",
                    r.status()
                ))
            }
            Ok(Err(e)) => {
                return Err(format!(
                    "cannot open the WebSocket of application {app} at {place}: {e}\n  \
                     is Asterisk running? (scripts/testbed start)"
                ))
            }
            Ok(Ok(pair)) => pair,
        };
        if let MaybeTlsStream::Plain(tcp) = ws.get_ref() {
            tcp.set_nodelay(true).ok();
        }
        Ok(Events {
            app: app.to_owned(),
            subscribe_all,
            ws,
        })
    }

    /// The application's name.
    pub fn app(&self) -> &str {
        &self.app
    }

    /// Whether the application sees every channel's events.
    pub fn subscribes_all(&self) -> bool {
        self.subscribe_all
    }

    /// The next text message and when it was read; `None` once the socket closed, `Some(Err)`
    /// when it broke. Pings are answered by tungstenite itself.
    pub async fn next_text(&mut self) -> Option<Result<(Instant, String), String>> {
        loop {
            match self.ws.next().await? {
                Ok(Message::Text(text)) => return Some(Ok((Instant::now(), text))),
                Ok(Message::Close(_)) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(format!("WebSocket: {e}"))),
            }
        }
    }

    /// The next event (text that is not JSON is skipped), as [`Events::next_text`].
    pub async fn next(&mut self) -> Option<Result<Event, String>> {
        loop {
            match self.next_text().await? {
                Ok((at, text)) => {
                    if let Ok(json) = serde_json::from_str(&text) {
                        return Some(Ok(Event { at, json }));
                    }
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// Closes the WebSocket and waits (briefly) for Asterisk's answer, so that the application
    /// is unregistered when this returns.
    pub async fn close(mut self) {
        let _ = self.ws.send(Message::Close(None)).await;
        let drain = async { while let Some(Ok(_)) = self.ws.next().await {} };
        let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    }
}
