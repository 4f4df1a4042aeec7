//! `cargo xtask reproduce`: runs (or reuses) experiments and writes the report.
//!
//! Each experiment writes its files into `<out>/<name>/`, then `result.json` last. `result.json`
//! holds the cache key ([`crate::io::config_hash`]: the experiment's configuration, the seed, the
//! mode and the SHA-256 of the running xtask executable, so a rebuilt library is new code); a later
//! run with the same key whose listed files all exist reuses it ("cached") instead of recomputing.
//! A run killed half-way thus resumes where it stopped and ends with the same report.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Result, XtaskError};
use crate::experiment::DataFile;
use crate::experiment::{Context, Experiment, Outcome};
use crate::io::{CacheKey, atomic_write, config_hash, remove_stale_temp_files, sha256_file};
use crate::report::{Entry, Provenance, Report, Verdict, render_json, render_markdown};

/// Name of the per-experiment result file.
pub const RESULT_FILE: &str = "result.json";

/// The xtask package version, part of every configuration hash.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Settings of one `reproduce` run.
#[derive(Debug, Clone)]
pub struct Options {
    pub quick: bool,
    /// Experiment names to run; empty = all.
    pub only: Vec<String>,
    pub out: PathBuf,
    pub data: Option<PathBuf>,
    pub seed: u64,
    pub force: bool,
    /// Draw progress bars when on a terminal (off in tests).
    pub progress: bool,
    /// The identity of the code, part of every cache key: [`executable_hash`] for a real run.
    pub code: String,
}

/// What `result.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredResult {
    pub name: String,
    pub config_hash: String,
    pub xtask_version: String,
    /// SHA-256 of the xtask executable that computed the result.
    #[serde(default)]
    pub code_hash: String,
    /// When it was computed (UTC, ISO 8601).
    #[serde(default)]
    pub computed_utc: String,
    pub quick: bool,
    pub seed: u64,
    pub config: Value,
    pub seconds: f64,
    pub outcome: Outcome,
}

/// How an experiment's result was obtained in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Ran,
    Cached,
    /// Not selected by `--only`, but a valid cached result was found and is reported.
    CachedUnselected,
    Errored,
}

/// The outcome of a `reproduce` run.
#[derive(Debug)]
pub struct Summary {
    pub report: Report,
    /// Per entry (same order as `report.entries`).
    pub sources: Vec<Source>,
    pub report_md: PathBuf,
    pub report_json: PathBuf,
}

impl Summary {
    /// `(name, message)` of every experiment that errored.
    pub fn errors(&self) -> Vec<(&str, &str)> {
        self.report.entries.iter().filter_map(|e| e.error.as_deref().map(|m| (e.name.as_str(), m))).collect()
    }

    /// One line per experiment, then the report path.
    pub fn print(&self, w: &mut dyn Write) -> std::io::Result<()> {
        for (e, src) in self.report.entries.iter().zip(&self.sources) {
            let how = match src {
                Source::Ran | Source::Errored => String::new(),
                Source::Cached => "cached, ".into(),
                Source::CachedUnselected => "cached, not selected, ".into(),
            };
            writeln!(w, "{:<5} {} ({how}{:.2} s)", e.verdict.as_str(), e.name, e.seconds)?;
        }
        writeln!(w, "report: {}", self.report_md.display())
    }
}

fn result_path(ctx: &Context) -> PathBuf {
    ctx.dir().join(RESULT_FILE)
}

/// The stored result if it matches `hash` and every file it lists is present.
fn load_cached(ctx: &Context, name: &str, hash: &str) -> Option<StoredResult> {
    let text = std::fs::read_to_string(result_path(ctx)).ok()?;
    let stored: StoredResult = serde_json::from_str(&text).ok()?;
    let files_present = stored.outcome.files.iter().all(|f| ctx.dir().join(f).is_file());
    (stored.name == name && stored.config_hash == hash && files_present).then_some(stored)
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// Runs one experiment to a stored result.
fn run_one(exp: &dyn Experiment, ctx: &mut Context, config: Value, hash: &str, opts: &Options) -> Result<StoredResult> {
    let dir = ctx.dir().to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| XtaskError::io("create directory", &dir, e))?;
    remove_stale_temp_files(&dir)?;
    // An old result.json must not outlive a rerun that is interrupted half-way.
    let rp = result_path(ctx);
    match std::fs::remove_file(&rp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(XtaskError::io("remove", &rp, e)),
    }
    let start = Instant::now();
    let mut outcome =
        catch_unwind(AssertUnwindSafe(|| exp.run(ctx))).map_err(|p| XtaskError::Failed(format!("panicked: {}", panic_message(p))))??;
    let seconds = start.elapsed().as_secs_f64();
    let (files, notes, data) = ctx.take_records();
    for f in files {
        if !outcome.files.contains(&f) {
            outcome.files.push(f);
        }
    }
    outcome.notes.extend(notes);
    for (name, path) in data {
        let bytes = std::fs::metadata(&path).map_err(|e| XtaskError::io("stat", &path, e))?.len();
        outcome.data.push(DataFile { name, sha256: sha256_file(&path)?, bytes });
    }
    for f in &outcome.files {
        if !dir.join(f).is_file() {
            return Err(XtaskError::Failed(format!("lists output file {f} but did not write it")));
        }
    }
    if let Some(msg) = outcome.checks.iter().find_map(|c| c.incomplete()) {
        return Err(XtaskError::Failed(msg));
    }
    let stored = StoredResult {
        name: exp.name().to_string(),
        config_hash: hash.to_string(),
        xtask_version: VERSION.to_string(),
        code_hash: opts.code.clone(),
        computed_utc: crate::report::utc_now(),
        quick: opts.quick,
        seed: opts.seed,
        config,
        seconds,
        outcome,
    };
    let text = serde_json::to_string_pretty(&stored).map_err(|e| XtaskError::json(format!("serialising {}", rp.display()), e))?;
    atomic_write(&rp, text.as_bytes())?;
    Ok(stored)
}

fn entry_from(exp: &dyn Experiment, stored: StoredResult) -> Entry {
    let verdict = if stored.outcome.passed() { Verdict::Pass } else { Verdict::Fail };
    Entry {
        name: exp.name().to_string(),
        claim: exp.claim(),
        verdict,
        config_hash: stored.config_hash,
        computed_utc: Some(stored.computed_utc),
        seconds: stored.seconds,
        outcome: Some(stored.outcome),
        error: None,
    }
}

/// Runs the selected experiments (reusing cached results unless `force`), writes
/// `<out>/report.md` and `<out>/report.json`, and returns the summary.
///
/// An experiment that errors is recorded as ERROR and the others still run; the caller decides
/// the exit status from [`Summary::errors`]. Errors writing the report itself are returned.
pub fn reproduce(opts: &Options, experiments: &[Box<dyn Experiment>], log: &mut dyn Write) -> Result<Summary> {
    for name in &opts.only {
        if !experiments.iter().any(|e| e.name() == name) {
            let known: Vec<&str> = experiments.iter().map(|e| e.name()).collect();
            return Err(XtaskError::Usage(format!("unknown experiment {name:?}; known: {}", known.join(", "))));
        }
    }
    std::fs::create_dir_all(&opts.out).map_err(|e| XtaskError::io("create directory", &opts.out, e))?;
    remove_stale_temp_files(&opts.out)?;

    let mut entries = Vec::new();
    let mut sources = Vec::new();
    let selected_count = experiments.iter().filter(|e| opts.only.is_empty() || opts.only.iter().any(|n| n == e.name())).count();
    let mut index = 0;
    for exp in experiments {
        let exp = exp.as_ref();
        let name = exp.name();
        let selected = opts.only.is_empty() || opts.only.iter().any(|n| n == name);
        let mut ctx = Context::new(name, opts.quick, opts.seed, &opts.out, opts.data.clone());
        if !opts.progress {
            ctx = ctx.without_progress();
        }
        let config = exp.config(&ctx);
        let hash = config_hash(&CacheKey { name, config: &config, quick: opts.quick, seed: opts.seed, version: VERSION, code: &opts.code });
        if !selected {
            if let Some(stored) = load_cached(&ctx, name, &hash) {
                entries.push(entry_from(exp, stored));
                sources.push(Source::CachedUnselected);
            }
            continue;
        }
        index += 1;
        if !opts.force
            && let Some(stored) = load_cached(&ctx, name, &hash)
        {
            let _ = writeln!(log, "[{index}/{selected_count}] {name}: cached ({hash})");
            entries.push(entry_from(exp, stored));
            sources.push(Source::Cached);
            continue;
        }
        let _ = writeln!(log, "[{index}/{selected_count}] {name}: running ({hash})");
        let start = Instant::now();
        match run_one(exp, &mut ctx, config, &hash, opts) {
            Ok(stored) => {
                let e = entry_from(exp, stored);
                let _ = writeln!(log, "[{index}/{selected_count}] {name}: {} in {:.2} s", e.verdict.as_str(), e.seconds);
                entries.push(e);
                sources.push(Source::Ran);
            }
            Err(err) => {
                let _ = writeln!(log, "[{index}/{selected_count}] {name}: ERROR: {err}");
                entries.push(Entry {
                    name: name.to_string(),
                    claim: exp.claim(),
                    verdict: Verdict::Error,
                    config_hash: hash,
                    computed_utc: None,
                    seconds: start.elapsed().as_secs_f64(),
                    outcome: None,
                    error: Some(err.to_string()),
                });
                sources.push(Source::Errored);
            }
        }
    }

    let provenance = Provenance::collect(&workspace_root(), &opts.code, opts.data.as_deref());
    let report = Report { xtask_version: VERSION.to_string(), quick: opts.quick, seed: opts.seed, provenance, entries };
    let report_md = opts.out.join("report.md");
    let report_json = opts.out.join("report.json");
    atomic_write(&report_md, render_markdown(&report).as_bytes())?;
    atomic_write(&report_json, render_json(&report).as_bytes())?;
    Ok(Summary { report, sources, report_md, report_json })
}

/// `<workspace root>/results`, the default output directory.
pub fn default_out_dir() -> PathBuf {
    workspace_root().join("results")
}

/// `<workspace root>/data`, the default data directory (the repository ships the spectra there).
pub fn default_data_dir() -> PathBuf {
    workspace_root().join("data")
}

/// SHA-256 of the running executable's bytes, computed once per process: the identity of the code
/// in every cache key. xtask links every gmdiff crate statically, so changing any library constant
/// or formula (and rebuilding) changes it, and `reproduce` recomputes instead of reusing results of
/// the old code.
pub fn executable_hash() -> Result<String> {
    static HASH: OnceLock<String> = OnceLock::new();
    if let Some(h) = HASH.get() {
        return Ok(h.clone());
    }
    let exe = std::env::current_exe().map_err(|e| XtaskError::io("locate", "the running executable", e))?;
    let h = sha256_file(&exe)?;
    Ok(HASH.get_or_init(|| h).clone())
}

/// The workspace root: the parent of this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{Check, Claim};
    use crate::io::TempDir;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts its runs; writes one CSV; passes or fails as told; can be made to error.
    struct Toy {
        name: &'static str,
        runs: Arc<AtomicUsize>,
        pass: bool,
        fail_with_error: bool,
    }

    impl Toy {
        fn new(pass: bool) -> Self {
            Toy { name: "toy", runs: Arc::new(AtomicUsize::new(0)), pass, fail_with_error: false }
        }
    }

    impl Experiment for Toy {
        fn name(&self) -> &'static str {
            self.name
        }
        fn claim(&self) -> Claim {
            Claim { statement: "toys work", paper: "none", theory_section: "§0" }
        }
        fn config(&self, ctx: &Context) -> Value {
            serde_json::json!({ "n": ctx.pick(10, 100) })
        }
        fn run(&self, ctx: &mut Context) -> Result<Outcome> {
            self.runs.fetch_add(1, Ordering::SeqCst);
            if self.fail_with_error {
                return Err(XtaskError::Failed("boom".into()));
            }
            ctx.write_csv("data.csv", &["i", "x"], (0..3).map(|i| [i as f64, 2.0 * i as f64]))?;
            ctx.note("a note");
            Ok(Outcome::new().check(Check::new("works", self.pass).with("x", f64::INFINITY).threshold("works")))
        }
    }

    fn opts(out: &Path) -> Options {
        Options {
            quick: true,
            only: Vec::new(),
            out: out.to_path_buf(),
            data: None,
            seed: 1,
            force: false,
            progress: false,
            code: "test-code".into(),
        }
    }

    fn run(o: &Options, exps: &[Box<dyn Experiment>]) -> Summary {
        reproduce(o, exps, &mut std::io::sink()).unwrap()
    }

    #[test]
    fn second_run_is_cached_and_force_recomputes() {
        let t = TempDir::new("resume");
        let exps: Vec<Box<dyn Experiment>> = vec![Box::new(Toy::new(true))];
        let o = opts(&t.0);
        let s1 = run(&o, &exps);
        assert_eq!(s1.sources, vec![Source::Ran]);
        assert_eq!(s1.report.entries[0].verdict, Verdict::Pass);
        let md1 = std::fs::read_to_string(&s1.report_md).unwrap();
        let js1 = std::fs::read_to_string(&s1.report_json).unwrap();

        let s2 = run(&o, &exps);
        assert_eq!(s2.sources, vec![Source::Cached]);
        // Same report after resuming from the cache (but for the date it was written).
        let undated = |s: &str| s.lines().filter(|l| !l.contains("UTC")).collect::<Vec<_>>().join("\n");
        assert_eq!(undated(&std::fs::read_to_string(&s2.report_md).unwrap()), undated(&md1));
        assert_eq!(undated(&std::fs::read_to_string(&s2.report_json).unwrap()), undated(&js1));
        assert!(md1.contains("x = ∞"));
        assert!(md1.contains("a note"));

        let forced = Options { force: true, ..o.clone() };
        let s3 = run(&forced, &exps);
        assert_eq!(s3.sources, vec![Source::Ran]);

        // A different seed is a different configuration: recomputed.
        let reseeded = Options { seed: 2, ..o.clone() };
        assert_eq!(run(&reseeded, &exps).sources, vec![Source::Ran]);

        // A missing output file invalidates the cache.
        std::fs::remove_file(t.0.join("toy").join("data.csv")).unwrap();
        assert_eq!(run(&reseeded, &exps).sources, vec![Source::Ran]);
        assert_eq!(run(&reseeded, &exps).sources, vec![Source::Cached]);

        // Other code (another executable) is another key: recomputed, then cached.
        let recoded = Options { code: "other-code".into(), ..reseeded.clone() };
        assert_eq!(run(&recoded, &exps).sources, vec![Source::Ran]);
        assert_eq!(run(&recoded, &exps).sources, vec![Source::Cached]);
    }

    #[test]
    fn run_counts_match_cache_hits() {
        let t = TempDir::new("counts");
        let toy = Toy::new(false);
        let runs = Arc::clone(&toy.runs);
        let exps: Vec<Box<dyn Experiment>> = vec![Box::new(toy)];
        let o = opts(&t.0);
        run(&o, &exps);
        run(&o, &exps);
        run(&Options { force: true, ..o.clone() }, &exps);
        assert_eq!(runs.load(Ordering::SeqCst), 2, "first run and the forced one");
        let s = run(&o, &exps);
        assert_eq!(s.report.entries[0].verdict, Verdict::Fail);
        assert!(s.errors().is_empty(), "a failed claim is not an error");
    }

    #[test]
    fn errors_are_reported_and_other_experiments_still_run() {
        let t = TempDir::new("errors");
        let bad = Toy { fail_with_error: true, ..Toy::new(true) };
        let exps: Vec<Box<dyn Experiment>> = vec![Box::new(bad)];
        let s = run(&opts(&t.0), &exps);
        assert_eq!(s.report.entries[0].verdict, Verdict::Error);
        assert_eq!(s.errors(), vec![("toy", "boom")]);
        assert!(!t.0.join("toy").join(RESULT_FILE).exists(), "no result for an error");
        let md = std::fs::read_to_string(&s.report_md).unwrap();
        assert!(md.contains("ERROR"));
    }

    #[test]
    fn unknown_only_name_is_a_usage_error() {
        let t = TempDir::new("only");
        let exps: Vec<Box<dyn Experiment>> = vec![Box::new(Toy::new(true))];
        let o = Options { only: vec!["nope".into()], ..opts(&t.0) };
        let err = reproduce(&o, &exps, &mut std::io::sink()).unwrap_err();
        assert!(err.to_string().contains("unknown experiment"));
    }

    #[test]
    fn killed_run_resumes_to_the_same_report() {
        let t = TempDir::new("killed");
        let exps: Vec<Box<dyn Experiment>> = vec![Box::new(Toy::new(true)), Box::new(Toy { name: "toy2", ..Toy::new(true) })];
        let o = opts(&t.0);
        let full = run(&o, &exps);
        let md = std::fs::read_to_string(&full.report_md).unwrap();
        let js = std::fs::read_to_string(&full.report_json).unwrap();
        // Simulate a kill during toy2: its result.json never got written, a temp file was left
        // behind, and the report was never updated.
        let d2 = t.0.join("toy2");
        std::fs::remove_file(d2.join(RESULT_FILE)).unwrap();
        std::fs::write(d2.join(".data.csv.999.0.tmp"), b"half").unwrap();
        std::fs::remove_file(&full.report_md).unwrap();
        let resumed = run(&o, &exps);
        assert_eq!(resumed.sources, vec![Source::Cached, Source::Ran]);
        assert!(!d2.join(".data.csv.999.0.tmp").exists(), "stale temp file swept");
        // Only the rerun's seconds and dates may differ.
        let strip = |s: &str| {
            s.lines().filter(|l| !l.contains("\"seconds\"") && !l.contains(" s.") && !l.contains("UTC")).collect::<Vec<_>>().join("\n")
        };
        let md2 = std::fs::read_to_string(&resumed.report_md).unwrap();
        let js2 = std::fs::read_to_string(&resumed.report_json).unwrap();
        assert_eq!(strip(&md2), strip(&md));
        assert_eq!(strip(&js2), strip(&js));
    }

    #[test]
    fn only_keeps_other_cached_experiments_in_the_report() {
        let t = TempDir::new("only-cached");
        let exps: Vec<Box<dyn Experiment>> = vec![Box::new(Toy::new(true)), Box::new(Toy { name: "toy2", ..Toy::new(false) })];
        let o = opts(&t.0);
        run(&o, &exps);
        let only = Options { only: vec!["toy".into()], ..o.clone() };
        let s = run(&only, &exps);
        assert_eq!(s.sources, vec![Source::Cached, Source::CachedUnselected]);
        assert_eq!(s.report.entries[1].verdict, Verdict::Fail);
        // With another seed toy2 has no matching cache and is left out.
        let s = run(&Options { seed: 9, ..only }, &exps);
        assert_eq!(s.sources, vec![Source::Ran]);
        assert_eq!(s.report.entries.len(), 1);
    }
}
