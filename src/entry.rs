//! The extern "C" entry points the shim calls. They only glue: convert the
//! arguments, enter the module, and catch any panic so that none crosses
//! into Asterisk (it is logged, and an error is returned instead).

use std::os::raw::{c_char, c_int, c_uint};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::time::{Duration, Instant};

use crate::asterisk::channel::lossy_opt;
use crate::asterisk::http::HttpRequest;
use crate::asterisk::{host, sys, Channel};
use crate::module::{self, Entry, InFlight, ModuleState};
use crate::{api, app, cli, installed, route};

/// Asterisk's module-load results.
const LOAD_SUCCESS: c_int = 0;
const LOAD_DECLINE: c_int = 1;
/// How long unload waits for woken PBX threads to leave the module.
const UNLOAD_GRACE: Duration = Duration::from_secs(2);

/// Runs `f`, turning a panic into an ERROR line and `on_panic`.
fn guard<T>(what: &str, on_panic: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            error!("internal error in {what}: {msg} (please report this)");
            on_panic
        }
    }
}

/// Runs `f` with the module state, counted as in flight; `unloaded` when the
/// module is not (or no longer) loaded.
fn with_state<T>(
    what: &str,
    kind: Entry,
    unloaded: T,
    on_panic: T,
    f: impl FnOnce(&ModuleState) -> T,
) -> T {
    let _in = InFlight::enter(kind);
    guard(what, on_panic, || match module::state() {
        Some(st) => f(&st),
        None => unloaded,
    })
}

/// Every way into the module, open: at load, and again when an unload is
/// refused after `stop_entries`. Returns whether metrics are exported
/// (res_prometheus is optional).
fn start_entries() -> Result<bool, crate::core::Error> {
    host::register_app()?;
    host::provide_api();
    route::start();
    host::register_cli()?;
    let metrics = host::register_metrics();
    module::set_accepting(true);
    Ok(metrics)
}

/// Stops every new entry into the module: the application first (a call that
/// starts it from now on is offered to nobody), then the optional API, the
/// claim route (where the module serves it), the CLI and the metrics (each
/// unregistration waits for a request, command or scrape in progress). A new kind of entry is withdrawn here too.
///
/// The application itself stays registered: Asterisk's PBX uses an
/// application's record after releasing the lock that `ast_unregister_application`
/// takes before freeing it, so unregistering it while calls start it can make
/// a PBX thread jump through freed memory. The module's code stays mapped
/// (`host::pin_module`), so the registration stays valid; while the module is
/// not running it answers `STASISSTATUS=FAILED`, as upstream's application
/// does without its resource module. A thread that read one of the other
/// entries' function pointers just before its withdrawal is counted by the
/// drains once it is in, and finds the module unloaded if it comes later.
fn stop_entries() {
    module::set_accepting(false);
    host::unprovide_api();
    route::stop();
    host::unregister_cli();
    host::unregister_metrics();
}

#[no_mangle]
pub extern "C" fn asb_load() -> c_int {
    guard("load", LOAD_DECLINE, || {
        if module::state().is_some() {
            // A forced unload was refused but Asterisk unloaded anyway (`-h`):
            // the code stayed mapped and its entries registered; carry on.
            notice!(
                "app_stasis_broadcast {} loaded again: its broadcasts and counters go on",
                installed::running()
            );
            installed::warn_if_replaced();
            return LOAD_SUCCESS;
        }
        if host::module_loaded("res_stasis_broadcast.so")
            || (host::app_registered("StasisBroadcast") && !host::app_is_ours())
        {
            error!(
                "res_stasis_broadcast.so (Asterisk's own StasisBroadcast) is loaded or StasisBroadcast is already \
                 registered; app_stasis_broadcast replaces it: add 'noload => res_stasis_broadcast.so' to \
                 modules.conf and restart Asterisk. Declining to load."
            );
            return LOAD_DECLINE;
        }
        if let Some(why) = route::wrong_release() {
            error!("{why}");
            return LOAD_DECLINE;
        }
        // From the first load on, the code stays mapped whatever a forced
        // unload does; without that no entry may open.
        if let Err(e) = host::pin_module() {
            error!("{e}; declining to load");
            return LOAD_DECLINE;
        }
        installed::record();
        // A load after a forced unload finds the application still
        // registered (it stays so): calls may be starting it.
        let first = !host::app_is_ours();
        module::install();
        let metrics = match start_entries() {
            Ok(m) => m,
            Err(e) => {
                error!("{e}; declining to load");
                stop_entries();
                if first {
                    // Nothing can have started it yet: the only safe moment to unregister it.
                    host::unregister_app();
                }
                module::uninstall();
                return LOAD_DECLINE;
            }
        };
        // Only Asterisk's shutdown (or a forced unload) unloads it from now on.
        host::hold_until_shutdown();
        let metrics = if metrics {
            "; metrics at res_prometheus' endpoint"
        } else {
            ""
        };
        notice!(
            "app_stasis_broadcast {} loaded: StasisBroadcast() ready, {}{metrics}; it stays loaded until \
             Asterisk stops (a new build takes a restart)",
            installed::running(),
            route::describe()
        );
        if !first {
            installed::warn_if_replaced();
        }
        LOAD_SUCCESS
    })
}

/// Unload, in the only safe order: stop new entries, end what is waiting,
/// then drain every kind of entry. A plain `module unload` never gets here
/// (the loader refuses it: the shutdown reference); this runs at Asterisk's
/// shutdown, and for a forced unload (`-f`, `-h`). A forced unload is refused
/// (non-zero, entries back in place) when a drain does not finish; at
/// shutdown nothing is put back (the process is exiting).
#[no_mangle]
pub extern "C" fn asb_unload() -> c_int {
    guard("unload", -1, || {
        let Some(st) = module::state() else {
            return 0;
        };
        let shutdown = host::shutting_down();
        stop_entries();
        #[cfg(feature = "fault-injection")]
        crate::fault::unload_pause();
        // Give every waiting call back to its dialplan; none opens after this.
        let n = st.registry.close_waiting(Instant::now());
        if n > 0 {
            notice!("Unloading: {n} broadcast(s) still waiting were ended (STASISSTATUS=TIMEOUT)");
        }
        if let Err(busy) = module::drain_all(UNLOAD_GRACE) {
            #[cfg(feature = "fault-injection")]
            crate::fault::unload_refused();
            let busy: Vec<_> = busy
                .iter()
                .map(|(e, n)| format!("{n} thread(s) {}", e.what()))
                .collect();
            if shutdown {
                warning!(
                    "Asterisk is shutting down while {} are still inside app_stasis_broadcast; its code \
                     stays mapped until the process exits",
                    busy.join(", ")
                );
                module::uninstall();
                return 0;
            }
            error!(
                "Cannot unload: {} did not leave the module; it stays loaded, try again once they have left",
                busy.join(", ")
            );
            st.registry.reopen();
            if let Err(e) = start_entries() {
                error!("{e} again after a refused unload");
            }
            return -1;
        }
        module::uninstall();
        if !shutdown {
            notice!(
                "app_stasis_broadcast stopped by a forced unload: StasisBroadcast() stays registered and answers \
                 FAILED, its code stays mapped until Asterisk exits; 'module load app_stasis_broadcast.so' starts \
                 this build again (a new build takes a restart)"
            );
        }
        0
    })
}

#[no_mangle]
pub extern "C" fn asb_reload() -> c_int {
    // The application has no configuration, and the claim route follows res_ari's own
    // reloads (route.rs); an operator who installed a new build hears that it does not run.
    guard("reload", 0, || {
        installed::warn_if_replaced();
        0
    })
}

/// # Safety
/// Called by Asterisk's PBX with a valid channel (owned by the calling
/// thread for the duration) and a NUL-terminated argument string or null.
#[no_mangle]
pub unsafe extern "C" fn asb_exec(chan: *mut sys::ast_channel, data: *const c_char) -> c_int {
    // Counted before the gate is read, so that unload either sees this thread
    // in its drain or this thread sees the gate closed.
    let _in = InFlight::enter(Entry::Exec);
    #[cfg(feature = "fault-injection")]
    crate::fault::call_came_in();
    guard("StasisBroadcast", 0, || {
        // SAFETY: the PBX hands us a valid channel for the call's duration.
        let Some(chan) = (unsafe { Channel::from_raw(chan) }) else {
            return -1;
        };
        match module::state().filter(|_| module::accepting()) {
            Some(st) => {
                // SAFETY: null or a valid C string (Asterisk's promise).
                let data = unsafe { lossy_opt(data) }.unwrap_or_default();
                app::exec(&st, &chan, &data)
            }
            None => app::exec_unloaded(&chan),
        }
    })
}

/// # Safety
/// As the header's `stasis_app_broadcast_channel`: a valid channel, and a
/// filter that is null or a valid C string.
#[no_mangle]
pub unsafe extern "C" fn asb_api_broadcast_channel(
    chan: *mut sys::ast_channel,
    timeout_ms: c_int,
    app_filter: *const c_char,
    flags: c_uint,
) -> c_int {
    with_state("stasis_app_broadcast_channel", Entry::Api, -1, -1, |st| {
        // SAFETY: the caller's promise.
        let Some(chan) = (unsafe { Channel::from_raw(chan) }) else {
            return -1;
        };
        // SAFETY: the caller's promise.
        let filter = unsafe { lossy_opt(app_filter) };
        api::broadcast_channel(st, &chan, timeout_ms, filter, flags)
    })
}

/// # Safety
/// Both arguments null or valid C strings.
#[no_mangle]
pub unsafe extern "C" fn asb_api_claim_channel(
    channel_id: *const c_char,
    app_name: *const c_char,
) -> c_int {
    with_state("stasis_app_claim_channel", Entry::Api, -1, -1, |st| {
        // SAFETY: the caller's promise.
        let (id, app) = unsafe { (lossy_opt(channel_id), lossy_opt(app_name)) };
        api::claim(st, &id.unwrap_or_default(), &app.unwrap_or_default())
    })
}

/// # Safety
/// `channel_id` null or a valid C string. The result is the caller's to `ast_free()`.
#[no_mangle]
pub unsafe extern "C" fn asb_api_broadcast_winner(channel_id: *const c_char) -> *mut c_char {
    with_state(
        "stasis_app_broadcast_winner",
        Entry::Api,
        ptr::null_mut(),
        ptr::null_mut(),
        |st| {
            // SAFETY: the caller's promise.
            let id = unsafe { lossy_opt(channel_id) }.unwrap_or_default();
            match api::winner(st, &id) {
                Some(w) => host::host_strdup(&w),
                None => ptr::null_mut(),
            }
        },
    )
}

/// # Safety
/// A valid channel, owned by the calling thread for the duration.
#[no_mangle]
pub unsafe extern "C" fn asb_api_broadcast_wait(
    chan: *mut sys::ast_channel,
    timeout_ms: c_int,
) -> c_int {
    with_state("stasis_app_broadcast_wait", Entry::Api, -1, -1, |st| {
        // SAFETY: the caller's promise.
        let Some(chan) = (unsafe { Channel::from_raw(chan) }) else {
            return -1;
        };
        api::wait(st, &chan, timeout_ms)
    })
}

/// # Safety
/// `channel_id` null or a valid C string.
#[no_mangle]
pub unsafe extern "C" fn asb_api_broadcast_cleanup(channel_id: *const c_char) {
    with_state("stasis_app_broadcast_cleanup", Entry::Api, (), (), |st| {
        // SAFETY: the caller's promise.
        let id = unsafe { lossy_opt(channel_id) }.unwrap_or_default();
        api::cleanup(st, &id);
    })
}

#[no_mangle]
pub extern "C" fn asb_cli(fd: c_int, what: c_int) {
    with_state("CLI", Entry::Callback, (), (), |st| {
        let text = match u32::try_from(what).unwrap_or(u32::MAX) {
            sys::sb_cli_command_SB_CLI_SHOW => cli::show(st, Instant::now()),
            sys::sb_cli_command_SB_CLI_STATS => cli::stats(st, Instant::now()),
            sys::sb_cli_command_SB_CLI_ENABLE => cli::set_enabled(st, true),
            sys::sb_cli_command_SB_CLI_DISABLE => cli::set_enabled(st, false),
            _ => return,
        };
        host::cli_write(fd, &text);
    })
}

/// # Safety
/// `output` is the `struct ast_str **` res_prometheus passes its callback.
#[no_mangle]
pub unsafe extern "C" fn asb_metrics(output: *mut std::os::raw::c_void) {
    with_state("metrics", Entry::Callback, (), (), |st| {
        let text = crate::core::stats::prometheus_text(
            &st.stats.snapshot(),
            st.registry.live_count(),
            st.enabled.load(std::sync::atomic::Ordering::SeqCst),
        );
        // SAFETY: res_prometheus' own output pointer, valid during its callback.
        unsafe { host::metrics_append(output, &text) };
    })
}

/// # Safety
/// `channel_id` null or a valid C string.
#[no_mangle]
pub unsafe extern "C" fn asb_channel_gone(channel_id: *const c_char) {
    with_state("channel destruction", Entry::Callback, (), (), |st| {
        // SAFETY: the caller's promise.
        let id = unsafe { lossy_opt(channel_id) }.unwrap_or_default();
        api::cleanup(st, &id);
    })
}

/// # Safety
/// `req` is the shim's request, valid for the call.
#[no_mangle]
pub unsafe extern "C" fn asb_http_claim(req: *const sys::sb_http_request) {
    // Counted like every entry, but answered even once the module is unloaded:
    // Asterisk's HTTP server may hand over a request it found just before the
    // route was unlinked.
    let _in = InFlight::enter(Entry::Api);
    guard("claim route", (), || {
        // SAFETY: the shim passes a valid request (or null, refused here).
        let Some(raw) = (unsafe { req.as_ref() }) else {
            return;
        };
        // SAFETY: every pointer in it is null or valid for this call.
        let req = unsafe { HttpRequest::from_raw(raw) };
        route::serve(module::state().as_deref(), &req);
    })
}

/// # Safety
/// Every argument null or a valid C string.
#[no_mangle]
pub unsafe extern "C" fn asb_module_event(
    kind: *const c_char,
    module: *const c_char,
    status: *const c_char,
) {
    with_state("module event", Entry::Api, (), (), |_| {
        // SAFETY: the caller's promise.
        let (kind, module, status) =
            unsafe { (lossy_opt(kind), lossy_opt(module), lossy_opt(status)) };
        route::on_module_event(
            &kind.unwrap_or_default(),
            &module.unwrap_or_default(),
            &status.unwrap_or_default(),
        );
    })
}
