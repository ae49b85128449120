//! An owned reference to an Asterisk JSON value.
//!
//! # Invariants
//! `Json` holds one reference on a non-null `ast_json`; Drop releases it with
//! `ast_json_unref`.

use std::ptr::NonNull;

use super::log::c_string;
use super::sys;

/// One reference to a JSON value.
pub struct Json(NonNull<sys::ast_json>);

// SAFETY: jansson reference counts are atomic, and a Json we share is never
// mutated (the send path mutates only its own shallow copy).
unsafe impl Send for Json {}
// SAFETY: as above; &Json gives no mutation.
unsafe impl Sync for Json {}

impl Json {
    /// Takes over a new reference.
    ///
    /// # Safety
    /// `raw` is null or a reference the caller owns and hands over.
    pub unsafe fn from_raw(raw: *mut sys::ast_json) -> Option<Json> {
        NonNull::new(raw).map(Json)
    }

    /// The CallBroadcast event of a channel (snapshot, caller, called).
    pub fn call_broadcast(chan: &super::Channel<'_>) -> Option<Json> {
        // SAFETY: a valid channel; the shim returns a new reference or null.
        unsafe { Json::from_raw(sys::sb_call_broadcast_event(chan.as_ptr())) }
    }

    /// The CallClaimed event of a channel id and its winner.
    pub fn call_claimed(channel_id: &str, winner: &str) -> Option<Json> {
        let (id, w) = (c_string(channel_id), c_string(winner));
        // SAFETY: valid C strings; a new reference or null comes back.
        unsafe { Json::from_raw(sys::sb_call_claimed_event(id.as_ptr(), w.as_ptr())) }
    }

    /// A shallow copy: a new top-level object sharing its members. The send
    /// path adds `asterisk_id` and `application` at the top level only, so a
    /// shallow copy per recipient is enough (no deep copy of the snapshot).
    pub fn shallow_copy(&self) -> Option<Json> {
        // SAFETY: valid value (invariant); a new reference or null comes back.
        unsafe { Json::from_raw(sys::ast_json_copy(self.as_ptr())) }
    }

    /// The raw pointer, still owned by `self`.
    pub fn as_ptr(&self) -> *mut sys::ast_json {
        self.0.as_ptr()
    }
}

impl Drop for Json {
    fn drop(&mut self) {
        // SAFETY: we hold one reference (invariant) and drop it exactly once.
        unsafe { sys::ast_json_unref(self.as_ptr()) };
    }
}
