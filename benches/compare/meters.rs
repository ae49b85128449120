//! How it measures: CPU seconds and resident memory of a process, from /proc.

use std::time::Instant;

pub fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }) as f64
}

/// utime + stime of a process, in seconds.
pub fn cpu_of(pid: &str) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // fields 14 and 15 of stat; index 0 here is field 3 (state)
    (tick(11) + tick(12)) / clk_tck()
}

pub fn rss_kib(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Asterisk's and the client's CPU seconds, and wall time, over a stretch.
pub struct Meter {
    pub pid: String,
    pub wall: Instant,
    pub ast: f64,
    pub me: f64,
}

impl Meter {
    pub fn start(pid: &str) -> Meter {
        Meter {
            pid: pid.to_owned(),
            wall: Instant::now(),
            ast: cpu_of(pid),
            me: cpu_of("self"),
        }
    }
    /// (wall s, Asterisk CPU s, client CPU s)
    pub fn stop(&self) -> (f64, f64, f64) {
        (
            self.wall.elapsed().as_secs_f64(),
            cpu_of(&self.pid) - self.ast,
            cpu_of("self") - self.me,
        )
    }
}

/// The machine's load average over the last minute: how busy it was besides the run (other
/// work inflates the tails, p99, more than the medians and the ratios).
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}
