//! CONTRACT part A: what Asterisk's own modules do, on the wire. Every test
//! here must pass against ours and against upstream (`ASB_TARGET=upstream`).

mod common;

use std::collections::HashSet;

use common::*;

fn set(items: &[&str]) -> HashSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// Asterisk's own testsuite, scenario 1: nominal claim.
#[test]
fn nominal_claim_enters_stasis_in_the_winner_with_args() {
    let mut w = App::connect(&unique("nominal"));
    let call = Call::broadcast(&format!("10000,^{}$,sales:priority-high", w.name));
    let ev = w.wait_event("CallBroadcast", &call.id);
    assert_eq!(
        keys(&ev),
        set(&[
            "type",
            "timestamp",
            "channel",
            "caller",
            "called",
            "asterisk_id",
            "application"
        ])
    );
    assert_eq!(ev["application"], w.name.as_str());
    assert_eq!(ev["called"], "raw");
    assert_eq!(ev["channel"]["dialplan"]["app_name"], "StasisBroadcast");

    let start = win(&mut w, &call);
    assert_eq!(args_of(&start), vec!["sales", "priority-high"]);
    finish(&call);
    assert_eq!(var_set(&call.id, "ASB_RESULT"), "SUCCESS");
}

// Scenario 2: a second claim gets 409, also while the winner's session runs.
#[test]
fn later_claims_get_409_while_the_winner_holds_the_call() {
    let mut a = App::connect(&unique("second-a"));
    let mut b = App::connect(&unique("second-b"));
    let call = Call::broadcast(&format!("10000,^({}|{})$", a.name, b.name));
    a.wait_event("CallBroadcast", &call.id);
    b.wait_event("CallBroadcast", &call.id);
    assert_eq!(claim(&call.id, &a.name), 204);
    assert_eq!(claim(&call.id, &b.name), 409);
    assert_eq!(claim(&call.id, &a.name), 409);
    a.wait_event("StasisStart", &call.id);
    assert_eq!(
        claim(&call.id, &b.name),
        409,
        "during the winner's Stasis session"
    );
    finish(&call);
}

// Scenario 3: the filter limits who is offered; the search is unanchored.
#[test]
fn filter_limits_who_is_offered_unanchored() {
    let token = unique("tok");
    let mut ivr = App::connect(&format!("my-{token}-ivr-2"));
    let mut sales = App::connect(&format!("{token}-sales"));
    let call = Call::broadcast(&format!("300,{token}-ivr"));
    ivr.wait_event("CallBroadcast", &call.id);
    assert_eq!(status(&call), "TIMEOUT");
    assert!(
        !sales.was_offered(&call.id),
        "a non-matching application was offered the call"
    );
}

// Scenario 4: no claim in time.
#[test]
fn no_claim_in_time_times_out_then_claims_get_404() {
    let mut w = App::connect(&unique("timeout"));
    let log = Log::mark();
    let call = Call::broadcast(&format!("200,^{}$", w.name));
    let ev = w.wait_event("CallBroadcast", &call.id);
    assert_eq!(status(&call), "TIMEOUT");
    assert_eq!(var_set(&call.id, "ASB_RESULT"), "TIMEOUT");
    log.wait_line(&[
        "WARNING",
        &channel_name(&ev),
        "not claimed within 200ms timeout",
    ]);
    assert_eq!(claim(&call.id, &w.name), 404);
}

#[test]
fn bad_timeouts_warn_with_channel_and_value_and_use_the_default() {
    for bad in ["abc", "60001", "-1", "99999999999999999999"] {
        let mut w = App::connect(&unique("badtimeout"));
        let log = Log::mark();
        let call = Call::broadcast(&format!("{bad},^{}$", w.name));
        let name = channel_name(&w.wait_event("CallBroadcast", &call.id));
        assert_eq!(status(&call), "TIMEOUT");
        log.wait_line(&[
            "WARNING",
            &name,
            &format!("invalid timeout value '{bad}'"),
            "using default 500ms",
        ]);
        log.wait_line(&["WARNING", &name, "not claimed within 500ms timeout"]);
    }
}

#[test]
fn empty_arguments_take_the_defaults_and_offer_to_every_application() {
    for args in ["", ",,,"] {
        let mut a = App::connect(&unique("everyone-a"));
        let mut b = App::connect(&unique("everyone-b"));
        let log = Log::mark();
        let call = Call::broadcast(args);
        let ev = a.wait_event("CallBroadcast", &call.id);
        b.wait_event("CallBroadcast", &call.id);
        assert_eq!(status(&call), "TIMEOUT");
        log.wait_line(&[
            "WARNING",
            &channel_name(&ev),
            "not claimed within 500ms timeout",
        ]);
    }
}

#[test]
fn timeout_zero_returns_at_once() {
    let mut w = App::connect(&unique("zero"));
    let call = Call::broadcast(&format!("0,^{}$", w.name));
    w.wait_event("CallBroadcast", &call.id);
    assert_eq!(status(&call), "TIMEOUT");
}

#[test]
fn call_claimed_goes_to_the_matching_applications_when_asked() {
    for truth in ["yes", "TRUE", "1", "on", "y", "T"] {
        let mut a = App::connect(&unique("claimed-a"));
        let mut b = App::connect(&unique("claimed-b"));
        let mut other = App::connect(&unique("claimed-other"));
        let call = Call::broadcast(&format!("10000,^({}|{})$,,{truth}", a.name, b.name));
        a.wait_event("CallBroadcast", &call.id);
        b.wait_event("CallBroadcast", &call.id);
        assert_eq!(claim(&call.id, &a.name), 204);
        let winner = a.name.clone();
        for app in [&mut a, &mut b] {
            let ev = app.wait_event("CallClaimed", &call.id);
            assert_eq!(
                keys(&ev),
                set(&[
                    "type",
                    "timestamp",
                    "channel",
                    "winner_app",
                    "asterisk_id",
                    "application"
                ])
            );
            assert_eq!(ev["winner_app"], winner.as_str());
        }
        a.wait_event("StasisStart", &call.id);
        finish(&call);
        other.sync();
        assert!(
            !other.received(|v| v["type"] == "CallClaimed"),
            "{truth}: sent to a non-matching application"
        );
    }
}

#[test]
fn no_call_claimed_unless_asked() {
    for notify in ["", "no", "off", "0", "maybe"] {
        let mut a = App::connect(&unique("quiet-a"));
        let mut b = App::connect(&unique("quiet-b"));
        let call = Call::broadcast(&format!("10000,^({}|{})$,,{notify}", a.name, b.name));
        a.wait_event("CallBroadcast", &call.id);
        win(&mut a, &call);
        finish(&call);
        b.sync();
        assert!(
            !b.received(|v| v["type"] == "CallClaimed"),
            "notify_claimed={notify:?}"
        );
    }
}

#[test]
fn channel_json_carries_channelvars_caller_and_called() {
    let mut w = App::connect(&unique("snapshot"));
    let filter = format!("10000,^{}$", w.name);
    let call = Call::start_with(
        "raw",
        "hold",
        &[("ASB_ARGS", &filter), ("ASB_TAG", "blue")],
        &[("callerId", "Alice <1234>")],
    );
    let ev = w.wait_event("CallBroadcast", &call.id);
    assert_eq!(ev["channel"]["channelvars"]["ASB_TAG"], "blue", "{ev:#}");
    assert_eq!(ev["channel"]["id"], call.id.as_str());
    assert_eq!(ev["caller"], ev["channel"]["caller"]["number"]);
    assert_eq!(ev["called"], "raw");
    assert!(ev["timestamp"].as_str().is_some_and(|t| t.len() >= 20));

    // No caller ID at all: still present, as "".
    let call = Call::broadcast(&filter);
    let ev = w.wait_event("CallBroadcast", &call.id);
    assert_eq!(ev["caller"], "");
}

#[test]
fn claim_endpoint_answers() {
    asterisk();
    assert_eq!(claim("no-such-channel", "nobody"), 404);
    let missing_app = ari("POST", "/events/claim", &[("channelId", "x")], None);
    assert_eq!(missing_app.status, 400);
    let missing_id = ari("POST", "/events/claim", &[("application", "x")], None);
    assert_eq!(missing_id.status, 400);

    // Parameters in a JSON body work like query parameters.
    let mut w = App::connect(&unique("body"));
    let call = Call::broadcast(&format!("10000,^{}$", w.name));
    w.wait_event("CallBroadcast", &call.id);
    let r = ari(
        "POST",
        "/events/claim",
        &[],
        Some(serde_json::json!({"channelId": call.id, "application": w.name})),
    );
    assert_eq!(r.status, 204, "{:?}", r.body);
    w.wait_event("StasisStart", &call.id);
    finish(&call);
}

#[test]
fn stasis_args_reach_stasis_start_as_stasis_would_pass_them() {
    let mut w = App::connect(&unique("args"));
    let many: Vec<String> = (0..100).map(|i| format!("a{i}")).collect();
    for (raw, want) in [
        ("a::b", vec!["a".to_owned(), String::new(), "b".to_owned()]),
        ("only", vec!["only".to_owned()]),
        ("", vec![]),
        (&many.join(":")[..], many.clone()),
    ] {
        let call = Call::broadcast(&format!("10000,^{}$,{raw}", w.name));
        w.wait_event("CallBroadcast", &call.id);
        let start = win(&mut w, &call);
        assert_eq!(args_of(&start), want);
        finish(&call);
    }
}

#[test]
fn failover_to_a_second_pool_on_the_same_channel() {
    let mut first = App::connect(&unique("pool1"));
    let mut second = App::connect(&unique("pool2"));
    let call = Call::start(
        "failover",
        "hold",
        &[
            ("ASB_ARGS", &format!("200,^{}$", first.name)),
            ("ASB_ARGS2", &format!("10000,^{}$", second.name)),
        ],
    );
    first.wait_event("CallBroadcast", &call.id);
    second.wait_event("CallBroadcast", &call.id);
    assert_eq!(var_set(&call.id, "ASB_FIRST"), "TIMEOUT");
    assert_eq!(claim(&call.id, &second.name), 204);
    second.wait_event("StasisStart", &call.id);
    continue_dialplan(&call.id);
    assert_eq!(var_set(&call.id, "ASB_RESULT"), "SUCCESS");
}

#[test]
fn the_same_pool_can_claim_the_same_channel_again() {
    let mut w = App::connect(&unique("again"));
    let args = format!("10000,^{}$", w.name);
    let call = Call::start(
        "failover",
        "hold",
        &[("ASB_ARGS", &args), ("ASB_ARGS2", &args)],
    );
    for round in ["ASB_FIRST", "ASB_RESULT"] {
        w.wait_event("CallBroadcast", &call.id);
        assert_eq!(claim(&call.id, &w.name), 204, "{round}");
        w.wait_event("StasisStart", &call.id);
        continue_dialplan(&call.id);
        assert_eq!(var_set(&call.id, round), "SUCCESS");
    }
}

#[test]
fn stasis_failure_after_a_claim_gives_failed() {
    let mut w = App::connect(&unique("gone"));
    let call = Call::broadcast(&format!("10000,^{}$", w.name));
    w.wait_event("CallBroadcast", &call.id);
    claimed_by_a_winner_gone(&w, &call);
}

/// The winner's application goes away before its claim is acted on: the claim
/// wins (204), and Stasis cannot run (FAILED).
fn claimed_by_a_winner_gone(w: &App, call: &Call) {
    let log = Log::mark();
    w.disconnect();
    log.wait_line(&["Shutting down application", &w.name]);
    assert_eq!(claim(&call.id, &w.name), 204);
    assert_eq!(status(call), "FAILED");
}

#[test]
fn hangup_while_waiting_gives_timeout() {
    let mut w = App::connect(&unique("hangup"));
    let call = Call::broadcast(&format!("60000,^{}$", w.name));
    w.wait_event("CallBroadcast", &call.id);
    assert_eq!(call.hangup(), 204);
    assert_eq!(status(&call), "TIMEOUT");
}

#[test]
fn exactly_one_of_many_simultaneous_claims_wins() {
    let token = unique("many");
    let mut apps: Vec<App> = (0..12)
        .map(|i| App::connect(&format!("{token}-{i}")))
        .collect();
    let call = Call::broadcast(&format!("10000,^{token}-"));
    for a in &mut apps {
        a.wait_event("CallBroadcast", &call.id);
    }
    let names: Vec<String> = apps.iter().map(|a| a.name.clone()).collect();
    let id = call.id.clone();
    let answers: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = names.iter().map(|n| s.spawn(|| claim(&id, n))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        answers.iter().filter(|s| **s == 204).count(),
        1,
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|s| **s == 409).count(),
        11,
        "{answers:?}"
    );
    let winner = names[answers.iter().position(|s| *s == 204).unwrap()].clone();
    let w = apps.iter_mut().find(|a| a.name == winner).unwrap();
    w.wait_event("StasisStart", &call.id);
    finish(&call);
}

#[test]
fn events_are_in_asterisks_own_api_docs() {
    asterisk();
    let docs = ari("GET", "/api-docs/events.json", &[], None)
        .body
        .to_string();
    assert!(docs.contains("CallBroadcast") && docs.contains("CallClaimed"));
}

/// A call to `exten` whose far end sends something while the call waits
/// (`far`: dtmf sends the digits 1 2 3, text a text message), returned once
/// it was sent (the far end logs `asb-<far>-sent`).
fn call_sending(exten: &str, far: &str, args: &str) -> Call {
    let log = Log::mark();
    let call = Call::start(exten, far, &[("ASB_ARGS", args)]);
    log.wait_line(&[&format!("asb-{far}-sent"), &call.far_id]);
    call
}

// DTMF pressed while waiting is not lost: the winner receives each digit, in
// order, once its Stasis session starts, and each is published once.
#[test]
fn dtmf_pressed_while_waiting_reaches_the_winner_in_order() {
    let mut w = App::connect(&unique("dtmf"));
    let call = call_sending("answered", "dtmf", &format!("20000,^{}$", w.name));
    w.wait_event("CallBroadcast", &call.id);
    win(&mut w, &call);
    let mut got = String::new();
    while got.len() < 3 {
        let ev = w.wait_for("ChannelDtmfReceived", |v| {
            v["type"] == "ChannelDtmfReceived" && v["channel"]["id"] == call.id.as_str()
        });
        got.push_str(ev["digit"].as_str().unwrap_or("?"));
    }
    assert_eq!(got, "123");
    finish(&call);
    assert_eq!(
        digits_published(&call.id),
        "123",
        "each digit published once"
    );
}

// ... and when nobody claims, the dialplan after StasisBroadcast reads them.
#[test]
fn dtmf_pressed_while_waiting_reaches_the_dialplan_after_a_timeout() {
    let call = call_sending("answered-read", "dtmf", "3000,^nobody-at-all$");
    assert_eq!(status(&call), "TIMEOUT");
    assert_eq!(var_set(&call.id, "ASB_DIGITS"), "123");
    assert_eq!(
        digits_published(&call.id),
        "123",
        "each digit published once"
    );
}

// ... and when the claim's Stasis session cannot run (FAILED), the same.
#[test]
fn dtmf_pressed_while_waiting_reaches_the_dialplan_after_a_failed_claim() {
    let mut w = App::connect(&unique("dtmf-gone"));
    let call = call_sending("answered-read", "dtmf", &format!("20000,^{}$", w.name));
    w.wait_event("CallBroadcast", &call.id);
    claimed_by_a_winner_gone(&w, &call);
    assert_eq!(var_set(&call.id, "ASB_DIGITS"), "123");
}

// A text message that arrives while the call waits is not lost either: the
// dialplan after StasisBroadcast receives it (other frames the wait does not
// own, such as control frames, are kept the same way).
#[test]
fn text_sent_while_waiting_reaches_the_dialplan_after_a_timeout() {
    let call = call_sending("answered-text", "text", "3000,^nobody-at-all$");
    assert_eq!(status(&call), "TIMEOUT");
    assert_eq!(var_set(&call.id, "ASB_TEXT"), "hello-from-the-caller");
}
