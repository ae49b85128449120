//! Each case names the release behaviour it mirrors (res/ari/config.c, res/res_ari.c,
//! main/config_options.c and res/res_sorcery_config.c of that release).

use super::*;
use crate::core::release::ari_rules;

/// Stands in for Asterisk's ACL list: records the lines; `bad` is refused, as
/// `ast_append_acl` refuses an address it cannot read.
#[derive(Debug, Default, PartialEq)]
struct Lines(Vec<(String, String)>);

impl UserAcl for Lines {
    fn empty() -> Lines {
        Lines::default()
    }
    fn append(&mut self, sense: &[u8], value: &[u8]) -> bool {
        self.0.push((show(sense), show(value)));
        value != b"bad"
    }
}

/// Parses a small ari.conf: `[name]` lines and `key = value` lines.
fn file(text: &str) -> Vec<Category> {
    let mut cats: Vec<Category> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            cats.push(Category {
                name: name.into(),
                vars: Vec::new(),
            });
        } else {
            let (k, v) = line.split_once('=').expect("key = value");
            let cat = cats.last_mut().expect("a category first");
            cat.vars.push((k.trim().into(), v.trim().into()));
        }
    }
    cats
}

fn load(release: &str, text: &str) -> AriConf<Lines> {
    AriConf::none(ari_rules(release)).read(Some(&file(text)), &mut Vec::new())
}

fn reload(conf: &AriConf<Lines>, text: &str) -> (AriConf<Lines>, Vec<String>) {
    let mut log = Vec::new();
    (conf.read(Some(&file(text)), &mut log), log)
}

/// Who gets in as `name:password` (plain passwords only).
fn admits(conf: &AriConf<Lines>, name: &str, password: &str) -> bool {
    conf.validate(name.as_bytes(), password.as_bytes(), |_, _| false)
        .is_some()
}

const BASE: &str = "
[general]
enabled = yes
[asb]
type = user
password = asb
";

const ACO: [&str; 3] = ["18.26.4", "20.6.0", "22.4.1"];
const SORCERY: [&str; 4] = ["20.15.0", "21.10.0", "22.5.0", "22.9.0"];

#[test]
fn families_by_release() {
    for v in ["18.26.4", "20.14.2", "21.9.0", "22.4.1", "19.8.0"] {
        assert_eq!(ari_rules(v).family, AriFamily::Aco, "{v}");
        assert!(!ari_rules(v).user_acls, "{v}");
    }
    for v in ["20.15.0", "21.10.0", "22.5.0", "23.0.0", "GIT-master-abc"] {
        assert_eq!(ari_rules(v).family, AriFamily::Sorcery, "{v}");
    }
    for (v, acls) in [
        ("20.18.0", false),
        ("20.19.0", true),
        ("21.12.2", false),
        ("21.12.3", true),
        ("21.13.0", true),
        ("22.8.0", false),
        ("22.9.0", true),
        ("certified-22.8-cert2", false),
        ("certified-22.8-cert3", true),
        ("certified-22.8-cert4", true),
        ("23.2.0", false),
        ("23.3.0", true),
        ("24.0.0", true),
        ("22.10.1+dfsg+~cs6.17-1", true),
    ] {
        assert_eq!(ari_rules(v).user_acls, acls, "{v}");
    }
}

#[test]
fn names_match_without_case_on_aco_and_exactly_on_sorcery() {
    // aco (18.26.4, 20.6.0): the users container sorts with strcasecmp.
    for v in ACO {
        let conf = load(v, BASE);
        assert!(admits(&conf, "ASB", "asb"), "{v}");
        assert!(
            !admits(&conf, "asb", "ASB"),
            "{v}: passwords compare exactly"
        );
    }
    // sorcery (22.5.0, 22.9.0): ids compare with strcmp.
    for v in SORCERY {
        let conf = load(v, BASE);
        assert!(
            admits(&conf, "asb", "asb") && !admits(&conf, "ASB", "asb"),
            "{v}"
        );
    }
}

#[test]
fn a_duplicate_user_merges_on_aco_and_is_refused_on_sorcery() {
    let text = "[general]\n[u]\ntype=user\npassword=a\nread_only=yes\n[U]\ntype=user\npassword=b\n";
    // aco (20.6.0): item_find finds [u] for [U]; its options go on top, read_only stays.
    for v in ACO {
        let conf = load(v, text);
        assert_eq!(conf.users.len(), 1, "{v}");
        let u = conf.validate(b"u", b"b", |_, _| false).expect(v);
        assert!(u.read_only, "{v}");
    }
    // sorcery (22.5.0): "configuration contains a duplicate object": the users of the
    // previous reading stay, all of them.
    let dup = "[general]\n[u]\ntype=user\npassword=a\n[u]\ntype=user\npassword=b\n";
    for v in SORCERY {
        let first = load(v, BASE);
        let (conf, log) = reload(&first, dup);
        assert!(
            admits(&conf, "asb", "asb") && !admits(&conf, "u", "b"),
            "{v}"
        );
        assert!(log.iter().any(|l| l.contains("two users named 'u'")), "{v}");
        // Other-case ids are two users there.
        assert_eq!(load(v, text).users.len(), 2, "{v}");
    }
}

#[test]
fn a_typo_rejects_the_file_on_aco_and_the_user_on_sorcery() {
    let typo = "[general]\n[asb]\ntype=user\npassword=asb\n[t]\ntype=user\npasword=x\n";
    // aco (20.6.0): "Could not find option suitable for category": the whole file fails;
    // at boot res_ari declines (no general), on reload the previous file stays.
    for v in ACO {
        assert!(load(v, typo).general.is_none(), "{v}");
        let first = load(v, "[general]\n[old]\ntype=user\npassword=o\n");
        let (conf, log) = reload(&first, typo);
        assert!(
            admits(&conf, "old", "o") && !admits(&conf, "asb", "asb"),
            "{v}"
        );
        assert!(log[0].contains("'pasword'"), "{v}: {log:?}");
    }
    // sorcery (22.5.0): the user with the typo is not created, the others are.
    for v in SORCERY {
        let conf = load(v, typo);
        assert!(admits(&conf, "asb", "asb"), "{v}");
        assert!(conf.user(b"t").is_none(), "{v}");
    }
}

#[test]
fn a_bad_password_format() {
    let text = "[general]\n[asb]\ntype=user\npassword=asb\npassword_format=md5\n";
    for v in ACO {
        assert!(load(v, text).general.is_none(), "{v}");
    }
    for v in SORCERY {
        assert!(load(v, text).user(b"asb").is_none(), "{v}");
    }
}

#[test]
fn a_user_without_password() {
    let text = "[general]\n[asb]\ntype=user\npassword=\n";
    // aco (20.6.0): the user exists, ast_ari_config_validate_user refuses it ("missing
    // password"): a crypt user never reaches ast_crypt_validate with an empty hash.
    for v in ACO {
        let conf = load(v, &format!("{text}password_format=crypt\n"));
        assert!(conf.user(b"asb").is_some(), "{v}");
        let crypt_called = std::cell::Cell::new(false);
        let r = conf.validate(b"asb", b"", |_, _| {
            crypt_called.set(true);
            true
        });
        assert!(r.is_none() && !crypt_called.get(), "{v}");
    }
    // sorcery (22.5.0): user_apply fails: not created; on reload the previous one stays.
    for v in SORCERY {
        assert!(load(v, text).user(b"asb").is_none(), "{v}");
        let (conf, _) = reload(&load(v, BASE), text);
        assert!(admits(&conf, "asb", "asb"), "{v}");
    }
}

#[test]
fn empty_credentials() {
    // sorcery (22.5.0): ari_conf_validate_user refuses an empty name or password at once.
    let conf = load("22.5.0", BASE);
    assert!(conf.validate(b"asb", b"", |_, _| true).is_none());
    // aco (20.6.0): looks the user up and lets crypt decide.
    let conf = load(
        "20.6.0",
        "[general]\n[c]\ntype=user\npassword=h\npassword_format=crypt\n",
    );
    assert!(conf
        .validate(b"c", b"", |p, h| p.is_empty() && h == b"h")
        .is_some());
}

#[test]
fn user_acls_where_the_release_has_them() {
    let text = "[general]\n[asb]\ntype=user\npassword=asb\ndeny=0.0.0.0/0\npermit=127.0.0.1\nacl=lan-only\n";
    // 22.9.0: user_acl_handler appends every line, in order, as written.
    let conf = load("22.9.0", text);
    assert_eq!(
        conf.user(b"asb").and_then(|u| u.acl.as_ref()),
        Some(&Lines(vec![
            ("deny".into(), "0.0.0.0/0".into()),
            ("permit".into(), "127.0.0.1".into()),
            ("acl".into(), "lan-only".into()),
        ]))
    );
    // 22.9.0: an ACL line Asterisk refuses fails the user.
    assert!(load(
        "22.9.0",
        "[general]\n[asb]\ntype=user\npassword=asb\npermit=bad\n"
    )
    .user(b"asb")
    .is_none());
    // 22.5.0: `permit` is an unknown option: sorcery drops the user.
    assert!(load("22.5.0", text).user(b"asb").is_none());
    // 20.6.0: an unknown option: the whole file fails.
    assert!(load("20.6.0", text).general.is_none());
    // No ACL lines: no list at all.
    assert!(load("22.9.0", BASE).users[0].acl.is_none());
}

#[test]
fn a_kept_user_keeps_its_acl_list() {
    // sorcery (22.9.0): "Retaining existing configuration for object": the previous
    // object, with the ACL built then.
    let first = load(
        "22.9.0",
        "[general]\n[asb]\ntype=user\npassword=asb\npermit=127.0.0.1\n",
    );
    let (conf, _) = reload(
        &first,
        "[general]\n[asb]\ntype=user\npassword=asb\ntypo=1\n",
    );
    assert!(Arc::ptr_eq(&first.users[0], &conf.users[0]));
}

#[test]
fn general_on_sorcery() {
    // 22.5.0: explicit_name=general needs the exact name and only known options, in
    // their exact spelling; criteria type=general is the other way in.
    for (text, enabled) in [
        ("[general]\nenabled=yes\n", true),
        ("[General]\nenabled=yes\n", false),
        ("[general]\nEnabled=yes\n", false),
        ("[general]\nenabled=yes\nbogus=1\n", false),
        ("[general]\ntype=general\nEnabled=yes\n", true),
        ("[asb]\ntype=user\npassword=asb\n", false),
    ] {
        let conf = load("22.5.0", text);
        assert_eq!(conf.enabled(), enabled, "{text}");
    }
    // Two general objects: the reading fails, the previous general stays.
    let first = load("22.5.0", "[general]\nauth_realm=one\n");
    let (conf, _) = reload(&first, "[general]\nauth_realm=two\n[g2]\ntype=general\n");
    assert_eq!(
        conf.general.as_ref().map(|g| g.auth_realm.as_str()),
        Some("one")
    );
    // An option that fails keeps the previous general.
    let (conf, _) = reload(
        &first,
        "[general]\ntype=general\nwebsocket_write_timeout=x\n",
    );
    assert_eq!(
        conf.general.as_ref().map(|g| g.auth_realm.as_str()),
        Some("one")
    );
}

#[test]
fn general_on_aco() {
    // 20.6.0: ACO_WHITELIST_EXACT compares without case; defaults when absent.
    for (text, enabled) in [
        ("[General]\nENABLED=no\n", false),
        ("[asb]\ntype=user\npassword=asb\n", true),
        ("[general]\nenabled=no\n[general]\npretty=yes\n", false),
    ] {
        assert_eq!(load("20.6.0", text).enabled(), enabled, "{text}");
    }
    // `type` is no option of aco's general: the file fails.
    assert!(load("20.6.0", "[general]\ntype=general\n")
        .general
        .is_none());
    assert!(load("20.6.0", "[general]\nwebsocket_write_timeout=0\n")
        .general
        .is_none());
    assert!(load("20.6.0", "[general]\nwebsocket_write_timeout=0x10\n")
        .general
        .is_some());
    // A category without type, or of another type, fails the file.
    assert!(load("20.6.0", "[general]\n[x]\nfoo=1\n").general.is_none());
    assert!(load("20.6.0", "[general]\n[x]\ntype=peer\n")
        .general
        .is_none());
    // ...where sorcery skips it.
    assert!(load("22.5.0", "[general]\n[x]\nfoo=1\n").enabled());
    // `type` compares without case on aco, exactly on sorcery.
    assert!(load("20.6.0", "[general]\n[u]\ntype=USER\npassword=p\n")
        .user(b"u")
        .is_some());
    assert!(load("22.5.0", "[general]\n[u]\ntype=USER\npassword=p\n")
        .user(b"u")
        .is_none());
}

#[test]
fn value_lengths() {
    let long = "x".repeat(300);
    let text = format!("[general]\nauth_realm={long}\n[u]\ntype=user\npassword={long}\n");
    // 20.6.0: char[256] arrays, ast_copy_string.
    let conf = load("20.6.0", &text);
    assert_eq!(conf.general.as_ref().map(|g| g.auth_realm.len()), Some(255));
    assert!(admits(&conf, "u", &long[..255]) && !admits(&conf, "u", &long));
    // 22.5.0: string fields, whole.
    let conf = load("22.5.0", &text);
    assert_eq!(conf.general.as_ref().map(|g| g.auth_realm.len()), Some(300));
    assert!(admits(&conf, "u", &long) && !admits(&conf, "u", &long[..255]));
}

#[test]
fn credentials_are_bytes() {
    let mut cats = file("[general]\n[u]\ntype=user\n");
    cats[1].vars.push((b"password".to_vec(), vec![0xff, b'a']));
    for v in ["20.6.0", "22.9.0"] {
        let conf: AriConf<Lines> = AriConf::none(ari_rules(v)).read(Some(&cats), &mut Vec::new());
        assert!(
            conf.validate(b"u", &[0xff, b'a'], |_, _| false).is_some(),
            "{v}"
        );
        assert!(
            conf.validate(b"u", "\u{fffd}a".as_bytes(), |_, _| false)
                .is_none(),
            "{v}"
        );
    }
}

#[test]
fn an_unreadable_file_keeps_the_previous_configuration() {
    // Both families: "Contents of ari.conf are invalid": nothing changes.
    for v in ["20.6.0", "22.9.0"] {
        let first = load(v, BASE);
        let mut log = Vec::new();
        let conf = first.read(None, &mut log);
        assert!(admits(&conf, "asb", "asb") && conf.enabled(), "{v}");
        assert_eq!(log.len(), 1);
        assert!(!AriConf::<Lines>::none(ari_rules(v))
            .read(None, &mut log)
            .enabled());
    }
}

#[test]
fn origins_compare_exactly() {
    let g = General {
        allowed_origins: "http://a.example, http://b.example".into(),
        ..General::default()
    };
    assert!(g.origin_allowed("http://a.example"));
    // ARI splits on commas only: the space stays part of the entry.
    assert!(!g.origin_allowed("http://b.example"));
    assert!(g.origin_allowed(" http://b.example"));
    assert!(!General::default().origin_allowed("http://a.example"));
}

#[test]
fn int32_parsing() {
    for (v, ok) in [
        ("10", true),
        ("0x10", true),
        ("010", true),
        ("  7", true),
        ("-1", true),
        ("1x", false),
        ("", false),
        ("99999999999", false),
        ("08", false),
    ] {
        assert_eq!(
            int32_in(v.as_bytes(), i64::from(i32::MIN), i64::from(i32::MAX)),
            ok,
            "{v}"
        );
    }
}
