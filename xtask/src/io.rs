//! Files: atomic writes, CSV, canonical JSON, hashes (configuration, code, data).
//!
//! Every result file is written with [`atomic_write`], a thin wrapper over the facade's
//! [`gmdiff::io::write_atomic`] (the one atomic writer of the project): the bytes go to a hidden
//! temporary file in the same directory (`.<name>.<pid>.tmp`), are fsynced, and the temporary file
//! is renamed over the target. A run killed at any point therefore leaves either the old file or the
//! new one, never a half-written one; stray temporaries from a killed run are swept by
//! [`remove_stale_temp_files`] at the start of the next.

use std::fs;
use std::io::Read as _;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Result, XtaskError};

/// Suffix of the temporary files used by [`atomic_write`].
pub const TMP_SUFFIX: &str = ".tmp";

/// Writes `bytes` to `path` atomically (temp file in the same directory, fsync, rename), creating
/// the parent directory if needed. On failure the temporary file is removed and `path` is left as
/// it was.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| XtaskError::io("create directory", dir, e))?;
    }
    gmdiff::io::write_atomic(path, bytes).map_err(|e| match e {
        gmdiff::io::IoError::File { path, source } => XtaskError::Io { op: "write atomically", path, source },
        other => XtaskError::Failed(other.to_string()),
    })
}

/// Removes temporary files left in `dir` (not recursive) by an [`atomic_write`] that was killed.
/// A missing directory is fine. Returns how many files were removed.
pub fn remove_stale_temp_files(dir: &Path) -> Result<usize> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(XtaskError::io("read directory", dir, e)),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(|e| XtaskError::io("read directory", dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if is_file && name.starts_with('.') && name.ends_with(TMP_SUFFIX) {
            let p = entry.path();
            fs::remove_file(&p).map_err(|e| XtaskError::io("remove", &p, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// One CSV field.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A number, written by [`gmdiff::io::format_f64`]: the shortest text that parses back to the
    /// same `f64` (scientific outside [1e-5, 1e16)), `inf`, `-inf`, `NaN`.
    Num(f64),
    /// An integer.
    Int(i64),
    /// Text, quoted when it contains a comma, a quote or a line break.
    Text(String),
}

impl From<f64> for Cell {
    fn from(x: f64) -> Self {
        Cell::Num(x)
    }
}
impl From<f32> for Cell {
    fn from(x: f32) -> Self {
        Cell::Num(f64::from(x))
    }
}
impl From<i64> for Cell {
    fn from(x: i64) -> Self {
        Cell::Int(x)
    }
}
impl From<i32> for Cell {
    fn from(x: i32) -> Self {
        Cell::Int(i64::from(x))
    }
}
impl From<u32> for Cell {
    fn from(x: u32) -> Self {
        Cell::Int(i64::from(x))
    }
}
impl From<usize> for Cell {
    fn from(x: usize) -> Self {
        Cell::Int(i64::try_from(x).unwrap_or(i64::MAX))
    }
}
impl From<u64> for Cell {
    fn from(x: u64) -> Self {
        Cell::Int(i64::try_from(x).unwrap_or(i64::MAX))
    }
}
impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<&String> for Cell {
    fn from(s: &String) -> Self {
        Cell::Text(s.clone())
    }
}

impl Cell {
    fn write_to(&self, out: &mut String) {
        match self {
            Cell::Num(x) => out.push_str(&gmdiff::io::format_f64(*x)),
            Cell::Int(i) => out.push_str(&i.to_string()),
            Cell::Text(s) => {
                if s.contains([',', '"', '\n', '\r']) {
                    out.push('"');
                    out.push_str(&s.replace('"', "\"\""));
                    out.push('"');
                } else {
                    out.push_str(s);
                }
            }
        }
    }
}

/// Builds a CSV row of mixed types: `row![t, "exact", 0.5]`.
#[macro_export]
macro_rules! row {
    ($($x:expr),* $(,)?) => {
        vec![$($crate::io::Cell::from($x)),*]
    };
}

/// Renders a CSV document: the header line (none when `header` is empty), then one line per row.
/// Every row must have as many fields as the header (as the first row when there is no header).
/// This is xtask's one CSV writer.
pub fn csv_string<R, C>(header: &[&str], rows: impl IntoIterator<Item = R>) -> Result<String>
where
    R: IntoIterator<Item = C>,
    C: Into<Cell>,
{
    let mut out = String::new();
    if !header.is_empty() {
        for (i, h) in header.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            Cell::from(*h).write_to(&mut out);
        }
        out.push('\n');
    }
    let mut width = (!header.is_empty()).then_some(header.len());
    for (line, row) in rows.into_iter().enumerate() {
        let mut fields = 0;
        for (i, c) in row.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            c.into().write_to(&mut out);
            fields += 1;
        }
        let expected = *width.get_or_insert(fields);
        if fields != expected {
            return Err(XtaskError::Failed(format!("CSV row {line} has {fields} fields, expected {expected}")));
        }
        out.push('\n');
    }
    Ok(out)
}

/// Serialises a JSON value canonically: object keys sorted, no whitespace. The output depends only
/// on the value, whatever serde_json features other crates turn on (e.g. `preserve_order`).
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// 64-bit FNV-1a: a small, stable hash (not cryptographic). It derives the experiments' random
/// streams from (seed, experiment, stream) in [`crate::experiment::Context::rng`].
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Feeds one length-prefixed field, so that ("ab", "c") and ("a", "bc") differ.
    pub fn field(&mut self, bytes: &[u8]) {
        self.update(&(bytes.len() as u64).to_le_bytes());
        self.update(bytes);
    }

    /// The hash value.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `bytes`, as 64 hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of the file at `path` (read in 64 KiB blocks), as 64 hex digits.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = fs::File::open(path).map_err(|e| XtaskError::io("open", path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| XtaskError::io("read", path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// What a cached result is keyed on: the experiment, its settings, and the code that computes it.
#[derive(Debug, Clone, Copy)]
pub struct CacheKey<'a> {
    /// The experiment's name.
    pub name: &'a str,
    /// Its `config()` (hashed in canonical form, so key order does not matter).
    pub config: &'a Value,
    pub quick: bool,
    pub seed: u64,
    /// The xtask package version.
    pub version: &'a str,
    /// The identity of the code: the SHA-256 of the running xtask executable
    /// ([`crate::runner::executable_hash`]), which links every gmdiff crate statically, so any
    /// change to a library constant or formula changes it.
    pub code: &'a str,
}

/// The cache key of one experiment run, as 16 hex digits (the first 64 bits of a SHA-256 over
/// length-prefixed fields, so ("ab", "c") and ("a", "bc") differ).
pub fn config_hash(key: &CacheKey<'_>) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(b"gmdiff-xtask-config-v2");
    field(key.name.as_bytes());
    field(canonical_json(key.config).as_bytes());
    field(&[u8::from(key.quick)]);
    field(&key.seed.to_le_bytes());
    field(key.version.as_bytes());
    field(key.code.as_bytes());
    hex(&h.finalize()[..8])
}

/// A fresh, empty directory under the system temp dir, removed on drop (tests only).
#[cfg(test)]
pub(crate) struct TempDir(pub std::path::PathBuf);

#[cfg(test)]
impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!("xtask-test-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

#[cfg(test)]
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn atomic_write_leaves_no_temp_files() {
        let t = TempDir::new("atomic");
        let p = t.0.join("sub").join("a.csv");
        atomic_write(&p, b"first").unwrap();
        atomic_write(&p, b"second, longer").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second, longer");
        assert_eq!(listing(&t.0.join("sub")), vec!["a.csv".to_string()]);
    }

    #[test]
    fn failed_atomic_write_keeps_old_file_and_no_temp() {
        let t = TempDir::new("atomic-fail");
        // The target is a directory: the rename must fail, and the temp file must go.
        let target = t.0.join("occupied");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), b"x").unwrap();
        assert!(atomic_write(&target, b"data").is_err());
        assert_eq!(listing(&t.0), vec!["occupied".to_string()]);
    }

    #[test]
    fn stale_temp_files_are_swept() {
        let t = TempDir::new("sweep");
        fs::write(t.0.join(".r.json.123.0.tmp"), b"half").unwrap();
        fs::write(t.0.join("r.json"), b"{}").unwrap();
        assert_eq!(remove_stale_temp_files(&t.0).unwrap(), 1);
        assert_eq!(listing(&t.0), vec!["r.json".to_string()]);
        assert_eq!(remove_stale_temp_files(&t.0.join("missing")).unwrap(), 0);
    }

    #[test]
    fn csv_quotes_and_checks_widths() {
        let s = csv_string(&["t", "name", "v"], vec![crate::row![0.5, "a,b", f64::INFINITY], crate::row![1usize, "q\"", -2.0]]).unwrap();
        assert_eq!(s, "t,name,v\n0.5,\"a,b\",inf\n1,\"q\"\"\",-2\n");
        assert!(csv_string(&["a", "b"], vec![vec![1.0]]).is_err());
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "s"}});
        let b = json!({"a": {"x": "s", "y": [1, 2]}, "b": 1});
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&a), r#"{"a":{"x":"s","y":[1,2]},"b":1}"#);
    }

    #[test]
    fn config_hash_is_stable_and_sensitive() {
        let cfg = json!({"n": 1000, "ts": [0.1, 0.5]});
        let cfg_reordered = json!({"ts": [0.1, 0.5], "n": 1000});
        let k = CacheKey { name: "ou", config: &cfg, quick: true, seed: 7, version: "0.1.0", code: "c0de" };
        let h = config_hash(&k);
        assert_eq!(h, config_hash(&CacheKey { config: &cfg_reordered, ..k }));
        assert_eq!(h.len(), 16);
        // Pinned: the key must not change between builds of the same code, or every cache is lost.
        // Expected value: the first 8 bytes of SHA-256 over the length-prefixed fields, computed
        // independently with Python's hashlib (see docs/experiments.md, "Cache key").
        assert_eq!(h, "dd845000b6a497f0");
        assert_ne!(h, config_hash(&CacheKey { seed: 8, ..k }));
        assert_ne!(h, config_hash(&CacheKey { quick: false, ..k }));
        assert_ne!(h, config_hash(&CacheKey { name: "ou2", ..k }));
        assert_ne!(h, config_hash(&CacheKey { version: "0.1.1", ..k }));
        assert_ne!(h, config_hash(&CacheKey { config: &json!({"n": 1001, "ts": [0.1, 0.5]}), ..k }));
        // Different code (another executable), same everything else: another key.
        assert_ne!(h, config_hash(&CacheKey { code: "c0df", ..k }));
        // FNV-1a reference value (it still derives the random streams): "a" hashes to a known constant.
        let mut f = Fnv1a::default();
        f.update(b"a");
        assert_eq!(f.finish(), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn sha256_matches_the_fips_test_vectors() {
        // FIPS 180-2, appendix B.1 ("abc") and the empty string.
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let t = TempDir::new("sha");
        let p = t.0.join("abc");
        fs::write(&p, b"abc").unwrap();
        assert_eq!(sha256_file(&p).unwrap(), sha256_hex(b"abc"));
    }
}
