//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong in the module, core and host layer alike.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// `app_filter` does not compile, or is over the size bounds.
    #[error("invalid app_filter '{pattern}': {reason}")]
    BadFilter { pattern: String, reason: String },
    /// A broadcast for this channel is already live.
    #[error("channel {0} is already being broadcast")]
    AlreadyBroadcasting(String),
    /// The module is being unloaded: no new broadcast starts.
    #[error("the module is being unloaded")]
    Unloading,
    /// Asterisk refused or failed a call the module depends on.
    #[error("{0}")]
    Host(String),
}
