//! Builds against the target Asterisk's own headers.
//!
//! - Headers: `ASTERISK_INCLUDE_DIR` (a directory holding `asterisk.h` and
//!   `asterisk/`), else `/usr/include` when `asterisk.h` is there.
//! - bindgen over `wrapper.h`, allowlisted to what `src/asterisk/` calls.
//! - The claim route: Asterisk 20.20 / 22.10 / 23.4 and later serve
//!   `POST /ari/events/claim` themselves (res_ari_events, through the optional
//!   API of `asterisk/stasis_app_broadcast.h`); older releases have neither
//!   the route nor the header. Without the header the module serves the route
//!   itself (cfg `asb_own_claim_route`, C define `ASB_OWN_CLAIM_ROUTE`).
//!   `ASB_CLAIM_ROUTE=module` or `=asterisk` overrides the guess (cfg
//!   `asb_claim_route_forced`: the load then skips its check of the running
//!   release).
//! - The C shim (`src/shim/*.c`) is compiled by `cc` into a static archive
//!   that is linked, whole, into the cdylib only: the lib's unit-test binary
//!   never links it, because its module constructor references symbols that
//!   exist only inside a running Asterisk.

use std::env;
use std::path::{Path, PathBuf};

const MODULE: &str = "app_stasis_broadcast";
/// The C shim's sources (what each holds: the comment at its top).
const SHIM_FILES: [&str; 5] = [
    "src/shim/shim.c",
    "src/shim/channel.c",
    "src/shim/hold.c",
    "src/shim/cli_metrics.c",
    "src/shim/route.c",
];

fn main() {
    println!("cargo:rerun-if-env-changed=ASTERISK_INCLUDE_DIR");
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=include/asb_shim.h");
    for file in SHIM_FILES {
        println!("cargo:rerun-if-changed={file}");
    }
    println!("cargo:rerun-if-env-changed=ASB_CLAIM_ROUTE");
    println!("cargo:rustc-check-cfg=cfg(asb_own_claim_route)");
    println!("cargo:rustc-check-cfg=cfg(asb_claim_route_forced)");

    let include = asterisk_include_dir();
    println!(
        "cargo:rerun-if-changed={}",
        include.join("asterisk/buildopts.h").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        include.join("asterisk/stasis_app_broadcast.h").display()
    );
    let own_route = own_claim_route(&include);
    if own_route {
        println!("cargo:rustc-cfg=asb_own_claim_route");
    }
    // Chosen with ASB_CLAIM_ROUTE rather than guessed from the headers: the module then serves
    // the route whatever the running Asterisk has (a test of the route on 22.10.1, say).
    if env::var_os("ASB_CLAIM_ROUTE").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=asb_claim_route_forced");
    }
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));

    let mut defines = vec![
        ("_GNU_SOURCE", None),
        ("AST_MODULE", Some(format!("\"{MODULE}\""))),
        (
            "AST_MODULE_SELF_SYM",
            Some(format!("__internal_{MODULE}_self")),
        ),
    ];
    if own_route {
        defines.push(("ASB_OWN_CLAIM_ROUTE", None));
    }

    // The shim.
    let mut cc = cc::Build::new();
    cc.files(SHIM_FILES)
        .include("include")
        .include(&include)
        .pic(true)
        .warnings(true)
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-sign-compare")
        .flag_if_supported("-Wno-missing-field-initializers")
        // Asterisk's own headers trip this one (strings.h's force_inline).
        .flag_if_supported("-Wno-old-style-declaration")
        .cargo_metadata(false);
    for (k, v) in &defines {
        cc.define(k, v.as_deref());
    }
    cc.compile("asb_shim");
    let archive = out.join("libasb_shim.a");
    // Whole archive: nothing in Rust references AST_MODULE_INFO's constructor,
    // which must still be in the module.
    println!("cargo:rustc-link-arg-cdylib=-Wl,--whole-archive");
    println!("cargo:rustc-link-arg-cdylib={}", archive.display());
    println!("cargo:rustc-link-arg-cdylib=-Wl,--no-whole-archive");

    // The bindings.
    let mut b = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_arg(format!("-I{}", include.display()))
        .clang_arg("-Iinclude")
        // asterisk/utils.h takes a blocks-based RAII_VAR branch under clang.
        .clang_arg("-fblocks")
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .allowlist_function("sb_.*")
        .allowlist_type("sb_log_level")
        .allowlist_type("sb_body_error")
        .allowlist_type("sb_cli_command")
        .allowlist_function("ast_channel_name")
        .allowlist_function("ast_channel_uniqueid")
        .allowlist_function("ast_check_hangup")
        .allowlist_function("ast_waitfor_nandfds")
        .allowlist_function("ast_read")
        .allowlist_function("ast_queue_frame_head")
        .allowlist_function("pbx_builtin_setvar_helper")
        .allowlist_function("ast_json_copy")
        .allowlist_function("ast_json_unref")
        .allowlist_function("stasis_app_send")
        .allowlist_function("stasis_app_exec")
        // Opaque to Rust: only ever handled through pointers.
        .opaque_type("ast_channel")
        .opaque_type("ast_json")
        .opaque_type("ast_frame")
        .opaque_type("sb_hold")
        .layout_tests(false)
        .generate_comments(false);
    for (k, v) in &defines {
        b = b.clang_arg(match v {
            Some(v) => format!("-D{k}={v}"),
            None => format!("-D{k}"),
        });
    }
    b.generate()
        .unwrap_or_else(|e| fail(&format!("bindgen over wrapper.h failed: {e}")))
        .write_to_file(out.join("bindings.rs"))
        .expect("write bindings.rs");
}

fn asterisk_include_dir() -> PathBuf {
    if let Some(dir) = env::var_os("ASTERISK_INCLUDE_DIR") {
        let dir = PathBuf::from(dir);
        if has_headers(&dir) {
            return dir;
        }
        fail(&format!(
            "ASTERISK_INCLUDE_DIR={} does not hold asterisk.h and asterisk/",
            dir.display()
        ));
    }
    let system = Path::new("/usr/include");
    if has_headers(system) {
        return system.to_path_buf();
    }
    fail(
        "Asterisk's headers were not found. Set ASTERISK_INCLUDE_DIR to a directory holding \
         asterisk.h and asterisk/ (your Asterisk's own: e.g. the asterisk-dev package, or \
         `make install-headers`), or run `scripts/testbed headers`, which copies them out of \
         the test bed's Asterisk 22.10.1 image and prints the directory.",
    )
}

/// Whether the module serves `POST /ari/events/claim` itself: when the target
/// Asterisk's res_ari has no such route (its headers lack the optional API the
/// route calls), unless `ASB_CLAIM_ROUTE` says otherwise.
fn own_claim_route(include: &Path) -> bool {
    match env::var("ASB_CLAIM_ROUTE").as_deref() {
        Ok("module") => true,
        Ok("asterisk") => false,
        Ok("") | Err(_) => !include.join("asterisk/stasis_app_broadcast.h").is_file(),
        Ok(other) => fail(&format!(
            "ASB_CLAIM_ROUTE={other}: use 'module' (the module serves the claim route) or \
             'asterisk' (Asterisk's res_ari does)"
        )),
    }
}

fn has_headers(dir: &Path) -> bool {
    dir.join("asterisk.h").is_file() && dir.join("asterisk").is_dir()
}

/// Stops the build with one clear message (no backtrace).
fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}
