//! The module's own `POST /ari/events/claim`, on Asterisk releases whose
//! res_ari has none (decided at build time: see build.rs).
//!
//! It lives and dies with ARI: linked on Asterisk's HTTP server while res_ari
//! is loaded and `ari.conf` says `enabled = yes`, answering as ARI would
//! (src/core/claim_route.rs) with the users of `ari.conf`, read again whenever
//! res_ari is reloaded (or this module is), so that a change to `ari.conf`
//! reaches both at the same moment. The loader's Load, Unload and Reload
//! events say when; they are followed without taking the loader's lock, which
//! a module unloading at the same time may hold.
//!
//! # Invariants
//! - `ROUTE.linked` is true exactly while the URI handler is linked, and only
//!   while `ROUTE.running` (between `start` and `stop`).
//! - `ROUTE.conf` is the `ari.conf` of the last (re)load, shared with the
//!   requests in progress (each holds its own `Arc`). `stop` leaves it: a
//!   request that Asterisk's HTTP server handed over just before the unlink is
//!   still answered with ARI's users, not refused as if none existed.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::api;
use crate::asterisk::http::{self, HttpRequest};
use crate::asterisk::{config, host};
use crate::core::ari_conf::AriConf;
use crate::core::claim_route::{self, Host};
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

struct Route {
    conf: Option<Arc<AriConf>>,
    running: bool,
    ari_loaded: bool,
    linked: bool,
}

static ROUTE: Mutex<Route> = Mutex::new(Route {
    conf: None,
    running: false,
    ari_loaded: false,
    linked: false,
});

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

/// Starts serving (load, or a refused unload's restart).
pub fn start() {
    if !SERVED {
        return;
    }
    {
        let mut route = ROUTE.lock();
        route.running = true;
        route.ari_loaded = host::module_loaded("res_ari.so");
    }
    if !host::watch_module_events() {
        warning!(
            "Cannot follow module reloads: a change to ari.conf reaches the claim route only on \
             'module reload app_stasis_broadcast.so'"
        );
    }
    refresh(None);
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

/// The module's own reload: reads `ari.conf` again.
pub fn reload() {
    if SERVED {
        refresh(None);
    }
}

/// The loader loaded, unloaded or reloaded `module`, with the event's
/// `status`. A load that failed or was declined leaves res_ari as it was.
/// (The loader is not asked: its lock may be held by an unload of this
/// module, which waits for this callback.) A reload of every module ("All")
/// has already reached this module's own reload, which read ari.conf.
pub fn on_module_event(kind: &str, module: &str, status: &str) {
    let name = module.strip_suffix(".so").unwrap_or(module);
    match (kind, name, status) {
        ("Load", "res_ari", "Success") => refresh(Some(true)),
        ("Unload", "res_ari", "Success") => refresh(Some(false)),
        ("Reload", "res_ari", _) => refresh(None),
        _ => {}
    }
}

/// Reads `ari.conf` and links or unlinks the route to match; `ari_loaded`
/// is news of res_ari from the loader.
fn refresh(ari_loaded: Option<bool>) {
    // Read before taking the lock: claims in progress need it only briefly.
    let conf = match config::load("ari.conf") {
        Some(cats) => {
            let (conf, warnings) = AriConf::from_categories(&cats);
            for w in warnings {
                warning!("{w}");
            }
            conf
        }
        None => {
            warning!("ari.conf cannot be read: the claim route accepts no user until it can");
            AriConf::default()
        }
    };
    let mut route = ROUTE.lock();
    if !route.running {
        return;
    }
    if let Some(loaded) = ari_loaded {
        route.ari_loaded = loaded;
    }
    let want = route.ari_loaded && conf.enabled;
    route.conf = Some(Arc::new(conf));
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
    let conf = ROUTE.lock().conf.clone().unwrap_or_default();
    let reply = claim_route::handle(&conf, &req.view(), &Peer { st, req });
    req.reply(&reply, conf.pretty);
}

/// The host side of one request.
struct Peer<'a> {
    st: Option<&'a ModuleState>,
    req: &'a HttpRequest<'a>,
}

impl Host for Peer<'_> {
    fn crypt_matches(&self, password: &str, hash: &str) -> bool {
        http::crypt_matches(password, hash)
    }
    fn acl_denies(&self, acl: &[(String, String)]) -> bool {
        self.req.acl_denies(acl)
    }
    fn claim(&self, channel_id: &str, application: &str) -> i32 {
        self.st
            .map_or(-1, |st| api::claim(st, channel_id, application))
    }
}
