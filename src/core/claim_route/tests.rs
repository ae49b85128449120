//! The route's answers, request by request, as res_ari 22.10 gives them.

use std::cell::RefCell;

use super::*;
use crate::core::ari_conf::{Category, UserAcl};
use crate::core::release::ari_rules;

/// A stand-in ACL list: denies when it holds a `deny` line.
#[derive(Debug, Default)]
struct Acl(bool);

impl UserAcl for Acl {
    fn empty() -> Acl {
        Acl(false)
    }
    fn append(&mut self, sense: &[u8], _value: &[u8]) -> bool {
        self.0 |= sense == b"deny";
        true
    }
}

/// A host whose claims answer `code`, recording what was claimed.
struct FakeHost {
    code: i32,
    claimed: RefCell<Vec<(String, String)>>,
}

impl FakeHost {
    fn answering(code: i32) -> FakeHost {
        FakeHost {
            code,
            claimed: RefCell::default(),
        }
    }
}

impl Host<Acl> for FakeHost {
    fn crypt_matches(&self, password: &[u8], hash: &[u8]) -> bool {
        // Stands in for crypt(3): "hash-of-<password>".
        hash.strip_prefix(b"hash-of-") == Some(password)
    }
    fn acl_denies(&self, acl: &Acl) -> bool {
        acl.0
    }
    fn claim(&self, channel_id: &str, application: &str) -> i32 {
        self.claimed
            .borrow_mut()
            .push((channel_id.into(), application.into()));
        self.code
    }
}

fn cat(name: &str, vars: &[(&str, &str)]) -> Category {
    Category {
        name: name.into(),
        vars: vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
    }
}

fn user(name: &str, password: &str, format: &str, read_only: &str) -> Category {
    cat(
        name,
        &[
            ("type", "user"),
            ("password", password),
            ("password_format", format),
            ("read_only", read_only),
        ],
    )
}

/// 22.9.0's reading of a file with three users (and a denied one).
fn conf() -> AriConf<Acl> {
    AriConf::none(ari_rules("22.9.0")).read(
        Some(&[
            cat("general", &[("allowed_origins", "http://ok.example")]),
            user("asb", "secret", "plain", "no"),
            user("ro", "secret", "plain", "yes"),
            user("cr", "hash-of-pw", "crypt", "no"),
            cat(
                "walled",
                &[
                    ("type", "user"),
                    ("password", "secret"),
                    ("deny", "0.0.0.0/0"),
                ],
            ),
        ]),
        &mut Vec::new(),
    )
}

fn basic(user: &'static str, password: &'static str) -> Option<(&'static [u8], &'static [u8])> {
    Some((user.as_bytes(), password.as_bytes()))
}

fn post<'a>(params: &[(&'a str, &'a str)]) -> Request<'a> {
    Request {
        method: Some(Method::Post),
        params: params
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect(),
        basic: basic("asb", "secret"),
        fully_booted: true,
        ..Request::default()
    }
}

#[test]
fn a_claim_maps_the_three_answers() {
    for (code, status, msg) in [
        (0, 204, None),
        (-1, 404, Some("Channel not found or not in broadcast state")),
        (
            -2,
            409,
            Some("Channel has already been claimed by another application"),
        ),
        (7, 500, Some("Failed to claim channel")),
    ] {
        let host = FakeHost::answering(code);
        let r = handle(
            &conf(),
            &post(&[("channelId", "c1"), ("application", "a")]),
            &host,
        );
        assert_eq!((r.status, r.message), (status, msg));
        assert_eq!(host.claimed.borrow()[0], ("c1".into(), "a".into()));
    }
}

#[test]
fn missing_parameters_are_400_in_res_ari_order() {
    let host = FakeHost::answering(0);
    let r = handle(&conf(), &post(&[("application", "a")]), &host);
    assert_eq!(r.status, 400);
    assert_eq!(r.message, Some("channelId parameter is required"));
    let r = handle(&conf(), &post(&[("channelId", ""), ("x", "y")]), &host);
    assert_eq!(r.message, Some("channelId parameter is required"));
    let r = handle(&conf(), &post(&[("channelId", "c")]), &host);
    assert_eq!(r.message, Some("application parameter is required"));
    assert!(host.claimed.borrow().is_empty());
}

#[test]
fn the_last_parameter_wins_and_the_json_body_overrides() {
    let host = FakeHost::answering(0);
    let mut req = post(&[
        ("channelId", "form"),
        ("application", "a"),
        ("channelId", "query"),
    ]);
    handle(&conf(), &req, &host);
    assert_eq!(host.claimed.borrow()[0].0, "query");
    req.body_channel_id = Some(Some("body"));
    handle(&conf(), &req, &host);
    assert_eq!(host.claimed.borrow()[1].0, "body");
    // A field that is not a string overrides with nothing.
    req.body_channel_id = Some(None);
    assert_eq!(handle(&conf(), &req, &host).status, 400);
}

#[test]
fn authentication_basic_then_api_key() {
    let host = FakeHost::answering(0);
    let mut req = post(&[("channelId", "c"), ("application", "a")]);
    req.basic = None;
    let r = handle(&conf(), &req, &host);
    assert_eq!(
        (r.status, r.message),
        (401, Some("Authentication required"))
    );
    assert_eq!(
        r.headers,
        "WWW-Authenticate: Basic realm=\"Asterisk REST Interface\"\r\n"
    );
    req.params.push((b"api_key", b"asb:secret"));
    assert_eq!(handle(&conf(), &req, &host).status, 204);
    // Only the first api_key counts.
    req.params.insert(0, (b"api_key", b"asb:wrong"));
    assert_eq!(handle(&conf(), &req, &host).status, 401);
    // Wrong Basic credentials do not fall back to a good api_key.
    req.params.remove(0);
    req.basic = basic("asb", "wrong");
    assert_eq!(handle(&conf(), &req, &host).status, 401);
    for bad in [("nobody", "secret"), ("asb", ""), ("", "secret")] {
        req.basic = basic(bad.0, bad.1);
        assert_eq!(handle(&conf(), &req, &host).status, 401, "{bad:?}");
    }
}

#[test]
fn crypt_passwords_go_to_the_host() {
    let host = FakeHost::answering(0);
    let mut req = post(&[("channelId", "c"), ("application", "a")]);
    req.basic = basic("cr", "pw");
    assert_eq!(handle(&conf(), &req, &host).status, 204);
    req.basic = basic("cr", "hash-of-pw");
    assert_eq!(handle(&conf(), &req, &host).status, 401);
}

#[test]
fn read_only_acl_and_boot() {
    let host = FakeHost::answering(0);
    let mut req = post(&[("channelId", "c"), ("application", "a")]);
    req.basic = basic("ro", "secret");
    let r = handle(&conf(), &req, &host);
    assert_eq!((r.status, r.message), (403, Some("Write access denied")));
    req.basic = basic("asb", "secret");
    req.fully_booted = false;
    let r = handle(&conf(), &req, &host);
    // res_ari closes the connection after a 503.
    assert_eq!((r.status, r.close), (503, true));
    // 22.9.0: the ACL comes before the boot check.
    req.basic = basic("walled", "secret");
    let r = handle(&conf(), &req, &host);
    assert_eq!((r.status, r.message), (403, Some("Access denied by ACL")));
    assert!(!r.close);
}

#[test]
fn other_methods_are_405_with_allow() {
    let host = FakeHost::answering(0);
    for m in [Method::Get, Method::Put, Method::Delete, Method::Head] {
        let mut req = post(&[]);
        req.method = Some(m);
        let r = handle(&conf(), &req, &host);
        assert_eq!((r.status, r.message), (405, Some("Invalid method")));
        assert_eq!(r.headers, "Allow: OPTIONS,POST\r\n");
    }
}

#[test]
fn options_and_cors() {
    let host = FakeHost::answering(0);
    let mut req = post(&[]);
    req.method = Some(Method::Options);
    let r = handle(&conf(), &req, &host);
    assert_eq!((r.status, r.message), (204, None));
    assert_eq!(r.headers, "Allow: OPTIONS,POST\r\n");
    req.origin = Some("http://ok.example");
    req.request_method = Some("POST");
    req.request_headers = Some("content-type");
    let r = handle(&conf(), &req, &host);
    assert_eq!(
        r.headers,
        "Access-Control-Allow-Origin: http://ok.example\r\n\
         Access-Control-Allow-Credentials: true\r\n\
         Allow: OPTIONS,POST\r\n\
         Access-Control-Allow-Methods: OPTIONS,POST\r\n\
         Access-Control-Allow-Headers: content-type\r\n"
    );
    req.origin = Some("http://evil.example");
    assert_eq!(
        handle(&conf(), &req, &host).headers,
        "Allow: OPTIONS,POST\r\n"
    );
}

#[test]
fn body_errors_come_before_authentication() {
    let host = FakeHost::answering(0);
    let mut req = post(&[]);
    req.basic = None;
    req.body_error = Some(BodyError::Unparsable);
    let r = handle(&conf(), &req, &host);
    assert_eq!(
        (r.status, r.message),
        (400, Some("Error parsing request body"))
    );
    req.body_error = Some(BodyError::TooLarge);
    assert_eq!(handle(&conf(), &req, &host).status, 413);
    // res_ari closes the connection when it runs out of memory.
    req.body_error = Some(BodyError::OutOfMemory);
    let r = handle(&conf(), &req, &host);
    assert_eq!(
        (r.status, r.message, r.close),
        (500, Some("Out of memory"), true)
    );
}

#[test]
fn the_api_key_parameter_name_has_any_case() {
    // res_ari (18.26.4 to 22.9.0) finds the first api_key with strcasecmp.
    let host = FakeHost::answering(0);
    let mut req = post(&[("channelId", "c"), ("application", "a")]);
    req.basic = None;
    req.params.push((b"API_Key", b"asb:secret"));
    assert_eq!(handle(&conf(), &req, &host).status, 204);
    // No colon: "Invalid api_key".
    req.params[2] = (b"api_key", b"asb");
    assert_eq!(handle(&conf(), &req, &host).status, 401);
    // 22.10.1 and 23.4.1 (parse_api_keys) match the name exactly.
    req.params[2] = (b"API_Key", b"asb:secret");
    let file = [cat("general", &[]), user("asb", "secret", "plain", "no")];
    for (release, status) in [("22.10.1", 401), ("23.4.1", 401), ("22.9.0", 204)] {
        let c: AriConf<Acl> = AriConf::none(ari_rules(release)).read(Some(&file), &mut Vec::new());
        assert_eq!(handle(&c, &req, &host).status, status, "{release}");
    }
}

#[test]
fn the_release_decides_how_names_compare() {
    let host = FakeHost::answering(0);
    let mut req = post(&[("channelId", "c"), ("application", "a")]);
    req.basic = basic("ASB", "secret");
    let file = [cat("general", &[]), user("asb", "secret", "plain", "no")];
    let aco: AriConf<Acl> = AriConf::none(ari_rules("20.6.0")).read(Some(&file), &mut Vec::new());
    assert_eq!(handle(&aco, &req, &host).status, 204);
    assert_eq!(handle(&conf(), &req, &host).status, 401);
}

#[test]
fn no_general_configuration_is_a_500_that_closes() {
    let host = FakeHost::answering(0);
    let r = handle(
        &AriConf::<Acl>::none(ari_rules("22.9.0")),
        &post(&[]),
        &host,
    );
    assert_eq!(
        (r.status, r.message, r.close),
        (500, Some("URI handler config missing"), true)
    );
}

// Which releases have a claim route of their own (core::release): a module built for the
// module's route refuses to run on those.
#[test]
fn releases_with_and_without_their_own_claim_route() {
    use crate::core::release::{has_own_claim_route, major_minor};
    for v in [
        "20.20.0",
        "22.10.1",
        "22.10.1+dfsg+~cs6.17.60671434-1",
        "23.4.1",
        "24.0.0",
    ] {
        assert_eq!(has_own_claim_route(v), Some(true), "{v}");
    }
    for v in [
        "18.26.4", "20.6.0", "20.19.2", "21.12.3", "22.5.0", "22.9.0", "23.3.0",
    ] {
        assert_eq!(has_own_claim_route(v), Some(false), "{v}");
    }
    assert_eq!(has_own_claim_route("certified-22.8-cert3"), Some(false));
    assert_eq!(has_own_claim_route("GIT-master-1a2b3c"), None);
    assert_eq!(major_minor("22.10.1"), Some((22, 10)));
}
