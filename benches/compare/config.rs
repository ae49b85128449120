//! What a run measures how often: the full and the quick preset.

pub struct Cfg {
    pub quick: bool,
    pub rounds: usize,
    /// No upstream module to compare with: ours against plain `Stasis()` only.
    pub no_upstream: bool,
    pub claim_rt: usize,
    pub hangup: usize,
    pub timeout: usize,
    pub saturation: usize,
    pub churn: usize,
    pub fanout: [(usize, usize); 3],
    pub offer: usize,
    pub waiting: [usize; 3],
    pub waiting_secs: u64,
}

impl Cfg {
    pub fn preset(quick: bool, rounds: usize, no_upstream: bool) -> Cfg {
        if quick {
            Cfg {
                quick,
                rounds,
                no_upstream,
                claim_rt: 20,
                hangup: 10,
                timeout: 8,
                saturation: 80,
                churn: 200,
                fanout: [(10, 8), (100, 8), (500, 5)],
                offer: 50,
                waiting: [1, 100, 300],
                waiting_secs: 2,
            }
        } else {
            Cfg {
                quick,
                rounds,
                no_upstream,
                claim_rt: 200,
                hangup: 50,
                timeout: 40,
                saturation: 1000,
                churn: 10_000,
                fanout: [(10, 40), (100, 40), (500, 25)],
                offer: 300,
                // 1000 waiting calls hold 2000 channel threads: scripts/testbed raises the
                // container's pids limit for that.
                waiting: [1, 300, 1000],
                waiting_secs: 5,
            }
        }
    }
}
