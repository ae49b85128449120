//! The results table and the targets.

use std::fmt::Write as _;

use crate::config::Cfg;
use crate::stats::Row;

/// The run's notes as a Markdown section (nothing when there are none).
pub fn notes(notes: &[String]) -> String {
    let mut md = String::new();
    if !notes.is_empty() {
        md.push_str("## Notes from the run\n\n");
        for n in notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    md
}

pub fn f(v: f64) -> String {
    if v.is_nan() {
        "—".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else if v.abs() >= 0.1 || v == 0.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

pub fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| workload | ours median | ours p99 | upstream median | upstream p99 | ratio median | ratio p99 |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | **{}** | {} |",
            r.key,
            f(r.om),
            f(r.op),
            f(r.um),
            f(r.up),
            f(r.ratio()),
            f(r.op / r.up)
        );
    }
    s
}

pub fn find<'a>(rows: &'a [Row], key: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.key.starts_with(key))
}

pub fn targets(rows: &[Row], cfg: &Cfg) -> Vec<(String, bool, String)> {
    let mut t = vec![];
    let mut push = |name: &str, ok: Option<bool>, detail: String| {
        t.push((name.to_owned(), ok.unwrap_or(false), detail));
    };
    let r = find(rows, "hangup while waiting");
    push(
        "hangup → return under 5 ms at p99",
        r.map(|r| r.op < 5.0),
        r.map(|r| format!("p99 {} ms", f(r.op))).unwrap_or_default(),
    );
    let k = *cfg.waiting.last().unwrap();
    let (a, b) = (
        find(rows, "waiting cost, 1 waiting"),
        find(rows, &format!("waiting cost, {k} waiting")),
    );
    push(
        &format!("waiting cost: {k} waiting within 1 percentage point of 1 waiting"),
        a.zip(b).map(|(a, b)| b.om - a.om <= 1.0),
        a.zip(b)
            .map(|(a, b)| format!("{} % vs {} %", f(b.om), f(a.om)))
            .unwrap_or_default(),
    );
    let r = find(rows, "offer cost: Asterisk CPU per offered application");
    push(
        "CPU per offered application ≤ 0.7 × upstream",
        r.map(|r| r.ratio() <= 0.7),
        r.map(|r| format!("ratio {}", f(r.ratio())))
            .unwrap_or_default(),
    );
    for w in [100, 500] {
        let r = find(rows, &format!("fan-out {w}: last"));
        push(
            &format!("fan-out to {w} (last worker, median) ≤ 0.7 × upstream"),
            r.map(|r| r.ratio() <= 0.7),
            r.map(|r| format!("ratio {}", f(r.ratio())))
                .unwrap_or_default(),
        );
    }
    for (name, key) in [
        (
            "CPU per call with one worker no worse than upstream",
            "offer cost: Asterisk CPU per broadcast to 1 ",
        ),
        (
            "claim round trip no worse than upstream",
            "claim round trip",
        ),
        (
            "saturation calls/s no worse than upstream",
            "saturation, StasisBroadcast, 1 worker: calls/s",
        ),
        (
            "saturation CPU per call no worse than upstream",
            "saturation, StasisBroadcast, 1 worker: Asterisk CPU",
        ),
    ] {
        let r = find(rows, key);
        push(
            &format!("{name} (median, 5 % noise allowance)"),
            r.map(|r| r.cost_ratio() <= 1.05),
            r.map(|r| format!("ratio {}", f(r.ratio())))
                .unwrap_or_default(),
        );
    }
    t
}
