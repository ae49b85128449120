//! The client examples (`examples/python`, `examples/node`) against the test
//! bed: each worker runs as a child process with `--max-calls 1`, wins the one
//! call offered to it, sees its args and sends it on, then exits by itself.
//! Parity behaviour only, so these pass against ours and upstream alike.
//!
//! Dependencies are installed on first use: a venv under the cache directory
//! for Python (the system's site-packages stay untouched), `npm ci` in
//! `examples/node` for Node.js. A missing python3, node or npm fails the test.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// How long a worker may take to register, or to exit after its call: a
/// liveness bound (interpreters start slowly on a loaded machine), not a timing.
const WORKER_BOUND: Duration = Duration::from_secs(60);

/// Runs a set-up command to completion; panics with its output if it cannot
/// start (naming the missing tool) or fails.
fn run(cmd: &mut Command, needs: &str) {
    let shown = format!("{cmd:?}");
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("{needs} is required for the client examples but was not found ({shown}: {e})")
        }
        Err(e) => panic!("{shown}: {e}"),
    };
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The venv's python, with examples/python/requirements.txt installed.
fn python() -> &'static Path {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let venv = cache_dir().join("py-venv");
        let py = venv.join("bin/python");
        let usable = Command::new(&py)
            .args(["-c", "import sys"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !usable {
            run(
                Command::new("python3")
                    .args(["-m", "venv", "--clear"])
                    .arg(&venv),
                "python3 (with its venv module; on Debian: apt-get install python3-venv)",
            );
        }
        // Quick and offline when the requirements are already satisfied.
        run(
            Command::new(&py)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(repo().join("examples/python/requirements.txt")),
            "pip (in the venv)",
        );
        py
    })
}

/// examples/node with its node_modules (from package-lock.json).
fn node_example() -> PathBuf {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY
        .get_or_init(|| {
            let dir = repo().join("examples/node");
            run(Command::new("node").arg("--version"), "node");
            if !dir.join("node_modules/ari-client/package.json").exists() {
                run(
                    Command::new("npm")
                        .args(["ci", "--no-audit", "--no-fund"])
                        .current_dir(&dir),
                    "npm",
                );
            }
            dir
        })
        .clone()
}

/// A worker process; killed on drop if still running.
struct Worker {
    name: String,
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Worker {
    /// Starts `cmd --app <name> --max-calls 1` with its output collected,
    /// pointed at the test bed's HTTP port.
    fn spawn(mut cmd: Command, name: &str, needs: &str) -> Worker {
        let url = format!("http://{}", http_host());
        cmd.args(["--app", name, "--max-calls", "1", "--url", &url])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let shown = format!("{cmd:?}");
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start the worker ({shown}); {needs} is required: {e}")
        });
        let collect = |mut from: Box<dyn Read + Send>| {
            let buf = Arc::new(Mutex::new(String::new()));
            let into = buf.clone();
            thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = from.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    into.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&chunk[..n]));
                }
            });
            buf
        };
        let stdout = collect(Box::new(child.stdout.take().unwrap()));
        let stderr = collect(Box::new(child.stderr.take().unwrap()));
        Worker {
            name: name.to_owned(),
            child,
            stdout,
            stderr,
        }
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn output(&self) -> String {
        format!(
            "--- stdout of {}:\n{}--- stderr:\n{}",
            self.name,
            self.stdout(),
            self.stderr.lock().unwrap()
        )
    }

    /// Waits until Asterisk knows the worker's application.
    fn wait_registered(&mut self) {
        let until = Instant::now() + WORKER_BOUND;
        loop {
            if ari("GET", &format!("/applications/{}", self.name), &[], None).status == 200 {
                return;
            }
            if let Ok(Some(code)) = self.child.try_wait() {
                thread::sleep(Duration::from_millis(100)); // let the readers drain
                panic!(
                    "worker exited ({code}) before registering\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < until,
                "application {} not registered within {WORKER_BOUND:?}\n{}",
                self.name,
                self.output()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the worker to exit by itself (killed if it does not).
    fn wait_exit(&mut self) -> ExitStatus {
        let until = Instant::now() + WORKER_BOUND;
        loop {
            if let Some(code) = self.child.try_wait().expect("wait for the worker") {
                return code;
            }
            if Instant::now() >= until {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "worker did not exit within {WORKER_BOUND:?} after its call\n{}",
                    self.output()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The one scenario both clients run: a call offered only to the worker, won,
/// handed over with its args, sent on; the worker then exits 0.
fn worker_claims_one_call(mut worker: Worker) {
    worker.wait_registered();
    let call = Call::broadcast(&format!("10000,^{}$,alpha:beta", worker.name));
    assert_eq!(status(&call), "SUCCESS", "\n{}", worker.output());
    let code = worker.wait_exit();
    // The pipes close at exit; the readers may still be appending.
    let until = Instant::now() + *LIVENESS;
    while Arc::strong_count(&worker.stdout) > 1 && Instant::now() < until {
        thread::sleep(Duration::from_millis(10));
    }
    assert!(
        code.success(),
        "worker exited with {code}\n{}",
        worker.output()
    );
    let out = worker.stdout();
    assert!(
        out.lines().any(|l| l == format!("won {}", call.id)),
        "worker did not report winning {}\n{}",
        call.id,
        worker.output()
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("StasisStart {}", call.id))
                && l.contains("alpha")
                && l.contains("beta")),
        "worker did not print the args alpha, beta\n{}",
        worker.output()
    );
}

#[test]
fn python_worker_claims_and_continues() {
    asterisk();
    let mut cmd = Command::new(python());
    cmd.arg(repo().join("examples/python/worker.py"));
    worker_claims_one_call(Worker::spawn(cmd, &unique("py-worker"), "python3"));
}

#[test]
fn node_worker_claims_and_continues() {
    asterisk();
    let mut cmd = Command::new("node");
    cmd.arg("worker.js").current_dir(node_example());
    worker_claims_one_call(Worker::spawn(cmd, &unique("node-worker"), "node"));
}
