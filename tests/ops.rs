//! What operators see: the CLI commands and the Prometheus metrics. Ours only
//! (upstream has neither).

mod common;

use common::*;

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

fn scrape() -> String {
    asterisk();
    let r = ureq::get(&format!("http://{}/metrics", http_host()))
        .call()
        .expect("GET /metrics");
    r.into_string().unwrap()
}

#[test]
fn cli_show_lists_a_live_broadcast_and_stats_count_it() {
    assert_eq!(
        target(),
        Target::Ours,
        "ops tests run against our module only"
    );
    let mut w = App::connect(&unique("ops-show"));
    let call = Call::broadcast(&format!("30000,^{}$,,no", w.name));
    let ev = w.wait_event("CallBroadcast", &call.id);
    let show = cli("stasis broadcast show");
    let row = show
        .lines()
        .find(|l| l.contains(&call.id))
        .unwrap_or_else(|| panic!("{} not listed:\n{show}", call.id));
    assert!(row.starts_with(&channel_name(&ev)), "{row}");
    assert!(
        row.contains("30000") && row.contains(&format!("^{}$", w.name)) && row.contains("waiting"),
        "{row}"
    );

    assert_eq!(claim(&call.id, &w.name), 204);
    w.wait_event("StasisStart", &call.id);
    let show = cli("stasis broadcast show");
    let row = show
        .lines()
        .find(|l| l.contains(&call.id))
        .expect("listed while in Stasis");
    assert!(row.contains("claimed") && row.ends_with(&w.name), "{row}");
    finish(&call);
    destroyed(&call.id);
    assert!(
        !cli("stasis broadcast show").contains(&call.id),
        "still listed after the call ended"
    );

    let stats = cli("stasis broadcast stats");
    for row in [
        "Broadcasts started",
        "claimed",
        "timed out",
        "Claims answered 204",
        "Claim latency p50",
    ] {
        assert!(stats.contains(row), "{row} missing:\n{stats}");
    }
    // Tab completion (what the console asks for when Tab is pressed).
    let completions = cli("_command matchesarray \"stasis broadcast \" \"\"");
    assert!(
        completions.contains("show") && completions.contains("stats"),
        "{completions}"
    );
    let help = cli("core show help stasis broadcast");
    assert!(
        help.contains("stasis broadcast show") && help.contains("stasis broadcast stats"),
        "{help}"
    );
}

#[test]
fn metrics_count_broadcasts_and_claims() {
    let before = scrape();
    let started = metric(&before, "asterisk_stasis_broadcast_started_total");
    let won = metric(
        &before,
        "asterisk_stasis_broadcast_claims_total{status=\"204\"}",
    );
    let conflicts = metric(
        &before,
        "asterisk_stasis_broadcast_claims_total{status=\"409\"}",
    );

    let mut a = App::connect(&unique("ops-metrics-a"));
    let mut b = App::connect(&unique("ops-metrics-b"));
    let call = Call::broadcast(&format!("10000,^({}|{})$", a.name, b.name));
    a.wait_event("CallBroadcast", &call.id);
    b.wait_event("CallBroadcast", &call.id);
    assert_eq!(claim(&call.id, &a.name), 204);
    assert_eq!(claim(&call.id, &b.name), 409);
    a.wait_event("StasisStart", &call.id);
    finish(&call);

    let after = scrape();
    assert!(metric(&after, "asterisk_stasis_broadcast_started_total") > started);
    assert!(
        metric(
            &after,
            "asterisk_stasis_broadcast_claims_total{status=\"204\"}"
        ) > won
    );
    assert!(
        metric(
            &after,
            "asterisk_stasis_broadcast_claims_total{status=\"409\"}"
        ) > conflicts
    );
    assert!(after.contains("# TYPE asterisk_stasis_broadcast_claim_latency_seconds histogram"));
    assert!(
        metric(
            &after,
            "asterisk_stasis_broadcast_claim_latency_seconds_count"
        ) >= 1.0
    );
}
