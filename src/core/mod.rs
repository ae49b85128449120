//! The pure core: no FFI, unit-tested with plain `cargo test`.

pub mod args;
pub mod ari_conf;
pub mod broadcast;
pub mod claim_route;
pub mod error;
pub mod filter;
pub mod installed;
pub mod registry;
pub mod release;
pub mod shuffle;
pub mod stats;

pub use error::Error;
