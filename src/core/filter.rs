//! Application filters: compiled with a linear-time engine, bounded in size,
//! cached so a busy dialplan does not recompile the same pattern per call.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use regex::{Regex, RegexBuilder};

use super::error::Error;

/// Upper bound on the compiled program of one filter, in bytes. Generous for
/// any realistic set of application names; a pattern over it is a bad filter.
pub const COMPILED_SIZE_LIMIT: usize = 1 << 20;
/// Upper bound on the lazy DFA cache of one filter, in bytes.
const DFA_SIZE_LIMIT: usize = 1 << 20;
/// Nesting bound, so hostile patterns cannot exhaust the parser's stack.
const NEST_LIMIT: u32 = 64;
/// Distinct patterns kept compiled.
pub const CACHE_CAPACITY: usize = 64;

/// A compiled application filter: an unanchored search over application names.
#[derive(Debug, Clone)]
pub struct Filter {
    regex: Arc<Regex>,
}

impl Filter {
    /// Compiles `pattern`; a syntax error or a pattern over the size bounds is an error.
    pub fn compile(pattern: &str) -> Result<Filter, Error> {
        RegexBuilder::new(pattern)
            .size_limit(COMPILED_SIZE_LIMIT)
            .dfa_size_limit(DFA_SIZE_LIMIT)
            .nest_limit(NEST_LIMIT)
            .build()
            .map(|regex| Filter {
                regex: Arc::new(regex),
            })
            .map_err(|e| Error::BadFilter {
                pattern: pattern.to_owned(),
                reason: one_line(&e.to_string()),
            })
    }

    /// Whether `app` is offered (unanchored: `ivr` matches `my-ivr-2`).
    pub fn matches(&self, app: &str) -> bool {
        self.regex.is_match(app)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }
}

/// The regex crate's errors span several lines (with a caret diagram); a log
/// line wants one.
fn one_line(s: &str) -> String {
    let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    match lines.iter().rev().find(|l| l.starts_with("error:")) {
        Some(l) => l.trim_start_matches("error:").trim().to_owned(),
        None => lines.join(" "),
    }
}

/// A small cache of compiled filters, keyed by pattern. Failed compilations
/// are not cached (they are rare and each deserves its own log line anyway).
#[derive(Debug, Default)]
pub struct FilterCache {
    inner: Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    map: HashMap<String, (Filter, u64)>,
    tick: u64,
}

impl FilterCache {
    /// Returns the compiled filter for `pattern`, compiling it on a miss.
    pub fn get(&self, pattern: &str) -> Result<Filter, Error> {
        {
            let mut inner = self.inner.lock();
            inner.tick += 1;
            let tick = inner.tick;
            if let Some((filter, used)) = inner.map.get_mut(pattern) {
                *used = tick;
                return Ok(filter.clone());
            }
        }
        // Compile outside the lock: a large pattern must not stall other calls.
        let filter = Filter::compile(pattern)?;
        let mut inner = self.inner.lock();
        if inner.map.len() >= CACHE_CAPACITY && !inner.map.contains_key(pattern) {
            // Evict the least recently used entry.
            if let Some(oldest) = inner
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            {
                inner.map.remove(&oldest);
            }
        }
        let tick = inner.tick;
        inner.map.insert(pattern.to_owned(), (filter.clone(), tick));
        Ok(filter)
    }

    /// Number of cached patterns.
    pub fn len(&self) -> usize {
        self.inner.lock().map.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unanchored_search() {
        let f = Filter::compile("ivr").unwrap();
        assert!(f.matches("my-ivr-2"));
        assert!(!f.matches("sales"));
        let anchored = Filter::compile("^ivr$").unwrap();
        assert!(!anchored.matches("my-ivr-2"));
        assert!(anchored.matches("ivr"));
    }

    #[test]
    fn posix_style_classes_work() {
        let f = Filter::compile("^pool-[[:digit:]]+$").unwrap();
        assert!(f.matches("pool-12"));
        assert!(!f.matches("pool-x"));
        let f = Filter::compile("a[,]b").unwrap();
        assert!(f.matches("a,b"));
    }

    #[test]
    fn many_quantified_groups_are_legal() {
        let f = Filter::compile("^p-(a|aa)+-(b|bb)+-(c|cc)+-(d|dd)+$").unwrap();
        assert!(f.matches("p-aaa-b-cc-dddd"));
        assert!(!f.matches("p-aaa-b-cc-"));
        let evil = format!("{}!", "a".repeat(50_000));
        assert!(!Filter::compile("^(a+)+$").unwrap().matches(&evil));
    }

    #[test]
    fn bad_patterns_are_errors_with_one_line_reasons() {
        for p in ["[", "(", "a{2,1}", "*a", "(?<x"] {
            match Filter::compile(p) {
                Err(Error::BadFilter { pattern, reason }) => {
                    assert_eq!(pattern, p);
                    assert!(!reason.is_empty() && !reason.contains('\n'), "{reason}");
                }
                other => panic!("{p}: {other:?}"),
            }
        }
    }

    #[test]
    fn oversized_patterns_are_errors() {
        assert!(Filter::compile("(a{1000}){1000}").is_err());
        assert!(Filter::compile(&"(".repeat(200)).is_err());
        let deep = format!(
            "{}a{}",
            "(".repeat(NEST_LIMIT as usize + 5),
            ")".repeat(NEST_LIMIT as usize + 5)
        );
        assert!(Filter::compile(&deep).is_err());
    }

    #[test]
    fn long_legal_pattern_compiles() {
        let alts: Vec<String> = (0..500).map(|i| format!("app-{i}")).collect();
        let f = Filter::compile(&format!("^({})$", alts.join("|"))).unwrap();
        assert!(f.matches("app-499"));
        assert!(!f.matches("app-500"));
    }

    #[test]
    fn cache_reuses_and_is_bounded() {
        let cache = FilterCache::default();
        let a = cache.get("^a").unwrap();
        let b = cache.get("^a").unwrap();
        assert!(Arc::ptr_eq(&a.regex, &b.regex));
        for i in 0..(CACHE_CAPACITY * 2) {
            cache.get(&format!("^p{i}$")).unwrap();
        }
        assert_eq!(cache.len(), CACHE_CAPACITY);
        assert!(cache.get("[").is_err());
        assert_eq!(cache.len(), CACHE_CAPACITY);
    }
}
