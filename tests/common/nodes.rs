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
        second.testbed(target().start_args());
        second
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Runs scripts/testbed for this node; panics with its output on failure.
    pub fn testbed(&self, args: &[&str]) -> String {
        testbed_env(&self.env, args)
    }

    /// Stopping the node (its container goes, with every call in it), to run on any thread.
    pub fn stopper(&self) -> impl FnOnce() + Send + 'static {
        let env = self.env.clone();
        move || {
            testbed_env(&env, &["stop"]);
        }
    }
}

impl Drop for SecondNode {
    fn drop(&mut self) {
        let _ = testbed_command(&self.env, &["stop"]).output();
    }
}
