//! The claim route's side of Asterisk's HTTP server: one borrowed request
//! (what the shim read of it), its reply, and the route's registration.

use std::ffi::{CStr, CString};
use std::os::raw::c_char;

use super::channel::lossy_opt;
use super::log::c_string;
use super::sys;
use crate::core::claim_route::{BodyError, Method, Reply, Request};

/// One request being served, with its strings copied out of the host's.
///
/// # Invariants
/// `raw` is the shim's request, valid for as long as this value (the whole
/// of `asb_http_claim`), and is answered at most once through it.
pub struct HttpRequest<'a> {
    raw: &'a sys::sb_http_request,
    params: Vec<(Vec<u8>, Vec<u8>)>,
    basic: Option<(Vec<u8>, Vec<u8>)>,
    origin: Option<String>,
    request_method: Option<String>,
    request_headers: Option<String>,
    body_channel_id: Option<Option<String>>,
    body_application: Option<Option<String>>,
}

impl<'a> HttpRequest<'a> {
    /// # Safety
    /// `raw` is the request the shim passed to `asb_http_claim`, with every
    /// pointer in it null or valid for the call.
    pub unsafe fn from_raw(raw: &'a sys::sb_http_request) -> HttpRequest<'a> {
        let params = (0..raw.n_params)
            .map(|i| {
                // SAFETY: `params` holds 2 * n_params valid C strings (shim's promise).
                unsafe {
                    (
                        bytes(*raw.params.add(2 * i)),
                        bytes(*raw.params.add(2 * i + 1)),
                    )
                }
            })
            .collect();
        // SAFETY (for each string below): null or valid C strings (the shim's promise).
        let field = |has: i32, p| (has != 0).then(|| unsafe { lossy_opt(p) });
        HttpRequest {
            raw,
            params,
            // Credentials stay bytes: ARI compares them so.
            basic: (!raw.basic_user.is_null()).then(|| {
                // SAFETY: as above.
                unsafe { (bytes(raw.basic_user), bytes(raw.basic_password)) }
            }),
            // SAFETY: as above.
            origin: unsafe { lossy_opt(raw.origin) },
            // SAFETY: as above.
            request_method: unsafe { lossy_opt(raw.request_method) },
            // SAFETY: as above.
            request_headers: unsafe { lossy_opt(raw.request_headers) },
            body_channel_id: field(raw.has_body_channel_id, raw.body_channel_id),
            body_application: field(raw.has_body_application, raw.body_application),
        }
    }

    /// The request as the pure route sees it.
    pub fn view(&self) -> Request<'_> {
        Request {
            method: Some(match self.raw.method {
                0 => Method::Get,
                1 => Method::Post,
                2 => Method::Head,
                3 => Method::Put,
                4 => Method::Delete,
                5 => Method::Options,
                _ => Method::Other,
            }),
            params: self
                .params
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_slice()))
                .collect(),
            basic: self
                .basic
                .as_ref()
                .map(|(u, p)| (u.as_slice(), p.as_slice())),
            origin: self.origin.as_deref(),
            request_method: self.request_method.as_deref(),
            request_headers: self.request_headers.as_deref(),
            body_error: match self.raw.body_error as u32 {
                sys::sb_body_error_SB_BODY_TOO_LARGE => Some(BodyError::TooLarge),
                sys::sb_body_error_SB_BODY_UNPARSABLE => Some(BodyError::Unparsable),
                sys::sb_body_error_SB_BODY_OUT_OF_MEMORY => Some(BodyError::OutOfMemory),
                _ => None,
            },
            body_channel_id: self.body_channel_id.as_ref().map(|o| o.as_deref()),
            body_application: self.body_application.as_ref().map(|o| o.as_deref()),
            fully_booted: self.raw.fully_booted != 0,
        }
    }

    /// The shim's request, for the ACL check.
    pub fn raw(&self) -> &sys::sb_http_request {
        self.raw
    }

    /// Sends the reply; `pretty` is ari.conf's JSON format.
    pub fn reply(&self, r: &Reply, pretty: bool) {
        let reason = c_string(r.reason);
        let headers = c_string(&r.headers);
        let message = r.message.map(c_string);
        // SAFETY: `raw` is valid (type invariant); the strings are valid C
        // strings for the call, and the shim copies what it keeps.
        unsafe {
            sys::sb_http_reply(
                self.raw,
                i32::from(r.status),
                reason.as_ptr(),
                headers.as_ptr(),
                message.as_ref().map_or(std::ptr::null(), |m| m.as_ptr()),
                i32::from(pretty),
                i32::from(r.close),
            )
        };
    }
}

/// `ast_crypt_validate`, on the bytes as they are (neither can hold a NUL: both
/// came from C strings).
pub fn crypt_matches(password: &[u8], hash: &[u8]) -> bool {
    let (Ok(password), Ok(hash)) = (CString::new(password), CString::new(hash)) else {
        return false;
    };
    // SAFETY: two valid C strings.
    unsafe { sys::sb_crypt_validate(password.as_ptr(), hash.as_ptr()) != 0 }
}

/// Copies a C string's bytes; null gives none.
///
/// # Safety
/// `p` is null or a valid NUL-terminated string.
unsafe fn bytes(p: *const c_char) -> Vec<u8> {
    if p.is_null() {
        Vec::new()
    } else {
        // SAFETY: non-null and NUL-terminated (caller's promise).
        unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
    }
}

/// Links the route on Asterisk's HTTP server.
pub fn link() -> bool {
    // SAFETY: no arguments; the shim links a static URI handler.
    unsafe { sys::sb_http_link() == 0 }
}

/// Unlinks it; Asterisk's HTTP server sends it nothing new once this returns.
pub fn unlink() {
    // SAFETY: no arguments; unlinking an unlinked handler is a no-op.
    unsafe { sys::sb_http_unlink() };
}
