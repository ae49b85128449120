//! `ari.conf` as the config framework (config_options) reads it: 18.x, 20.0–20.14,
//! 21.0–21.9, 22.0–22.4 (res/ari/config.c there).
//!
//! - The file is one unit: any error (an option ARI does not know, in any category, with
//!   any case; a bad `password_format`; a `websocket_write_timeout` that is not an integer
//!   from 1 up; a category other than `general` without `type`, or whose `type` is not
//!   `user`) rejects all of it. At boot res_ari then declines to load; on a reload the
//!   previous configuration stays, whole.
//! - `[general]` matches its name without case; a second one applies on top of the first.
//! - User names compare without case: `[alice]` and `[Alice]` are one user, the second
//!   category's options applied over the first's (an option it does not repeat keeps the
//!   first's value, `read_only` included).
//! - `password` and `auth_realm` live in 256-byte arrays: longer values are cut at 255
//!   bytes. Option names compare without case; `type`'s value too.
//! - No user ACLs: `permit`, `deny` and `acl` are unknown options (so errors).

use std::sync::Arc;

use super::{
    int32_in, password_format, show, truth, AriConf, AriUser, Category, General, PasswordFormat,
    UserAcl,
};

/// ARI's `char[256]` fields.
const FIELD_MAX: usize = 255;

fn cut(v: &[u8]) -> Vec<u8> {
    v[..v.len().min(FIELD_MAX)].to_vec()
}

/// A user being built (merged categories share one).
struct Draft {
    name: Vec<u8>,
    password: Vec<u8>,
    format: PasswordFormat,
    read_only: bool,
}

pub(super) fn read<A: UserAcl>(
    prev: &AriConf<A>,
    cats: &[Category],
    log: &mut Vec<String>,
) -> AriConf<A> {
    match parse(cats) {
        Ok((general, drafts)) => {
            if general.enabled {
                if drafts.is_empty() {
                    log.push("ari.conf has no users: nobody can claim (ARI says the same)".into());
                }
                for d in drafts.iter().filter(|d| d.password.is_empty()) {
                    log.push(format!(
                        "ari.conf: user '{}' has no password: ARI and the claim route let nobody \
                         in as that user",
                        show(&d.name)
                    ));
                }
            }
            AriConf {
                rules: prev.rules,
                general: Some(Arc::new(general)),
                users: drafts
                    .into_iter()
                    .map(|d| {
                        Arc::new(AriUser {
                            name: d.name,
                            password: d.password,
                            format: d.format,
                            read_only: d.read_only,
                            acl: None,
                        })
                    })
                    .collect(),
            }
        }
        Err(why) => {
            log.push(format!(
                "ari.conf: {why}; this Asterisk's ARI rejects the whole file (at its load it \
                 declines; on a reload it keeps its previous users), and the claim route does \
                 the same"
            ));
            prev.clone()
        }
    }
}

fn parse(cats: &[Category]) -> Result<(General, Vec<Draft>), String> {
    let mut general = General::default();
    let mut drafts: Vec<Draft> = Vec::new();
    for cat in cats {
        if cat.name.eq_ignore_ascii_case(b"general") {
            apply_general(&mut general, cat)?;
            continue;
        }
        let Some(kind) = cat.first("type") else {
            return Err(format!("category '{}' has no 'type'", show(&cat.name)));
        };
        if !kind.eq_ignore_ascii_case(b"user") {
            return Err(format!(
                "category '{}' has type '{}' (only 'user' is known)",
                show(&cat.name),
                show(kind)
            ));
        }
        let at = match drafts
            .iter()
            .position(|d| d.name.eq_ignore_ascii_case(&cat.name))
        {
            Some(at) => at,
            None => {
                drafts.push(Draft {
                    name: cat.name.clone(),
                    password: Vec::new(),
                    format: PasswordFormat::Plain,
                    read_only: false,
                });
                drafts.len() - 1
            }
        };
        apply_user(&mut drafts[at], cat)?;
    }
    Ok((general, drafts))
}

fn apply_general(g: &mut General, cat: &Category) -> Result<(), String> {
    for (k, v) in &cat.vars {
        match k.to_ascii_lowercase().as_slice() {
            b"enabled" => g.enabled = truth(v),
            b"pretty" => g.pretty = truth(v),
            b"auth_realm" => g.auth_realm = show(&cut(v)),
            b"allowed_origins" => g.allowed_origins = show(v),
            b"channelvars" => {}
            b"websocket_write_timeout" => {
                if !int32_in(v, 1, i64::from(i32::MAX)) {
                    return Err(format!(
                        "[{}] websocket_write_timeout '{}' is not an integer from 1 up",
                        show(&cat.name),
                        show(v)
                    ));
                }
            }
            _ => return Err(unknown(cat, k)),
        }
    }
    Ok(())
}

fn apply_user(d: &mut Draft, cat: &Category) -> Result<(), String> {
    for (k, v) in &cat.vars {
        match k.to_ascii_lowercase().as_slice() {
            b"type" => {}
            b"read_only" => d.read_only = truth(v),
            b"password" => d.password = cut(v),
            b"password_format" => {
                d.format = password_format(v).ok_or_else(|| {
                    format!(
                        "user '{}' has password_format '{}' (plain or crypt)",
                        show(&cat.name),
                        show(v)
                    )
                })?
            }
            _ => return Err(unknown(cat, k)),
        }
    }
    Ok(())
}

fn unknown(cat: &Category, key: &[u8]) -> String {
    format!(
        "[{}] has the option '{}', which this release's ARI does not know",
        show(&cat.name),
        show(key)
    )
}
