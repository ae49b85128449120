//! `POST /ari/events/claim` as Asterisk 22.10's res_ari answers it, for the
//! releases whose res_ari has no such route (the module then serves it).
//!
//! A client must not be able to tell the two apart, so this follows the order
//! in which res_ari handles a request:
//! 1. CORS headers for an allowed `Origin`;
//! 2. a request body that could not be read (400, 413, 500);
//! 3. authentication: HTTP Basic, else the first `api_key=user:password` (the
//!    parameter's name in any case), checked by the release's own rules
//!    (`AriConf::validate`: name case, empty values), credentials as bytes;
//!    401 with ARI's `WWW-Authenticate` challenge when missing or wrong;
//! 4. the user's ACL (403, where the release has user ACLs), Asterisk not yet
//!    fully booted (503, closing the connection), a read-only user on anything
//!    but GET/OPTIONS (403);
//! 5. OPTIONS (204 with `Allow` and the CORS preflight answer), any other
//!    method but POST (405 with `Allow`);
//! 6. the claim's own parameters (400 when one is missing), then the claim:
//!    204, 404, 409 as `stasis_app_claim_channel` answers 0, -1, -2.
//!
//! The host does the I/O (reading the request, checking crypt hashes and
//! ACLs, writing the reply); everything decided is decided here.

use super::ari_conf::{AriConf, AriUser, General};

/// The methods Asterisk's HTTP server tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Head,
    Put,
    Delete,
    Options,
    Other,
}

/// A request body that could not be read, as the status res_ari answers it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    Unparsable,
    OutOfMemory,
}

/// What the route needs of one request. Borrowed from the host for the call.
#[derive(Debug, Default)]
pub struct Request<'a> {
    pub method: Option<Method>,
    /// Form fields of the body, then the query's parameters: res_ari's order.
    /// Bytes as they came: credentials are compared as ARI compares them.
    pub params: Vec<(&'a [u8], &'a [u8])>,
    /// HTTP Basic credentials, when the request carries them.
    pub basic: Option<(&'a [u8], &'a [u8])>,
    pub origin: Option<&'a str>,
    pub request_method: Option<&'a str>,
    pub request_headers: Option<&'a str>,
    pub body_error: Option<BodyError>,
    /// A JSON body's `channelId` / `application`: `Some(None)` when the field
    /// is there but not a string (it then overrides the query with nothing).
    pub body_channel_id: Option<Option<&'a str>>,
    pub body_application: Option<Option<&'a str>>,
    pub fully_booted: bool,
}

/// The answer. `message` becomes `{"message": ...}` in ARI's JSON format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub reason: &'static str,
    /// Extra header lines, each ending in CRLF (Content-Type is the host's).
    pub headers: String,
    pub message: Option<&'static str>,
    /// Close the connection once answered, as res_ari does for this answer.
    pub close: bool,
}

/// What the route asks of the host while deciding; `A` is the host's ACL list.
pub trait Host<A> {
    /// `ast_crypt_validate(password, hash)`.
    fn crypt_matches(&self, password: &[u8], hash: &[u8]) -> bool;
    /// Whether the user's ACL list refuses the peer (`ast_apply_acl`, as res_ari
    /// applies it: an empty list refuses nobody).
    fn acl_denies(&self, acl: &A) -> bool;
    /// `stasis_app_claim_channel`: 0 won, -1 not found, -2 already claimed.
    fn claim(&self, channel_id: &str, application: &str) -> i32;
}

const ALLOW: &str = "Allow: OPTIONS,POST\r\n";

/// Answers one request.
pub fn handle<A>(conf: &AriConf<A>, req: &Request<'_>, host: &impl Host<A>) -> Reply {
    let Some(general) = conf.general.as_deref() else {
        // ARI's answer when its configuration is gone (a request that arrived as the
        // route was being unlinked).
        return Reply {
            status: 500,
            reason: "Server Error",
            headers: String::new(),
            message: Some("URI handler config missing"),
            close: true,
        };
    };
    let mut headers = cors_headers(general, req);
    let mut reply = |status, reason, message: Option<&'static str>, extra: &str| {
        headers.push_str(extra);
        Reply {
            status,
            reason,
            headers: std::mem::take(&mut headers),
            message,
            // res_ari closes the connection after these two.
            close: status == 503 || message == Some("Out of memory"),
        }
    };
    if let Some(e) = req.body_error {
        return match e {
            BodyError::TooLarge => reply(
                413,
                "Request Entity Too Large",
                Some("Request body too large"),
                "",
            ),
            BodyError::Unparsable => {
                reply(400, "Bad Request", Some("Error parsing request body"), "")
            }
            BodyError::OutOfMemory => {
                reply(500, "Internal Server Error", Some("Out of memory"), "")
            }
        };
    }
    let Some(user) = authenticate(conf, req, host) else {
        let challenge = format!(
            "WWW-Authenticate: Basic realm=\"{}\"\r\n",
            general.auth_realm
        );
        return reply(
            401,
            "Unauthorized",
            Some("Authentication required"),
            &challenge,
        );
    };
    let method = req.method.unwrap_or(Method::Other);
    if user.acl.as_ref().is_some_and(|acl| host.acl_denies(acl)) {
        return reply(403, "Forbidden", Some("Access denied by ACL"), "");
    }
    if !req.fully_booted {
        return reply(503, "Service Unavailable", Some("Asterisk not booted"), "");
    }
    if user.read_only && method != Method::Get && method != Method::Options {
        return reply(403, "Forbidden", Some("Write access denied"), "");
    }
    match method {
        Method::Options => return reply(204, "No Content", None, &preflight(general, req)),
        Method::Post => {}
        _ => return reply(405, "Method Not Allowed", Some("Invalid method"), ALLOW),
    }
    let (channel_id, application) = claim_args(req);
    let Some(channel_id) = channel_id.filter(|s| !s.is_empty()) else {
        return reply(
            400,
            "Bad Request",
            Some("channelId parameter is required"),
            "",
        );
    };
    let Some(application) = application.filter(|s| !s.is_empty()) else {
        return reply(
            400,
            "Bad Request",
            Some("application parameter is required"),
            "",
        );
    };
    match host.claim(&channel_id, &application) {
        0 => reply(204, "No Content", None, ""),
        -1 => reply(
            404,
            "Not Found",
            Some("Channel not found or not in broadcast state"),
            "",
        ),
        -2 => reply(
            409,
            "Conflict",
            Some("Channel has already been claimed by another application"),
            "",
        ),
        _ => reply(
            500,
            "Internal Server Error",
            Some("Failed to claim channel"),
            "",
        ),
    }
}

/// CORS for a simple request: the allowed origin is echoed, with credentials.
fn cors_headers(conf: &General, req: &Request<'_>) -> String {
    match req.origin {
        Some(o) if conf.origin_allowed(o) => format!(
            "Access-Control-Allow-Origin: {o}\r\nAccess-Control-Allow-Credentials: true\r\n"
        ),
        _ => String::new(),
    }
}

/// OPTIONS: `Allow`, and the preflight's answer when it asks for POST from an
/// allowed origin.
fn preflight(conf: &General, req: &Request<'_>) -> String {
    let mut h = String::from(ALLOW);
    let (Some(origin), Some(method)) = (req.origin, req.request_method) else {
        return h;
    };
    if !conf.origin_allowed(origin) || method != "POST" {
        return h;
    }
    h.push_str("Access-Control-Allow-Methods: OPTIONS,POST\r\n");
    match req.request_headers {
        Some(rh) if !rh.is_empty() => {
            h.push_str(&format!("Access-Control-Allow-Headers: {rh}\r\n"))
        }
        _ => {}
    }
    h
}

/// The user the request authenticates as: HTTP Basic when present (even if
/// wrong: no fallback), else the first parameter named `api_key` (in any case up
/// to 22.9, whose res_ari compares the name with strcasecmp; exactly on 22.10 and
/// 23.4), split at its first colon.
fn authenticate<'c, A>(
    conf: &'c AriConf<A>,
    req: &Request<'_>,
    host: &impl Host<A>,
) -> Option<&'c AriUser<A>> {
    let (name, password) = match req.basic {
        Some(b) => b,
        None => {
            let exact = conf.rules.api_key_exact;
            let (_, key) = req.params.iter().find(|(k, _)| {
                *k == b"api_key" || (!exact && k.eq_ignore_ascii_case(b"api_key"))
            })?;
            let colon = key.iter().position(|&b| b == b':')?;
            (&key[..colon], &key[colon + 1..])
        }
    };
    conf.validate(name, password, |p, h| host.crypt_matches(p, h))
}

/// `channelId` and `application`: the last of each among the parameters, a
/// JSON body's field overriding both.
fn claim_args(req: &Request<'_>) -> (Option<String>, Option<String>) {
    let last = |name: &str| {
        req.params
            .iter()
            .rev()
            .find(|(k, _)| *k == name.as_bytes())
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    (
        match req.body_channel_id {
            Some(field) => field.map(str::to_owned),
            None => last("channelId"),
        },
        match req.body_application {
            Some(field) => field.map(str::to_owned),
            None => last("application"),
        },
    )
}

#[cfg(test)]
mod tests;
