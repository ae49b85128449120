//! What the claim route needs of `ari.conf`: ARI's own reading of it.
//!
//! On an Asterisk without a claim route of its own, the module serves
//! `POST /ari/events/claim` and must authenticate exactly as ARI does. ARI's
//! user check is not exported from every release (`ari_conf_validate_user` is
//! local to res_ari from 22.5 on), so the module reads `ari.conf` itself, through
//! Asterisk's configuration API (the shim hands over its categories), and this
//! file applies ARI's rules to them:
//! - `[general]`: `enabled` and `pretty` (Asterisk truth values), `auth_realm`
//!   (default "Asterisk REST Interface"), `allowed_origins` (comma-separated,
//!   `*` for any; compared byte for byte, as ARI does);
//! - any other category with `type = user` is a user: `password`,
//!   `password_format` (`plain` or `crypt`, any case), `read_only`, and the
//!   `permit`/`deny` ACL lines of ARI's users on 22.x;
//! - option names compare without case (ARI's config framework does), and
//!   ARI's fixed-size fields cut a password or realm at 255 bytes.

use std::collections::HashMap;

use super::args::is_true;

/// ARI's default realm in the `WWW-Authenticate` challenge.
pub const DEFAULT_REALM: &str = "Asterisk REST Interface";
/// ARI keeps passwords and the realm in 256-byte C arrays.
const FIELD_MAX: usize = 255;

/// How a user's password is stored in `ari.conf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordFormat {
    Plain,
    /// A crypt(3) hash, checked by Asterisk's `ast_crypt_validate`.
    Crypt,
}

/// One `type = user` category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AriUser {
    pub password: String,
    pub format: PasswordFormat,
    pub read_only: bool,
    /// `permit` / `deny` lines, in order, as (`permit`|`deny`, value).
    pub acl: Vec<(String, String)>,
}

/// ARI's configuration, as far as the claim route is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AriConf {
    pub enabled: bool,
    pub pretty: bool,
    pub auth_realm: String,
    pub allowed_origins: String,
    pub users: HashMap<String, AriUser>,
}

impl Default for AriConf {
    fn default() -> AriConf {
        AriConf {
            enabled: true,
            pretty: false,
            auth_realm: DEFAULT_REALM.into(),
            allowed_origins: String::new(),
            users: HashMap::new(),
        }
    }
}

/// One category of the file, with its variables in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Category {
    pub name: String,
    pub vars: Vec<(String, String)>,
}

fn cut(s: &str) -> String {
    if s.len() <= FIELD_MAX {
        return s.to_owned();
    }
    let mut end = FIELD_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

impl AriConf {
    /// ARI's reading of `ari.conf`'s categories. Also returns warnings (a
    /// value ARI would reject), for the log.
    pub fn from_categories(cats: &[Category]) -> (AriConf, Vec<String>) {
        let mut conf = AriConf::default();
        let mut warnings = Vec::new();
        for cat in cats {
            if cat.name.eq_ignore_ascii_case("general") {
                conf.apply_general(cat);
            } else if cat
                .vars
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("type") && v.trim() == "user")
            {
                match user_from(cat) {
                    Ok(u) => {
                        conf.users.insert(cat.name.clone(), u);
                    }
                    Err(w) => warnings.push(w),
                }
            }
        }
        (conf, warnings)
    }

    fn apply_general(&mut self, cat: &Category) {
        for (k, v) in &cat.vars {
            match k.to_ascii_lowercase().as_str() {
                "enabled" => self.enabled = is_true(v.trim()),
                "pretty" => self.pretty = is_true(v.trim()),
                "auth_realm" => self.auth_realm = cut(v),
                "allowed_origins" => self.allowed_origins = v.clone(),
                _ => {}
            }
        }
    }

    /// ARI's CORS check: `*` or an exact entry of `allowed_origins`.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins
            .split(',')
            .any(|o| o == "*" || o == origin)
    }
}

fn user_from(cat: &Category) -> Result<AriUser, String> {
    let mut user = AriUser {
        password: String::new(),
        format: PasswordFormat::Plain,
        read_only: false,
        acl: Vec::new(),
    };
    for (k, v) in &cat.vars {
        match k.to_ascii_lowercase().as_str() {
            "password" => user.password = cut(v),
            "read_only" => user.read_only = is_true(v.trim()),
            "password_format" => {
                user.format = match v.to_ascii_lowercase().as_str() {
                    "plain" => PasswordFormat::Plain,
                    "crypt" => PasswordFormat::Crypt,
                    _ => {
                        return Err(format!(
                            "ari.conf: user '{}' has password_format '{}' (plain or crypt); \
                             the user cannot claim through this module",
                            cat.name, v
                        ))
                    }
                }
            }
            acl @ ("permit" | "deny") => user.acl.push((acl.to_owned(), v.clone())),
            _ => {}
        }
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(name: &str, vars: &[(&str, &str)]) -> Category {
        Category {
            name: name.into(),
            vars: vars
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        }
    }

    #[test]
    fn general_and_users() {
        let (conf, warnings) = AriConf::from_categories(&[
            cat(
                "general",
                &[
                    ("Enabled", "yes"),
                    ("pretty", "ON"),
                    ("allowed_origins", "a,*"),
                ],
            ),
            cat(
                "alice",
                &[("type", "user"), ("password", "pw"), ("read_only", "y")],
            ),
            cat(
                "bob",
                &[
                    ("type", "user"),
                    ("password", "$6$x"),
                    ("password_format", "CRYPT"),
                ],
            ),
            cat("not-a-user", &[("password", "pw")]),
        ]);
        assert!(warnings.is_empty());
        assert!(conf.enabled && conf.pretty);
        assert_eq!(conf.auth_realm, DEFAULT_REALM);
        assert_eq!(conf.users.len(), 2);
        assert!(conf.users["alice"].read_only);
        assert_eq!(conf.users["bob"].format, PasswordFormat::Crypt);
        assert!(conf.origin_allowed("anything"));
    }

    #[test]
    fn disabled_and_bad_format() {
        let (conf, warnings) = AriConf::from_categories(&[
            cat("general", &[("enabled", "no")]),
            cat(
                "u",
                &[
                    ("type", "user"),
                    ("password", "p"),
                    ("password_format", "md5"),
                ],
            ),
        ]);
        assert!(!conf.enabled);
        assert!(conf.users.is_empty());
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("md5"));
    }

    #[test]
    fn origins_compare_exactly() {
        let conf = AriConf {
            allowed_origins: "http://a.example, http://b.example".into(),
            ..AriConf::default()
        };
        assert!(conf.origin_allowed("http://a.example"));
        // ARI splits on commas only: the space stays part of the entry.
        assert!(!conf.origin_allowed("http://b.example"));
        assert!(conf.origin_allowed(" http://b.example"));
        assert!(!AriConf::default().origin_allowed("http://a.example"));
    }

    #[test]
    fn long_fields_are_cut_like_ari() {
        let long = "é".repeat(200);
        let (conf, _) = AriConf::from_categories(&[
            cat("general", &[("auth_realm", &long)]),
            cat("u", &[("type", "user"), ("password", &long)]),
        ]);
        assert!(conf.auth_realm.len() <= 255);
        assert_eq!(conf.users["u"].password.len(), 254);
    }

    #[test]
    fn acl_lines_keep_their_order() {
        let (conf, _) = AriConf::from_categories(&[cat(
            "u",
            &[
                ("type", "user"),
                ("deny", "0.0.0.0/0"),
                ("permit", "127.0.0.1"),
            ],
        )]);
        assert_eq!(
            conf.users["u"].acl,
            vec![
                ("deny".to_owned(), "0.0.0.0/0".to_owned()),
                ("permit".to_owned(), "127.0.0.1".to_owned())
            ]
        );
    }
}
