//! Samples per workload and mode, and the statistics over them (median, percentiles, ratios).

use std::collections::HashMap;

#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    Ours,
    Upstream,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Ours => "ours",
            Mode::Upstream => "upstream",
        }
    }
}

#[derive(Default)]
pub struct Results {
    /// (metric key, mode index) -> samples
    pub samples: HashMap<(String, usize), Vec<f64>>,
    pub order: Vec<String>,
    /// Client CPU vs Asterisk CPU per loaded workload: (label, client s, Asterisk s)
    pub cpu: Vec<(String, f64, f64)>,
    pub notes: Vec<String>,
}

impl Results {
    pub fn add(&mut self, key: &str, mode: Mode, v: impl IntoIterator<Item = f64>) {
        if !self.order.iter().any(|k| k == key) {
            self.order.push(key.to_owned());
        }
        self.samples
            .entry((key.to_owned(), mode as usize))
            .or_default()
            .extend(v);
    }
    pub fn cpu(&mut self, label: &str, client: f64, ast: f64) {
        self.cpu.push((label.to_owned(), client, ast));
    }
}

pub fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

pub struct Row {
    pub key: String,
    pub om: f64,
    pub op: f64,
    pub um: f64,
    pub up: f64,
    pub higher_better: bool,
}

impl Row {
    /// ours/upstream of the medians.
    pub fn ratio(&self) -> f64 {
        self.om / self.um
    }
    /// Oriented so that below 1 is better for ours.
    pub fn cost_ratio(&self) -> f64 {
        if self.higher_better {
            self.um / self.om
        } else {
            self.ratio()
        }
    }
}

pub fn rows(res: &Results) -> Vec<Row> {
    res.order
        .iter()
        .map(|k| {
            let get = |m: usize| {
                res.samples
                    .get(&(k.clone(), m))
                    .cloned()
                    .unwrap_or_default()
            };
            let (o, u) = (get(0), get(1));
            Row {
                key: k.clone(),
                om: median(&o),
                op: pct(&o, 99.0),
                um: median(&u),
                up: pct(&u, 99.0),
                higher_better: k.contains('↑'),
            }
        })
        .collect()
}
