//! Reading a configuration file through Asterisk's config API (so that
//! `#include`, `#exec`, templates and Asterisk's own syntax all hold).

use std::ffi::{c_void, CStr};
use std::os::raw::c_char;

use super::log::c_string;
use super::sys;
use crate::core::ari_conf::Category;

/// A C string's bytes, as they are (names and passwords are compared so).
///
/// # Safety
/// `p` is a valid NUL-terminated string.
unsafe fn bytes(p: *const c_char) -> Vec<u8> {
    // SAFETY: the caller's promise.
    unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
}

/// The file's categories (templates left out), or `None` when Asterisk
/// cannot read it.
pub fn load(file: &str) -> Option<Vec<Category>> {
    unsafe extern "C" fn collect(
        ctx: *mut c_void,
        category: *const c_char,
        name: *const c_char,
        value: *const c_char,
    ) {
        // No panic may unwind into the shim: the worst is a missing line.
        let _ = std::panic::catch_unwind(|| {
            // SAFETY: `ctx` is the Vec passed to sb_config_load below, alive
            // and not otherwise borrowed during the call.
            let cats = unsafe { &mut *ctx.cast::<Vec<Category>>() };
            if name.is_null() {
                // SAFETY: a valid C string (the shim's promise).
                let name = unsafe { bytes(category) };
                cats.push(Category {
                    name,
                    vars: Vec::new(),
                });
            } else if let Some(cat) = cats.last_mut() {
                // SAFETY: valid C strings (the shim's promise).
                cat.vars.push(unsafe { (bytes(name), bytes(value)) });
            }
        });
    }
    let file = c_string(file);
    let mut cats: Vec<Category> = Vec::new();
    // SAFETY: a valid C string; `collect` matches the callback's type and
    // `ctx` points at `cats`, which outlives the call.
    let res = unsafe {
        sys::sb_config_load(
            file.as_ptr(),
            Some(collect),
            (&mut cats as *mut Vec<Category>).cast(),
        )
    };
    (res == 0).then_some(cats)
}
