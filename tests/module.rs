//! The module as Asterisk's loader sees it. Ours only: these manage our .so
//! (upstream's modules are Asterisk's own business).

mod common;

use common::*;

fn running(module: &str) -> bool {
    cli(&format!("module show like {module}"))
        .lines()
        .any(|l| l.starts_with(module) && l.contains(" Running") && !l.contains("Not Running"))
}

#[test]
fn loaded_and_running_with_its_application() {
    assert_eq!(
        target(),
        Target::Ours,
        "module tests run against our module only"
    );
    let _s = serial();
    asterisk();
    assert!(
        running("app_stasis_broadcast.so"),
        "{}",
        cli("module show like stasis_broadcast")
    );
    assert!(!running("res_stasis_broadcast.so"));
    let help = cli("core show application StasisBroadcast");
    assert!(help.contains("first to claim"), "{help}");
    claimed_end_to_end("mod-w");
}

/// Twenty forced unloads (`-f`; a plain one is refused: see lifecycle.rs)
/// and loads: each load says so once, with the build; nothing logs an ERROR.
#[test]
fn twenty_forced_unload_load_cycles_leave_asterisk_healthy() {
    let _s = serial();
    asterisk();
    let log = Log::mark();
    let loaded = "app_stasis_broadcast 0.1.0 (build id ";
    for i in 0..20 {
        let out = cli("module unload -f app_stasis_broadcast.so");
        assert!(
            !running("app_stasis_broadcast.so"),
            "cycle {i}: unload: {out}"
        );
        let out = cli("module load app_stasis_broadcast.so");
        assert!(running("app_stasis_broadcast.so"), "cycle {i}: load: {out}");
    }
    log.wait_line(&["NOTICE", loaded, "loaded:"]);
    let notices = log
        .lines()
        .iter()
        .filter(|l| l.contains(loaded) && l.contains("loaded:"))
        .count();
    assert_eq!(notices, 20);
    assert!(log
        .lines()
        .iter()
        .any(|l| l.contains("NOTICE") && l.contains("stopped by a forced unload")));
    assert!(!log
        .lines()
        .iter()
        .any(|l| l.contains("ERROR") && l.contains("stasis_broadcast")));
    assert!(cli("core show uptime").contains("System uptime"));
    assert_eq!(ari("GET", "/asterisk/info", &[], None).status, 200);
    assert!(cli("stasis broadcast show").contains("0 live broadcast(s)"));
    claimed_end_to_end("mod-w");
}

#[test]
fn declines_beside_upstream_res_stasis_broadcast() {
    let _s = serial();
    asterisk();
    if !asterisk_has_claim_route() {
        // Upstream's modules came with the route: this release has none to
        // load beside ours, and trying leaves ours running and claiming.
        cli("module load res_stasis_broadcast.so");
        assert!(
            !running("res_stasis_broadcast.so"),
            "Asterisk {} should ship no res_stasis_broadcast.so",
            asterisk_version()
        );
        assert!(running("app_stasis_broadcast.so"));
        claimed_end_to_end("mod-w");
        return;
    }
    cli("module unload -f app_stasis_broadcast.so");
    assert!(!running("app_stasis_broadcast.so"));
    cli("module load res_stasis_broadcast.so");
    assert!(
        running("res_stasis_broadcast.so"),
        "upstream's module should load for this test"
    );

    let log = Log::mark();
    cli("module load app_stasis_broadcast.so");
    let line = log.wait_line(&[
        "ERROR",
        "res_stasis_broadcast.so",
        "noload => res_stasis_broadcast.so",
    ]);
    assert!(
        !running("app_stasis_broadcast.so"),
        "declined, yet running: {line}"
    );
    let ours: Vec<_> = log
        .lines()
        .into_iter()
        .filter(|l| l.contains("ERROR") && l.contains("app_stasis_broadcast"))
        .collect();
    assert_eq!(ours.len(), 1, "exactly one ERROR line: {ours:#?}");

    // Back as it was: upstream out, ours in, and claims reach ours again.
    cli("module unload res_stasis_broadcast.so");
    assert!(!running("res_stasis_broadcast.so"));
    cli("module load app_stasis_broadcast.so");
    assert!(running("app_stasis_broadcast.so"));
    claimed_end_to_end("mod-w");
}

#[test]
fn unload_under_load_is_refused_and_a_forced_unload_gives_the_calls_back() {
    let _s = serial();
    asterisk();
    let mut w = App::connect(&unique("unload-w"));
    let calls = waiting_calls(&mut w, 5);
    let out = cli("module unload app_stasis_broadcast.so");
    assert!(
        running("app_stasis_broadcast.so"),
        "unloaded with calls in it: {out}"
    );
    let show = cli("stasis broadcast show");
    for c in &calls {
        assert!(show.contains(&c.id), "{} not waiting:\n{show}", c.id);
    }

    let out = cli("module unload -h app_stasis_broadcast.so");
    for c in &calls {
        assert_eq!(status(c), "TIMEOUT", "{out}");
        destroyed(&c.id);
    }
    assert!(!running("app_stasis_broadcast.so"), "{out}");
    if asterisk_has_claim_route() {
        assert_eq!(
            claim(&calls[0].id, &w.name),
            501,
            "Asterisk's claim route has no implementation now"
        );
    } else {
        let reply = ari(
            "POST",
            "/events/claim",
            &[("channelId", &calls[0].id), ("application", &w.name)],
            None,
        );
        assert_eq!(
            (reply.status, &reply.body["message"]),
            (404, &serde_json::json!("Resource not found")),
            "the module's own claim route left with it: ARI's answer for no route"
        );
    }

    cli("module load app_stasis_broadcast.so");
    assert!(running("app_stasis_broadcast.so"));
    claimed_end_to_end("mod-w");
}

/// A build for a release without Asterisk's own claim route (its headers lack
/// asterisk/stasis_app_broadcast.h) would shadow res_ari's route, authentication included, if
/// the loader let it into an Asterisk that has one (the build options sum alone does not tell
/// releases apart): it declines, with one ERROR naming this Asterisk's version and what to do,
/// and claims go to Asterisk's own route (501: no implementation loaded). On a release without
/// the route there is nothing to guard against: the ordinary build is such a build there.
#[test]
fn a_build_for_the_module_route_declines_where_asterisk_has_its_own() {
    let _s = serial();
    asterisk();
    if !asterisk_has_claim_route() {
        assert!(running("app_stasis_broadcast.so"));
        let log = Log::since_start();
        log.wait_line(&["NOTICE", "the module serves POST /ari/events/claim"]);
        return;
    }
    let build = module_route_build();
    testbed(&["start", "--module", &build.to_string_lossy()]);
    let log = Log::since_start();
    let line = log.wait_line(&[
        "ERROR",
        "without a claim route of its own",
        &asterisk_version(),
    ]);
    assert!(
        line.contains("Rebuild it against this Asterisk's own headers"),
        "{line}"
    );
    let running_after = running("app_stasis_broadcast.so");
    let claim_answer = claim("no-such-channel", "nobody");
    testbed(&["start"]);
    assert!(
        !running_after,
        "the module-route build runs beside Asterisk's own route"
    );
    assert_eq!(
        claim_answer, 501,
        "Asterisk's route, with no implementation loaded"
    );
}
