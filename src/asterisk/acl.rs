//! A user's ACL list, built and applied by Asterisk's own functions (`ast_append_acl`,
//! `ast_apply_acl`, named ACLs from acl.conf looked up as the line is appended), freed
//! by Asterisk's `ast_free_acl_list` when the last user holding it goes.

use std::ptr;

use super::http::HttpRequest;
use super::sys;
use crate::core::ari_conf::UserAcl;

/// One user's list.
///
/// # Invariants
/// `list` is null (nothing appended yet) or a list that Asterisk allocated and that only
/// this value frees.
#[derive(Debug)]
pub struct AclList {
    list: *mut sys::ast_acl_list,
}

// SAFETY: Asterisk's ACL list carries its own lock (ast_apply_acl takes it), and the
// list is only changed while it is being built, before it is shared.
unsafe impl Send for AclList {}
// SAFETY: as above: shared use is ast_apply_acl, which locks the list.
unsafe impl Sync for AclList {}

impl UserAcl for AclList {
    fn empty() -> AclList {
        AclList {
            list: ptr::null_mut(),
        }
    }

    fn append(&mut self, sense: &[u8], value: &[u8]) -> bool {
        let (Some(sense), Some(value)) = (c_bytes(sense), c_bytes(value)) else {
            return false;
        };
        // SAFETY: `self.list` is null or Asterisk's list (type invariant), which
        // ast_append_acl allocates or extends in place; two valid C strings.
        unsafe { sys::sb_acl_append(&mut self.list, sense.as_ptr(), value.as_ptr()) == 0 }
    }
}

impl AclList {
    /// Whether the list refuses the request's peer (an empty list refuses nobody).
    pub fn denies(&self, req: &HttpRequest<'_>) -> bool {
        // SAFETY: `self.list` is null or a live list (type invariant); the request is
        // the one being served.
        unsafe { sys::sb_acl_denies(self.list, req.raw()) != 0 }
    }
}

impl Drop for AclList {
    fn drop(&mut self) {
        // SAFETY: null or the list only this value frees (type invariant).
        unsafe { sys::sb_acl_free(self.list) };
    }
}

/// A C string of `bytes`; `None` when they hold a NUL (no such line reaches Asterisk).
fn c_bytes(bytes: &[u8]) -> Option<std::ffi::CString> {
    std::ffi::CString::new(bytes).ok()
}
