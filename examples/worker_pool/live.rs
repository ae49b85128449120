//! The live view: one progress line, rewritten in place on a terminal, one line per second
//! otherwise (a log stays readable).

use ari_worker::PoolState;

use crate::calls::Outcome;
use crate::Run;

pub fn progress(run: &Run, pool: &PoolState, out: &Outcome) {
    let done = out.total(|n| n.ended() + n.unfinished + n.lost_with_node) + out.not_started;
    let mut line = format!(
        "calls {done}/{}  success {}  timeout {}  failed {}  claims 204:{} 409:{} 404:{}",
        run.opts.calls,
        out.status("SUCCESS"),
        out.status("TIMEOUT"),
        out.status("FAILED"),
        pool.total(|c| &c.won),
        pool.total(|c| &c.lost),
        pool.total(|c| &c.not_found),
    );
    let gone = out.nodes.iter().filter(|n| n.gone).count();
    if gone > 0 {
        line.push_str(&format!("  nodes down {gone}/{}", out.nodes.len()));
    }
    if run.tty {
        eprint!("\r{line}\x1b[K");
    } else {
        eprintln!("{line}");
    }
}
