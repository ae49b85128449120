//! CONTRACT part B: where this module is better than upstream. Each test
//! shows one measured defect of upstream 22.10.1, so on upstream it must fail:
//! [`beyond`] reports that as an expected failure (and a pass as an error).

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use common::*;

// B1: a filter that does not compile offers the call to nobody.
#[test]
fn b1_bad_filter_fails_closed() {
    beyond("B1 bad filter fails closed", || {
        let mut w = App::connect(&unique("b1"));
        // (A backslash in a dialplan argument escapes the next character, so a
        // doubled backslash reaches the application as the back-reference `\1`.)
        for (arg, bad) in [
            ("[", "["),
            ("(unclosed", "(unclosed"),
            ("x{99999999999}", "x{99999999999}"),
            ("(a)\\\\1", "(a)\\1"),
        ] {
            let log = Log::mark();
            let call = Call::broadcast(&format!("10000,{arg}"));
            assert_eq!(status(&call), "FAILED", "filter {bad:?}");
            assert!(
                !w.was_offered(&call.id),
                "filter {bad:?}: offered despite a bad filter"
            );
            let line = log.wait_line(&["ERROR", &format!("invalid app_filter '{bad}'")]);
            assert!(
                line.contains(&call.id) || line.contains("Local/raw@asb-"),
                "{line}"
            );
        }
    });
}

// B2 (and B1's size bound): every legal filter is honoured; only an
// over-size compiled pattern is refused, and refused closed.
#[test]
fn b2_legal_filters_with_many_quantified_groups_are_honoured() {
    beyond("B2 every legal filter is honoured", || {
        let token = unique("b2").replace('-', "x");
        let mut yes = App::connect(&format!("p-aa-b-cc-dd-{token}"));
        let mut no = App::connect(&format!("p-ab-b-cc-dd-{token}"));
        let call = Call::broadcast(&format!("300,^p-(a|aa)+-(b|bb)+-(c|cc)+-(d|dd)+-{token}$"));
        yes.wait_event("CallBroadcast", &call.id);
        assert_eq!(status(&call), "TIMEOUT");
        assert!(
            !no.was_offered(&call.id),
            "a non-matching application was offered"
        );

        let log = Log::mark();
        let call = Call::broadcast("300,^(x{1000}){1000}$");
        assert_eq!(status(&call), "FAILED");
        log.wait_line(&["ERROR", "invalid app_filter '^(x{1000}){1000}$'"]);
        assert!(!yes.was_offered(&call.id));
    });
}

// B3: only an application that was offered the call can claim it.
#[test]
fn b3_claims_by_applications_not_offered_get_404() {
    beyond("B3 only an offered application can claim", || {
        let mut offered = App::connect(&unique("b3-in"));
        let mut outsider = App::connect(&unique("b3-out"));
        let call = Call::broadcast(&format!("10000,^{}$", offered.name));
        offered.wait_event("CallBroadcast", &call.id);
        let log = Log::mark();
        assert_eq!(
            claim(&call.id, &outsider.name),
            404,
            "a filtered-out application claimed"
        );
        log.wait_line(&["NOTICE", &outsider.name, "not offered"]);
        assert_eq!(
            claim(&call.id, "no-such-application-ever"),
            404,
            "a nonexistent application claimed"
        );
        // The broadcast stayed open for the real worker.
        win(&mut offered, &call);
        finish(&call);
        assert!(!outsider.was_offered(&call.id));
    });
}

// B4: late losers get 409 even once the winner is done and the call gone.
#[test]
fn b4_late_loser_gets_409_after_the_call_ended() {
    beyond("B4 losers always get 409", || {
        let mut a = App::connect(&unique("b4-a"));
        let mut b = App::connect(&unique("b4-b"));
        let call = Call::broadcast(&format!("10000,^({}|{})$", a.name, b.name));
        a.wait_event("CallBroadcast", &call.id);
        b.wait_event("CallBroadcast", &call.id);
        win(&mut a, &call);
        finish(&call);
        // The dialplan hangs the channel up right after StasisBroadcast.
        destroyed(&call.id);
        assert_eq!(
            claim(&call.id, &b.name),
            409,
            "a late loser after the call ended"
        );
    });
}

// B4 under load: 30 workers race for each of 40 calls; fast winners.
#[test]
fn b4_thirty_workers_racing_for_forty_calls() {
    beyond("B4 losers always get 409 (30 x 40 race)", || {
        let token = unique("b4r");
        let calls = Arc::new(Mutex::new(HashSet::new()));
        let answers = Arc::new(Mutex::new(Vec::new()));
        let racers: Vec<Racer> = (0..30)
            .map(|i| Racer::spawn(format!("{token}-{i}"), calls.clone(), answers.clone()))
            .collect();
        for batch in 0..8 {
            let mut batch_calls = Vec::new();
            for _ in 0..5 {
                // Registered before the call exists, so no CallBroadcast is missed.
                let name = unique("call");
                calls.lock().unwrap().insert(format!("{name};2"));
                batch_calls.push(Call::start_named(
                    &name,
                    "raw",
                    "hold",
                    &[("ASB_ARGS", &format!("10000,^{token}-"))],
                ));
            }
            for c in &batch_calls {
                assert_eq!(status(c), "SUCCESS", "batch {batch}");
            }
        }
        // Every worker answered every call.
        let until = std::time::Instant::now() + *LIVENESS;
        while answers.lock().unwrap().len() < 1200 && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        drop(racers);
        let answers = answers.lock().unwrap();
        let count = |s: u16| answers.iter().filter(|a| **a == s).count();
        assert_eq!(answers.len(), 1200);
        assert_eq!(
            (count(204), count(409)),
            (40, 1160),
            "404: {}, other: {}",
            count(404),
            1200 - count(204) - count(409) - count(404)
        );
    });
}

// B5: a hangup ends the wait at once, so a claim that follows the hangup
// request finds the broadcast already ended (upstream notices up to 200 ms
// later, and a claim in that window wins a dead call: FAILED).
#[test]
fn b5_hangup_is_noticed_at_once() {
    beyond("B5 hangup is noticed at once", || {
        let mut w = App::connect(&unique("b5"));
        for round in 0..5 {
            let call = Call::broadcast(&format!("60000,^{}$", w.name));
            w.wait_event("CallBroadcast", &call.id);
            assert_eq!(call.hangup(), 204);
            hangup_requested(&call.id);
            assert_eq!(
                claim(&call.id, &w.name),
                404,
                "round {round}: claim after the hangup won"
            );
            assert_eq!(status(&call), "TIMEOUT", "round {round}");
        }
    });
}

// B6: an answered channel with media is read while it waits.
#[test]
fn b6_media_does_not_pile_up_while_waiting() {
    beyond("B6 the channel is serviced while it waits", || {
        let mut w = App::connect(&unique("b6"));
        let log = Log::mark();
        let call = Call::start(
            "answered",
            "tone",
            &[("ASB_ARGS", &format!("6000,^{}$", w.name))],
        );
        let name = channel_name(&w.wait_event("CallBroadcast", &call.id));
        assert_eq!(status(&call), "TIMEOUT");
        let base = name.trim_end_matches(";2").to_owned();
        let piled: Vec<String> = log
            .lines()
            .into_iter()
            .filter(|l| l.contains("Exceptionally long") && l.contains(&base))
            .collect();
        assert!(
            piled.is_empty(),
            "media piled up while waiting:\n{}",
            piled.join("\n")
        );
    });
}

// B4 across a re-broadcast: a loser of the first broadcast cannot take the
// second one, which went to another pool (upstream hands it the call).
#[test]
fn b4_a_loser_of_the_first_broadcast_cannot_take_the_second() {
    beyond(
        "B4 losers get 409 after the channel was broadcast again",
        || {
            let mut a = App::connect(&unique("b4f-a"));
            let mut b = App::connect(&unique("b4f-b"));
            let mut c = App::connect(&unique("b4f-c"));
            let call = Call::start(
                "failover",
                "hold",
                &[
                    ("ASB_ARGS", &format!("10000,^({}|{})$", a.name, b.name)),
                    ("ASB_ARGS2", &format!("10000,^{}$", c.name)),
                ],
            );
            b.wait_event("CallBroadcast", &call.id);
            win(&mut a, &call);
            continue_dialplan(&call.id);
            assert_eq!(var_set(&call.id, "ASB_FIRST"), "SUCCESS");
            c.wait_event("CallBroadcast", &call.id);
            assert_eq!(
                claim(&call.id, &b.name),
                409,
                "a loser of the first broadcast"
            );
            win(&mut c, &call);
            continue_dialplan(&call.id);
            assert_eq!(var_set(&call.id, "ASB_RESULT"), "SUCCESS");
        },
    );
}
