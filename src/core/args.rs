//! The argument grammar of `StasisBroadcast([timeout[,app_filter[,args[,notify_claimed]]]])`.
//!
//! Splitting follows Asterisk's standard application-argument rules, so a
//! dialplan line means the same thing to this module as to Asterisk's own
//! `StasisBroadcast`: commas inside `(...)`, `[...]` or double quotes do not
//! split, double quotes are removed, a backslash makes the next character
//! literal (and is removed), and the last field takes the unprocessed rest of
//! the string.

use std::fmt;

/// Default time to wait for a claim, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u32 = 500;
/// Largest accepted timeout, in milliseconds.
pub const MAX_TIMEOUT_MS: u32 = 60_000;

/// Number of positional fields the application takes.
const FIELDS: usize = 4;

/// The arguments of one `StasisBroadcast()` call, with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastArgs {
    /// Milliseconds to wait for a claim.
    pub timeout_ms: u32,
    /// The regular expression over application names; `None` offers to all.
    pub filter: Option<String>,
    /// Arguments handed to the winner's `StasisStart`, in order.
    pub stasis_args: Vec<String>,
    /// Whether a `CallClaimed` event is sent once the call is claimed.
    pub notify_claimed: bool,
    /// Problems that were answered with a default; the caller logs each one.
    pub warnings: Vec<ArgWarning>,
}

/// A bad argument value that was replaced by its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgWarning {
    /// The timeout was not an integer in `0..=MAX_TIMEOUT_MS`; the value as given.
    InvalidTimeout(String),
}

impl fmt::Display for ArgWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgWarning::InvalidTimeout(v) => write!(
                f,
                "invalid timeout value '{v}' (must be 0-{MAX_TIMEOUT_MS}ms), using default {DEFAULT_TIMEOUT_MS}ms"
            ),
        }
    }
}

impl Default for BroadcastArgs {
    fn default() -> Self {
        BroadcastArgs {
            timeout_ms: DEFAULT_TIMEOUT_MS,
            filter: None,
            stasis_args: Vec::new(),
            notify_claimed: false,
            warnings: Vec::new(),
        }
    }
}

/// Parses the application's argument string (after dialplan substitution).
pub fn parse(data: &str) -> BroadcastArgs {
    let mut out = BroadcastArgs::default();
    if data.is_empty() {
        return out;
    }
    let fields = split_app_args(data, FIELDS);
    let field = |i: usize| fields.get(i).map(String::as_str).unwrap_or("");

    let timeout = field(0);
    if !timeout.is_empty() {
        match parse_timeout(timeout) {
            Some(ms) => out.timeout_ms = ms,
            None => out
                .warnings
                .push(ArgWarning::InvalidTimeout(timeout.to_owned())),
        }
    }
    if !field(1).is_empty() {
        out.filter = Some(field(1).to_owned());
    }
    if !field(2).is_empty() {
        out.stasis_args = field(2).split(':').map(str::to_owned).collect();
    }
    out.notify_claimed = is_true(field(3));
    out
}

/// A decimal integer in range, optionally signed and surrounded by blanks.
/// Anything else (`0x10`, `300ms`, `1e3`, overflow) is not a timeout.
fn parse_timeout(s: &str) -> Option<u32> {
    let t = s.trim_matches(|c: char| c == ' ' || c == '\t');
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = t.parse().ok()?;
    u32::try_from(value).ok().filter(|v| *v <= MAX_TIMEOUT_MS)
}

/// Asterisk's truth values: `yes`, `true`, `y`, `t`, `1`, `on`, in any case.
pub fn is_true(s: &str) -> bool {
    ["yes", "true", "y", "t", "1", "on"]
        .iter()
        .any(|t| s.eq_ignore_ascii_case(t))
}

/// Splits `data` into at most `max` comma-separated fields by Asterisk's
/// standard rules (see the module comment). The last field keeps the raw rest.
pub fn split_app_args(data: &str, max: usize) -> Vec<String> {
    let bytes = data.as_bytes();
    let mut fields = Vec::new();
    let mut pos = 0;
    let (mut paren, mut bracket, mut quote) = (0u32, 0u32, false);
    let mut ended_on_delim = false;
    while pos < bytes.len() && fields.len() + 1 < max {
        let mut field = Vec::new();
        ended_on_delim = false;
        while pos < bytes.len() {
            let b = bytes[pos];
            pos += 1;
            match b {
                b'(' => paren += 1,
                b')' => paren = paren.saturating_sub(1),
                b'[' => bracket += 1,
                b']' => bracket = bracket.saturating_sub(1),
                b'"' => {
                    quote = !quote;
                    continue;
                }
                b'\\' => {
                    if let Some(&next) = bytes.get(pos) {
                        field.push(next);
                        pos += 1;
                    }
                    continue;
                }
                b',' if paren == 0 && bracket == 0 && !quote => {
                    ended_on_delim = true;
                    break;
                }
                _ => {}
            }
            field.push(b);
        }
        fields.push(String::from_utf8_lossy(&field).into_owned());
    }
    if pos < bytes.len() || ended_on_delim {
        fields.push(String::from_utf8_lossy(&bytes[pos..]).into_owned());
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> BroadcastArgs {
        parse(s)
    }

    #[test]
    fn empty_string_gives_defaults() {
        assert_eq!(args(""), BroadcastArgs::default());
        assert_eq!(args(",,,"), BroadcastArgs::default());
    }

    #[test]
    fn all_four_fields() {
        let a = args("2000,^ivr-.*,sales:priority-high,yes");
        assert_eq!(a.timeout_ms, 2000);
        assert_eq!(a.filter.as_deref(), Some("^ivr-.*"));
        assert_eq!(a.stasis_args, vec!["sales", "priority-high"]);
        assert!(a.notify_claimed);
        assert!(a.warnings.is_empty());
    }

    #[test]
    fn timeout_bounds() {
        assert_eq!(args("0").timeout_ms, 0);
        assert_eq!(args("60000").timeout_ms, 60000);
        assert_eq!(args("-0").timeout_ms, 0);
        assert_eq!(args("+250").timeout_ms, 250);
        assert_eq!(args(" 300 ").timeout_ms, 300);
        for bad in [
            "60001",
            "-1",
            "abc",
            "0x10",
            "300ms",
            "1e3",
            "99999999999999999999",
            "+",
            "-",
            " ",
            "3 00",
            "３００",
        ] {
            let a = args(bad);
            assert_eq!(a.timeout_ms, DEFAULT_TIMEOUT_MS, "{bad:?}");
            assert_eq!(a.warnings, vec![ArgWarning::InvalidTimeout(bad.into())]);
        }
    }

    #[test]
    fn warning_names_the_value() {
        let w = ArgWarning::InvalidTimeout("banana".into()).to_string();
        assert!(w.contains("'banana'") && w.contains("0-60000ms") && w.contains("500ms"));
    }

    #[test]
    fn empty_fields_take_defaults() {
        let a = args(",,a:b");
        assert_eq!(a.timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(a.filter, None);
        assert_eq!(a.stasis_args, vec!["a", "b"]);
        assert!(!a.notify_claimed);
    }

    #[test]
    fn stasis_args_keep_empty_parts_and_never_truncate() {
        assert_eq!(args(",,a::b:").stasis_args, vec!["a", "", "b", ""]);
        let many: Vec<String> = (0..600).map(|i| format!("a{i}")).collect();
        let a = args(&format!(",,{}", many.join(":")));
        assert_eq!(a.stasis_args, many);
    }

    #[test]
    fn truth_values() {
        for t in ["yes", "YES", "true", "True", "y", "T", "1", "on", "ON"] {
            assert!(is_true(t), "{t}");
        }
        for f in [
            "", "no", "0", "off", "yes ", " yes", "2", "enable", "\"yes\"",
        ] {
            assert!(!is_true(f), "{f}");
        }
        assert!(args(",,,on").notify_claimed);
        assert!(!args(",,,off").notify_claimed);
    }

    #[test]
    fn commas_inside_brackets_parens_and_quotes_do_not_split() {
        assert_eq!(args("1,a[,]b").filter.as_deref(), Some("a[,]b"));
        assert_eq!(args("1,(a,b),x").filter.as_deref(), Some("(a,b)"));
        let a = args("1,\"a,b\",x");
        assert_eq!(a.filter.as_deref(), Some("a,b"));
        assert_eq!(a.stasis_args, vec!["x"]);
    }

    #[test]
    fn backslash_makes_next_character_literal() {
        assert_eq!(args("1,a\\,b,x").filter.as_deref(), Some("a,b"));
        assert_eq!(args("1,a\\\\b").filter.as_deref(), Some("a\\b"));
        // A lone trailing backslash disappears.
        assert_eq!(args("1,ab\\").filter.as_deref(), Some("ab"));
    }

    #[test]
    fn last_field_takes_the_raw_rest() {
        assert_eq!(split_app_args("1,2,3,4,5", 4), vec!["1", "2", "3", "4,5"]);
        assert_eq!(split_app_args("a,", 4), vec!["a", ""]);
        assert_eq!(split_app_args("a", 4), vec!["a"]);
        // Quotes are not processed in the raw rest.
        assert!(!args("1,2,3,\"yes\"").notify_claimed);
    }

    #[test]
    fn non_ascii_and_control_bytes_survive() {
        let a = args("100,ñ\u{1}x,é:\u{7f}");
        assert_eq!(a.filter.as_deref(), Some("ñ\u{1}x"));
        assert_eq!(a.stasis_args, vec!["é", "\u{7f}"]);
    }
}
