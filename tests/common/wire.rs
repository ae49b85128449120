//! Requests with every part chosen by the test (method, credentials,
//! headers, body) and the whole answer (status, headers, body): for tests of
//! what a client sees on the wire, such as the claim endpoint's.

use base64::Engine;
use serde_json::{json, Value};

use super::{asterisk, http_host};

/// What a client sees of one answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// An ARI error: this status and `{"message": message}` as JSON.
    pub fn assert_error(&self, status: u16, message: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.json(), json!({ "message": message }), "{self:?}");
        assert_eq!(self.header("Content-Type"), Some("application/json"));
    }

    /// A 204 with no body and no content type.
    pub fn assert_no_content(&self) {
        assert_eq!(self.status, 204, "{self:?}");
        assert_eq!(self.body, "");
        assert_eq!(self.header("Content-Type"), None, "{self:?}");
    }
}

/// An agent that opens a connection per request, with the harness's timeout:
/// these requests include odd methods whose answers Asterisk frames in ways a
/// kept-alive connection cannot be reused after.
fn fresh_connections() -> &'static ureq::Agent {
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::AgentBuilder::new()
            .timeout(super::TIMEOUT)
            .max_idle_connections(0)
            .build()
    })
}

/// Credentials for a request.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    Basic(&'a str, &'a str),
}

/// One request to the test bed's HTTP server: method, path and query
/// (already encoded), credentials, extra headers, and a body with its content
/// type. Any status is an answer.
pub fn http_request(
    method: &str,
    path_and_query: &str,
    auth: Auth<'_>,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
) -> Answer {
    asterisk();
    let url = format!("http://{}{path_and_query}", http_host());
    let mut req = fresh_connections().request(method, &url);
    if let Auth::Basic(user, password) = auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        req = req.set("Authorization", &format!("Basic {token}"));
    }
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let res = match body {
        Some((content_type, text)) => req.set("Content-Type", content_type).send_string(text),
        None => req.call(),
    };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|k| resp.header(&k).map(|v| (k.clone(), v.to_owned())))
        .collect();
    Answer {
        status: resp.status(),
        headers,
        body: resp.into_string().unwrap_or_default(),
    }
}
