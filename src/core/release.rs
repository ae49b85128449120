//! Which Asterisk releases serve `POST /ari/events/claim` themselves (res_ari_events calling
//! the optional API of `asterisk/stasis_app_broadcast.h`): 20.20 and later 20.x, 22.10 and
//! later 22.x, 23.4 and later 23.x, and every later major release. 18.x, 21.x and the earlier
//! releases of 20, 22 and 23 have no such route, and the module serves it.
//!
//! (The integration tests' harness compiles this file too, for its own view of the releases;
//! its unit tests are in claim_route/tests.rs.)

/// The major and minor number at the start of a version string such as Asterisk reports it
/// (`22.10.1`, `22.10.1+dfsg+~cs6.17-1`, `certified-22.8-cert3`); `None` for others
/// (`GIT-master-1a2b3c`).
pub fn major_minor(version: &str) -> Option<(u32, u32)> {
    let v = version.strip_prefix("certified-").unwrap_or(version);
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Whether that release has its own claim route; `None` when the version says nothing.
pub fn has_own_claim_route(version: &str) -> Option<bool> {
    let (major, minor) = major_minor(version)?;
    Some(match major {
        20 => minor >= 20,
        22 => minor >= 10,
        23 => minor >= 4,
        m => m > 23,
    })
}
