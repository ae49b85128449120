//! The demo's command-line flags.

use clap::Parser;

/// N ARI workers (applications pool-1 .. pool-N) compete for M calls that StasisBroadcast()
/// offers them (extension `pool` of the test bed: filter ^pool-), on one Asterisk node or
/// several. Prints live progress on stderr and tables per worker, per node and overall on
/// stdout. Exit status 0 when every call ended with a STASISSTATUS (or its node went away
/// during the run, which is reported), 1 otherwise.
#[derive(Parser, Debug)]
#[command(name = "worker_pool")]
pub struct Options {
    /// Worker applications
    #[arg(long, default_value_t = 8)]
    pub workers: usize,
    /// Calls to originate, spread over the nodes in turn
    #[arg(long, default_value_t = 40)]
    pub calls: usize,
    /// Calls outstanding at a time (originated, no STASISSTATUS yet), over all nodes
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..))]
    pub concurrency: u64,
    /// A worker waits a random 0..=T ms before each claim
    #[arg(long, value_name = "T", default_value_t = 20)]
    pub think_ms: u64,
    /// StasisBroadcast's timeout (0..=60000; outside it the module would use its default)
    #[arg(long, value_name = "MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub timeout_ms: u64,
    /// A winner keeps its call in Stasis this long, then `continue`s it
    #[arg(long, value_name = "H", default_value_t = 50)]
    pub hold_ms: u64,
    /// ARI base URL of an Asterisk node, plain http. Repeat it for several nodes: every worker
    /// holds one WebSocket per node under its application name and claims calls from all of
    /// them. The default follows ASB_HTTP_PORT (the test bed's port)
    #[arg(long = "ari", value_name = "URL", default_values_t = [default_ari()])]
    pub ari: Vec<String>,
    /// Place the calls as real SIP calls from SIPp (Debian's sip-tester; scenario
    /// sipp/claimed.xml) on each node's SIP port (its ARI port - 3018, as the test bed sets it),
    /// instead of originating Local channels. The test bed's context asb-sip offers them for
    /// 10 s to ^pool-.*$ (--timeout-ms does not apply); claimed calls are answered and hung up
    /// 0.2 s later, unclaimed ones get 486
    #[arg(long)]
    pub sip: bool,
    /// With --sip: calls per second per node
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: u32,
    /// Serve instead of placing calls: the workers claim whatever they are offered (anyone's
    /// calls) until SIGTERM or ^C, and the tables per worker and per node are written to FILE
    /// (`-`: stdout) each second they changed (scripts/cluster up runs the pool this way)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["sip", "calls"])]
    pub serve: Option<std::path::PathBuf>,
    /// ARI user (unless given in the URL)
    #[arg(long, default_value = "asb")]
    pub user: String,
    /// ARI password (unless given in the URL)
    #[arg(long, default_value = "asb")]
    pub password: String,
}

fn default_ari() -> String {
    let port = std::env::var("ASB_HTTP_PORT").unwrap_or_else(|_| "8088".into());
    format!("http://127.0.0.1:{port}/ari")
}
