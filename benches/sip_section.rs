//! The SIP section of BENCHMARKS.md: `--bench sip` writes it (also to benchmarks/sip.md), and
//! `--bench compare`, which writes the rest of the file anew, keeps it.

use std::path::Path;

const BEGIN: &str = "<!-- sip-benchmark: begin (cargo bench --bench sip) -->";
const END: &str = "<!-- sip-benchmark: end -->";

/// The section as it stands in BENCHMARKS.md, markers included: the last SIP run's report
/// (benchmarks/sip.md), or nothing before the first one.
fn section(repo: &Path) -> String {
    std::fs::read_to_string(repo.join("benchmarks/sip.md"))
        .map(|md| format!("{BEGIN}\n{md}{END}\n"))
        .unwrap_or_default()
}

/// BENCHMARKS.md with the section put in place of the previous one, or appended.
pub fn splice(md: &str, repo: &Path) -> String {
    let block = section(repo);
    match (md.find(BEGIN), md.find(END)) {
        (Some(b), Some(e)) if e > b => {
            let after = md[e + END.len()..].trim_start_matches('\n');
            format!("{}{block}{after}", &md[..b])
        }
        _ => format!("{}\n\n{block}", md.trim_end()),
    }
}
