//! app_stasis_broadcast: Asterisk's `StasisBroadcast()` dialplan application.
//!
//! Layers, from the inside out:
//! - `core`: argument grammar, filters, the claim latch, the registry, stats.
//!   No FFI; unit-tested with plain `cargo test`.
//! - `asterisk`: safe RAII types over the few Asterisk APIs used (bindgen).
//! - `app`, `api`, `cli`, `route`: the application, the optional API, the
//!   CLI text, and the claim route served where Asterisk has none.
//! - `entry`: the extern "C" functions the C shim (`src/shim/*.c`) calls.
//! - `fault`: fault injection for tests, only with `--features fault-injection`.
//!
//! Everything but `core` is left out of the unit-test build: the test binary
//! cannot link against symbols that only a running Asterisk provides.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod core;

#[cfg(not(test))]
#[macro_use]
mod asterisk;
#[cfg(not(test))]
mod api;
#[cfg(not(test))]
mod app;
#[cfg(not(test))]
mod cli;
#[cfg(not(test))]
mod entry;
#[cfg(all(not(test), feature = "fault-injection"))]
mod fault;
#[cfg(not(test))]
mod installed;
#[cfg(not(test))]
mod module;
#[cfg(not(test))]
mod route;
#[cfg(not(test))]
mod watch;
