//! `ari.conf` as sorcery's config wizard reads it: 20.15+, 21.10+, 22.5+, 23.x
//! (res/ari/config.c and res/res_sorcery_config.c there).
//!
//! The `general` object and the users are two object types, each read from the file on
//! its own and each keeping its previous objects when its reading fails as a whole.
//! - `general`: a category is the general object when it is named exactly `general` and
//!   every option in it is one the general object has, spelt exactly (lower case), or
//!   when it says `type = general` (value compared exactly). More than one such category
//!   rejects the reading (the previous general stays). None leaves ARI without a general
//!   object: disabled. An option that fails (unknown with another case under
//!   `type = general`, a `websocket_write_timeout` that is no integer) keeps the previous
//!   general object, or none. ARI looks the object up by the id `general` only.
//! - users: a category is a user when its first `type` says exactly `user`. Ids are the
//!   category names, byte for byte. A second category with the same id rejects the whole
//!   reading (the previous users stay, all of them). A user with an option that fails (an
//!   option the release does not know — `permit` before user ACLs —, a bad
//!   `password_format`, an ACL line Asterisk refuses) or without a password is not
//!   created; the user of the previous reading with that id, if any, is kept instead.
//! - Values are whole strings (no 255-byte cut); option names compare without case.

use std::sync::Arc;

use super::{
    int32_in, password_format, show, truth, AriConf, AriUser, Category, General, PasswordFormat,
    UserAcl,
};

/// The options of the `general` object, as registered (compared exactly when a
/// category qualifies by its name).
const GENERAL_OPTIONS: [&str; 7] = [
    "type",
    "auth_realm",
    "allowed_origins",
    "channelvars",
    "enabled",
    "pretty",
    "websocket_write_timeout",
];

pub(super) fn read<A: UserAcl>(
    prev: &AriConf<A>,
    cats: &[Category],
    log: &mut Vec<String>,
) -> AriConf<A> {
    AriConf {
        rules: prev.rules,
        general: read_general(prev, cats, log),
        users: read_users(prev, cats, log),
    }
}

fn is_general(cat: &Category) -> bool {
    let by_name = cat.name == b"general"
        && cat
            .vars
            .iter()
            .all(|(k, _)| GENERAL_OPTIONS.iter().any(|o| k == o.as_bytes()));
    by_name || cat.first("type") == Some(b"general")
}

fn read_general<A>(
    prev: &AriConf<A>,
    cats: &[Category],
    log: &mut Vec<String>,
) -> Option<Arc<General>> {
    let found: Vec<&Category> = cats.iter().filter(|c| is_general(c)).collect();
    match found.as_slice() {
        [] => {
            log.push(
                "ari.conf has no [general] that this release's ARI accepts (named exactly \
                 'general' with only its options, in lower case, or with 'type = general'): \
                 ARI is disabled, and so is the claim route"
                    .into(),
            );
            None
        }
        [cat] => match general_from(cat) {
            Ok(g) if cat.name == b"general" => Some(Arc::new(g)),
            Ok(_) => {
                log.push(format!(
                    "ari.conf: the general object is named '{}'; ARI looks for 'general' only, \
                     so it is disabled, and so is the claim route",
                    show(&cat.name)
                ));
                None
            }
            Err(why) => {
                log.push(format!(
                    "ari.conf: {why}; ARI keeps its previous general settings, and so does \
                     the claim route"
                ));
                prev.general.clone()
            }
        },
        _ => {
            log.push(
                "ari.conf has more than one general object: ARI keeps its previous general \
                 settings, and so does the claim route"
                    .into(),
            );
            prev.general.clone()
        }
    }
}

fn general_from(cat: &Category) -> Result<General, String> {
    let mut g = General::default();
    for (k, v) in &cat.vars {
        match k.to_ascii_lowercase().as_slice() {
            b"type" | b"channelvars" => {}
            b"enabled" => g.enabled = truth(v),
            b"pretty" => g.pretty = truth(v),
            b"auth_realm" => g.auth_realm = show(v),
            b"allowed_origins" => g.allowed_origins = show(v),
            b"websocket_write_timeout" => {
                if !int32_in(v, i64::from(i32::MIN), i64::from(i32::MAX)) {
                    return Err(format!(
                        "[{}] websocket_write_timeout '{}' is not an integer",
                        show(&cat.name),
                        show(v)
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "[{}] has the option '{}', which ARI's general object does not know",
                    show(&cat.name),
                    show(k)
                ))
            }
        }
    }
    Ok(g)
}

fn read_users<A: UserAcl>(
    prev: &AriConf<A>,
    cats: &[Category],
    log: &mut Vec<String>,
) -> Vec<Arc<AriUser<A>>> {
    let mut users: Vec<Arc<AriUser<A>>> = Vec::new();
    for cat in cats
        .iter()
        .filter(|c| c.first("type") == Some(b"user".as_slice()))
    {
        if users.iter().any(|u| u.name == cat.name) {
            log.push(format!(
                "ari.conf has two users named '{}': ARI rejects all the users of this reading \
                 and keeps its previous ones, and so does the claim route",
                show(&cat.name)
            ));
            return prev.users.clone();
        }
        match user_from(prev.rules.user_acls, cat) {
            Ok(u) => users.push(Arc::new(u)),
            Err(why) => {
                let kept = prev.users.iter().find(|u| u.name == cat.name);
                log.push(format!(
                    "ari.conf: {why}; ARI does not create the user{}, and neither does the \
                     claim route",
                    if kept.is_some() {
                        " and keeps its previous definition"
                    } else {
                        ""
                    }
                ));
                users.extend(kept.cloned());
            }
        }
    }
    users
}

fn user_from<A: UserAcl>(acls: bool, cat: &Category) -> Result<AriUser<A>, String> {
    let mut user = AriUser {
        name: cat.name.clone(),
        password: Vec::new(),
        format: PasswordFormat::Plain,
        read_only: false,
        acl: None,
    };
    for (k, v) in &cat.vars {
        match k.to_ascii_lowercase().as_slice() {
            b"type" => {}
            b"password" => user.password = v.clone(),
            b"read_only" => user.read_only = truth(v),
            b"password_format" => {
                user.format = password_format(v).ok_or_else(|| {
                    format!(
                        "user '{}' has password_format '{}' (plain or crypt)",
                        show(&cat.name),
                        show(v)
                    )
                })?
            }
            b"permit" | b"deny" | b"acl" if acls => {
                if !user.acl.get_or_insert_with(A::empty).append(k, v) {
                    return Err(format!(
                        "user '{}' has {} '{}', which Asterisk's ACLs refuse",
                        show(&cat.name),
                        show(k),
                        show(v)
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "user '{}' has the option '{}', which this release's ARI does not know",
                    show(&cat.name),
                    show(k)
                ))
            }
        }
    }
    if user.password.is_empty() {
        return Err(format!("user '{}' has no password", show(&cat.name)));
    }
    Ok(user)
}
