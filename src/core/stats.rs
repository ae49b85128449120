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
