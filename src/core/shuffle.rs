//! Uniform shuffling of the offer order, so no worker is always offered first.
//!
//! A SplitMix64 generator per thread, seeded from the clock and the thread;
//! unpredictability against an adversary is not needed, only fairness.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    // RandomState is seeded from the OS per process and differs per instance.
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

fn next_u64() -> u64 {
    STATE.with(|s| {
        let z = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(z);
        let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// A uniform integer in `0..n` (n > 0), without modulo bias.
fn below(n: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let v = next_u64();
        if v < zone {
            return v % n;
        }
    }
}

/// Fisher–Yates: every permutation equally likely.
pub fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_elements() {
        let mut v: Vec<u32> = (0..100).collect();
        shuffle(&mut v);
        v.sort();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
        shuffle::<u32>(&mut []);
    }

    #[test]
    fn every_position_is_reached_about_equally() {
        // 4 items, 40,000 shuffles: each item lands first ~10,000 times.
        let mut first = [0u32; 4];
        for _ in 0..40_000 {
            let mut v = [0usize, 1, 2, 3];
            shuffle(&mut v);
            first[v[0]] += 1;
        }
        for c in first {
            assert!((9_000..11_000).contains(&c), "{first:?}");
        }
    }
}
