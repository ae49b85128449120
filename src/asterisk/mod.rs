//! The only layer that touches bindgen's types: small safe wrappers with RAII.

#[macro_use]
pub mod log;
pub mod acl;
pub mod channel;
pub mod config;
pub mod eventfd;
pub mod frame;
pub mod hold;
pub mod host;
pub mod http;
pub mod json;
pub mod stasis;
pub(crate) mod sys;

pub use channel::Channel;
