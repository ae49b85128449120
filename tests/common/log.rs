//! Asterisk's log file, as the container writes it.

use super::*;

/// Asterisk's log as the container writes it.
pub struct Log {
    path: PathBuf,
    start: u64,
}

impl Log {
    /// Marks the current end of messages.log; `wait_line` looks after it.
    pub fn mark() -> Log {
        asterisk();
        let path = cache_dir().join("run/log/messages.log");
        let start = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Log { path, start }
    }

    /// The whole of messages.log since Asterisk started (`wait_line` looks at all of it).
    pub fn since_start() -> Log {
        Log {
            path: cache_dir().join("run/log/messages.log"),
            start: 0,
        }
    }

    /// Lines written since the mark.
    pub fn lines(&self) -> Vec<String> {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        if f.seek(SeekFrom::Start(self.start)).is_err() {
            return Vec::new();
        }
        BufReader::new(f).lines().map_while(Result::ok).collect()
    }

    /// Waits for a line (after the mark) containing every one of `parts`.
    pub fn wait_line(&self, parts: &[&str]) -> String {
        let until = Instant::now() + *LIVENESS;
        loop {
            if let Some(l) = self
                .lines()
                .into_iter()
                .find(|l| parts.iter().all(|p| l.contains(p)))
            {
                return l;
            }
            assert!(
                Instant::now() < until,
                "no log line with {parts:?} within {:?}; lines since mark:\n{}",
                *LIVENESS,
                self.lines().join("\n")
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}
