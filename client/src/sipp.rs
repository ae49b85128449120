//! SIP calls placed by SIPp (Debian's `sip-tester`) with the scenarios of `sipp/` in this
//! repository: the callers of the SIP tests, the benchmark's SIP section and the demo's `--sip`.
//! Every run is bounded (a call count, `-timeout`, `-recv_timeout`), binds to loopback only, and
//! is killed if dropped before its end.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A SIPp run's settings.
#[derive(Clone, Debug)]
pub struct Sipp {
    scenario: PathBuf,
    user: String,
    target: String,
    port: u16,
    calls: u32,
    rate: u32,
    pause_ms: u32,
    dir: PathBuf,
}

/// How a SIPp run ended.
#[derive(Debug)]
pub struct SippResult {
    /// Its exit status: 0 when every call succeeded.
    pub code: i32,
    pub successful: u64,
    pub failed: u64,
    /// SIPp's own CPU time (user + system) and the run's wall time.
    pub cpu: Duration,
    pub wall: Duration,
    /// Its final screen and the errors it logged, for messages.
    pub output: String,
}

impl SippResult {
    /// Every one of `calls` calls succeeded.
    pub fn all_succeeded(&self, calls: u64) -> bool {
        (self.code, self.successful, self.failed) == (0, calls, 0)
    }
}

/// A SIPp run going on in the background.
pub struct Running {
    child: Option<Child>,
    log: PathBuf,
    errors: PathBuf,
    started: Instant,
}

impl Sipp {
    /// One call of `scenario` (a SIPp XML file) to the called user `user` at `target`
    /// (`127.0.0.1:PORT`). `port` is SIPp's own SIP port; it also takes the four above it for
    /// media (RTP and RTCP, audio and video) starting at `port + 2`. Its logs go to `dir`.
    pub fn new(scenario: &Path, user: &str, target: &str, port: u16, dir: &Path) -> Sipp {
        Sipp {
            scenario: scenario.to_owned(),
            user: user.to_owned(),
            target: target.to_owned(),
            port,
            calls: 1,
            rate: 10,
            pause_ms: 0,
            dir: dir.to_owned(),
        }
    }

    /// `calls` calls at `rate` per second.
    pub fn calls(mut self, calls: u32, rate: u32) -> Sipp {
        self.calls = calls;
        self.rate = rate.max(1);
        self
    }

    /// The length of the scenario's `<pause/>`.
    pub fn pause_ms(mut self, ms: u32) -> Sipp {
        self.pause_ms = ms;
        self
    }

    /// Starts SIPp; [`Running::finish`] waits for it.
    pub fn start(&self) -> Result<Running, String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let name = self
            .scenario
            .file_stem()
            .map_or("sipp".into(), |s| s.to_string_lossy().into_owned());
        let tag = format!("{name}-{}-{}", std::process::id(), self.port);
        let log = self.dir.join(format!("{tag}.log"));
        let errors = self.dir.join(format!("{tag}.errors"));
        let _ = std::fs::remove_file(&log);
        let _ = std::fs::remove_file(&errors);
        // The longest a run may take: its calls at its rate, plus a minute.
        let bound = self.calls / self.rate + 60;
        let child = Command::new("sipp")
            .arg("-sf")
            .arg(&self.scenario)
            .args(["-s", &self.user, "-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &self.port.to_string()])
            .args(["-mp", &(self.port + 2).to_string()])
            .args(["-m", &self.calls.to_string(), "-r", &self.rate.to_string()])
            .args(["-l", &self.calls.to_string()])
            .args(["-d", &self.pause_ms.to_string()])
            .args(["-timeout", &format!("{bound}s"), "-recv_timeout", "30000"])
            .args(["-nostdin", "-trace_logs", "-trace_err"])
            .arg("-log_file")
            .arg(&log)
            .arg("-error_file")
            .arg(&errors)
            .arg(&self.target)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!("sipp (Debian's sip-tester: scripts/testbed deps installs it): {e}")
            })?;
        Ok(Running {
            child: Some(child),
            log,
            errors,
            started: Instant::now(),
        })
    }
}

/// CPU seconds of the waited-for children of this process so far (`getrusage`).
fn children_cpu() -> Duration {
    // SAFETY: an all-zero rusage is a valid value to be overwritten.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_CHILDREN and a valid pointer to a rusage.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut r) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(r.ru_utime) + tv(r.ru_stime)
}

impl Running {
    /// Whether SIPp's log (its `<log>` actions) has a line containing `what` yet.
    pub fn logged(&self, what: &str) -> bool {
        std::fs::read_to_string(&self.log).is_ok_and(|l| l.contains(what))
    }

    /// Whether SIPp is still running.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Waits for SIPp to end. (Its CPU time is read from this process's children's usage:
    /// exact when no other child of this process ends meanwhile.)
    pub fn finish(mut self) -> SippResult {
        let child = self.child.take().expect("a running SIPp");
        let before = children_cpu();
        let out = child.wait_with_output().expect("wait for sipp");
        let cpu = children_cpu().saturating_sub(before);
        let screen = String::from_utf8_lossy(&out.stdout).into_owned();
        let count = |what: &str| {
            screen
                .lines()
                .rfind(|l| l.trim_start().starts_with(what))
                .and_then(|l| l.rsplit('|').next())
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        let errors = std::fs::read_to_string(&self.errors).unwrap_or_default();
        SippResult {
            code: out.status.code().unwrap_or(-1),
            successful: count("Successful call"),
            failed: count("Failed call"),
            cpu,
            wall: self.started.elapsed(),
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
