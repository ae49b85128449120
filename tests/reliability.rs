//! Reliability and hostile input (ours): storms, odd arguments and claims,
//! hangups at every stage. Every call must end with a defined STASISSTATUS (or
//! none, when it is hung up before the application runs), every bad claim
//! must get a 4xx, nothing may be left behind.

mod common;

use std::sync::{Arc, Barrier};

use common::*;

const STATUSES: [&str; 3] = ["SUCCESS", "FAILED", "TIMEOUT"];

/// Nothing of these calls is left: channels gone, no live broadcast listed.
fn nothing_left(calls: &[&Call]) {
    for c in calls {
        destroyed(&c.id);
    }
    let show = cli("stasis broadcast show");
    for c in calls {
        assert!(!show.contains(&c.id), "{} still listed:\n{show}", c.id);
    }
}

#[test]
fn two_hundred_workers_race_for_one_call() {
    assert_eq!(target(), Target::Ours, "reliability tests run against ours");
    let token = unique("storm");
    let mut apps: Vec<App> = (0..200)
        .map(|i| App::connect(&format!("{token}-{i}")))
        .collect();
    let call = Call::broadcast(&format!("30000,^{token}-"));
    for a in &mut apps {
        a.wait_event("CallBroadcast", &call.id);
    }
    let barrier = Arc::new(Barrier::new(apps.len()));
    let answers: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = apps
            .iter()
            .map(|a| {
                let (b, id, name) = (barrier.clone(), call.id.clone(), a.name.clone());
                s.spawn(move || {
                    b.wait();
                    claim(&id, &name)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let others: Vec<u16> = answers
        .iter()
        .copied()
        .filter(|s| *s != 204 && *s != 409)
        .collect();
    assert!(
        others.is_empty(),
        "answers other than 204 and 409 (no 5xx, no 404): {others:?}"
    );
    assert_eq!(
        answers.iter().filter(|s| **s == 204).count(),
        1,
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|s| **s == 409).count(),
        199,
        "{answers:?}"
    );
    let winner = answers.iter().position(|s| *s == 204).unwrap();
    apps[winner].wait_event("StasisStart", &call.id);
    finish(&call);
    nothing_left(&[&call]);
}

#[test]
fn hostile_arguments_end_defined_and_are_logged() {
    let mut w = App::connect(&unique("hostile"));
    let me = format!("^{}$", w.name);
    let alternation: Vec<String> = (0..560).map(|i| format!("app-{i:04}")).collect();
    let long_filter = format!("^({}|{})$", w.name, alternation.join("|"));
    assert!(long_filter.len() > 5000);
    let cases: Vec<(String, &str, Option<&str>)> = vec![
        // (arguments, expected STASISSTATUS, a value the log must name)
        (
            format!("99999999999999999999,{me}"),
            "TIMEOUT",
            Some("'99999999999999999999'"),
        ),
        (format!("0x10,{me}"), "TIMEOUT", Some("'0x10'")),
        (format!(" 300 ,{me}"), "TIMEOUT", None),
        (format!("-0,{me}"), "TIMEOUT", None),
        (format!("1e3,{me}"), "TIMEOUT", Some("'1e3'")),
        (format!("300,{long_filter}"), "TIMEOUT", None),
        ("300,^(a+)+$".to_owned(), "TIMEOUT", None),
        (
            format!("300,{}x{}", "(".repeat(50), ")".repeat(50)),
            "TIMEOUT",
            None,
        ),
        (
            format!("300,{}x{}", "(".repeat(300), ")".repeat(300)),
            "FAILED",
            Some("invalid app_filter"),
        ),
        (format!("300,{me}\u{1}\u{7f}"), "TIMEOUT", None),
        ("300,^ñé€$".to_owned(), "TIMEOUT", None),
        (",,,".to_owned(), "TIMEOUT", None),
        (",,,,,,".to_owned(), "TIMEOUT", None),
    ];
    for (args, want, logged) in cases {
        let log = Log::mark();
        let call = Call::broadcast(&args);
        assert_eq!(status(&call), want, "args {args:?}");
        if let Some(v) = logged {
            log.wait_line(&[v]);
        }
    }
    // The long filter still offered the call to the one application it names.
    let call = Call::broadcast(&format!("10000,{long_filter}"));
    w.wait_event("CallBroadcast", &call.id);
    win(&mut w, &call);
    finish(&call);
}

// Upstream keeps only the first 128; every one of them arrives here.
#[test]
fn six_hundred_stasis_args_and_odd_bytes_all_arrive() {
    let mut w = App::connect(&unique("manyargs"));
    let many: Vec<String> = (0..600).map(|i| format!("a{i}")).collect();
    let odd = vec![
        "é".to_owned(),
        "\u{1}".to_owned(),
        "sp ace".to_owned(),
        String::new(),
    ];
    for want in [many, odd] {
        let call = Call::broadcast(&format!("10000,^{}$,{}", w.name, want.join(":")));
        w.wait_event("CallBroadcast", &call.id);
        let start = win(&mut w, &call);
        assert_eq!(args_of(&start), want);
        finish(&call);
    }
}

#[test]
fn hostile_claims_get_4xx() {
    let mut w = App::connect(&unique("badclaims"));
    let call = Call::broadcast(&format!("30000,^{}$", w.name));
    w.wait_event("CallBroadcast", &call.id);
    let id: String = url::form_urlencoded::byte_serialize(call.id.as_bytes()).collect();
    let long = "x".repeat(10_000);
    let queries = [
        String::new(),
        format!("channelId={id}"),
        format!("application={}", w.name),
        format!("channelId=&application={}", w.name),
        format!("channelId={id}&application="),
        format!("channelId={id}&application=%FF%FE%00"),
        format!("channelId=%FF%FE&application={}", w.name),
        format!("channelId={id}&application={long}"),
        format!("channelId={long}&application={}", w.name),
        format!("channelId=no-such-channel&application={}", w.name),
        format!("channelId={id}&application=never-existed"),
    ];
    let log = Log::mark();
    for q in &queries {
        let status = ari_raw("POST", &format!("/events/claim?{q}"));
        assert!((400..500).contains(&status), "{q:.80}: {status}");
    }
    log.wait_line(&["NOTICE", "never-existed", "not offered"]);
    // None of that disturbed the broadcast.
    win(&mut w, &call);
    finish(&call);
}

#[test]
fn hangup_at_every_stage_leaves_nothing_behind() {
    let token = unique("stage");
    let mut w = App::connect(&format!("{token}-w"));
    let mut crowd: Vec<App> = (0..100)
        .map(|i| App::connect(&format!("{token}-{i}")))
        .collect();

    // Before the offer: hung up as soon as it exists.
    let early = Call::broadcast(&format!("30000,^{token}-"));
    early.hangup();

    // During the offer to 101 applications.
    let offering = Call::broadcast(&format!("30000,^{token}-"));
    crowd[0].wait_event("CallBroadcast", &offering.id);
    offering.hangup();
    assert_eq!(status(&offering), "TIMEOUT");

    // At the claim: hangup and claim together.
    let racing = Call::broadcast(&format!("30000,^{}$", w.name));
    w.wait_event("CallBroadcast", &racing.id);
    let code = std::thread::scope(|s| {
        let c = s.spawn(|| claim(&racing.id, &w.name));
        racing.hangup();
        c.join().unwrap()
    });
    assert!(code == 204 || code == 404, "{code}");
    assert!(STATUSES.contains(&status(&racing).as_str()));

    // Between the claim and Stasis.
    let between = Call::broadcast(&format!("30000,^{}$", w.name));
    w.wait_event("CallBroadcast", &between.id);
    assert_eq!(claim(&between.id, &w.name), 204);
    between.hangup();
    assert!(STATUSES.contains(&status(&between).as_str()));

    // During the winner's session.
    let session = Call::broadcast(&format!("30000,^{}$", w.name));
    w.wait_event("CallBroadcast", &session.id);
    assert_eq!(claim(&session.id, &w.name), 204);
    w.wait_event("StasisStart", &session.id);
    session.hangup();
    assert!(STATUSES.contains(&status(&session).as_str()));

    // The winner's WebSocket drops right after its claim.
    let mut gone = App::connect(&format!("{token}-gone"));
    let dropped = Call::broadcast(&format!("30000,^{}$", gone.name));
    gone.wait_event("CallBroadcast", &dropped.id);
    assert_eq!(claim(&dropped.id, &gone.name), 204);
    gone.disconnect();
    dropped.hangup();

    for a in &mut crowd {
        a.sync();
    }
    nothing_left(&[&early, &offering, &racing, &between, &session, &dropped]);
}
