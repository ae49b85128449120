//! `POST /ari/events/claim` itself: statuses, bodies, headers, ARI's
//! authentication and CORS, and `ari.conf` reloads.
//!
//! The same requests go to Asterisk's own route where Asterisk has one (22.10.1
//! and 23.4.1, ours or upstream behind it) and to the module's route on the
//! releases without one (18.26.4, 20.6.0, 22.9.0), and expect the same
//! answers byte for byte in status, body and the headers a client relies on.
//! That is how the module's route is shown to be indistinguishable: every
//! answer expected here was first read off 22.10.1's own route. Who gets in
//! with which ari.conf (the release's own reading of it) is
//! tests/claim_admission.rs's.
//!
//! The test bed's ari.conf (testbed/asterisk/ari.conf) has the users these
//! tests need: `asb` (read-write, plain), `asb-ro` (read-only) and
//! `asb-crypt` (a crypt(3) password), and `allowed_origins` for CORS. The
//! tests run one at a time (`serial`): some edit ari.conf, or turn ARI off for
//! a moment, and put it back.

mod common;

use common::*;
use serde_json::{json, Value};

/// One request to the claim route (`query` already encoded).
fn request(
    method: &str,
    query: &str,
    auth: Auth<'_>,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
) -> Answer {
    http_request(
        method,
        &format!("/ari/events/claim{query}"),
        auth,
        headers,
        body,
    )
}

const ASB: Auth = Auth::Basic(USER, PASS);
const UNKNOWN: &str = "?channelId=no-such-channel&application=nobody";
const NOT_FOUND: &str = "Channel not found or not in broadcast state";

#[test]
fn missing_parameters_are_400() {
    let _one = serial();
    request("POST", "", ASB, &[], None).assert_error(400, "channelId parameter is required");
    request("POST", "?application=a", ASB, &[], None)
        .assert_error(400, "channelId parameter is required");
    request("POST", "?channelId=&application=a", ASB, &[], None)
        .assert_error(400, "channelId parameter is required");
    request("POST", "?channelId=c", ASB, &[], None)
        .assert_error(400, "application parameter is required");
}

#[test]
fn unknown_channels_are_404() {
    let _one = serial();
    request("POST", UNKNOWN, ASB, &[], None).assert_error(404, NOT_FOUND);
}

#[test]
fn other_methods_are_405_with_allow() {
    let _one = serial();
    for method in ["GET", "PUT", "DELETE"] {
        let a = request(method, UNKNOWN, ASB, &[], None);
        a.assert_error(405, "Invalid method");
        assert_eq!(a.header("Allow"), Some("OPTIONS,POST"), "{method}");
    }
    let head = request("HEAD", UNKNOWN, ASB, &[], None);
    assert_eq!(head.status, 405);
    assert_eq!(head.header("Allow"), Some("OPTIONS,POST"));
    let options = request("OPTIONS", "", ASB, &[], None);
    options.assert_no_content();
    assert_eq!(options.header("Allow"), Some("OPTIONS,POST"));
}

#[test]
fn authentication_is_ari_s() {
    let _one = serial();
    let challenge = Some("Basic realm=\"Asterisk REST Interface\"");
    for auth in [
        Auth::None,
        Auth::Basic(USER, "wrong"),
        Auth::Basic("nobody", PASS),
        Auth::Basic(USER, ""),
    ] {
        let a = request("POST", UNKNOWN, auth, &[], None);
        a.assert_error(401, "Authentication required");
        assert_eq!(a.header("WWW-Authenticate"), challenge);
    }
    // api_key: the first one counts; a wrong one is 401 too.
    let key = format!("{UNKNOWN}&api_key={USER}:{PASS}");
    request("POST", &key, Auth::None, &[], None).assert_error(404, NOT_FOUND);
    for bad in [format!("{USER}:wrong"), USER.to_owned(), format!(":{PASS}")] {
        let a = request(
            "POST",
            &format!("{UNKNOWN}&api_key={bad}"),
            Auth::None,
            &[],
            None,
        );
        a.assert_error(401, "Authentication required");
        assert_eq!(a.header("WWW-Authenticate"), challenge);
    }
    // Basic credentials, even wrong ones, are used instead of a good api_key.
    request("POST", &key, Auth::Basic(USER, "wrong"), &[], None)
        .assert_error(401, "Authentication required");
}

#[test]
fn read_only_users_are_403_and_crypt_passwords_work() {
    let _one = serial();
    request(
        "POST",
        UNKNOWN,
        Auth::Basic("asb-ro", "ro-secret"),
        &[],
        None,
    )
    .assert_error(403, "Write access denied");
    request(
        "POST",
        UNKNOWN,
        Auth::Basic("asb-crypt", "crypt-secret"),
        &[],
        None,
    )
    .assert_error(404, NOT_FOUND);
    let hash = "$6$asbtestbedsalt$37U2IuiI76YZa6429duJgPSVWe6IyYONX1H5j1rZLhvVWq6XgBK.STlJpxh8rpnJVvUkCCoE8WZOWiOgO3ANv0";
    request("POST", UNKNOWN, Auth::Basic("asb-crypt", hash), &[], None)
        .assert_error(401, "Authentication required");
}

#[test]
fn bodies_json_and_form() {
    let _one = serial();
    let json_body = |text| request("POST", "", ASB, &[], Some(("application/json", text)));
    json_body(r#"{"channelId":"no-such-channel","application":"nobody"}"#)
        .assert_error(404, NOT_FOUND);
    json_body(r#"{"application":"nobody"}"#).assert_error(400, "channelId parameter is required");
    json_body("{not json").assert_error(400, "Error parsing request body");
    // A JSON field overrides the query's, even with a value that is not a string.
    request(
        "POST",
        UNKNOWN,
        ASB,
        &[],
        Some(("application/json", r#"{"channelId":5}"#)),
    )
    .assert_error(400, "channelId parameter is required");
    let form = Some((
        "application/x-www-form-urlencoded",
        "channelId=no-such-channel&application=nobody",
    ));
    request("POST", "", ASB, &[], form).assert_error(404, NOT_FOUND);
    // A body error comes before authentication.
    request("POST", "", Auth::None, &[], Some(("application/json", "{")))
        .assert_error(400, "Error parsing request body");
}

#[test]
fn cors_follows_allowed_origins() {
    let _one = serial();
    let origin = "http://allowed.example";
    let a = request("POST", UNKNOWN, ASB, &[("Origin", origin)], None);
    a.assert_error(404, NOT_FOUND);
    assert_eq!(a.header("Access-Control-Allow-Origin"), Some(origin));
    assert_eq!(a.header("Access-Control-Allow-Credentials"), Some("true"));
    let a = request(
        "POST",
        UNKNOWN,
        ASB,
        &[("Origin", "http://other.example")],
        None,
    );
    assert_eq!(a.header("Access-Control-Allow-Origin"), None);
    let preflight = request(
        "OPTIONS",
        "",
        ASB,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        None,
    );
    preflight.assert_no_content();
    assert_eq!(
        preflight.header("Access-Control-Allow-Origin"),
        Some(origin)
    );
    assert_eq!(
        preflight.header("Access-Control-Allow-Methods"),
        Some("OPTIONS,POST")
    );
    assert_eq!(
        preflight.header("Access-Control-Allow-Headers"),
        Some("content-type")
    );
}

#[test]
fn a_claim_through_each_kind_of_request() {
    let _one = serial();
    let mut w = App::connect(&unique("forms"));
    let encoded =
        |call: &Call| url::form_urlencoded::byte_serialize(call.id.as_bytes()).collect::<String>();
    // Query string with Basic credentials, JSON body, form body, api_key.
    for form in 0..4 {
        let call = Call::broadcast(&format!("10000,^{}$", w.name));
        w.wait_event("CallBroadcast", &call.id);
        let body = json!({ "channelId": call.id, "application": w.name }).to_string();
        let fields = format!("channelId={}&application={}", encoded(&call), w.name);
        let query = format!("?{fields}");
        let a = match form {
            0 => request("POST", &query, ASB, &[], None),
            1 => request("POST", "", ASB, &[], Some(("application/json", &body))),
            2 => request(
                "POST",
                "",
                ASB,
                &[],
                Some(("application/x-www-form-urlencoded", &fields)),
            ),
            _ => request(
                "POST",
                &format!("{query}&api_key={USER}:{PASS}"),
                Auth::None,
                &[],
                None,
            ),
        };
        a.assert_no_content();
        request("POST", &query, ASB, &[], None).assert_error(
            409,
            "Channel has already been claimed by another application",
        );
        w.wait_event("StasisStart", &call.id);
        finish(&call);
    }
}

/// Runs `f` with `extra` appended to the test bed's ari.conf and res_ari
/// reloaded; restores the file and reloads again afterwards.
fn with_ari_conf(extra: &str, f: impl FnOnce()) {
    asterisk();
    let path = cache_dir().join("run/etc/ari.conf");
    let original = std::fs::read_to_string(&path).expect("read ari.conf");
    std::fs::write(&path, format!("{original}\n{extra}\n")).expect("write ari.conf");
    cli("module reload res_ari.so");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::fs::write(&path, original).expect("restore ari.conf");
    cli("module reload res_ari.so");
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn a_new_user_counts_after_module_reload_res_ari() {
    let _one = serial();
    let user = unique("reload-user");
    let before = request("POST", UNKNOWN, Auth::Basic(&user, "new-secret"), &[], None);
    before.assert_error(401, "Authentication required");
    let conf = format!("[{user}]\ntype = user\npassword = new-secret\npassword_format = plain\n");
    with_ari_conf(&conf, || {
        eventually("the new user is accepted", || {
            request("POST", UNKNOWN, Auth::Basic(&user, "new-secret"), &[], None).status == 404
        });
    });
    eventually("the removed user is refused again", || {
        request("POST", UNKNOWN, Auth::Basic(&user, "new-secret"), &[], None).status == 401
    });
}

#[test]
fn disabled_ari_means_no_claim_route() {
    let _one = serial();
    // `(+)` adds to the [general] section already there.
    with_ari_conf("[general](+)\nenabled = no\n", || {
        eventually("the route is gone with ARI", || {
            let a = request("POST", UNKNOWN, ASB, &[], None);
            a.status == 404 && a.header("Content-Type") != Some("application/json")
        });
    });
    eventually("the route is back with ARI", || {
        let a = request("POST", UNKNOWN, ASB, &[], None);
        a.status == 404 && a.header("Content-Type") == Some("application/json")
    });
}

#[test]
fn api_docs_describe_the_claim_and_its_events_as_22_10_does() {
    let _one = serial();
    asterisk();
    let served = http_request("GET", "/ari/api-docs/events.json", ASB, &[], None).json();
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("rest-api/stasis_broadcast.json")).unwrap(),
    )
    .unwrap();
    let claim: Vec<&Value> = served["apis"]
        .as_array()
        .expect("apis")
        .iter()
        .filter(|a| a["path"] == "/events/claim")
        .collect();
    assert_eq!(claim, vec![&want["api"]]);
    for model in ["CallBroadcast", "CallClaimed"] {
        assert_eq!(served["models"][model], want["models"][model], "{model}");
    }
    let sub_types = served["models"]["Event"]["subTypes"].as_array().unwrap();
    for name in ["CallBroadcast", "CallClaimed"] {
        assert!(
            sub_types.contains(&json!(name)),
            "{name} in Event's subTypes"
        );
    }
}

/// Whether this release carries REST requests over the events WebSocket (20.14+, 21.9+,
/// 22.4+, 23.x and later).
fn has_rest_over_websocket() -> bool {
    let v = asterisk_version();
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    match major {
        20 => minor >= 14,
        21 => minor >= 9,
        22 => minor >= 4,
        m => m >= 23,
    }
}

/// A claim sent as a REST request over the application's WebSocket: on Asterisk's own
/// route it is a claim like any other (404 for a channel not broadcast); on the module's
/// route res_ari routes it inside its own handler tree, which has no claim (the tree
/// takes the first `events` node, res_ari_events', so no module can add one beside it):
/// res_ari's 404 "Resource not found". Pinned, so that a change in either shows.
#[test]
fn a_claim_over_the_websocket_gets_res_ari_s_answer() {
    let _one = serial();
    asterisk();
    if !has_rest_over_websocket() {
        println!(
            "Asterisk {} carries no REST requests over WebSockets",
            asterisk_version()
        );
        return;
    }
    let app = unique("ws-claim");
    let url = format!(
        "ws://{}/ari/events?app={app}&api_key={USER}:{PASS}",
        http_host()
    );
    let (mut ws, _) = tungstenite::connect(url.as_str()).expect("connect ARI WebSocket");
    let request = json!({
        "type": "RESTRequest",
        "request_id": "claim-1",
        "method": "POST",
        "uri": "events/claim",
        "query_strings": [
            { "name": "channelId", "value": "no-such-channel" },
            { "name": "application", "value": app },
        ],
    });
    ws.send(tungstenite::Message::Text(request.to_string()))
        .expect("send the REST request");
    let response = loop {
        let msg = ws.read().expect("read the WebSocket");
        let tungstenite::Message::Text(text) = msg else {
            continue;
        };
        let v: Value = serde_json::from_str(&text).expect("JSON");
        if v["type"] == "RESTResponse" && v["request_id"] == "claim-1" {
            break v;
        }
    };
    let _ = ws.close(None);
    assert_eq!(response["status_code"], 404, "{response}");
    let message = if asterisk_has_claim_route() {
        NOT_FOUND
    } else {
        "Resource not found"
    };
    // The body comes as a string of JSON.
    let body: Value = serde_json::from_str(response["message_body"].as_str().unwrap_or("null"))
        .expect("a JSON body");
    assert_eq!(body, json!({ "message": message }), "{response}");
}
