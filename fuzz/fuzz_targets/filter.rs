//! Filter compilation and matching never panic, stay within their bounds,
//! and the cache answers like a fresh compilation.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../src/core/mod.rs"]
mod asb_core;

use asb_core::filter::{Filter, FilterCache};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let (pattern, name) = s.split_once('\n').unwrap_or((&s, "pool-1"));
    let direct = Filter::compile(pattern);
    let cache = FilterCache::default();
    let cached = cache.get(pattern);
    assert_eq!(direct.is_ok(), cached.is_ok());
    if let (Ok(d), Ok(c)) = (direct, cached) {
        assert_eq!(d.matches(name), c.matches(name));
        assert_eq!(d.as_str(), pattern);
    }
});
