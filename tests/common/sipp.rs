//! SIP calls from SIPp (the client's [`Sipp`], with the scenarios in `sipp/`) on the test bed's
//! SIP port, each run on ports of its own.

use super::*;

use std::sync::atomic::AtomicU16;

pub use ari_worker::{Running, Sipp, SippResult};

/// The test bed's SIP port: `ASB_SIP_PORT`, else the HTTP port - 3018 (as scripts/testbed).
pub fn sip_port() -> u16 {
    std::env::var("ASB_SIP_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| http_port() - 3018)
}

fn http_port() -> u16 {
    http_host()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("the test bed's HTTP port")
}

/// Whether this Asterisk takes SIP calls at all: PJSIP (22.x, 23.x from Debian) or chan_sip
/// (18.x, 20.x built by the test bed). The source builds of 22.x and 23.4.1 have neither
/// (no pjproject to build with).
pub fn has_sip() -> bool {
    cli("core show channeltypes").lines().any(|l| {
        let t = l.split_whitespace().next().unwrap_or_default();
        t == "PJSIP" || t == "SIP"
    })
}

/// Whether this Asterisk takes SIP calls; when not, that it is a release the test bed builds
/// without one (checked, and said, rather than passed silently).
pub fn sip_here() -> bool {
    asterisk();
    if has_sip() {
        // The observer sees every channel from its start.
        subscribed();
        return true;
    }
    let v = asterisk_version();
    assert!(
        ["22.5.0", "22.9.0", "23.4.1"].contains(&v.as_str()),
        "Asterisk {v} should take SIP calls in the test bed (PJSIP or chan_sip)"
    );
    println!("Asterisk {v} is built without a SIP channel driver here (no pjproject): no SIP call to place");
    false
}

/// One call of `scenario` (sipp/<scenario>.xml) to the called user `user`, on ports above
/// Asterisk's RTP range (rtp.conf) that no other run of this test binary uses: test binaries
/// run one at a time; within one, every run takes the next ten.
pub fn sipp(scenario: &str, user: &str) -> Sipp {
    sipp_to(scenario, user, &format!("127.0.0.1:{}", sip_port()))
}

/// As [`sipp`], with the calls sent to `target` (`IP:PORT`), e.g. a SIP proxy.
pub fn sipp_to(scenario: &str, user: &str, target: &str) -> Sipp {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) % 100;
    let port = 20_000 + (http_port() - 8088) * 1_000 + n * 10;
    Sipp::new(
        &repo().join(format!("sipp/{scenario}.xml")),
        user,
        target,
        port,
        &repo().join("target/sipp"),
    )
}

/// Runs SIPp to its end and checks that every one of `calls` calls succeeded.
pub fn run_all(s: Sipp, calls: u64) {
    finish_all(start_sipp(&s), calls);
}

/// Starts SIPp.
pub fn start_sipp(s: &Sipp) -> Running {
    s.start().unwrap_or_else(|e| panic!("{e}"))
}

/// Waits for SIPp and checks that every one of `calls` calls succeeded.
pub fn finish_all(r: Running, calls: u64) -> SippResult {
    let r = r.finish();
    assert!(r.all_succeeded(calls), "SIPp: {}", r.output);
    r
}

/// Waits until SIPp's log has a line containing `what`.
pub fn wait_log(r: &Running, what: &str) {
    eventually(&format!("SIPp logged {what:?}"), || r.logged(what));
}
