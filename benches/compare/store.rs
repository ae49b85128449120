//! The raw samples on disk (`benchmarks/results.json`), so that a report can be regenerated, and which module build was measured.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::config::Cfg;
use crate::stats::Results;
use crate::{repo, sh};

/// The module build the test bed mounts as "ours", by scripts/testbed's rule:
/// `$CARGO_TARGET_DIR/release/…`, else `target/release/…` for 22.10.1 and
/// `target/asterisk-VERSION/release/…` for the other versions.
pub fn module_path() -> std::path::PathBuf {
    let dir = match (
        std::env::var_os("CARGO_TARGET_DIR"),
        std::env::var("ASB_ASTERISK"),
    ) {
        (Some(dir), _) => repo().join(dir),
        (None, Ok(v)) if v != crate::UPSTREAM_VERSION => {
            repo().join(format!("target/asterisk-{v}"))
        }
        (None, _) => repo().join("target"),
    };
    dir.join("release/libapp_stasis_broadcast.so")
}

/// Which module build "ours" is: its path, sha256 prefix and build time, and
/// whether any source is newer (then the run measured an older build).
pub fn module_info() -> Value {
    let so = module_path();
    let mtime = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let built = mtime(&so);
    let mut newest = None;
    let mut stack = vec![
        repo().join("src"),
        repo().join("include"),
        repo().join("build.rs"),
        repo().join("wrapper.h"),
    ];
    while let Some(p) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&p) {
            stack.extend(rd.flatten().map(|e| e.path()));
        } else if let Some(t) = mtime(&p) {
            newest = newest.max(Some(t));
        }
    }
    let path = so.strip_prefix(repo()).unwrap_or(&so).display().to_string();
    json!({
        "path": path,
        "sha256": sh(&format!("sha256sum '{}' | cut -c1-16", so.display())),
        "built": sh(&format!("date -u -r '{}' '+%Y-%m-%d %H:%M:%S UTC'", so.display())),
        "stale": newest > built,
    })
}

/// The name of the results file: `results` (ours vs upstream), or `asterisk-<version>` for a
/// run without upstream (`ASB_ASTERISK`, default `UPSTREAM_VERSION`).
pub fn stem(cfg: &Cfg) -> String {
    if cfg.no_upstream {
        let v = std::env::var("ASB_ASTERISK").unwrap_or_else(|_| crate::UPSTREAM_VERSION.into());
        format!("asterisk-{v}")
    } else {
        "results".into()
    }
}

/// The raw samples, so that the report can be regenerated (`--from benchmarks/results.json`).
pub fn save(cfg: &Cfg, res: &Results, info: &Value, total: Duration) {
    let samples: Vec<Value> = res
        .samples
        .iter()
        .map(|((k, m), v)| json!({ "key": k, "mode": if *m == 0 { "ours" } else { "upstream" }, "values": v }))
        .collect();
    let v = json!({
        "quick": cfg.quick,
        "no_upstream": cfg.no_upstream,
        "rounds": cfg.rounds,
        "info": info,
        "total_secs": total.as_secs_f64(),
        "order": res.order,
        "samples": samples,
        "cpu": res.cpu.iter().map(|(l, me, ast)| json!([l, me, ast])).collect::<Vec<_>>(),
        "notes": res.notes,
    });
    std::fs::create_dir_all(repo().join("benchmarks")).ok();
    std::fs::write(
        repo().join(format!("benchmarks/{}.json", stem(cfg))),
        serde_json::to_string_pretty(&v).unwrap(),
    )
    .expect("write results.json");
}

pub fn load(path: &Path) -> (Cfg, Results, Value, Duration) {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read results"))
        .expect("parse results");
    let quick = v["quick"].as_bool().unwrap_or(false);
    let mut cfg = Cfg::preset(quick, 0, v["no_upstream"].as_bool().unwrap_or(false));
    cfg.rounds = v["rounds"].as_u64().unwrap_or(0) as usize;
    let strs = |x: &Value| -> Vec<String> {
        x.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut res = Results {
        order: strs(&v["order"]),
        notes: strs(&v["notes"]),
        ..Results::default()
    };
    for smp in v["samples"].as_array().into_iter().flatten() {
        let mode = usize::from(smp["mode"] != "ours");
        let vals = smp["values"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        res.samples
            .insert((smp["key"].as_str().unwrap_or("").to_owned(), mode), vals);
    }
    for c in v["cpu"].as_array().into_iter().flatten() {
        res.cpu.push((
            c[0].as_str().unwrap_or("").to_owned(),
            c[1].as_f64().unwrap_or(0.0),
            c[2].as_f64().unwrap_or(0.0),
        ));
    }
    let info = v["info"].clone();
    let total = Duration::from_secs_f64(v["total_secs"].as_f64().unwrap_or(0.0));
    (cfg, res, info, total)
}
