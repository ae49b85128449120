//! Text of the CLI commands `stasis broadcast show|stats|enable|disable`.

use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::core::broadcast::State;
use crate::installed;
use crate::module::ModuleState;

/// `stasis broadcast show`: whether new calls are offered, a warning when
/// the module file on disk is another build, then the live broadcasts.
pub fn show(st: &ModuleState, now: Instant) -> String {
    let mut live = st.registry.live();
    live.sort_by_key(|b| b.started);
    let mut out = String::new();
    let _ = writeln!(out, "StasisBroadcast: {}", state_line(st));
    let _ = writeln!(
        out,
        "Running build: app_stasis_broadcast {}; a runtime unload is refused (restart Asterisk to run a new build)",
        installed::running()
    );
    if let Some(m) = installed::warn_if_replaced() {
        let _ = writeln!(out, "WARNING: {m}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<40} {:<24} {:>8} {:>8} {:<20} {:>7} {:<7} Winner",
        "Channel", "Id", "Age(ms)", "Timeout", "Filter", "Offered", "State"
    );
    for b in &live {
        let state = match b.state() {
            State::Open => "waiting",
            State::Won => "claimed",
            State::Closed => "ended",
        };
        let _ = writeln!(
            out,
            "{:<40} {:<24} {:>8} {:>8} {:<20} {:>7} {:<7} {}",
            b.spec.channel_name,
            b.spec.channel_id,
            now.saturating_duration_since(b.started).as_millis(),
            b.spec.timeout.as_millis(),
            b.spec.filter.as_ref().map_or("(all)", |f| f.as_str()),
            b.offered().len(),
            state,
            b.winner().unwrap_or("-"),
        );
    }
    let _ = writeln!(
        out,
        "{} live broadcast(s), {} won broadcast(s) remembered for late claims",
        live.len(),
        st.registry.tombstone_count(now)
    );
    out
}

/// `stasis broadcast stats`: the counters since load.
pub fn stats(st: &ModuleState, now: Instant) -> String {
    let s = st.stats.snapshot();
    let ms = |q: f64| match s.latency_quantile_us(q) {
        None => "-".to_owned(),
        Some(u64::MAX) => "> 60000 ms".to_owned(),
        Some(us) => format!("<= {} ms", us as f64 / 1000.0),
    };
    let mut out = String::new();
    let rows: [(&str, String); 15] = [
        (
            "Since load (s)",
            now.saturating_duration_since(st.loaded_at)
                .as_secs()
                .to_string(),
        ),
        ("Broadcasts started", s.started.to_string()),
        ("  claimed", s.claimed.to_string()),
        ("  timed out", s.timed_out.to_string()),
        ("  caller hung up while waiting", s.hangups.to_string()),
        ("  failed", s.failed.to_string()),
        ("  of which bad filters", s.bad_filters.to_string()),
        ("Applications offered (total)", s.offered_total.to_string()),
        ("Refused while disabled", s.refused_disabled.to_string()),
        ("Claims answered 204 (won)", s.claims_won.to_string()),
        (
            "Claims answered 404 (not found)",
            s.claims_not_found.to_string(),
        ),
        (
            "Claims answered 409 (conflict)",
            s.claims_conflict.to_string(),
        ),
        ("Claim latency p50", ms(0.5)),
        ("Claim latency p90", ms(0.9)),
        ("Claim latency p99", ms(0.99)),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "{k:<34} {v}");
    }
    let _ = writeln!(
        out,
        "{:<34} {}",
        "Live broadcasts",
        st.registry.live_count()
    );
    out
}

fn state_line(st: &ModuleState) -> &'static str {
    if st.enabled.load(Ordering::SeqCst) {
        "enabled (new calls are offered)"
    } else {
        "disabled (new calls get STASISSTATUS=FAILED, STASISBROADCAST_REASON=DISABLED; stasis broadcast enable)"
    }
}

/// `stasis broadcast enable` / `disable`: switches whether new calls are
/// offered; calls already waiting are not touched.
pub fn set_enabled(st: &ModuleState, on: bool) -> String {
    let was = st.enabled.swap(on, Ordering::SeqCst);
    if was != on {
        notice!(
            "StasisBroadcast {} by the CLI; {} broadcast(s) in progress go on",
            if on { "enabled" } else { "disabled" },
            st.registry.live_count()
        );
    }
    format!("StasisBroadcast: {}\n", state_line(st))
}
