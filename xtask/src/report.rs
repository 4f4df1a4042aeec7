//! `report.md` and `report.json`: every claim with its verdict, measurements, thresholds, figures
//! and notes, and the provenance of the run (commit, date, compiler, machine, code and data hashes).
//!
//! The report says nothing about whether a result came from the cache, so a run that was killed and
//! resumed produces the same report as an uninterrupted one, but for wall-clock times and dates
//! (every line holding a date contains "UTC").

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use serde::Serialize;

use crate::experiment::{Claim, DataFile, Measure, Measured, Outcome};

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
    /// When the result was computed ("YYYY-MM-DD hh:mm:ss UTC"); `None` when it errored.
    pub computed_utc: Option<String>,
    /// Wall-clock seconds of the run that produced the result (the stored value when cached).
    pub seconds: f64,
    /// `None` when the experiment errored.
    pub outcome: Option<Outcome>,
    pub error: Option<String>,
}

/// Where a report comes from: enough to rerun it on the same code and data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// `git rev-parse HEAD` of the workspace, "+ uncommitted changes" when the tracked files
    /// differ from it; "unknown" without git.
    pub commit: String,
    /// When the report was written, "YYYY-MM-DD hh:mm:ss UTC".
    pub written_utc: String,
    /// `rustc --version` of the compiler that built xtask.
    pub rustc: String,
    /// Logical cores, OS/architecture and, where the OS says, the CPU model.
    pub machine: String,
    /// SHA-256 of the xtask executable (the code identity in every cache key).
    pub executable_sha256: String,
    /// The data directory.
    pub data_dir: String,
}

impl Provenance {
    /// Gathers the provenance of a run of the executable whose hash is `code`.
    pub fn collect(workspace: &Path, code: &str, data_dir: Option<&Path>) -> Self {
        let git = |args: &[&str]| -> Option<String> {
            let o = Command::new("git").arg("-C").arg(workspace).args(args).output().ok()?;
            o.status.success().then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        let commit = match git(&["rev-parse", "HEAD"]) {
            Some(c) if !c.is_empty() => {
                let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
                if dirty { format!("{c} + uncommitted changes") } else { c }
            }
            _ => "unknown".into(),
        };
        let cores = std::thread::available_parallelism().map(|n| n.get().to_string()).unwrap_or_else(|_| "unknown".into());
        let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, m)| m.trim().to_string())
        });
        let mut machine = format!("{cores} logical cores, {}/{}", std::env::consts::OS, std::env::consts::ARCH);
        if let Some(cpu) = cpu {
            let _ = write!(machine, ", {cpu}");
        }
        Provenance {
            commit,
            written_utc: utc_now(),
            rustc: env!("XTASK_RUSTC_VERSION").to_string(),
            machine,
            executable_sha256: code.to_string(),
            data_dir: data_dir.map_or_else(|| "none".into(), |d| d.display().to_string()),
        }
    }
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Report {
    pub xtask_version: String,
    pub quick: bool,
    pub seed: u64,
    pub provenance: Provenance,
    pub entries: Vec<Entry>,
}

impl Report {
    /// Number of entries with the given verdict.
    pub fn count(&self, v: Verdict) -> usize {
        self.entries.iter().filter(|e| e.verdict == v).count()
    }

    /// Every data file read by some experiment, once (first occurrence order).
    pub fn data_files(&self) -> Vec<&DataFile> {
        let mut out: Vec<&DataFile> = Vec::new();
        for f in self.entries.iter().filter_map(|e| e.outcome.as_ref()).flat_map(|o| &o.data) {
            if !out.iter().any(|g| g == &f) {
                out.push(f);
            }
        }
        out
    }
}

/// Days since 1970-01-01 to a (year, month, day) of the proleptic Gregorian calendar
/// (H. Hinnant's `civil_from_days`, http://howardhinnant.github.io/date_algorithms.html).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Unix seconds as "YYYY-MM-DD hh:mm:ss UTC".
pub fn format_utc(unix_seconds: i64) -> String {
    let (days, secs) = (unix_seconds.div_euclid(86_400), unix_seconds.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", secs / 3600, secs / 60 % 60, secs % 60)
}

/// The current time as "YYYY-MM-DD hh:mm:ss UTC".
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    format_utc(secs)
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(16)]
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
    let p = &r.provenance;
    let _ = writeln!(s, "Provenance:\n");
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| commit | `{}` |", cell(&p.commit));
    let _ = writeln!(s, "| written | {} |", p.written_utc);
    let _ = writeln!(s, "| compiler | {} |", cell(&p.rustc));
    let _ = writeln!(s, "| machine | {} |", cell(&p.machine));
    let _ = writeln!(s, "| xtask executable SHA-256 (code identity of the cache keys) | `{}` |", p.executable_sha256);
    let _ = writeln!(s, "| data directory | `{}` |", cell(&p.data_dir));
    for f in r.data_files() {
        let _ = writeln!(s, "| data file `{}` ({} bytes) SHA-256 | `{}` |", cell(&f.name), f.bytes, f.sha256);
    }
    s.push('\n');
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
            "Paper: {}. THEORY {}. Cache key `{}`; computed {}; {} s.\n",
            e.claim.paper,
            e.claim.theory_section,
            e.config_hash,
            e.computed_utc.as_deref().unwrap_or("-"),
            fmt_num(e.seconds)
        );
        if let Some(err) = &e.error {
            let _ = writeln!(s, "**Error:** {}\n", err.replace('\n', " "));
        }
        let Some(o) = &e.outcome else { continue };
        if o.checks.is_empty() {
            let _ = writeln!(s, "No checks were recorded, so the claim is not confirmed.\n");
        } else {
            let _ = writeln!(s, "| Check | Verdict | Measured | Pass threshold | Detail |");
            let _ = writeln!(s, "|---|---|---|---|---|");
            for c in &o.checks {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} |",
                    cell(&c.name),
                    if c.passed { "PASS" } else { "**FAIL**" },
                    cell(&fmt_measured(&c.measured)),
                    cell(&c.threshold),
                    cell(&c.detail)
                );
            }
            s.push('\n');
        }
        for f in &o.data {
            let _ = writeln!(s, "Input: `{}` ({} bytes, SHA-256 `{}`).\n", f.name, f.bytes, short(&f.sha256));
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
    computed_utc: Option<&'a str>,
    seconds: f64,
    checks: Vec<&'a crate::experiment::Check>,
    /// Paths relative to the output directory.
    files: Vec<String>,
    notes: Vec<&'a str>,
    data: Vec<&'a DataFile>,
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    xtask_version: &'a str,
    quick: bool,
    seed: u64,
    provenance: &'a Provenance,
    data_files: Vec<&'a DataFile>,
    summary: JsonSummary,
    experiments: Vec<JsonEntry<'a>>,
}

/// Renders `report.json`: the same content, numbers in full precision, infinities as `"inf"`.
pub fn render_json(r: &Report) -> String {
    let doc = JsonReport {
        xtask_version: &r.xtask_version,
        quick: r.quick,
        seed: r.seed,
        provenance: &r.provenance,
        data_files: r.data_files(),
        summary: JsonSummary { pass: r.count(Verdict::Pass), fail: r.count(Verdict::Fail), error: r.count(Verdict::Error) },
        experiments: r
            .entries
            .iter()
            .map(|e| JsonEntry {
                name: &e.name,
                verdict: e.verdict,
                claim: &e.claim,
                config_hash: &e.config_hash,
                computed_utc: e.computed_utc.as_deref(),
                seconds: e.seconds,
                checks: e.outcome.iter().flat_map(|o| o.checks.iter()).collect(),
                files: e.outcome.iter().flat_map(|o| o.files.iter().map(|f| format!("{}/{f}", e.name))).collect(),
                notes: e.outcome.iter().flat_map(|o| o.notes.iter().map(String::as_str)).collect(),
                data: e.outcome.iter().flat_map(|o| o.data.iter()).collect(),
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
            provenance: Provenance { commit: "abc123".into(), written_utc: format_utc(0), ..Provenance::default() },
            entries: vec![Entry {
                name: "demo".into(),
                claim: Claim { statement: "a | b holds", paper: "standard fact", theory_section: "§0" },
                verdict: Verdict::Fail,
                config_hash: "0123456789abcdef".into(),
                computed_utc: Some(format_utc(0)),
                seconds: 0.25,
                outcome: Some(Outcome {
                    checks: vec![
                        Check::new("bound", false)
                            .with("L", f64::INFINITY)
                            .with("low", f64::NEG_INFINITY)
                            .with("x", 0.123456789)
                            .threshold("L < ∞")
                            .detail("finite"),
                    ],
                    files: vec!["fig.svg".into(), "data.csv".into()],
                    notes: vec!["a remark".into()],
                    data: vec![DataFile { name: "spectrum.npy".into(), sha256: "ab".repeat(32), bytes: 12 }],
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
        assert!(md.contains("a remark"));
        assert!(md.contains("**FAIL**"));
        assert!(md.contains("| Pass threshold |") && md.contains("| L < ∞ |"), "{md}");
        assert!(md.contains("| commit | `abc123` |"));
        assert!(md.contains(&format!("data file `spectrum.npy` (12 bytes) SHA-256 | `{}` |", "ab".repeat(32))));
    }

    #[test]
    fn dates_are_utc_civil_dates() {
        // Expected values from GNU date: `date -u -d @SECONDS '+%F %T'`.
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(format_utc(4_107_542_399), "2100-02-28 23:59:59 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59:59 UTC");
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
        assert_eq!(v["provenance"]["commit"], "abc123");
        assert_eq!(v["data_files"][0]["name"], "spectrum.npy");
        assert_eq!(v["experiments"][0]["checks"][0]["threshold"], "L < ∞");
    }
}
