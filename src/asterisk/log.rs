//! Logging through Asterisk's logger (the shim's `sb_log`).
//!
//! The message is formatted in Rust and handed over as one string, never as
//! a format: a channel name or a pattern containing `%` is logged as it is.

use std::ffi::CString;

use super::sys;

/// Where a message shows.
#[derive(Debug, Clone, Copy)]
pub enum Level {
    Error,
    Warning,
    Notice,
    /// Shown from this `core set verbose` level on.
    Verbose(i32),
    /// Shown from this `core set debug` level on.
    Debug(i32),
}

fn raw(level: Level) -> (u32, i32) {
    match level {
        Level::Error => (sys::sb_log_level_SB_LOG_ERROR, 0),
        Level::Warning => (sys::sb_log_level_SB_LOG_WARNING, 0),
        Level::Notice => (sys::sb_log_level_SB_LOG_NOTICE, 0),
        Level::Verbose(v) => (sys::sb_log_level_SB_LOG_VERBOSE, v),
        Level::Debug(v) => (sys::sb_log_level_SB_LOG_DEBUG, v),
    }
}

/// Whether a message at `level` would be shown (`core set verbose/debug`):
/// the macros format nothing otherwise, which keeps debug lines off the hot path.
pub fn enabled(level: Level) -> bool {
    match level {
        Level::Error | Level::Warning | Level::Notice => true,
        Level::Verbose(_) | Level::Debug(_) => {
            let (lvl, verbosity) = raw(level);
            // SAFETY: reads Asterisk's current verbose/debug levels; no pointers.
            unsafe { sys::sb_log_enabled(lvl as i32, verbosity) != 0 }
        }
    }
}

/// Logs one message; use the `error!`/`warning!`/... macros instead.
pub fn log(level: Level, file: &str, line: u32, func: &str, msg: &str) {
    let (lvl, verbosity) = raw(level);
    let file = c_string(file);
    let func = c_string(func);
    let msg = c_string(msg);
    // SAFETY: all pointers are valid NUL-terminated strings for the duration
    // of the call; sb_log copies what it keeps.
    unsafe {
        sys::sb_log(
            lvl as i32,
            verbosity,
            file.as_ptr(),
            line as i32,
            func.as_ptr(),
            msg.as_ptr(),
        )
    };
}

/// A C string of `s`; interior NULs (from hostile input) become U+FFFD.
pub fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

macro_rules! log_at {
    ($level:expr, $($arg:tt)*) => {
        {
            let level = $level;
            if $crate::asterisk::log::enabled(level) {
                $crate::asterisk::log::log(
                    level,
                    concat!("app_stasis_broadcast/", file!()),
                    line!(),
                    module_path!(),
                    &format!($($arg)*),
                )
            }
        }
    };
}
macro_rules! error { ($($arg:tt)*) => { log_at!($crate::asterisk::log::Level::Error, $($arg)*) }; }
macro_rules! warning { ($($arg:tt)*) => { log_at!($crate::asterisk::log::Level::Warning, $($arg)*) }; }
macro_rules! notice { ($($arg:tt)*) => { log_at!($crate::asterisk::log::Level::Notice, $($arg)*) }; }
macro_rules! verbose { ($v:expr, $($arg:tt)*) => { log_at!($crate::asterisk::log::Level::Verbose($v), $($arg)*) }; }
macro_rules! debug { ($v:expr, $($arg:tt)*) => { log_at!($crate::asterisk::log::Level::Debug($v), $($arg)*) }; }
