//! scripts/install, used as an operator's own Dockerfile would use it: on top
//! of the test bed's Asterisk image (on 22.10.1 Debian's packages, upstream's
//! modules, Debian's sample configuration; elsewhere a release built from
//! source with its sample configuration), then that image is run and inspected.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

/// The image and container of this test, named after the test bed's
/// container so that test beds side by side do not share them.
fn names() -> (String, String) {
    let c = format!("{}-install-test", container());
    (format!("localhost/{c}:latest"), c)
}

fn engine(args: &[&str]) -> (bool, String) {
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/testbed"))
        .arg("engine")
        .args(args)
        .output()
        .expect("scripts/testbed engine");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn exec(cmd: &[&str]) -> (bool, String) {
    let (_, container) = names();
    let mut args = vec!["exec", container.as_str()];
    args.extend_from_slice(cmd);
    engine(&args)
}

struct Cleanup;
impl Drop for Cleanup {
    fn drop(&mut self) {
        engine(&["rm", "-f", &names().1]);
    }
}

/// AST_BUILDOPT_SUM of the headers this Asterisk version's module is built
/// against (`scripts/testbed headers`, which follows ASB_ASTERISK).
fn buildopt_sum() -> String {
    let dir = testbed(&["headers"]);
    let h = std::fs::read_to_string(PathBuf::from(dir.trim()).join("asterisk/buildopts.h"))
        .expect("buildopts.h");
    h.lines()
        .find_map(|l| l.strip_prefix("#define AST_BUILDOPT_SUM \""))
        .and_then(|r| r.split('"').next())
        .expect("AST_BUILDOPT_SUM")
        .to_owned()
}

#[test]
fn install_into_an_asterisk_image_as_an_operator_would() {
    assert_eq!(
        target(),
        Target::Ours,
        "the install test installs our module"
    );
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (image, container) = names();
    // The module of this build: in the target directory this test was built
    // in (<target>/release/deps/install-…), i.e. for this Asterisk version.
    let exe = std::env::current_exe().unwrap();
    let module = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("libapp_stasis_broadcast.so");
    assert!(
        module.is_file(),
        "build the module first (cargo build --release): no {}",
        module.display()
    );
    // Only releases with Asterisk's own claim route ship upstream's modules.
    let ships_upstream = asterisk_has_claim_route();

    // The build context: the script, the module, and a module built for another Asterisk.
    let ctx = std::env::temp_dir().join(format!("asb-install-{}", std::process::id()));
    std::fs::create_dir_all(&ctx).unwrap();
    // The repository's layout: scripts/install uses scripts/events-json and rest-api/.
    for f in [
        "scripts/install",
        "scripts/events-json",
        "rest-api/stasis_broadcast.json",
        "doc/app_stasis_broadcast-en_US.xml",
    ] {
        std::fs::create_dir_all(ctx.join(f).parent().unwrap()).unwrap();
        std::fs::copy(repo.join(f), ctx.join(f)).unwrap();
    }
    std::fs::copy(&module, ctx.join("app_stasis_broadcast.so")).unwrap();
    let mut foreign = std::fs::read(&module).unwrap();
    let sum = buildopt_sum();
    let i = foreign
        .windows(32)
        .position(|w| w == sum.as_bytes())
        .expect("the module carries its Asterisk's build options sum");
    foreign[i..i + 32].copy_from_slice(b"00000000000000000000000000000000");
    std::fs::write(ctx.join("foreign.so"), foreign).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM {}\n\
             COPY scripts /opt/asb/scripts/\n\
             COPY rest-api /opt/asb/rest-api/\n\
             COPY doc /opt/asb/doc/\n\
             COPY app_stasis_broadcast.so foreign.so /opt/asb/\n\
             RUN /opt/asb/scripts/install --module /opt/asb/app_stasis_broadcast.so\n",
            testbed_image()
        ),
    )
    .unwrap();
    let (ok, out) = engine(&[
        "build",
        // The script's output is asserted on: a cached RUN step would print none.
        "--no-cache",
        "--network",
        "host",
        "-t",
        &image,
        ctx.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&ctx).ok();
    assert!(ok, "image build with scripts/install failed:\n{out}");
    assert_eq!(
        out.contains("keeping the packaged"),
        ships_upstream,
        "{out}"
    );
    // Asterisk's events.json gains the claim operation where it lacks it (before 20.20 / 22.10).
    let events = if ships_upstream {
        "already has the claim operation"
    } else {
        "added the claim operation, CallBroadcast and CallClaimed"
    };
    assert!(out.contains(events), "{out}");
    assert_eq!(
        out.contains("adding 'noload => res_stasis_broadcast.so'"),
        ships_upstream,
        "{out}"
    );
    assert!(
        out.contains(
            "installed /usr/share/asterisk/documentation/thirdparty/app_stasis_broadcast-en_US.xml"
        ),
        "{out}"
    );

    let _cleanup = Cleanup;
    engine(&["rm", "-f", &container]);
    let (ok, out) = engine(&[
        "run",
        "-d",
        "--name",
        &container,
        "--network",
        "none",
        &image,
    ]);
    assert!(ok, "{out}");

    // Wait (bounded) for Asterisk to finish booting.
    let until = std::time::Instant::now() + *LIVENESS * 3;
    loop {
        let (ok, _) = exec(&["asterisk", "-rx", "core waitfullybooted"]);
        if ok {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "Asterisk did not boot in the installed image"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (_, mods) = exec(&["asterisk", "-rx", "module show like stasis_broadcast"]);
    let running = |m: &str| {
        mods.lines()
            .any(|l| l.starts_with(m) && l.contains(" Running") && !l.contains("Not Running"))
    };
    assert!(running("app_stasis_broadcast.so"), "{mods}");
    assert!(!running("res_stasis_broadcast.so"), "{mods}");
    let (_, app) = exec(&["asterisk", "-rx", "core show application StasisBroadcast"]);
    assert!(
        app.contains("first to claim"),
        "ours is the one registered:\n{app}"
    );
    assert!(
        app.contains("StasisBroadcast([timeout][,app_filter[,args[,notify_claimed]]])"),
        "our XML documentation is shown:\n{app}"
    );
    let (_, ls) = exec(&["ls", "/usr/lib/x86_64-linux-gnu/asterisk/modules/"]);
    assert_eq!(
        ls.contains("app_stasis_broadcast.so.upstream"),
        ships_upstream,
        "upstream's module kept aside (where there is one):\n{ls}"
    );

    // Installing again is harmless: ours is not moved aside, and where
    // upstream's module exists its noload line is there already.
    let (ok, out) = exec(&[
        "/opt/asb/scripts/install",
        "--module",
        "/opt/asb/app_stasis_broadcast.so",
    ]);
    assert!(ok, "{out}");
    assert_eq!(out.contains("already has 'noload"), ships_upstream, "{out}");
    assert!(!out.contains("keeping the packaged"), "{out}");
    assert!(out.contains("already has the claim operation"), "{out}");

    // A module built for other build options is refused, with the reason.
    let (ok, out) = exec(&[
        "/opt/asb/scripts/install",
        "--module",
        "/opt/asb/foreign.so",
    ]);
    assert!(!ok && out.contains("other build options"), "{out}");

    // --uninstall removes ours, gives upstream's module (where there is one) and
    // the original events.json back, and drops the noload line.
    let (ok, out) = exec(&["/opt/asb/scripts/install", "--uninstall"]);
    assert!(ok, "{out}");
    let (_, ls) = exec(&["ls", "/usr/lib/x86_64-linux-gnu/asterisk/modules/"]);
    assert!(!ls.contains("app_stasis_broadcast.so.upstream"), "{ls}");
    assert_eq!(
        ls.contains("app_stasis_broadcast.so"),
        ships_upstream,
        "only upstream's module (where there is one) is left:\n{ls}"
    );
    let (_, rest) = exec(&["ls", "/usr/share/asterisk/rest-api/"]);
    assert!(!rest.contains("asb-orig"), "events.json put back:\n{rest}");
    let (_, events) = exec(&["cat", "/usr/share/asterisk/rest-api/events.json"]);
    assert_eq!(
        events.contains("/events/claim"),
        ships_upstream,
        "events.json as shipped"
    );
    let (_, conf) = exec(&["cat", "/etc/asterisk/modules.conf"]);
    assert!(
        !conf.contains("app_stasis_broadcast.so replaces it"),
        "{conf}"
    );
    let (_, docs) = exec(&["ls", "/usr/share/asterisk/documentation/thirdparty/"]);
    assert!(
        !docs.contains("app_stasis_broadcast"),
        "XML removed:\n{docs}"
    );
}

/// On a machine without that Asterisk, the script names what is missing and how to point at the
/// right one (it used to blame a missing astmoddir in a file that does not exist).
#[test]
fn install_without_asterisk_names_the_missing_file() {
    let conf = std::env::temp_dir().join(format!(
        "asb-no-asterisk-{}/asterisk.conf",
        std::process::id()
    ));
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/install"))
        .args(["--asterisk-conf", conf.to_str().unwrap(), "--dry-run"])
        .output()
        .expect("run scripts/install");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&format!("{}: no such file", conf.display())),
        "{err}"
    );
    assert!(
        err.contains("--asterisk-conf") && err.contains("--moddir"),
        "{err}"
    );
    assert!(!err.contains("has no astmoddir"), "{err}");
}
