//! Kamailio in front of two Asterisk nodes, as `scripts/cluster` runs them (cluster/kamailio.cfg,
//! the nodes as scripts/testbed containers), with ports, containers and a run directory of their
//! own beside the test bed's: nodes on its HTTP port + 8 and + 9 (SIP: those - 3018), Kamailio
//! on 6000 + (HTTP port - 8088), containers `<test bed's>-cl-1` and `-2`, run directory
//! `<cache>-cluster`. Kamailio traces each call's routing (ASB_CLUSTER_TRACE).

use super::*;

use ari_worker::Ari;

/// A running cluster; `scripts/cluster down` when dropped. One at a time in a test binary (they
/// share ports and containers): it holds the harness's serial lock while it lives.
pub struct Cluster {
    _one_at_a_time: std::sync::MutexGuard<'static, ()>,
    env: Vec<(&'static str, String)>,
    dir: PathBuf,
    kamailio_port: u16,
    pub nodes: Vec<Ari>,
}

impl Cluster {
    /// Two nodes on `releases` (node 1's, node 2's) behind Kamailio; no pool (the test brings its
    /// own). Returns once Kamailio has both nodes active.
    pub fn up(releases: [&str; 2]) -> Cluster {
        let one_at_a_time = serial();
        let http = http_host()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .expect("the test bed's HTTP port");
        let dir = PathBuf::from(format!("{}-cluster", cache_dir().display()));
        let kamailio_port = 6000 + (http - 8088);
        let env = vec![
            ("ASB_CLUSTER_DIR", dir.display().to_string()),
            ("ASB_CLUSTER_SIP_PORT", kamailio_port.to_string()),
            ("ASB_CLUSTER_HTTP_PORT", (http + 8).to_string()),
            ("ASB_CLUSTER_CONTAINER", format!("{}-cl", container())),
            ("ASB_CLUSTER_TRACE", "1".into()),
        ];
        let nodes = [http + 8, http + 9]
            .map(|p| {
                let url = format!("http://127.0.0.1:{p}/ari");
                Ari::new(Node::new(&url, USER, PASS).unwrap())
            })
            .to_vec();
        let cluster = Cluster {
            _one_at_a_time: one_at_a_time,
            env,
            dir,
            kamailio_port,
            nodes,
        };
        cluster.run(&[
            "up",
            "--nodes",
            "2",
            "--no-pool",
            "--asterisk",
            releases[0],
            "--asterisk",
            releases[1],
        ]);
        cluster
    }

    /// Runs `scripts/cluster ARGS`; panics with its output on failure.
    pub fn run(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(repo().join("scripts/cluster"));
        cmd.args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env_remove("CARGO_TARGET_DIR");
        stdout_of(cmd, &format!("scripts/cluster {args:?}"))
    }

    /// Where callers send their calls: Kamailio.
    pub fn sip(&self) -> String {
        format!("127.0.0.1:{}", self.kamailio_port)
    }

    /// Node `k`'s (1-based) SIP address as Kamailio's trace names it.
    pub fn node_sip(&self, k: usize) -> String {
        let port = self.nodes[k - 1].node().base().port().expect("a port") - 3018;
        format!("127.0.0.1:{port}")
    }

    /// Kamailio's dispatcher flags for node `k` (1-based): `AP` active, `IP` inactive, `out`
    /// drained (from `scripts/cluster status`).
    pub fn dispatcher(&self, k: usize) -> String {
        let status = self.run(&["status"]);
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("node{k} ")))
            .unwrap_or_else(|| panic!("no node{k} in:\n{status}"));
        line.split_whitespace()
            .find_map(|w| w.strip_prefix("dispatcher="))
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits until Kamailio's flags for node `k` start with `state` (A, I).
    pub fn wait_dispatcher(&self, k: usize, state: &str) {
        eventually(&format!("Kamailio has node {k} {state}"), || {
            self.dispatcher(k).starts_with(state)
        });
    }

    /// Kamailio's `trace:` lines so far, without the prefix.
    pub fn trace(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("kamailio.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once("trace: ").map(|(_, t)| t.to_owned()))
            .collect()
    }

    /// One SIPp run of `scenario` through Kamailio to `user`.
    pub fn sipp(&self, scenario: &str, user: &str) -> Sipp {
        sipp_to(scenario, user, &self.sip())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/cluster"))
            .arg("down")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output();
    }
}
