//! Stasis: the registered ARI applications, the per-application send path,
//! and the entry point that puts a channel into an application.

use std::ffi::CStr;
use std::os::raw::{c_char, c_void};

use super::json::Json;
use super::log::c_string;
use super::{sys, Channel};

/// The names of all registered Stasis (ARI) applications, or `None` when
/// Stasis cannot list them.
pub fn app_names() -> Option<Vec<String>> {
    unsafe extern "C" fn push(ctx: *mut c_void, name: *const c_char) {
        // SAFETY: ctx is the &mut Vec passed below, alive for the whole call;
        // name is a valid C string for the duration of this callback. Nothing
        // here can panic except allocation failure, which aborts.
        let names = unsafe { &mut *ctx.cast::<Vec<String>>() };
        if !name.is_null() {
            names.push(
                unsafe { CStr::from_ptr(name) }
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    let mut names: Vec<String> = Vec::new();
    // SAFETY: the callback only touches `names`, which outlives the call.
    let rc = unsafe { sys::sb_for_each_app(Some(push), (&mut names as *mut Vec<String>).cast()) };
    (rc == 0).then_some(names)
}

/// Sends `event` to one application through Stasis' own send path, which
/// adds `asterisk_id` and `application` (to a shallow copy of ours).
/// Returns false when the copy could not be made or the application is gone.
pub fn send(app: &str, event: &Json) -> bool {
    let Some(copy) = event.shallow_copy() else {
        return false;
    };
    let app = c_string(app);
    // SAFETY: valid C string and JSON; stasis_app_send takes its own
    // references to what it keeps, ours is released by `copy`'s Drop.
    unsafe { sys::stasis_app_send(app.as_ptr(), copy.as_ptr()) == 0 }
}

/// Runs the channel in `app` exactly as `Stasis(app,args...)` would; returns
/// Asterisk's result (0: the session ran and ended normally).
pub fn exec(chan: &Channel<'_>, app: &str, args: &[String]) -> i32 {
    let app = c_string(app);
    let owned: Vec<_> = args.iter().map(|a| c_string(a)).collect();
    let mut argv: Vec<*mut c_char> = owned.iter().map(|a| a.as_ptr().cast_mut()).collect();
    let argc = i32::try_from(argv.len()).unwrap_or(i32::MAX);
    // SAFETY: valid channel on its PBX thread; app and argv point at C strings
    // that outlive the call (Stasis copies the arguments and never writes
    // through argv).
    unsafe { sys::stasis_app_exec(chan.as_ptr(), app.as_ptr(), argc, argv.as_mut_ptr()) }
}
