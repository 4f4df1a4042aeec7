//! Reading and writing the file formats of the CLI: mixture JSON, point CSV.
//!
//! * Mixture JSON: `{"weights": [w, …], "means": [[…], …], "covariances": [[[…], …], …]}`.
//! * Points CSV: one point per row, comma separated, no header; every value finite.
//!
//! Output numbers are printed with the shortest representation that parses back to the same
//! `f64` (see [`format_f64`]).

use faer::Mat;
use gmdiff_mixture::{GaussianMixture, MixtureError};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// An error reading or writing a file, with the file and the place in it.
#[derive(Debug, Error)]
pub enum IoError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The system error.
        source: std::io::Error,
    },
    /// A CSV file that is empty, ragged, or holds a value that is not a finite number.
    #[error("{path}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line.
        message: String,
    },
    /// A JSON file that does not parse or does not describe a valid object.
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A mixture that fails validation.
    #[error("{path}: {source}")]
    Mixture {
        /// The file.
        path: PathBuf,
        /// The validation error.
        source: MixtureError,
    },
}

/// Reads a points CSV (one point per row, no header) into an `n × d` matrix.
///
/// ```
/// let dir = std::env::temp_dir().join("gmdiff-doc-points.csv");
/// std::fs::write(&dir, "1,2\n3.5,-4e-3\n").unwrap();
/// let x = gmdiff::io::read_points_csv(&dir).unwrap();
/// assert_eq!((x.nrows(), x.ncols(), x[(1, 1)]), (2, 2, -4e-3));
/// ```
pub fn read_points_csv(path: &Path) -> Result<Mat<f64>, IoError> {
    let bytes = std::fs::read(path).map_err(|source| IoError::File { path: path.into(), source })?;
    parse_points_csv(&bytes).map_err(|e| match e {
        IoError::Csv { message, .. } => IoError::Csv { path: path.into(), message },
        other => other,
    })
}

/// Parses points CSV bytes, as [`read_points_csv`] reads them; errors are [`IoError::Csv`] with
/// the path `(bytes)`.
///
/// ```
/// let x = gmdiff::io::parse_points_csv(b"1,2\n3,4\n").unwrap();
/// assert_eq!((x.nrows(), x.ncols()), (2, 2));
/// let e = gmdiff::io::parse_points_csv(b"1,2\n3\n").unwrap_err();
/// assert_eq!(e.to_string(), "(bytes): line 2: expected 2 values like the first row, found 1");
/// ```
pub fn parse_points_csv(bytes: &[u8]) -> Result<Mat<f64>, IoError> {
    let err = |message: String| IoError::Csv { path: "(bytes)".into(), message };
    parse_points(bytes).map_err(err)
}

fn parse_points(bytes: &[u8]) -> Result<Mat<f64>, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(bytes);
    let mut values = Vec::new();
    let mut d = None;
    let mut n = 0usize;
    for record in reader.records() {
        let record = record.map_err(|e| format!("malformed CSV: {e}"))?;
        let line = record.position().map_or(n + 1, |p| p.line() as usize);
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        match d {
            None => d = Some(record.len()),
            Some(d) if d != record.len() => {
                return Err(format!("line {line}: expected {d} values like the first row, found {}", record.len()));
            }
            _ => {}
        }
        for (j, field) in record.iter().enumerate() {
            let v: f64 = field.parse().map_err(|_| format!("line {line}, column {}: `{field}` is not a number", j + 1))?;
            if !v.is_finite() {
                return Err(format!("line {line}, column {}: `{field}` is not finite", j + 1));
            }
            values.push(v);
        }
        n += 1;
    }
    let d = d.filter(|_| n > 0).ok_or_else(|| "no points: the file is empty".to_string())?;
    Ok(Mat::from_fn(n, d, |i, j| values[i * d + j]))
}

/// Reads and validates a mixture JSON file.
pub fn read_mixture_json(path: &Path) -> Result<GaussianMixture, IoError> {
    let text = std::fs::read_to_string(path).map_err(|source| IoError::File { path: path.into(), source })?;
    serde_json::from_str(&text).map_err(|e| IoError::Json { path: path.into(), message: e.to_string() })
}

/// The shortest decimal that parses back to exactly `v`: plain notation for moderate magnitudes,
/// scientific otherwise; `inf`, `-inf` and `NaN` as Python and numpy read them.
///
/// ```
/// use gmdiff::io::format_f64;
/// assert_eq!(format_f64(0.1), "0.1");
/// assert_eq!(format_f64(1e-300), "1e-300");
/// assert_eq!(format_f64(-2.5e20), "-2.5e20");
/// assert_eq!(format_f64(f64::INFINITY), "inf");
/// ```
pub fn format_f64(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else if v == 0.0 || (1e-5..1e16).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// Writes the rows of `x` as CSV (no header) with round-trippable precision.
pub fn write_matrix_csv(out: &mut impl Write, x: faer::MatRef<'_, f64>) -> std::io::Result<()> {
    let mut line = String::new();
    for i in 0..x.nrows() {
        line.clear();
        for j in 0..x.ncols() {
            if j > 0 {
                line.push(',');
            }
            line.push_str(&format_f64(x[(i, j)]));
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let err = |source| IoError::File { path: path.into(), source };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}
