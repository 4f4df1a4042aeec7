//! The experiment contract: [`Experiment`], what it gets ([`Context`]) and what it returns
//! ([`Outcome`] made of [`Check`]s).
//!
//! An experiment is one claim from a paper, a setup, a measurement and a verdict. It lives in its
//! own file under `experiments/` and is registered in [`crate::experiments::all`].

use std::io::IsTerminal;
use std::ops::Range;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Result, XtaskError};
use crate::io::{self, Cell, Fnv1a, atomic_write};

/// The claim an experiment tests, and where it comes from.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Claim {
    /// The claim, in one or two sentences, as checked (its *shape*, not a constant taken on faith).
    pub statement: &'static str,
    /// The paper (authors, arXiv id) or "standard fact".
    pub paper: &'static str,
    /// The section of THEORY (the project's theory notes, summarised in docs/) with the formulas,
    /// e.g. "§0".
    pub theory_section: &'static str,
}

/// One theorem-validation experiment.
///
/// `run` must be deterministic given `ctx.seed()`, `ctx.quick()` and `config()`: the result is
/// cached under a hash of exactly those (see [`crate::io::config_hash`]), and must not depend on
/// the number of rayon threads (use [`Context::par_chunks`] for Monte Carlo).
pub trait Experiment: Sync {
    /// Short snake_case name; also the name of its output directory and of its source file.
    fn name(&self) -> &'static str;

    /// The claim under test.
    fn claim(&self) -> Claim;

    /// Every parameter that affects the result (sizes, grids, tolerances, which data file and its
    /// length when one is used). Hashed into the cache key; also stored in `result.json`.
    fn config(&self, ctx: &Context) -> Value;

    /// Runs setup, measurement and verdict. Write files with the `ctx.write_*` helpers (or to
    /// `ctx.output(..)` paths); they are listed in the outcome automatically.
    fn run(&self, ctx: &mut Context) -> Result<Outcome>;
}

/// A measured value: a number (full precision) or a short text.
///
/// In JSON a number is a JSON number, except non-finite ones which are the strings `"inf"`,
/// `"-inf"` and `"nan"` (JSON has no infinities). Reading back, those three strings become numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    Num(f64),
    Text(String),
}

impl From<f64> for Measure {
    fn from(x: f64) -> Self {
        Measure::Num(x)
    }
}
impl From<usize> for Measure {
    fn from(x: usize) -> Self {
        Measure::Num(x as f64)
    }
}
impl From<u64> for Measure {
    fn from(x: u64) -> Self {
        Measure::Num(x as f64)
    }
}
impl From<i64> for Measure {
    fn from(x: i64) -> Self {
        Measure::Num(x as f64)
    }
}
impl From<bool> for Measure {
    fn from(x: bool) -> Self {
        Measure::Text(x.to_string())
    }
}
impl From<&str> for Measure {
    fn from(s: &str) -> Self {
        Measure::Text(s.to_owned())
    }
}
impl From<String> for Measure {
    fn from(s: String) -> Self {
        Measure::Text(s)
    }
}

impl Measure {
    /// The JSON form (see the type's docs).
    pub fn to_json(&self) -> Value {
        match self {
            Measure::Num(x) if x.is_finite() => serde_json::Number::from_f64(*x).map(Value::Number).unwrap_or(Value::Null),
            Measure::Num(x) if x.is_nan() => Value::String("nan".into()),
            Measure::Num(x) if *x > 0.0 => Value::String("inf".into()),
            Measure::Num(_) => Value::String("-inf".into()),
            Measure::Text(s) => Value::String(s.clone()),
        }
    }

    /// Reads the JSON form back.
    pub fn from_json(v: &Value) -> Measure {
        match v {
            Value::Number(n) => Measure::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => match s.as_str() {
                "inf" => Measure::Num(f64::INFINITY),
                "-inf" => Measure::Num(f64::NEG_INFINITY),
                "nan" => Measure::Num(f64::NAN),
                _ => Measure::Text(s.clone()),
            },
            Value::Null => Measure::Num(f64::NAN),
            other => Measure::Text(other.to_string()),
        }
    }

    /// The number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Measure::Num(x) => Some(*x),
            Measure::Text(_) => None,
        }
    }
}

impl Serialize for Measure {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Measure {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(Measure::from_json(&Value::deserialize(d)?))
    }
}

/// Measured values in the order they were recorded (a JSON object in that order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measured(pub Vec<(String, Measure)>);

impl Measured {
    /// Appends one value.
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<Measure>) {
        self.0.push((key.into(), value.into()));
    }

    /// The value recorded under `key`, if any.
    pub fn get(&self, key: &str) -> Option<&Measure> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl Serialize for Measured {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Measured {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Measured;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of measured values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> std::result::Result<Measured, A::Error> {
                let mut out = Measured::default();
                while let Some((k, v)) = a.next_entry::<String, Measure>()? {
                    out.0.push((k, v));
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

/// One verdict item: a named, checkable consequence of the claim.
///
/// Every check states its pass threshold and records at least one measured value; the runner
/// refuses (ERROR) an outcome with a check that does not.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub measured: Measured,
    /// The pass criterion, as a formula or comparison ("≤ 1e-9", "p ≥ 0.001", "= published digits").
    #[serde(default)]
    pub threshold: String,
    /// How the verdict was reached (what is compared, where the tolerance comes from).
    pub detail: String,
}

impl Check {
    /// A check with no measurements yet; add them with [`Check::with`] and the criterion with
    /// [`Check::threshold`].
    pub fn new(name: impl Into<String>, passed: bool) -> Self {
        Check { name: name.into(), passed, measured: Measured::default(), threshold: String::new(), detail: String::new() }
    }

    /// Records a measured value.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Measure>) -> Self {
        self.measured.push(key, value);
        self
    }

    /// Sets the pass criterion shown in the report.
    pub fn threshold(mut self, threshold: impl Into<String>) -> Self {
        self.threshold = threshold.into();
        self
    }

    /// Sets the explanation.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// `|measured − expected| ≤ tol`; records all four numbers.
    pub fn close(name: impl Into<String>, measured: f64, expected: f64, tol: f64) -> Self {
        let err = (measured - expected).abs();
        Check::new(name, err <= tol)
            .with("measured", measured)
            .with("expected", expected)
            .with("abs_error", err)
            .with("tolerance", tol)
            .threshold(format!("|measured − expected| ≤ {}", crate::report::fmt_num(tol)))
    }

    /// `value ≤ bound`; records both.
    pub fn at_most(name: impl Into<String>, value: f64, bound: f64) -> Self {
        Check::new(name, value <= bound)
            .with("value", value)
            .with("bound", bound)
            .threshold(format!("value ≤ {}", crate::report::fmt_num(bound)))
    }

    /// Why this check cannot be shown as it stands (no threshold, nothing measured), if so.
    pub fn incomplete(&self) -> Option<String> {
        if self.threshold.trim().is_empty() {
            Some(format!("check {:?} states no pass threshold", self.name))
        } else if self.measured.0.is_empty() {
            Some(format!("check {:?} records no measured value", self.name))
        } else {
            None
        }
    }
}

/// A data file an experiment read, identified by its SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DataFile {
    /// The name relative to the data directory.
    pub name: String,
    /// SHA-256 of its bytes (64 hex digits).
    pub sha256: String,
    pub bytes: u64,
}

/// What an experiment returns.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Outcome {
    pub checks: Vec<Check>,
    /// Files written, relative to the experiment's directory (filled in from the [`Context`]).
    pub files: Vec<String>,
    /// Free-form remarks for the report.
    pub notes: Vec<String>,
    /// Data files read (filled in from the [`Context`]).
    #[serde(default)]
    pub data: Vec<DataFile>,
}

impl Outcome {
    /// An empty outcome.
    pub fn new() -> Self {
        Outcome::default()
    }

    /// Adds a check.
    pub fn check(mut self, check: Check) -> Self {
        self.checks.push(check);
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// PASS iff there is at least one check and every check passed.
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }
}

/// The engine of [`Context::par_chunks`], for code without a context (benchmarks): chunk `i`
/// of `0..n` runs on `ChaCha8Rng::seed_from_u64(seed)` switched to stream `i`; results come back
/// in chunk order, whatever the thread count.
pub fn par_chunks_seeded<T, F>(seed: u64, n: usize, chunk: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(&mut ChaCha8Rng, Range<usize>) -> T + Sync,
{
    let chunk = chunk.max(1);
    let count = n.div_ceil(chunk);
    (0..count)
        .into_par_iter()
        .map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(i as u64);
            let start = i * chunk;
            f(&mut rng, start..(start + chunk).min(n))
        })
        .collect()
}

/// Whether progress bars are drawn: only on a terminal, and never under CI.
fn progress_enabled() -> bool {
    let ci = std::env::var("CI").map(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")).unwrap_or(false);
    !ci && std::io::stderr().is_terminal()
}

/// Everything an experiment needs from the runner.
#[derive(Debug)]
pub struct Context {
    name: &'static str,
    quick: bool,
    seed: u64,
    dir: PathBuf,
    data_dir: Option<PathBuf>,
    show_progress: bool,
    files: Vec<String>,
    notes: Vec<String>,
    data_used: Vec<(String, PathBuf)>,
}

impl Context {
    /// A context for experiment `name` writing to `out/name/`.
    pub fn new(name: &'static str, quick: bool, seed: u64, out: &Path, data_dir: Option<PathBuf>) -> Self {
        Context {
            name,
            quick,
            seed,
            dir: out.join(name),
            data_dir,
            show_progress: progress_enabled(),
            files: Vec::new(),
            notes: Vec::new(),
            data_used: Vec::new(),
        }
    }

    /// Forces progress bars off (tests).
    pub fn without_progress(mut self) -> Self {
        self.show_progress = false;
        self
    }

    /// The experiment's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `--quick`: smaller sizes, same claims.
    pub fn quick(&self) -> bool {
        self.quick
    }

    /// Picks the quick or the full value of a parameter.
    pub fn pick<T>(&self, quick: T, full: T) -> T {
        if self.quick { quick } else { full }
    }

    /// The global seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The experiment's output directory, `<out>/<name>/`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The data directory (`--data`, default `<workspace>/data`), if there is one.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    fn data_path(&self, relative: &str) -> Result<PathBuf> {
        let dir = self.data_dir.as_ref().ok_or_else(|| XtaskError::Data {
            path: PathBuf::from(relative),
            message: format!("experiment {} needs this file and no data directory was given (--data DIR)", self.name),
        })?;
        let p = dir.join(relative);
        if p.is_file() {
            Ok(p)
        } else {
            Err(XtaskError::Data {
                path: p,
                message: format!(
                    "missing; experiment {} needs it (the repository ships it in data/; pass --data DIR if yours is elsewhere)",
                    self.name
                ),
            })
        }
    }

    /// `data_dir/relative`, which must exist: a missing file is an error (an experiment never
    /// falls back to made-up input). The file is recorded, and its SHA-256 lands in the report.
    pub fn data_file(&mut self, relative: &str) -> Result<PathBuf> {
        let p = self.data_path(relative)?;
        if !self.data_used.iter().any(|(r, _)| r == relative) {
            self.data_used.push((relative.to_owned(), p.clone()));
        }
        Ok(p)
    }

    /// The SHA-256 of `data_dir/relative`, or `None` when it cannot be read: for `config()`, so
    /// that changed data is a changed configuration.
    pub fn data_digest(&self, relative: &str) -> Option<String> {
        self.data_path(relative).ok().and_then(|p| io::sha256_file(&p).ok())
    }

    /// A progress bar of `len` steps labelled with the experiment name and `msg`; hidden when
    /// stderr is not a terminal or `CI` is set. It is cheap to clone and safe to `inc` from rayon
    /// workers.
    pub fn progress(&self, len: u64, msg: &str) -> ProgressBar {
        if !self.show_progress {
            return ProgressBar::hidden();
        }
        let style = ProgressStyle::with_template("{prefix:.bold} {msg} [{bar:24.cyan/blue}] {pos}/{len} {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let pb = ProgressBar::new(len).with_style(style);
        pb.set_prefix(self.name);
        pb.set_message(msg.to_owned());
        pb
    }

    /// Adds a note to the report (also allowed through [`Outcome::note`]).
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The path of output file `file_name` in the experiment directory, recorded as written.
    /// Use it for writers that take a path (the [`crate::plot`] functions); they must write
    /// atomically, as those do.
    pub fn output(&mut self, file_name: &str) -> Result<PathBuf> {
        if file_name.is_empty() || file_name.contains(['/', '\\']) || file_name.starts_with('.') || file_name == crate::runner::RESULT_FILE
        {
            return Err(XtaskError::Usage(format!("invalid output file name {file_name:?} in experiment {}", self.name)));
        }
        if !self.files.iter().any(|f| f == file_name) {
            self.files.push(file_name.to_owned());
        }
        Ok(self.dir.join(file_name))
    }

    /// Writes a CSV file atomically (header, then rows of [`Cell`]s: numbers in full precision).
    /// Rows can be `Vec<f64>`, `[f64; N]` or mixed `row![..]`s.
    pub fn write_csv<R, C>(&mut self, file_name: &str, header: &[&str], rows: impl IntoIterator<Item = R>) -> Result<PathBuf>
    where
        R: IntoIterator<Item = C>,
        C: Into<Cell>,
    {
        let text = io::csv_string(header, rows)?;
        let p = self.output(file_name)?;
        atomic_write(&p, text.as_bytes())?;
        Ok(p)
    }

    /// Writes any serialisable value as pretty JSON, atomically.
    pub fn write_json(&mut self, file_name: &str, value: &impl Serialize) -> Result<PathBuf> {
        let text = serde_json::to_string_pretty(value).map_err(|e| XtaskError::json(format!("serialising {file_name}"), e))?;
        let p = self.output(file_name)?;
        atomic_write(&p, text.as_bytes())?;
        Ok(p)
    }

    /// A generator seeded from (global seed, experiment name, `stream`): independent across
    /// experiments and streams, identical across runs.
    pub fn rng(&self, stream: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.derived_seed(stream))
    }

    fn derived_seed(&self, stream: u64) -> u64 {
        let mut h = Fnv1a::default();
        h.field(b"gmdiff-xtask-rng-v1");
        h.field(&self.seed.to_le_bytes());
        h.field(self.name.as_bytes());
        h.field(&stream.to_le_bytes());
        h.finish()
    }

    /// Deterministic parallel Monte Carlo: splits `0..n` into chunks of `chunk` items, runs
    /// `f(rng, range)` on each in parallel (rayon), and returns the results in chunk order.
    ///
    /// Chunk `i` gets its own generator (the `stream` generator's seed, ChaCha stream `i`), so the
    /// output depends on `n`, `chunk`, the seed and `stream`, never on the thread count or
    /// scheduling. Reduce the returned vector sequentially for bit-identical results.
    pub fn par_chunks<T, F>(&self, n: usize, chunk: usize, stream: u64, f: F) -> Vec<T>
    where
        T: Send,
        F: Fn(&mut ChaCha8Rng, Range<usize>) -> T + Sync,
    {
        par_chunks_seeded(self.derived_seed(stream), n, chunk, f)
    }

    /// Files recorded so far (relative names), notes, and data files read (relative name, path);
    /// used by the runner.
    pub(crate) fn take_records(&mut self) -> (Vec<String>, Vec<String>, Vec<(String, PathBuf)>) {
        (std::mem::take(&mut self.files), std::mem::take(&mut self.notes), std::mem::take(&mut self.data_used))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn measured_round_trips_in_order_with_infinities() {
        let c = Check::new("c", true).with("z", 1.5).with("a", f64::INFINITY).with("m", f64::NEG_INFINITY).with("t", "text");
        let s = serde_json::to_string(&c).unwrap();
        assert!(s.contains(r#""measured":{"z":1.5,"a":"inf","m":"-inf","t":"text"}"#), "{s}");
        let back: Check = serde_json::from_str(&s).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn par_chunks_is_independent_of_thread_count() {
        let ctx = Context::new("t", true, 3, Path::new("/nonexistent"), None).without_progress();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| ctx.par_chunks(10_007, 1000, 5, |rng, r| r.map(|_| rng.random::<f64>()).sum::<f64>()))
        };
        let a = run(1);
        let b = run(2);
        let c = run(4);
        assert_eq!(a.len(), 11);
        assert_eq!(a, b);
        assert_eq!(a, c);
        // Different chunks get different streams.
        assert_ne!(a[0], a[1]);
    }

    #[test]
    fn outcome_without_checks_does_not_pass() {
        assert!(!Outcome::new().passed());
        assert!(Outcome::new().check(Check::new("a", true)).passed());
        assert!(!Outcome::new().check(Check::new("a", true)).check(Check::new("b", false)).passed());
    }

    #[test]
    fn missing_data_is_an_error_and_used_data_is_recorded() {
        let t = crate::io::TempDir::new("data");
        std::fs::write(t.0.join("present.npy"), b"abc").unwrap();
        let mut ctx = Context::new("t", true, 3, Path::new("/x"), Some(t.0.clone())).without_progress();
        let err = ctx.data_file("absent.npy").unwrap_err().to_string();
        assert!(err.contains("absent.npy") && err.contains("missing"), "{err}");
        assert_eq!(ctx.data_digest("absent.npy"), None);
        assert_eq!(ctx.data_file("present.npy").unwrap(), t.0.join("present.npy"));
        assert_eq!(ctx.data_digest("present.npy").as_deref(), Some(crate::io::sha256_hex(b"abc").as_str()));
        let (_, _, used) = ctx.take_records();
        assert_eq!(used, vec![("present.npy".to_string(), t.0.join("present.npy"))]);
        let mut none = Context::new("t", true, 3, Path::new("/x"), None).without_progress();
        assert!(none.data_file("present.npy").unwrap_err().to_string().contains("no data directory"));
    }

    #[test]
    fn checks_without_threshold_or_measurement_are_incomplete() {
        assert!(Check::new("a", true).with("x", 1.0).incomplete().unwrap().contains("threshold"));
        assert!(Check::new("a", true).threshold("x ≤ 1").incomplete().unwrap().contains("measured"));
        assert_eq!(Check::at_most("a", 0.5, 1.0).incomplete(), None);
        assert_eq!(Check::close("a", 0.5, 0.5, 1e-9).incomplete(), None);
    }

    #[test]
    fn output_names_are_validated() {
        let mut ctx = Context::new("t", true, 3, Path::new("/x"), None).without_progress();
        assert!(ctx.output("a.csv").is_ok());
        assert!(ctx.output("../a.csv").is_err());
        assert!(ctx.output("result.json").is_err());
        assert!(ctx.output(".hidden").is_err());
    }
}
