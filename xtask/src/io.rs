//! Files: atomic writes, CSV, canonical JSON and the configuration hash.
//!
//! Every result file is written with [`atomic_write`]: the bytes go to a hidden temporary file in
//! the same directory (`.<name>.<pid>.<n>.tmp`), are fsynced, and the temporary file is renamed
//! over the target. A run killed at any point therefore leaves either the old file or the new one,
//! never a half-written one; stray temporaries from a killed run are swept by
//! [`remove_stale_temp_files`] at the start of the next.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use crate::error::{Result, XtaskError};

/// Suffix of the temporary files used by [`atomic_write`].
pub const TMP_SUFFIX: &str = ".tmp";

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically (temp file in the same directory, fsync, rename).
///
/// Creates the parent directory if needed. On failure the temporary file is removed and `path`
/// is left as it was.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(|e| XtaskError::io("create directory", dir, e))?;
    let file_name = path.file_name().ok_or_else(|| XtaskError::Usage(format!("not a file path: {}", path.display())))?.to_string_lossy();
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{file_name}.{}.{n}{TMP_SUFFIX}", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| XtaskError::io("create", &tmp, e))?;
        f.write_all(bytes).map_err(|e| XtaskError::io("write", &tmp, e))?;
        f.sync_all().map_err(|e| XtaskError::io("fsync", &tmp, e))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| XtaskError::io("rename into", path, e))?;
        // Make the rename itself durable. Not every filesystem lets a directory be fsynced, and
        // the data is already safe on those that do not, so a failure here is not an error.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
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
    /// A number, written with Rust's shortest round-trip formatting (`inf`, `-inf`, `NaN`).
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
            Cell::Num(x) => {
                let _ = write!(out, "{x}");
            }
            Cell::Int(i) => {
                let _ = write!(out, "{i}");
            }
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

/// Renders a CSV document (header line, then one line per row). Every row must have as many
/// fields as the header.
pub fn csv_string<R, C>(header: &[&str], rows: impl IntoIterator<Item = R>) -> Result<String>
where
    R: IntoIterator<Item = C>,
    C: Into<Cell>,
{
    let mut out = String::new();
    for (i, h) in header.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        Cell::from(*h).write_to(&mut out);
    }
    out.push('\n');
    for (line, row) in rows.into_iter().enumerate() {
        let mut fields = 0;
        for (i, c) in row.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            c.into().write_to(&mut out);
            fields += 1;
        }
        if fields != header.len() {
            return Err(XtaskError::Failed(format!("CSV row {line} has {fields} fields, header has {}", header.len())));
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

/// 64-bit FNV-1a: a small, stable, dependency-free hash (not cryptographic; it only has to tell
/// configurations apart).
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

/// The configuration hash of one experiment run, as 16 hex digits. It covers the experiment's
/// name, its `config()` (canonical JSON), the quick flag, the seed and the xtask version.
pub fn config_hash(name: &str, config: &Value, quick: bool, seed: u64, version: &str) -> String {
    let mut h = Fnv1a::default();
    h.field(b"gmdiff-xtask-config-v1");
    h.field(name.as_bytes());
    h.field(canonical_json(config).as_bytes());
    h.field(&[u8::from(quick)]);
    h.field(&seed.to_le_bytes());
    h.field(version.as_bytes());
    format!("{:016x}", h.finish())
}

/// A fresh, empty directory under the system temp dir, removed on drop (tests only).
#[cfg(test)]
pub(crate) struct TempDir(pub std::path::PathBuf);

#[cfg(test)]
impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
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
        let h = config_hash("ou", &cfg, true, 7, "0.1.0");
        assert_eq!(h, config_hash("ou", &cfg_reordered, true, 7, "0.1.0"));
        assert_eq!(h.len(), 16);
        // Pinned: the hash must not change between builds, or every cache is invalidated.
        assert_eq!(h, "9d6d0a632c23c4cd");
        assert_ne!(h, config_hash("ou", &cfg, true, 8, "0.1.0"));
        assert_ne!(h, config_hash("ou", &cfg, false, 7, "0.1.0"));
        assert_ne!(h, config_hash("ou2", &cfg, true, 7, "0.1.0"));
        assert_ne!(h, config_hash("ou", &cfg, true, 7, "0.1.1"));
        assert_ne!(h, config_hash("ou", &json!({"n": 1001, "ts": [0.1, 0.5]}), true, 7, "0.1.0"));
        // FNV-1a reference value: empty input hashes to the offset basis; "a" to a known constant.
        let mut f = Fnv1a::default();
        f.update(b"a");
        assert_eq!(f.finish(), 0xaf63_dc4c_8601_ec8c);
    }
}
