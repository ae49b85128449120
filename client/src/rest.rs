//! ARI's REST side on one node: claim, continue, hang up, originate, and any other request.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::Node;

/// An HTTP answer: status and body (JSON when it parses, else the text as a JSON string).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// The REST client of one node. Requests share a pool of keep-alive connections, so a claim's
/// round trip measures the claim, not a TCP handshake. Clones share that pool.
#[derive(Clone)]
pub struct Ari {
    node: Node,
    http: reqwest::Client,
}

/// A call through a Local channel: its `;2` half runs `endpoint`'s extension, the `;1` half
/// (id `channel_id`) runs `extension` in `context` once `;2` answers. Variables are set on `;2`.
pub struct Originate<'a> {
    pub endpoint: &'a str,
    pub extension: &'a str,
    pub context: &'a str,
    pub channel_id: &'a str,
    /// Seconds for `;2` to answer.
    pub timeout_secs: u64,
    pub variables: Value,
}

impl Ari {
    pub fn new(node: Node) -> Ari {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            // Asterisk closes a keep-alive connection after 15 s idle (http.conf
            // session_keep_alive); one taken from the pool just as it does would fail a
            // request that cannot be retried (a claim, an originate). Drop them first.
            .pool_idle_timeout(Duration::from_secs(10))
            // Long enough for Asterisk under valgrind; a dead node fails at once (refused).
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client without TLS always builds");
        Ari { node, http }
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    /// One request to `segments` below the base URL. Any HTTP status is an answer; only a
    /// transport failure (refused, reset, timed out) is an error.
    pub async fn request(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let what = || format!("{method} {}/{}", self.node.label(), segments.join("/"));
        let mut req = self
            .http
            .request(method.clone(), self.node.url(segments))
            .basic_auth(self.node.user(), Some(self.node.password()));
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| failure(what(), &e))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| failure(what(), &e))?;
        Ok(Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        })
    }

    /// `POST /events/claim`: 204 won, 409 another application won, 404 no such offer.
    pub async fn claim(&self, channel: &str, app: &str) -> Result<u16, String> {
        let query = [("channelId", channel), ("application", app)];
        let r = self
            .request(Method::POST, &["events", "claim"], &query, None)
            .await?;
        Ok(r.status)
    }

    /// `POST /channels/{id}/continue`: the won call goes back to its dialplan.
    pub async fn continue_in_dialplan(&self, channel: &str) -> Result<u16, String> {
        let r = self
            .request(Method::POST, &["channels", channel, "continue"], &[], None)
            .await?;
        Ok(r.status)
    }

    /// `DELETE /channels/{id}`.
    pub async fn hangup(&self, channel: &str) -> Result<u16, String> {
        let r = self
            .request(Method::DELETE, &["channels", channel], &[], None)
            .await?;
        Ok(r.status)
    }

    /// `POST /channels` (200 when the call exists).
    pub async fn originate(&self, o: &Originate<'_>) -> Result<Reply, String> {
        let timeout = o.timeout_secs.to_string();
        let query = [
            ("endpoint", o.endpoint),
            ("extension", o.extension),
            ("context", o.context),
            ("channelId", o.channel_id),
            ("timeout", timeout.as_str()),
        ];
        let body = json!({ "variables": o.variables });
        self.request(Method::POST, &["channels"], &query, Some(&body))
            .await
    }

    /// `GET /asterisk/info`, failing early with a hint when Asterisk is down or refuses our
    /// credentials.
    pub async fn check(&self) -> Result<Value, String> {
        let base = self.node.base();
        match self
            .request(Method::GET, &["asterisk", "info"], &[], None)
            .await
        {
            Err(e) => Err(format!(
                "cannot reach ARI at {base}: is Asterisk running? (scripts/testbed start)\n  ({e})"
            )),
            Ok(Reply { status: 200, body }) => Ok(body),
            Ok(Reply { status: 401, .. }) => {
                Err(format!("ARI at {base} refused the user and password"))
            }
            Ok(Reply { status, body }) => {
                Err(format!("ARI at {base} answered HTTP {status}: {body}"))
            }
        }
    }

    /// Opens up to `n` keep-alive connections one at a time (each round has one request more
    /// in flight than there are idle connections). Asterisk's HTTP server listens with a short
    /// backlog: many connects at once lose SYNs, and the first requests would wait a 1 s
    /// retransmit. Idle connections last 10 s: warm up again before each burst.
    pub async fn warm_up(&self, n: usize) {
        for k in 1..=n {
            let probes =
                (0..k).map(|_| self.request(Method::GET, &["asterisk", "ping"], &[], None));
            futures_util::future::join_all(probes).await;
        }
    }
}

/// A transport failure with its causes (reqwest's own message hides them: "error sending
/// request").
fn failure(what: String, e: &reqwest::Error) -> String {
    let mut msg = format!("{what}: {e}");
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        msg.push_str(&format!(": {c}"));
        cause = c.source();
    }
    msg
}
