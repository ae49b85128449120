//! SIP calls placed by SIPp (Debian's `sip-tester`) on the test bed's SIP port, with the
//! scenarios in `sipp/`: each run is bounded (a call count, `-timeout`, `-recv_timeout`) and
//! binds to loopback only.

use super::*;

use std::process::{Child, Stdio};
use std::sync::atomic::AtomicU16;

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
/// (18.x, 20.x built by the test bed). The source builds of 22.5.0 and 23.4.1 have neither
/// (no pjproject to build with): those say so, and SIP tests check that instead.
pub fn has_sip() -> bool {
    let chans = cli("core show channeltypes");
    chans.lines().any(|l| {
        let t = l.split_whitespace().next().unwrap_or_default();
        t == "PJSIP" || t == "SIP"
    })
}

/// A SIPp run's settings.
pub struct Sipp {
    scenario: &'static str,
    user: String,
    calls: u32,
    rate: u32,
    pause_ms: u32,
}

/// How a SIPp run ended.
#[derive(Debug)]
pub struct SippResult {
    /// Its exit status: 0 when every call succeeded.
    pub code: i32,
    pub successful: u64,
    pub failed: u64,
    /// Its final screen and the errors it logged, for messages.
    pub output: String,
}

impl SippResult {
    /// Every one of `calls` calls succeeded.
    pub fn assert_all(&self, calls: u64) {
        assert_eq!(
            (self.code, self.successful, self.failed),
            (0, calls, 0),
            "SIPp: {}",
            self.output
        );
    }
}

/// A SIPp run going on in the background (killed if dropped before its end, so that a
/// failed test leaves nothing running).
pub struct Running {
    child: Option<Child>,
    log: PathBuf,
    errors: PathBuf,
}

impl Sipp {
    /// One call of `scenario` (a file in sipp/, without .xml) to the called user `user`.
    pub fn new(scenario: &'static str, user: &str) -> Sipp {
        Sipp {
            scenario,
            user: user.to_owned(),
            calls: 1,
            rate: 10,
            pause_ms: 0,
        }
    }

    /// `calls` calls at `rate` per second.
    pub fn calls(mut self, calls: u32, rate: u32) -> Sipp {
        self.calls = calls;
        self.rate = rate;
        self
    }

    /// The length of the scenario's `<pause/>`.
    pub fn pause_ms(mut self, ms: u32) -> Sipp {
        self.pause_ms = ms;
        self
    }

    /// Starts SIPp; [`Running::finish`] waits for it.
    pub fn start(self) -> Running {
        // Ports of this run's own, above Asterisk's RTP range (rtp.conf): SIP on `port`, media
        // from `port + 2` (audio and video, RTP and RTCP: four). Test binaries run one at a
        // time; within one, every run takes the next ten.
        static NEXT: AtomicU16 = AtomicU16::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed) % 100;
        let port = 20_000 + (http_port() - 8088) * 1_000 + n * 10;
        let dir = repo().join("target/sipp");
        std::fs::create_dir_all(&dir).expect("create target/sipp");
        let tag = format!("{}-{}-{n}", self.scenario, std::process::id());
        let log = dir.join(format!("{tag}.log"));
        let errors = dir.join(format!("{tag}.errors"));
        let _ = std::fs::remove_file(&log);
        let _ = std::fs::remove_file(&errors);
        let scenario = repo().join(format!("sipp/{}.xml", self.scenario));
        // The longest a run may take: its calls at its rate, plus a minute.
        let bound = self.calls / self.rate.max(1) + 60;
        let child = Command::new("sipp")
            .arg("-sf")
            .arg(&scenario)
            .args(["-s", &self.user, "-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &port.to_string(), "-mp", &(port + 2).to_string()])
            .args(["-m", &self.calls.to_string(), "-r", &self.rate.to_string()])
            .args(["-l", &self.calls.to_string()])
            .args(["-d", &self.pause_ms.to_string()])
            .args(["-timeout", &format!("{bound}s"), "-recv_timeout", "30000"])
            .args(["-nostdin", "-trace_logs", "-trace_err"])
            .arg("-log_file")
            .arg(&log)
            .arg("-error_file")
            .arg(&errors)
            .arg(format!("127.0.0.1:{}", sip_port()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run sipp (Debian's sip-tester: scripts/testbed deps installs it)");
        Running {
            child: Some(child),
            log,
            errors,
        }
    }

    /// Runs SIPp to its end.
    pub fn run(self) -> SippResult {
        self.start().finish()
    }
}

impl Running {
    /// Waits until SIPp's log (`<log>` actions) has a line containing `what`.
    pub fn wait_log(&self, what: &str) {
        eventually(&format!("SIPp logged {what:?}"), || {
            std::fs::read_to_string(&self.log).is_ok_and(|l| l.contains(what))
        });
    }

    /// Waits for SIPp to end.
    pub fn finish(mut self) -> SippResult {
        let child = self.child.take().expect("a running SIPp");
        let out = child.wait_with_output().expect("wait for sipp");
        let screen = String::from_utf8_lossy(&out.stdout).into_owned();
        let count = |what: &str| {
            screen
                .lines()
                .filter(|l| l.trim_start().starts_with(what))
                .last()
                .and_then(|l| l.rsplit('|').next())
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        let errors = std::fs::read_to_string(&self.errors).unwrap_or_default();
        SippResult {
            code: out.status.code().unwrap_or(-1),
            successful: count("Successful call"),
            failed: count("Failed call"),
            output: format!(
                "{screen}\n{}\nerrors:\n{errors:.4000}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
