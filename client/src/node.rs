//! One Asterisk node's ARI: where it is and who we are to it. Pure: no I/O.

use url::Url;

/// The ARI of one Asterisk: base URL (`http://host:port/ari`) and credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// `http://host:port/ari`, without credentials and without a trailing slash.
    base: Url,
    user: String,
    password: String,
}

impl Node {
    /// A node from an ARI base URL such as `http://127.0.0.1:8088/ari`. Only plain `http://`:
    /// this client has no TLS (test beds and private networks).
    pub fn new(ari: &str, user: &str, password: &str) -> Result<Node, String> {
        let mut base =
            Url::parse(ari.trim_end_matches('/')).map_err(|e| format!("ARI URL {ari:?}: {e}"))?;
        if base.scheme() != "http" {
            return Err(format!(
                "ARI URL {ari}: only plain http:// is supported (this client has no TLS)"
            ));
        }
        if base.host_str().is_none() {
            return Err(format!("ARI URL {ari}: no host"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(format!("ARI URL {ari}: no query or fragment, please"));
        }
        // Credentials go in their own fields, not in every URL we print.
        let (mut user, mut password) = (user.to_owned(), password.to_owned());
        if !base.username().is_empty() {
            user = decode(base.username());
            password = decode(base.password().unwrap_or_default());
            let _ = base.set_username("");
            let _ = base.set_password(None);
        }
        Ok(Node {
            base,
            user,
            password,
        })
    }

    /// The test bed's ARI on 127.0.0.1:`port`, user and password `asb`.
    pub fn local(port: u16) -> Node {
        Node::new(&format!("http://127.0.0.1:{port}/ari"), "asb", "asb")
            .expect("a well-formed local URL")
    }

    /// `http://host:port/ari` (no credentials).
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `host:port`, to name the node in reports.
    pub fn label(&self) -> String {
        match self.base.port_or_known_default() {
            Some(port) => format!("{}:{port}", self.base.host_str().unwrap_or_default()),
            None => self.base.host_str().unwrap_or_default().to_owned(),
        }
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// A resource below the base: each segment is percent-encoded as one path segment (a
    /// channel id such as `call-1;2` stays one segment).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("an http URL has a path")
            .pop_if_empty()
            .extend(segments);
        url
    }

    /// As [`Node::url`], with the credentials in the URL: for HTTP clients that send Basic
    /// authentication from it (ureq does).
    pub fn url_with_credentials(&self, segments: &[&str]) -> Url {
        let mut url = self.url(segments);
        let _ = url.set_username(&self.user);
        let _ = url.set_password(Some(&self.password));
        url
    }

    /// The event WebSocket of application `app`: `ws://host:port/ari/events?app=…&api_key=…`.
    /// With `subscribe_all`, the application sees every channel's events (an observer).
    pub fn events_url(&self, app: &str, subscribe_all: bool) -> Url {
        let mut url = self.url(&["events"]);
        url.set_scheme("ws").expect("http and ws are both special");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("app", app);
            q.append_pair("api_key", &format!("{}:{}", self.user, self.password));
            if subscribe_all {
                q.append_pair("subscribeAll", "true");
            }
        }
        url
    }
}

/// The URL keeps its user and password percent-encoded.
fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_encoded() {
        let n = Node::new("http://127.0.0.1:8088/ari/", "a b", "p&q").unwrap();
        assert_eq!(n.label(), "127.0.0.1:8088");
        assert_eq!(
            n.url(&["channels", "x;2", "continue"]).as_str(),
            "http://127.0.0.1:8088/ari/channels/x;2/continue"
        );
        assert_eq!(
            n.url(&["channels", "a/b"]).as_str(),
            "http://127.0.0.1:8088/ari/channels/a%2Fb"
        );
        assert_eq!(
            n.events_url("pool-1", true).as_str(),
            "ws://127.0.0.1:8088/ari/events?app=pool-1&api_key=a+b%3Ap%26q&subscribeAll=true"
        );
        assert_eq!(
            n.url_with_credentials(&["asterisk", "info"]).as_str(),
            "http://a%20b:p&q@127.0.0.1:8088/ari/asterisk/info"
        );
    }

    #[test]
    fn credentials_in_the_url_win() {
        let n = Node::new("http://u:p%40w@pbx:8088/ari", "asb", "asb").unwrap();
        assert_eq!((n.user(), n.password()), ("u", "p@w"));
        assert_eq!(n.base().as_str(), "http://pbx:8088/ari");
        assert_eq!(n.label(), "pbx:8088");
    }

    #[test]
    fn only_plain_http() {
        assert!(Node::new("https://pbx/ari", "a", "b").is_err());
        assert!(Node::new("pbx:8088", "a", "b").is_err());
        assert!(Node::new("http://pbx/ari?x=1", "a", "b").is_err());
    }
}
