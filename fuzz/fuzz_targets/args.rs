//! Argument parsing never panics, and what it returns is within the contract.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../src/core/mod.rs"]
mod asb_core;

use asb_core::args::{self, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let a = args::parse(&s);
    assert!(a.timeout_ms <= MAX_TIMEOUT_MS);
    if !a.warnings.is_empty() {
        assert_eq!(a.timeout_ms, DEFAULT_TIMEOUT_MS);
    }
    assert!(a.filter.as_deref() != Some(""));
    // Splitting keeps at most four fields, and never invents bytes.
    let fields = args::split_app_args(&s, 4);
    assert!(fields.len() <= 4);
    assert!(fields.iter().map(String::len).sum::<usize>() <= s.len() + 3 * fields.len());
});
