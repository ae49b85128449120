//! What the claim route needs of `ari.conf`: the running release's own reading of it.
//!
//! On an Asterisk without a claim route of its own, the module serves
//! `POST /ari/events/claim` and must let in exactly whom that Asterisk's ARI lets in. ARI's
//! user check is not exported from every release (`ari_conf_validate_user` is local to
//! res_ari from 22.5 on), so the module reads `ari.conf` itself, through Asterisk's
//! configuration API (the shim hands over its categories, templates already applied), and
//! this file applies the rules of the release's family to them:
//! - aco (config_options; 18.x, 20.0–20.14, 21.0–21.9, 22.0–22.4): see aco.rs;
//! - sorcery (res_sorcery_config; 20.15+, 21.10+, 22.5+, 23.x): see sorcery.rs.
//!
//! A reading starts from the previous one (ARI's configuration at that moment), because
//! what a reload that fails keeps differs by family. Everything is bytes: names and
//! passwords are compared as ARI compares them, never after a UTF-8 conversion.
//!
//! User ACLs are built by the host while the file is read (ARI builds them so, and an ACL
//! Asterisk refuses makes the user invalid): the `UserAcl` type parameter is the host's
//! ACL list; a user kept from an earlier reading keeps the very list built then.

use std::sync::Arc;

pub use super::release::{AriFamily, AriRules};

mod aco;
mod sorcery;
#[cfg(test)]
mod tests;

/// ARI's default realm in the `WWW-Authenticate` challenge.
pub const DEFAULT_REALM: &str = "Asterisk REST Interface";

/// One category of the file, with its variables in order, as bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Category {
    pub name: Vec<u8>,
    pub vars: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Category {
    /// The first variable named `key` (option names compare without case, as
    /// `ast_variable_retrieve` and `ast_variable_find_in_list` do).
    fn first(&self, key: &str) -> Option<&[u8]> {
        self.vars
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }
}

/// A user's ACL list as the host builds it (`ast_append_acl`).
pub trait UserAcl: Sized {
    /// An empty list.
    fn empty() -> Self;
    /// Appends one `permit`/`deny`/`acl` line (`sense` as written); false when Asterisk
    /// reports an error for it (a bad address, a named ACL listed twice).
    fn append(&mut self, sense: &[u8], value: &[u8]) -> bool;
}

/// How a user's password is stored in `ari.conf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordFormat {
    Plain,
    /// A crypt(3) hash, checked by Asterisk's `ast_crypt_validate`.
    Crypt,
}

/// One ARI user.
#[derive(Debug)]
pub struct AriUser<A> {
    pub name: Vec<u8>,
    pub password: Vec<u8>,
    pub format: PasswordFormat,
    pub read_only: bool,
    /// The user's ACL list, when it has `permit`/`deny`/`acl` lines.
    pub acl: Option<A>,
}

/// ARI's `[general]`, as far as the claim route is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct General {
    pub enabled: bool,
    pub pretty: bool,
    pub auth_realm: String,
    pub allowed_origins: String,
}

impl Default for General {
    fn default() -> General {
        General {
            enabled: true,
            pretty: false,
            auth_realm: DEFAULT_REALM.into(),
            allowed_origins: String::new(),
        }
    }
}

impl General {
    /// ARI's CORS check: `*` or an exact entry of `allowed_origins`.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins
            .split(',')
            .any(|o| o == "*" || o == origin)
    }
}

/// ARI's configuration at one moment: what the last (re)load left.
#[derive(Debug)]
pub struct AriConf<A> {
    pub rules: AriRules,
    /// `None`: ARI has no general configuration (aco: the file was never loaded, and
    /// res_ari declined; sorcery: no valid `general` object), so ARI is disabled.
    pub general: Option<Arc<General>>,
    pub users: Vec<Arc<AriUser<A>>>,
}

impl<A> Clone for AriConf<A> {
    fn clone(&self) -> Self {
        AriConf {
            rules: self.rules,
            general: self.general.clone(),
            users: self.users.clone(),
        }
    }
}

impl<A: UserAcl> AriConf<A> {
    /// Nothing loaded yet.
    pub fn none(rules: AriRules) -> AriConf<A> {
        AriConf {
            rules,
            general: None,
            users: Vec::new(),
        }
    }

    /// The configuration after ARI reads `file` (`None`: Asterisk could not read it) on top
    /// of `self`, by the rules of `self.rules`. Lines for the log (each naming the bad
    /// value and what ARI does about it) go to `log`.
    pub fn read(&self, file: Option<&[Category]>, log: &mut Vec<String>) -> AriConf<A> {
        let Some(cats) = file else {
            log.push(
                "ari.conf cannot be read (missing, or not valid configuration syntax): \
                 ARI keeps its previous configuration, and so does the claim route"
                    .into(),
            );
            return self.clone();
        };
        match self.rules.family {
            AriFamily::Aco => aco::read(self, cats, log),
            AriFamily::Sorcery => sorcery::read(self, cats, log),
        }
    }
}

impl<A> AriConf<A> {
    /// Whether ARI serves requests at all (`[general] enabled`).
    pub fn enabled(&self) -> bool {
        self.general.as_ref().is_some_and(|g| g.enabled)
    }

    /// The user named `name`: aco's container compares names without regard to (ASCII)
    /// case, sorcery's ids byte for byte.
    pub fn user(&self, name: &[u8]) -> Option<&AriUser<A>> {
        let hit = |u: &&Arc<AriUser<A>>| match self.rules.family {
            AriFamily::Aco => u.name.eq_ignore_ascii_case(name),
            AriFamily::Sorcery => u.name == name,
        };
        self.users.iter().find(hit).map(|u| &**u)
    }

    /// ARI's user check: the user `name` whose password is `password`. `crypt` is
    /// `ast_crypt_validate(password, hash)`.
    pub fn validate(
        &self,
        name: &[u8],
        password: &[u8],
        crypt: impl FnOnce(&[u8], &[u8]) -> bool,
    ) -> Option<&AriUser<A>> {
        // Sorcery releases refuse an empty name or password before looking; aco releases
        // look the user up and compare (a crypt hash of "" could match an empty password).
        if self.rules.family == AriFamily::Sorcery && (name.is_empty() || password.is_empty()) {
            return None;
        }
        let user = self.user(name)?;
        // A user without a password authenticates nobody (aco warns; sorcery never
        // creates one), and never reaches crypt with an empty hash.
        if user.password.is_empty() {
            return None;
        }
        let ok = match user.format {
            PasswordFormat::Plain => user.password == password,
            PasswordFormat::Crypt => crypt(password, &user.password),
        };
        ok.then_some(user)
    }
}

/// `ast_true`.
fn truth(v: &[u8]) -> bool {
    ["yes", "true", "y", "t", "1", "on"]
        .iter()
        .any(|t| v.eq_ignore_ascii_case(t.as_bytes()))
}

/// `password_format`: `plain` or `crypt`, any case.
fn password_format(v: &[u8]) -> Option<PasswordFormat> {
    if v.eq_ignore_ascii_case(b"plain") {
        Some(PasswordFormat::Plain)
    } else if v.eq_ignore_ascii_case(b"crypt") {
        Some(PasswordFormat::Crypt)
    } else {
        None
    }
}

/// `ast_parse_arg(PARSE_INT32)` between `low` and `high`: strtol with base 0 (decimal,
/// `0x` hex, `0` octal, after blanks and a sign), the whole value, in range.
fn int32_in(v: &[u8], low: i64, high: i64) -> bool {
    let s = String::from_utf8_lossy(v);
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(h) = t.strip_prefix("0x").or(t.strip_prefix("0X")) {
        (16, h)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return false;
    }
    let Ok(n) = i64::from_str_radix(digits, radix) else {
        return false;
    };
    let n = if neg { -n } else { n };
    (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&n) && (low..=high).contains(&n)
}

/// For log lines: a name or value as text.
fn show(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}
