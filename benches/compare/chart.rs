//! The chart of the ratios (SVG).

use std::fmt::Write as _;

use crate::stats::Row;
use crate::table::f;

pub fn svg(rows: &[Row]) -> String {
    let (w, bar, left, plot) = (1040.0, 22.0, 540.0, 440.0);
    let h = 70.0 + bar * rows.len() as f64 + 40.0;
    let x = |r: f64| {
        let l = r.clamp(0.01, 100.0).log10(); // -2 .. 2
        left + (l + 2.0) / 4.0 * plot
    };
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"15\">StasisBroadcast: ours / upstream (medians; log scale, capped at 0.01 and 100)</text>\n\
         <text x=\"10\" y=\"38\" fill=\"#555\">Oriented so that left of 1 is better for ours (calls/s is shown as upstream / ours). Green: better, red: worse.</text>\n"
    );
    for t in [0.01, 0.1, 1.0, 10.0, 100.0] {
        let _ = writeln!(
            s,
            "<line x1=\"{0}\" y1=\"50\" x2=\"{0}\" y2=\"{1}\" stroke=\"{2}\"/><text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{t}</text>",
            x(t),
            h - 30.0,
            if t == 1.0 { "#000" } else { "#ccc" },
            h - 15.0
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = 55.0 + bar * i as f64;
        let v = r.cost_ratio();
        let label = r.key.replace('&', "&amp;").replace('<', "&lt;");
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{label}</text>",
            left - 8.0,
            y + 14.0
        );
        if v.is_finite() && v > 0.0 {
            let (a, b) = (x(1.0), x(v));
            let _ = writeln!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>",
                a.min(b),
                y + 3.0,
                (a - b).abs().max(1.0),
                bar - 6.0,
                if v <= 1.0 { "#3a3" } else { "#c33" },
                a.max(b) + 4.0,
                y + 14.0,
                f(v)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}
