//! Who may claim: exactly whom the same running Asterisk's ARI lets make a write request.
//!
//! Each case writes an `ari.conf` (and an `acl.conf`) into the running test bed, has
//! res_ari read it (`module reload res_ari.so`, once per step), then sends the same
//! credentials to ARI itself (`POST /ari/asterisk/variable`, a write that needs no call)
//! and to the claim route (a claim of a channel that does not exist), and asserts the
//! same admission, status class by status class: let in (ARI's 204, the route's 404),
//! 401, 403, or no ARI at all (the HTTP server's own 404). On releases without a claim
//! route of their own the route is the module's, reading ari.conf by the release's own
//! rules; there each reload is followed by the module's NOTICE saying it caught up.
//! On 22.10.1 and 23.4.1 the route is Asterisk's own, and the comparison still holds.
//!
//! The cases: duplicate users (merged on aco releases, refused on sorcery ones), the
//! same name in another case, an option with a typo, an empty password, a password over
//! 255 bytes, user ACLs allowing and denying 127.0.0.1, a named ACL from acl.conf and a
//! missing one, a reload that fails after one that worked, `[general]` spelt otherwise,
//! and `api_key` in other cases.

mod common;

use common::*;

/// The test bed's [general], and the user the harness itself needs.
const GENERAL: &str = "[general]\nenabled = yes\npretty = no\nchannelvars = ASB_TAG\n\
                       allowed_origins = http://allowed.example\n";
const HARNESS_USER: &str = "[asb]\ntype = user\nread_only = no\npassword = asb\n";

/// Credentials sent to both.
#[derive(Debug, Clone, Copy)]
enum Cred {
    Basic(&'static str, &'static str),
    /// `?NAME=VALUE`: an api_key parameter, its name in some case.
    Key(&'static str, &'static str),
}

/// The admission an answer shows.
#[derive(Debug, PartialEq, Eq)]
enum Class {
    LetIn,
    Unauthorized,
    Forbidden,
    NoAri,
    Other(u16),
}

fn class(a: &Answer, let_in: u16) -> Class {
    let json = a.header("Content-Type") == Some("application/json");
    match a.status {
        s if s == let_in && (json || s == 204) => Class::LetIn,
        401 => Class::Unauthorized,
        403 => Class::Forbidden,
        404 if !json => Class::NoAri,
        s => Class::Other(s),
    }
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// What ARI and the route make of `cred`.
fn admissions(cred: Cred) -> (Class, Class) {
    let (auth, key) = match cred {
        Cred::Basic(u, p) => (Auth::Basic(u, p), String::new()),
        Cred::Key(name, value) => (Auth::None, format!("&{name}={}", encode(value))),
    };
    let ari = http_request(
        "POST",
        &format!("/ari/asterisk/variable?variable=ASB_ADMISSION&value=1{key}"),
        auth,
        &[],
        None,
    );
    let route = http_request(
        "POST",
        &format!("/ari/events/claim?channelId=no-such-channel&application=nobody{key}"),
        auth,
        &[],
        None,
    );
    (class(&ari, 204), class(&route, 404))
}

/// Whether the route is the module's (so its readings are logged): on a release without
/// Asterisk's own, or with a build made with `ASB_CLAIM_ROUTE=module` (the test bed then
/// started with `--module` on it).
fn module_route() -> bool {
    !asterisk_has_claim_route() || std::env::var("ASB_CLAIM_ROUTE").as_deref() == Ok("module")
}

/// Writes ari.conf, has res_ari read it, and waits until the module's route has too.
fn reload_with(text: &str) {
    let path = cache_dir().join("run/etc/ari.conf");
    std::fs::write(&path, text).expect("write ari.conf");
    let log = Log::mark();
    cli("module reload res_ari.so");
    if module_route() {
        log.wait_line(&["Claim route: followed res_ari's reload"]);
    }
}

/// Writes acl.conf and has Asterisk's named ACLs read it (ARI reads them when it builds
/// its users, so this comes before the ari.conf that uses them).
fn acl_conf(text: &str) {
    let path = cache_dir().join("run/etc/acl.conf");
    std::fs::write(&path, text).expect("write acl.conf");
    cli("module reload acl");
}

/// One case: the ari.conf of each step (read in turn), then the credentials compared.
struct Case {
    name: &'static str,
    acl: &'static str,
    steps: Vec<String>,
    creds: Vec<Cred>,
}

fn file(general: &str, users: &str) -> String {
    format!("{general}\n{HARNESS_USER}\n{users}\n")
}

fn cases() -> Vec<Case> {
    let long: &'static str = Box::leak("p".repeat(300).into_boxed_str());
    let cut: &'static str = &long[..255];
    // Basic credentials that long do not survive Asterisk's HTTP server whole: api_key does.
    let key = |p: &str| -> &'static str { Box::leak(format!("long:{p}").into_boxed_str()) };
    vec![
        Case {
            name: "duplicate user",
            acl: "",
            steps: vec![file(
                GENERAL,
                "[dup]\ntype = user\npassword = one\nread_only = yes\n\
                 [dup]\ntype = user\npassword = two\n\
                 [later]\ntype = user\npassword = later\n",
            )],
            creds: vec![
                Cred::Basic("dup", "one"),
                Cred::Basic("dup", "two"),
                Cred::Basic("later", "later"),
            ],
        },
        Case {
            name: "the same name in another case",
            acl: "",
            steps: vec![file(
                GENERAL,
                "[Case]\ntype = user\npassword = c1\nread_only = yes\n\
                 [case]\ntype = user\npassword = c2\n",
            )],
            creds: vec![
                Cred::Basic("Case", "c1"),
                Cred::Basic("case", "c2"),
                Cred::Basic("CASE", "c2"),
                Cred::Basic("ASB", "asb"),
                Cred::Key("api_key", "ASB:asb"),
                Cred::Key("API_KEY", "asb:asb"),
            ],
        },
        Case {
            name: "a typo",
            acl: "",
            steps: vec![file(
                GENERAL,
                "[good]\ntype = user\npassword = g\n\
                 [typo]\ntype = user\npassword = t\npasword_format = crypt\n",
            )],
            creds: vec![Cred::Basic("good", "g"), Cred::Basic("typo", "t")],
        },
        Case {
            name: "an empty password, after one that was set",
            acl: "",
            steps: vec![
                file(GENERAL, "[empty]\ntype = user\npassword = e\n"),
                file(
                    GENERAL,
                    "[empty]\ntype = user\npassword =\n[blank]\ntype = user\npassword =\n",
                ),
            ],
            creds: vec![
                Cred::Basic("empty", "e"),
                Cred::Basic("empty", ""),
                Cred::Key("api_key", "blank:"),
            ],
        },
        Case {
            name: "a password over 255 bytes",
            acl: "",
            steps: vec![file(
                GENERAL,
                &format!("[long]\ntype = user\npassword = {long}\n"),
            )],
            creds: vec![
                Cred::Basic("long", long),
                Cred::Key("api_key", key(long)),
                Cred::Key("api_key", key(cut)),
            ],
        },
        Case {
            name: "user ACLs",
            acl: "[lan-only]\ndeny = 0.0.0.0/0.0.0.0\npermit = 127.0.0.0/255.0.0.0\n\
                  [elsewhere]\ndeny = 0.0.0.0/0.0.0.0\npermit = 10.0.0.0/255.0.0.0\n",
            steps: vec![file(
                GENERAL,
                "[acl-ok]\ntype = user\npassword = a\ndeny = 0.0.0.0/0.0.0.0\n\
                 permit = 127.0.0.1/255.255.255.255\n\
                 [acl-no]\ntype = user\npassword = a\ndeny = 127.0.0.1/255.255.255.255\n\
                 [named-ok]\ntype = user\npassword = a\nacl = lan-only\n\
                 [named-no]\ntype = user\npassword = a\nacl = elsewhere\n\
                 [named-missing]\ntype = user\npassword = a\nacl = no-such-acl\n",
            )],
            creds: vec![
                Cred::Basic("acl-ok", "a"),
                Cred::Basic("acl-no", "a"),
                Cred::Basic("named-ok", "a"),
                Cred::Basic("named-no", "a"),
                Cred::Basic("named-missing", "a"),
            ],
        },
        Case {
            name: "a reload that fails after one that worked",
            acl: "",
            steps: vec![
                file(GENERAL, "[fr]\ntype = user\npassword = old\n"),
                file(
                    GENERAL,
                    "[fr]\ntype = user\npassword = new\nbogus = 1\n\
                     [fr2]\ntype = user\npassword = x\n",
                ),
            ],
            creds: vec![
                Cred::Basic("fr", "old"),
                Cred::Basic("fr", "new"),
                Cred::Basic("fr2", "x"),
            ],
        },
        Case {
            name: "[general] spelt otherwise",
            acl: "",
            steps: vec![file("[General]\nEnabled = yes\n", "")],
            creds: vec![Cred::Basic("asb", "asb")],
        },
    ]
}

#[test]
fn the_route_admits_exactly_whom_ari_admits() {
    let _one = serial();
    asterisk();
    let ari_path = cache_dir().join("run/etc/ari.conf");
    let acl_path = cache_dir().join("run/etc/acl.conf");
    let original = std::fs::read_to_string(&ari_path).expect("read ari.conf");
    let original_acl = std::fs::read_to_string(&acl_path).expect("read acl.conf");
    let result = std::panic::catch_unwind(|| {
        let mut differences = Vec::new();
        for case in cases() {
            // Every case starts from the test bed's own file.
            reload_with(&original);
            acl_conf(&format!("{original_acl}\n{}", case.acl));
            for step in &case.steps {
                reload_with(step);
            }
            for cred in &case.creds {
                let (ari, route) = admissions(*cred);
                eprintln!("{}: {cred:?}: ARI {ari:?}, route {route:?}", case.name);
                if ari != route {
                    differences.push(format!(
                        "{}: {cred:?}: ARI {ari:?}, route {route:?}",
                        case.name
                    ));
                }
            }
        }
        assert!(
            differences.is_empty(),
            "Asterisk {}: the route admits otherwise than ARI:\n{}",
            asterisk_version(),
            differences.join("\n")
        );
    });
    acl_conf(&original_acl);
    reload_with(&original);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    // The test bed's own users are back, in both.
    assert_eq!(
        admissions(Cred::Basic("asb", "asb")),
        (Class::LetIn, Class::LetIn)
    );
}
