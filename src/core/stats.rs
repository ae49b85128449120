//! Cumulative counters since load, and a histogram of claim latency
//! (offer sent to winning claim), for the CLI and for metrics.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the latency buckets, in microseconds (the last is +Inf).
pub const LATENCY_BUCKETS_US: [u64; 14] = [
    500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000,
    2_000_000, 5_000_000, 60_000_000,
];

/// Counters; all relaxed atomics (each is independent).
#[derive(Default)]
pub struct Stats {
    pub started: AtomicU64,
    pub claimed: AtomicU64,
    pub timed_out: AtomicU64,
    pub failed: AtomicU64,
    pub hangups: AtomicU64,
    pub bad_filters: AtomicU64,
    pub claims_won: AtomicU64,
    pub claims_not_found: AtomicU64,
    pub claims_conflict: AtomicU64,
    pub offered_total: AtomicU64,
    /// Calls refused at once while broadcasting is disabled (not started).
    pub refused_disabled: AtomicU64,
    latency: Histogram,
}

/// A fixed-bucket histogram.
#[derive(Default)]
pub struct Histogram {
    /// Per bucket (non-cumulative), plus one for over the last bound.
    counts: [AtomicU64; LATENCY_BUCKETS_US.len() + 1],
    sum_us: AtomicU64,
}

/// A consistent-enough copy of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub started: u64,
    pub claimed: u64,
    pub timed_out: u64,
    pub failed: u64,
    pub hangups: u64,
    pub bad_filters: u64,
    pub claims_won: u64,
    pub claims_not_found: u64,
    pub claims_conflict: u64,
    pub offered_total: u64,
    pub refused_disabled: u64,
    /// Per latency bucket (non-cumulative), the last one over the last bound.
    pub latency_counts: Vec<u64>,
    pub latency_sum_us: u64,
}

impl Stats {
    /// Counts one event.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// Records the time from offer to the winning claim.
    pub fn record_latency(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let i = LATENCY_BUCKETS_US
            .iter()
            .position(|b| us <= *b)
            .unwrap_or(LATENCY_BUCKETS_US.len());
        self.latency.counts[i].fetch_add(1, Relaxed);
        self.latency.sum_us.fetch_add(us, Relaxed);
    }

    /// Copies the counters.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            started: self.started.load(Relaxed),
            claimed: self.claimed.load(Relaxed),
            timed_out: self.timed_out.load(Relaxed),
            failed: self.failed.load(Relaxed),
            hangups: self.hangups.load(Relaxed),
            bad_filters: self.bad_filters.load(Relaxed),
            claims_won: self.claims_won.load(Relaxed),
            claims_not_found: self.claims_not_found.load(Relaxed),
            claims_conflict: self.claims_conflict.load(Relaxed),
            offered_total: self.offered_total.load(Relaxed),
            refused_disabled: self.refused_disabled.load(Relaxed),
            latency_counts: self
                .latency
                .counts
                .iter()
                .map(|c| c.load(Relaxed))
                .collect(),
            latency_sum_us: self.latency.sum_us.load(Relaxed),
        }
    }
}

impl Snapshot {
    /// The upper bound of the bucket holding quantile `q` (0..=1), in
    /// microseconds; `None` without samples. Over the last bound: `u64::MAX`.
    pub fn latency_quantile_us(&self, q: f64) -> Option<u64> {
        let total: u64 = self.latency_counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.latency_counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(LATENCY_BUCKETS_US.get(i).copied().unwrap_or(u64::MAX));
            }
        }
        Some(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_from_buckets() {
        let s = Stats::default();
        assert_eq!(s.snapshot().latency_quantile_us(0.5), None);
        for _ in 0..90 {
            s.record_latency(Duration::from_micros(800));
        }
        for _ in 0..10 {
            s.record_latency(Duration::from_millis(30));
        }
        let snap = s.snapshot();
        assert_eq!(snap.latency_quantile_us(0.5), Some(1_000));
        assert_eq!(snap.latency_quantile_us(0.99), Some(50_000));
        assert_eq!(snap.latency_sum_us, 90 * 800 + 10 * 30_000);
        s.record_latency(Duration::from_secs(100));
        assert_eq!(s.snapshot().latency_quantile_us(1.0), Some(u64::MAX));
    }

    #[test]
    fn counters() {
        let s = Stats::default();
        Stats::bump(&s.started);
        Stats::bump(&s.started);
        assert_eq!(s.snapshot().started, 2);
    }
}

/// The metrics in Prometheus' text exposition format (names prefixed
/// `asterisk_stasis_broadcast_`, counters ending `_total`, seconds as unit).
pub fn prometheus_text(s: &Snapshot, live: usize, enabled: bool) -> String {
    use std::fmt::Write;
    const P: &str = "asterisk_stasis_broadcast";
    let mut o = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
        let _ = writeln!(o, "# HELP {P}_{name} {help}");
        let _ = writeln!(o, "# TYPE {P}_{name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(o, "{P}_{name}{labels} {v}");
        }
    };
    family(
        "started_total",
        "counter",
        "Broadcasts started.",
        &[("", s.started)],
    );
    family(
        "ended_total",
        "counter",
        "Broadcasts ended, by outcome.",
        &[
            ("{outcome=\"claimed\"}", s.claimed),
            ("{outcome=\"timeout\"}", s.timed_out),
            ("{outcome=\"hangup\"}", s.hangups),
            ("{outcome=\"failed\"}", s.failed),
        ],
    );
    family(
        "bad_filters_total",
        "counter",
        "Broadcasts refused because app_filter did not compile or was too large.",
        &[("", s.bad_filters)],
    );
    family(
        "claims_total",
        "counter",
        "Claims answered, by HTTP status.",
        &[
            ("{status=\"204\"}", s.claims_won),
            ("{status=\"404\"}", s.claims_not_found),
            ("{status=\"409\"}", s.claims_conflict),
        ],
    );
    family(
        "offered_applications_total",
        "counter",
        "CallBroadcast events sent (one per offered application).",
        &[("", s.offered_total)],
    );
    family(
        "refused_disabled_total",
        "counter",
        "Calls refused at once (STASISSTATUS=FAILED) while disabled by stasis broadcast disable.",
        &[("", s.refused_disabled)],
    );
    family(
        "enabled",
        "gauge",
        "1 while StasisBroadcast offers new calls, 0 after stasis broadcast disable.",
        &[("", u64::from(enabled))],
    );
    family(
        "live",
        "gauge",
        "Broadcasts in progress (waiting or in the winner's Stasis session).",
        &[("", live as u64)],
    );
    let name = format!("{P}_claim_latency_seconds");
    let _ = writeln!(o, "# HELP {name} Time from the offer to the winning claim.");
    let _ = writeln!(o, "# TYPE {name} histogram");
    let mut cumulative = 0;
    for (i, c) in s.latency_counts.iter().enumerate() {
        cumulative += c;
        let le = LATENCY_BUCKETS_US
            .get(i)
            .map_or("+Inf".to_owned(), |us| format!("{}", *us as f64 / 1e6));
        let _ = writeln!(o, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
    }
    let _ = writeln!(o, "{name}_sum {}", s.latency_sum_us as f64 / 1e6);
    let _ = writeln!(o, "{name}_count {cumulative}");
    o
}

#[cfg(test)]
mod prometheus_tests {
    use super::*;

    #[test]
    fn exposition_format() {
        let s = Stats::default();
        Stats::bump(&s.started);
        Stats::bump(&s.claims_won);
        s.record_latency(Duration::from_micros(1500));
        let text = prometheus_text(&s.snapshot(), 3, true);
        assert!(text.contains("# TYPE asterisk_stasis_broadcast_started_total counter\n"));
        assert!(text.contains("asterisk_stasis_broadcast_started_total 1\n"));
        assert!(text.contains("asterisk_stasis_broadcast_claims_total{status=\"204\"} 1\n"));
        assert!(text.contains("asterisk_stasis_broadcast_live 3\n"));
        assert!(text.contains("asterisk_stasis_broadcast_enabled 1\n"));
        assert!(text
            .contains("asterisk_stasis_broadcast_claim_latency_seconds_bucket{le=\"0.001\"} 0\n"));
        assert!(text
            .contains("asterisk_stasis_broadcast_claim_latency_seconds_bucket{le=\"0.002\"} 1\n"));
        assert!(text
            .contains("asterisk_stasis_broadcast_claim_latency_seconds_bucket{le=\"+Inf\"} 1\n"));
        assert!(text.contains("asterisk_stasis_broadcast_claim_latency_seconds_count 1\n"));
        // Every sample line belongs to a declared family.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            let base = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(text.contains(&format!("# TYPE {base} ")), "{l}");
        }
    }
}
