//! A second Asterisk beside the test bed (another HTTP port, container name and cache), for
//! tests of one pool serving several nodes. Taken from the environment, so that it can run
//! beside other test beds: `ASB_HTTP_PORT_2` (default 8089), `ASB_CONTAINER_2` (default
//! `asb-asterisk-2`), `ASB_CACHE_2` (default the first node's cache directory + `-2`).

use super::*;

/// The second node: started in the mode this run targets, stopped when dropped.
pub struct SecondNode {
    env: Vec<(&'static str, String)>,
    node: Node,
}

impl SecondNode {
    pub fn start() -> SecondNode {
        let var = |k: &str, default: String| std::env::var(k).unwrap_or(default);
        let port = var("ASB_HTTP_PORT_2", "8089".into());
        let env = vec![
            ("ASB_HTTP_PORT", port.clone()),
            (
                "ASB_CONTAINER",
                var("ASB_CONTAINER_2", "asb-asterisk-2".into()),
            ),
            (
                "ASB_CACHE",
                var("ASB_CACHE_2", format!("{}-2", cache_dir().display())),
            ),
        ];
        let node = Node::new(&format!("http://127.0.0.1:{port}/ari"), USER, PASS).unwrap();
        let second = SecondNode { env, node };
        match target() {
            Target::Ours => second.testbed(&["start"]),
            Target::Upstream => second.testbed(&["start", "--upstream"]),
        };
        second
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Runs scripts/testbed for this node; panics with its output on failure.
    pub fn testbed(&self, args: &[&str]) -> String {
        run(&self.env, args)
    }

    /// Stopping the node (its container goes, with every call in it), to run on any thread.
    pub fn stopper(&self) -> impl FnOnce() + Send + 'static {
        let env = self.env.clone();
        move || {
            run(&env, &["stop"]);
        }
    }
}

fn run(env: &[(&'static str, String)], args: &[&str]) -> String {
    let out = Command::new(repo().join("scripts/testbed"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run scripts/testbed");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "second node: scripts/testbed {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

impl Drop for SecondNode {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/testbed"))
            .arg("stop")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output();
    }
}
