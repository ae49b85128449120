//! An Asterisk configured with `--enable-permanent-dlopen` frees a module's
//! record when it unloads it, while StasisBroadcast stays registered (its
//! record would then point at freed memory on every call). The module refuses
//! to build for such an Asterisk, with an error that says why: here the shim is
//! compiled against the test bed's headers as they are (it compiles) and with
//! `HAVE_PERMANENT_DLOPEN` defined as such a build's `autoconfig.h` defines it
//! (it stops with that error).

mod common;

use std::fs;
use std::process::{Command, Output};

use common::*;

/// Compiles src/shim/shim.c (syntax only) against the test bed's headers,
/// with an `asterisk/autoconfig.h` in front that adds `extra` to the real one.
fn compile_shim(extra: &str) -> Output {
    let headers = testbed(&["headers"]).trim().to_owned();
    let front = repo().join(format!("target/permanent-dlopen-{}", asterisk_version()));
    fs::create_dir_all(front.join("asterisk")).expect("create the header overlay");
    fs::write(
        front.join("asterisk/autoconfig.h"),
        format!("#include \"{headers}/asterisk/autoconfig.h\"\n{extra}\n"),
    )
    .expect("write the overlay's autoconfig.h");
    Command::new("cc")
        .args([
            "-fsyntax-only",
            "-D_GNU_SOURCE",
            "-DAST_MODULE=\"app_stasis_broadcast\"",
            "-DAST_MODULE_SELF_SYM=__internal_app_stasis_broadcast_self",
        ])
        .arg(format!("-I{}", front.display()))
        .arg(format!("-I{headers}"))
        .arg(format!("-I{}", repo().join("include").display()))
        .arg(repo().join("src/shim/shim.c"))
        .output()
        .expect("run cc")
}

#[test]
fn no_build_for_an_asterisk_with_permanent_dlopen() {
    let plain = compile_shim("");
    assert!(
        plain.status.success(),
        "the shim does not compile against the headers as they are:\n{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let permanent = compile_shim("#define HAVE_PERMANENT_DLOPEN 1");
    let err = String::from_utf8_lossy(&permanent.stderr);
    assert!(!permanent.status.success(), "built for permanent dlopen");
    assert!(
        err.contains("#error") && err.contains("--enable-permanent-dlopen"),
        "not the module's own error:\n{err}"
    );
}
