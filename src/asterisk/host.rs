//! The module's registrations with Asterisk: the application, the optional
//! API, the CLI, the metrics, the loader's module events, pinning the module
//! in memory, and the questions asked before loading.

use std::sync::atomic::{AtomicBool, Ordering};

use super::log::c_string;
use super::sys;
use crate::core::Error;

/// Whether a module of this file name is loaded.
pub fn module_loaded(name: &str) -> bool {
    let name = c_string(name);
    // SAFETY: valid C string.
    unsafe { sys::sb_module_loaded(name.as_ptr()) != 0 }
}

/// Whether the loader has a module of this file name running: loaded and not declined
/// (a res_ari whose configuration failed at boot is listed, but declined).
pub fn module_running(name: &str) -> bool {
    let name = c_string(name);
    // SAFETY: valid C string.
    unsafe { sys::sb_module_running(name.as_ptr()) != 0 }
}

/// Whether a dialplan application of this name is registered.
pub fn app_registered(name: &str) -> bool {
    let name = c_string(name);
    // SAFETY: valid C string.
    unsafe { sys::sb_app_registered(name.as_ptr()) != 0 }
}

/// Whether this process registered `StasisBroadcast` (it stays registered
/// across unloads: see `entry::stop_entries`).
static APP_REGISTERED: AtomicBool = AtomicBool::new(false);

/// Registers `StasisBroadcast`, unless it is registered already (by us).
pub fn register_app() -> Result<(), Error> {
    if APP_REGISTERED.load(Ordering::SeqCst) {
        return Ok(());
    }
    // SAFETY: no arguments; the shim registers a static trampoline.
    match unsafe { sys::sb_register_app() } {
        0 => {
            APP_REGISTERED.store(true, Ordering::SeqCst);
            Ok(())
        }
        _ => Err(Error::Host(
            "could not register application StasisBroadcast".into(),
        )),
    }
}

/// Whether the registered `StasisBroadcast` is this module's.
pub fn app_is_ours() -> bool {
    APP_REGISTERED.load(Ordering::SeqCst)
}

/// Unregisters `StasisBroadcast`: only when no call can have started it yet
/// (a load that fails half-way).
pub fn unregister_app() {
    if APP_REGISTERED.swap(false, Ordering::SeqCst) {
        // SAFETY: no arguments.
        unsafe { sys::sb_unregister_app() };
    }
}

/// Becomes the implementation of the optional API (res_ari_events' claim endpoint).
pub fn provide_api() {
    // SAFETY: no arguments; the shim passes static function pointers.
    unsafe { sys::sb_provide_api() };
}

/// Stops being it.
pub fn unprovide_api() {
    // SAFETY: no arguments.
    unsafe { sys::sb_unprovide_api() };
}

/// Registers the CLI commands.
pub fn register_cli() -> Result<(), Error> {
    // SAFETY: no arguments; static entries.
    match unsafe { sys::sb_register_cli() } {
        0 => Ok(()),
        _ => Err(Error::Host("could not register the CLI commands".into())),
    }
}

/// Unregisters them.
pub fn unregister_cli() {
    // SAFETY: no arguments.
    unsafe { sys::sb_unregister_cli() };
}

/// Writes text to a CLI session.
pub fn cli_write(fd: i32, text: &str) {
    let text = c_string(text);
    // SAFETY: valid C string; fd came from Asterisk's CLI handler.
    unsafe { sys::sb_cli_write(fd, text.as_ptr()) };
}

/// A copy of `s` in Asterisk's allocator, for callers that `ast_free()` it.
pub fn host_strdup(s: &str) -> *mut std::os::raw::c_char {
    let s = c_string(s);
    // SAFETY: valid C string; the result is owned by the caller.
    unsafe { sys::sb_strdup(s.as_ptr()) }
}

/// Registers the metrics callback with res_prometheus; false when it is not loaded.
pub fn register_metrics() -> bool {
    // SAFETY: no arguments; the shim checks res_prometheus is there first.
    unsafe { sys::sb_register_metrics() == 0 }
}

/// Unregisters it (a no-op when it was not registered).
pub fn unregister_metrics() {
    // SAFETY: no arguments.
    unsafe { sys::sb_unregister_metrics() };
}

/// Appends text to a res_prometheus scrape.
///
/// # Safety
/// `output` is the `struct ast_str **` res_prometheus handed to the callback.
pub unsafe fn metrics_append(output: *mut std::os::raw::c_void, text: &str) {
    let text = c_string(text);
    // SAFETY: output is valid (caller's promise); text is a valid C string.
    unsafe { sys::sb_metrics_append(output, text.as_ptr()) };
}

/// Follows the loader's Load, Unload and Reload events (to `asb_module_event`).
pub fn watch_module_events() -> bool {
    // SAFETY: no arguments; the shim subscribes a static callback.
    unsafe { sys::sb_watch_module_events() == 0 }
}

/// Stops that; no event callback runs once this returns.
pub fn unwatch_module_events() {
    // SAFETY: no arguments; a no-op when not subscribed.
    unsafe { sys::sb_unwatch_module_events() };
}

/// Keeps the module's code mapped for the rest of the process, whatever a
/// forced unload does: a thread that read one of its function pointers (the
/// application's, the optional API's, a datastore's destroy callback) just
/// before the unregistration can still run it safely. Asterisk supports a
/// module that stays resident: a later load starts it again.
pub fn pin_module() -> Result<(), Error> {
    // SAFETY: no arguments; the shim pins its own shared object once.
    match unsafe { sys::sb_pin_module() } {
        0 => Ok(()),
        _ => Err(Error::Host(
            "could not keep the module's code mapped (dladdr/dlopen of itself failed)".into(),
        )),
    }
}

/// Takes the loader's shutdown reference: a plain `module unload` or
/// `module refresh` is refused from now on, with the use count, as for
/// res_pjsip_session; only a forced unload or Asterisk's shutdown unloads.
pub fn hold_until_shutdown() {
    // SAFETY: no arguments; idempotent in the loader.
    unsafe { sys::sb_hold_until_shutdown() };
}

/// Whether Asterisk is shutting down (an unload is then the last one).
pub fn shutting_down() -> bool {
    // SAFETY: no arguments.
    unsafe { sys::sb_shutting_down() != 0 }
}

/// The running Asterisk's version, as it reports it.
pub fn asterisk_version() -> String {
    // SAFETY: no arguments; a static string of Asterisk's (or null).
    let p = unsafe { sys::sb_asterisk_version() };
    // SAFETY: as above.
    unsafe { super::channel::lossy_opt(p) }.unwrap_or_default()
}

/// The path the loader opened the module from.
pub fn module_path() -> Option<String> {
    // SAFETY: no arguments; the result is null or a C string owned by the
    // dynamic linker, valid while the object is mapped (pinned: always).
    let p = unsafe { sys::sb_module_path() };
    // SAFETY: as above.
    unsafe { super::channel::lossy_opt(p) }
}
