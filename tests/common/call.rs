//! Calls over Local channels, originated through ARI.

use super::*;

/// A call: the `;2` half runs `exten` in context `asb` (where StasisBroadcast
/// is), the `;1` half runs `far` once `;2` answers.
pub struct Call {
    /// Unique id of the `;2` half: the channel StasisBroadcast runs on.
    pub id: String,
    /// Unique id of the `;1` half.
    pub far_id: String,
}

impl Call {
    /// Originates a call with channel variables on `;2`.
    pub fn start(exten: &str, far: &str, vars: &[(&str, &str)]) -> Call {
        Call::start_with(exten, far, vars, &[])
    }

    /// As `start`, with extra originate query parameters (e.g. callerId).
    pub fn start_with(
        exten: &str,
        far: &str,
        vars: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Call {
        Call::originate(&unique("call"), exten, far, vars, extra)
    }

    /// As `start`, with the `;1` half's id chosen by the caller (`;2` is `<name>;2`).
    pub fn start_named(name: &str, exten: &str, far: &str, vars: &[(&str, &str)]) -> Call {
        Call::originate(name, exten, far, vars, &[])
    }

    fn originate(
        name: &str,
        exten: &str,
        far: &str,
        vars: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Call {
        let far_id = name.to_owned();
        // Local channels name the ;2 half after the ;1 half's id. (ARI refuses
        // channelId and otherChannelId together.)
        let id = format!("{far_id};2");
        let endpoint = format!("Local/{exten}@asb/n");
        let mut query = vec![
            ("endpoint", endpoint.as_str()),
            ("extension", far),
            ("context", "asb"),
            ("channelId", far_id.as_str()),
            ("timeout", "300"),
        ];
        query.extend_from_slice(extra);
        subscribed(); // before the call exists
        let variables: serde_json::Map<String, Value> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let r = ari(
            "POST",
            "/channels",
            &query,
            Some(json!({ "variables": variables })),
        );
        assert_eq!(r.status, 200, "originate: {:?}", r.body);
        Call { id, far_id }
    }

    /// A call running `StasisBroadcast(<args>)` (extension `raw`), far end silent.
    /// Asterisk cuts a variable's value at 4 KiB when it substitutes it, so a
    /// longer argument string is passed in two variables the dialplan joins.
    pub fn broadcast(args: &str) -> Call {
        let cut = args
            .char_indices()
            .map(|(i, _)| i)
            .take_while(|i| *i <= 4000)
            .last()
            .unwrap_or(0);
        let (head, tail) = if args.len() > 4000 {
            args.split_at(cut)
        } else {
            (args, "")
        };
        Call::start(
            "raw",
            "hold",
            &[("ASB_ARGS", head), ("ASB_ARGS_MORE", tail)],
        )
    }

    /// Originates a call into `StasisBroadcast(<args>)` (extension `raw`, far end silent) whose
    /// channel ids Asterisk chooses itself, without waiting for it; returns the `;1` half's
    /// channel (ARI's JSON). Nothing hangs it up when the test ends: it ends by itself.
    pub fn anonymous(args: &str) -> Value {
        let r = ari(
            "POST",
            "/channels",
            &[
                ("endpoint", "Local/raw@asb/n"),
                ("extension", "hold"),
                ("context", "asb"),
                ("timeout", "30"),
            ],
            Some(json!({ "variables": { "ASB_ARGS": args } })),
        );
        assert_eq!(r.status, 200, "originate: {:?}", r.body);
        r.body
    }

    /// Hangs up the broadcasting half.
    pub fn hangup(&self) -> u16 {
        ari("DELETE", &format!("/channels/{}", self.id), &[], None).status
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // Leave nothing behind; either half may be gone already.
        for id in [&self.far_id, &self.id] {
            let url = node().url_with_credentials(&["channels", id]);
            let _ = agent().request_url("DELETE", &url).call();
        }
    }
}
