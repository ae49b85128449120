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

/// How a release's res_ari reads `ari.conf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AriFamily {
    /// The config framework (config_options.h): 18.x, 20.0–20.14, 21.0–21.9, 22.0–22.4.
    Aco,
    /// Sorcery objects (res_sorcery_config): 20.15+, 21.10+, 22.5+, 23.x and later.
    Sorcery,
}

/// What of `ari.conf` a release's ARI honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AriRules {
    pub family: AriFamily,
    /// Users' `permit`, `deny` and `acl` options: 20.19+, 21.12.3+, 22.9+,
    /// certified-22.8-cert3 and later certs, 23.3+, and every later major release.
    pub user_acls: bool,
    /// The `api_key` parameter's name matched exactly (22.10.1, 23.4.1: the releases with
    /// their own claim route, which a module-route build meets only when forced), rather
    /// than without regard to case (18.26.4 to 22.9.0).
    pub api_key_exact: bool,
}

/// The major, minor and patch numbers and the cert number (`certified-22.8-cert3`: 3) of a
/// version string; a missing patch is 0.
fn numbers(version: &str) -> Option<(u32, u32, u32, Option<u32>)> {
    let (major, minor) = major_minor(version)?;
    let v = version.strip_prefix("certified-").unwrap_or(version);
    let rest = v.splitn(3, '.').nth(2).unwrap_or("");
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let patch = digits.parse().unwrap_or(0);
    let cert = version.strip_prefix("certified-").and_then(|_| {
        let tail = &v[v.find("-cert")? + 5..];
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    });
    Some((major, minor, patch, cert))
}

/// The `ari.conf` rules of the running release. A version that says nothing
/// (`GIT-master-…`) is taken for the newest: sorcery with user ACLs.
pub fn ari_rules(version: &str) -> AriRules {
    let Some((major, minor, patch, cert)) = numbers(version) else {
        return AriRules {
            family: AriFamily::Sorcery,
            user_acls: true,
            api_key_exact: true,
        };
    };
    let family = match major {
        0..=19 => AriFamily::Aco,
        20 if minor < 15 => AriFamily::Aco,
        21 if minor < 10 => AriFamily::Aco,
        22 if minor < 5 => AriFamily::Aco,
        _ => AriFamily::Sorcery,
    };
    let user_acls = match (major, cert) {
        (22, Some(cert)) => (minor == 8 && cert >= 3) || minor > 8,
        (20, _) => minor >= 19,
        (21, _) => (minor, patch) >= (12, 3),
        (22, None) => minor >= 9,
        (23, _) => minor >= 3,
        (m, _) => m > 23,
    };
    AriRules {
        family,
        user_acls,
        api_key_exact: has_own_claim_route(version).unwrap_or(true),
    }
}
