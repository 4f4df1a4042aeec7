//! `report.md` and `report.json`: every claim with its verdict, measurements, figures and notes.
//!
//! The report holds no timestamps and nothing about whether a result came from the cache, so a run
//! that was killed and resumed produces the same report as an uninterrupted one.

use std::fmt::Write as _;

use serde::Serialize;

use crate::experiment::{Claim, Measure, Measured, Outcome};

/// The verdict on one experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// Every check passed.
    #[serde(rename = "PASS")]
    Pass,
    /// Some check failed (or there were none): the claim was not confirmed.
    #[serde(rename = "FAIL")]
    Fail,
    /// The experiment could not run to a verdict (IO error, panic, ...).
    #[serde(rename = "ERROR")]
    Error,
}

impl Verdict {
    /// "PASS", "FAIL" or "ERROR".
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
        }
    }
}

/// One experiment's line in the report.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub claim: Claim,
    pub verdict: Verdict,
    pub config_hash: String,
    /// Wall-clock seconds of the run that produced the result (the stored value when cached).
    pub seconds: f64,
    /// `None` when the experiment errored.
    pub outcome: Option<Outcome>,
    pub error: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Report {
    pub xtask_version: String,
    pub quick: bool,
    pub seed: u64,
    pub entries: Vec<Entry>,
}

impl Report {
    /// Number of entries with the given verdict.
    pub fn count(&self, v: Verdict) -> usize {
        self.entries.iter().filter(|e| e.verdict == v).count()
    }
}

/// A number with 4 significant digits for tables: integers as integers (below 10⁷), `∞`/`-∞` for
/// infinities, `NaN`, scientific notation outside [1e-4, 1e6).
pub fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "∞".into() } else { "-∞".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    if x.fract() == 0.0 && x.abs() < 1e7 {
        return format!("{x:.0}");
    }
    let e = x.abs().log10().floor() as i32;
    if (-4..6).contains(&e) {
        let decimals = (3 - e).max(0) as usize;
        let s = format!("{x:.decimals$}");
        if s.contains('.') {
            return s.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        return s;
    }
    let s = format!("{x:.3e}");
    match s.split_once('e') {
        Some((m, exp)) => {
            let m = m.trim_end_matches('0').trim_end_matches('.');
            format!("{m}e{exp}")
        }
        None => s,
    }
}

fn fmt_measure(m: &Measure) -> String {
    match m {
        Measure::Num(x) => fmt_num(*x),
        Measure::Text(s) => s.clone(),
    }
}

fn fmt_measured(m: &Measured) -> String {
    m.0.iter().map(|(k, v)| format!("{k} = {}", fmt_measure(v))).collect::<Vec<_>>().join(", ")
}

/// Makes text safe inside a markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn is_figure(f: &str) -> bool {
    let l = f.to_ascii_lowercase();
    l.ends_with(".svg") || l.ends_with(".png")
}

/// Renders `report.md`. Links are relative to the output directory (`<name>/<file>`).
pub fn render_markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# gmdiff: theorem-validation report\n");
    let _ = writeln!(
        s,
        "Mode **{}**, seed {}, xtask {}. {} experiment(s): **{} PASS**, {} FAIL, {} ERROR.\n",
        if r.quick { "quick" } else { "full" },
        r.seed,
        r.xtask_version,
        r.entries.len(),
        r.count(Verdict::Pass),
        r.count(Verdict::Fail),
        r.count(Verdict::Error),
    );
    let _ = writeln!(s, "| Experiment | Verdict | Claim | Paper | THEORY | Checks passed | Figures | Notes |");
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for e in &r.entries {
        let (checks, figures, notes) = match &e.outcome {
            Some(o) => (
                format!("{}/{}", o.checks.iter().filter(|c| c.passed).count(), o.checks.len()),
                o.files.iter().filter(|f| is_figure(f)).map(|f| format!("[{f}]({}/{f})", e.name)).collect::<Vec<_>>().join(", "),
                o.notes.join("; "),
            ),
            None => ("-".into(), String::new(), e.error.clone().unwrap_or_default()),
        };
        let _ = writeln!(
            s,
            "| `{}` | **{}** | {} | {} | {} | {} | {} | {} |",
            e.name,
            e.verdict.as_str(),
            cell(e.claim.statement),
            cell(e.claim.paper),
            cell(e.claim.theory_section),
            checks,
            figures,
            cell(&notes),
        );
    }
    for e in &r.entries {
        let _ = writeln!(s, "\n## {}: {}\n", e.name, e.verdict.as_str());
        let _ = writeln!(s, "> {}\n", e.claim.statement.replace('\n', " "));
        let _ = writeln!(
            s,
            "Paper: {}. THEORY {}. Configuration hash `{}`; {} s.\n",
            e.claim.paper,
            e.claim.theory_section,
            e.config_hash,
            fmt_num(e.seconds)
        );
        if let Some(err) = &e.error {
            let _ = writeln!(s, "**Error:** {}\n", err.replace('\n', " "));
        }
        let Some(o) = &e.outcome else { continue };
        if o.checks.is_empty() {
            let _ = writeln!(s, "No checks were recorded, so the claim is not confirmed.\n");
        } else {
            let _ = writeln!(s, "| Check | Verdict | Measured | Detail |");
            let _ = writeln!(s, "|---|---|---|---|");
            for c in &o.checks {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    cell(&c.name),
                    if c.passed { "PASS" } else { "**FAIL**" },
                    cell(&fmt_measured(&c.measured)),
                    cell(&c.detail)
                );
            }
            s.push('\n');
        }
        for f in o.files.iter().filter(|f| is_figure(f)) {
            let _ = writeln!(s, "![{f}]({}/{f})\n", e.name);
        }
        let data: Vec<String> = o.files.iter().filter(|f| !is_figure(f)).map(|f| format!("[{f}]({}/{f})", e.name)).collect();
        if !data.is_empty() {
            let _ = writeln!(s, "Data: {}.\n", data.join(", "));
        }
        if !o.notes.is_empty() {
            let _ = writeln!(s, "Notes:\n");
            for n in &o.notes {
                let _ = writeln!(s, "- {}", n.replace('\n', " "));
            }
            s.push('\n');
        }
    }
    s
}

#[derive(Serialize)]
struct JsonSummary {
    pass: usize,
    fail: usize,
    error: usize,
}

#[derive(Serialize)]
struct JsonEntry<'a> {
    name: &'a str,
    verdict: Verdict,
    claim: &'a Claim,
    config_hash: &'a str,
    seconds: f64,
    checks: Vec<&'a crate::experiment::Check>,
    /// Paths relative to the output directory.
    files: Vec<String>,
    notes: Vec<&'a str>,
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    xtask_version: &'a str,
    quick: bool,
    seed: u64,
    summary: JsonSummary,
    experiments: Vec<JsonEntry<'a>>,
}

/// Renders `report.json`: the same content, numbers in full precision, infinities as `"inf"`.
pub fn render_json(r: &Report) -> String {
    let doc = JsonReport {
        xtask_version: &r.xtask_version,
        quick: r.quick,
        seed: r.seed,
        summary: JsonSummary { pass: r.count(Verdict::Pass), fail: r.count(Verdict::Fail), error: r.count(Verdict::Error) },
        experiments: r
            .entries
            .iter()
            .map(|e| JsonEntry {
                name: &e.name,
                verdict: e.verdict,
                claim: &e.claim,
                config_hash: &e.config_hash,
                seconds: e.seconds,
                checks: e.outcome.iter().flat_map(|o| o.checks.iter()).collect(),
                files: e.outcome.iter().flat_map(|o| o.files.iter().map(|f| format!("{}/{f}", e.name))).collect(),
                notes: e.outcome.iter().flat_map(|o| o.notes.iter().map(String::as_str)).collect(),
                error: e.error.as_deref(),
            })
            .collect(),
    };
    // Serialising plain data cannot fail (no maps with non-string keys, no non-finite floats:
    // `Measure` turns those into strings).
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::Check;

    fn sample() -> Report {
        Report {
            xtask_version: "0.1.0".into(),
            quick: true,
            seed: 1,
            entries: vec![Entry {
                name: "demo".into(),
                claim: Claim { statement: "a | b holds", paper: "standard fact", theory_section: "§0" },
                verdict: Verdict::Fail,
                config_hash: "0123456789abcdef".into(),
                seconds: 0.25,
                outcome: Some(Outcome {
                    checks: vec![
                        Check::new("bound", false)
                            .with("L", f64::INFINITY)
                            .with("low", f64::NEG_INFINITY)
                            .with("x", 0.123456789)
                            .detail("finite"),
                    ],
                    files: vec!["fig.svg".into(), "data.csv".into()],
                    notes: vec!["synthetic spectrum".into()],
                }),
                error: None,
            }],
        }
    }

    #[test]
    fn numbers_have_four_significant_digits() {
        assert_eq!(fmt_num(0.123456789), "0.1235");
        assert_eq!(fmt_num(1234.5678), "1235");
        assert_eq!(fmt_num(12.5), "12.5");
        assert_eq!(fmt_num(200000.0), "200000");
        assert_eq!(fmt_num(1.23456e-7), "1.235e-7");
        assert_eq!(fmt_num(-3.0e9 + 0.5), "-3e9");
        assert_eq!(fmt_num(f64::INFINITY), "∞");
        assert_eq!(fmt_num(f64::NEG_INFINITY), "-∞");
        assert_eq!(fmt_num(f64::NAN), "NaN");
    }

    #[test]
    fn markdown_shows_infinity_links_and_notes() {
        let md = render_markdown(&sample());
        assert!(md.contains("L = ∞, low = -∞, x = 0.1235"), "{md}");
        assert!(md.contains("[fig.svg](demo/fig.svg)"));
        assert!(md.contains("![fig.svg](demo/fig.svg)"));
        assert!(md.contains("[data.csv](demo/data.csv)"));
        assert!(md.contains("a \\| b holds"), "pipes escaped");
        assert!(md.contains("synthetic spectrum"));
        assert!(md.contains("**FAIL**"));
    }

    #[test]
    fn json_uses_inf_strings_and_full_precision() {
        let js = render_json(&sample());
        let v: serde_json::Value = serde_json::from_str(&js).unwrap();
        let m = &v["experiments"][0]["checks"][0]["measured"];
        assert_eq!(m["L"], "inf");
        assert_eq!(m["low"], "-inf");
        assert_eq!(m["x"].as_f64(), Some(0.123456789));
        assert_eq!(v["experiments"][0]["verdict"], "FAIL");
        assert_eq!(v["experiments"][0]["files"][0], "demo/fig.svg");
        assert_eq!(v["summary"]["fail"], 1);
    }
}
