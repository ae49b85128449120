//! The module's own `POST /ari/events/claim`, on Asterisk releases whose
//! res_ari has none (decided at build time: see build.rs).
//!
//! It lives and dies with ARI: linked on Asterisk's HTTP server while res_ari
//! is running and its configuration says `enabled = yes`, answering as ARI would
//! (src/core/claim_route.rs) with the users ARI has at that moment: the module
//! reads `ari.conf` by the running release's own rules (src/core/ari_conf.rs)
//! whenever res_ari reads it — when res_ari loads, and when it is reloaded
//! (alone, or with every module) — starting from what the previous reading left,
//! as ARI does. The loader's Load, Unload and Reload events say when; they are
//! followed without taking the loader's lock, which a module unloading at the
//! same time may hold. The module's own reload does not read `ari.conf`: ARI
//! does not either.
//!
//! # Invariants
//! - `ROUTE.linked` is true exactly while the URI handler is linked, and only
//!   while `ROUTE.running` (between `start` and `stop`).
//! - `ROUTE.conf` is ARI's configuration as of the last reading, shared with
//!   the requests in progress (each holds its own `Arc`). `stop` leaves it: a
//!   request that Asterisk's HTTP server handed over just before the unlink is
//!   still answered with ARI's users, not refused as if none existed.
//! - Readings happen one at a time (`READING`), each from the configuration the
//!   previous one installed: two overlapping events cannot install an older file.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::api;
use crate::asterisk::acl::AclList;
use crate::asterisk::http::{self, HttpRequest};
use crate::asterisk::{config, host};
use crate::core::ari_conf::AriConf;
use crate::core::claim_route::{self, Host};
use crate::core::release::ari_rules;
use crate::module::ModuleState;

/// Whether this build serves the route (the target Asterisk has none).
pub const SERVED: bool = cfg!(asb_own_claim_route);

/// Why this build must not run in the running Asterisk, if it must not: a build that serves
/// the route because its headers had no `asterisk/stasis_app_broadcast.h` (Asterisk before
/// 20.20 / 22.10 / 23.4), loaded into an Asterisk that has its own route (with the same build
/// options sum, the loader lets it in), would link its route over res_ari's, authentication
/// included. A build made with `ASB_CLAIM_ROUTE=module` chose that on purpose.
pub fn wrong_release() -> Option<String> {
    if !SERVED || cfg!(asb_claim_route_forced) {
        return None;
    }
    let running = host::asterisk_version();
    crate::core::release::has_own_claim_route(&running)
        .filter(|&own| own)
        .map(|_| {
            format!(
                "this app_stasis_broadcast was built against the headers of an Asterisk without a claim route of \
                 its own (no asterisk/stasis_app_broadcast.h: before 20.20, 22.10 and 23.4), but this Asterisk \
                 {running} has one (res_ari_events); its route would shadow res_ari's. Rebuild it against this \
                 Asterisk's own headers (scripts/install --headers DIR). Declining to load."
            )
        })
}

/// ARI's configuration as the route knows it, with Asterisk's ACL lists.
type Conf = AriConf<AclList>;

struct Route {
    conf: Option<Arc<Conf>>,
    running: bool,
    ari_running: bool,
    linked: bool,
}

static ROUTE: Mutex<Route> = Mutex::new(Route {
    conf: None,
    running: false,
    ari_running: false,
    linked: false,
});

/// Held across one reading of `ari.conf` and its installation.
static READING: Mutex<()> = Mutex::new(());

/// How claims reach the module, for the load notice.
pub fn describe() -> &'static str {
    if SERVED {
        "this Asterisk has no claim route of its own, so the module serves POST /ari/events/claim \
         (ARI's users and authentication, from ari.conf); claims sent as REST requests over the \
         events WebSocket are not served"
    } else {
        "claims through Asterisk's own POST /ari/events/claim"
    }
}

/// Starts serving (load, or a refused unload's restart). A res_ari already running read
/// `ari.conf` when it loaded; the module reads it now as res_ari did then (a file changed
/// since without a reload cannot be told apart).
pub fn start() {
    if !SERVED {
        return;
    }
    {
        let mut route = ROUTE.lock();
        route.running = true;
    }
    if !host::watch_module_events() {
        warning!(
            "Cannot follow res_ari's loads and reloads: the claim route keeps the users of \
             ari.conf as read now"
        );
    }
    // Asked here, in the loader's own thread (its lock is recursive); never from an event.
    let running = host::module_running("res_ari.so");
    read(Reading::Load(running));
}

/// Stops serving (unload): no request reaches the module once this returns,
/// but requests already inside may still finish.
pub fn stop() {
    if !SERVED {
        return;
    }
    host::unwatch_module_events();
    let mut route = ROUTE.lock();
    route.running = false;
    if route.linked {
        http::unlink();
        route.linked = false;
    }
}

/// When ARI reads `ari.conf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// res_ari (re)started from nothing: running, or declined / failed.
    Load(bool),
    /// res_ari was unloaded.
    Unload,
    /// res_ari reloaded, on top of its configuration.
    Reload,
}

/// The loader loaded, unloaded or reloaded `module` (named as the operator typed it:
/// any case, with or without `.so`; "All" for every module), with the event's `status`
/// ("Success" for loads and unloads; a number for reloads, which ARI's own reading then
/// judges). (The loader is not asked: its lock may be held by an unload of this module,
/// which waits for this callback.)
pub fn on_module_event(kind: &str, module: &str, status: &str) {
    let lower = module.to_ascii_lowercase();
    let name = lower.strip_suffix(".so").unwrap_or(&lower);
    match (kind, name) {
        ("Load", "res_ari") => read(Reading::Load(status == "Success")),
        ("Unload", "res_ari") if status == "Success" => read(Reading::Unload),
        ("Reload", "res_ari" | "all") => read(Reading::Reload),
        _ => {}
    }
}

/// Follows one of ARI's readings, and links or unlinks the route to match.
fn read(how: Reading) {
    let _one_at_a_time = READING.lock();
    let (prev, ari_running) = {
        let route = ROUTE.lock();
        if !route.running {
            return;
        }
        (route.conf.clone(), route.ari_running)
    };
    let rules = ari_rules(&host::asterisk_version());
    let (conf, ari_running) = match how {
        // A reload of a res_ari that is not running reads nothing.
        Reading::Reload if !ari_running => (prev, false),
        Reading::Unload => (prev, false),
        Reading::Load(false) => (None, false),
        Reading::Load(true) | Reading::Reload => {
            let base = match (how, prev) {
                (Reading::Reload, Some(prev)) => prev,
                _ => Arc::new(Conf::none(rules)),
            };
            let mut log = Vec::new();
            let file = config::load("ari.conf");
            let conf = base.read(file.as_deref(), &mut log);
            for line in log {
                warning!("{line}");
            }
            (Some(Arc::new(conf)), true)
        }
    };
    let mut route = ROUTE.lock();
    if !route.running {
        return;
    }
    let want = ari_running && conf.as_ref().is_some_and(|c| c.enabled());
    // One line per reading followed: the operator (and the tests) can tell when the
    // route has caught up with ARI.
    notice!(
        "Claim route: followed res_ari's {}: ARI {}, {} user(s)",
        match how {
            Reading::Load(true) => "load",
            Reading::Load(false) => "failed load",
            Reading::Unload => "unload",
            Reading::Reload => "reload",
        },
        if want { "enabled" } else { "not serving" },
        conf.as_ref().map_or(0, |c| c.users.len())
    );
    route.conf = conf;
    route.ari_running = ari_running;
    if want && !route.linked {
        route.linked = http::link();
        if !route.linked {
            error!("Cannot link POST /ari/events/claim on Asterisk's HTTP server: no claim can be made");
        }
    } else if !want && route.linked {
        http::unlink();
        route.linked = false;
    }
}

/// Answers one request to the route; `st` is `None` once the module is
/// unloaded (a claim then finds no broadcast).
pub fn serve(st: Option<&ModuleState>, req: &HttpRequest<'_>) {
    let conf = ROUTE.lock().conf.clone();
    let none;
    let conf = match &conf {
        Some(c) => &**c,
        None => {
            none = Conf::none(ari_rules(&host::asterisk_version()));
            &none
        }
    };
    let reply = claim_route::handle(conf, &req.view(), &Peer { st, req });
    let pretty = conf.general.as_ref().is_some_and(|g| g.pretty);
    req.reply(&reply, pretty);
}

/// The host side of one request.
struct Peer<'a> {
    st: Option<&'a ModuleState>,
    req: &'a HttpRequest<'a>,
}

impl Host<AclList> for Peer<'_> {
    fn crypt_matches(&self, password: &[u8], hash: &[u8]) -> bool {
        http::crypt_matches(password, hash)
    }
    fn acl_denies(&self, acl: &AclList) -> bool {
        acl.denies(self.req)
    }
    fn claim(&self, channel_id: &str, application: &str) -> i32 {
        self.st
            .map_or(-1, |st| api::claim(st, channel_id, application))
    }
}
