//! Reading and writing the file formats of the CLI: mixture JSON, point CSV and `.npy`.
//!
//! * Mixture JSON: `{"weights": [w, …], "means": [[…], …], "covariances": [[[…], …], …]}`.
//! * Points CSV (`.csv`): one point per row, comma separated, no header; every value finite.
//! * Points `.npy`: a `float64` or `float32` array of shape `(n, d)` (or `(n,)`, read as `d = 1`),
//!   C or Fortran order, any byte order; written as little-endian `float64`, C order.
//! * The path `-` is standard input (points: `.npy` when it starts with the npy magic, else CSV).
//!
//! The points format is chosen by the extension ([`PointsFormat::of`]); any other extension is
//! refused, so a typo never silently writes the wrong format.
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
    /// A points file whose extension names no known format, or an `.npy` file that is not a
    /// 1-D or 2-D array of floats.
    #[error("{path}: {message}")]
    Format {
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

/// Reads and validates a mixture JSON file (`-`: standard input).
pub fn read_mixture_json(path: &Path) -> Result<GaussianMixture, IoError> {
    let bytes = read_input(path)?;
    let text = String::from_utf8(bytes).map_err(|_| IoError::File {
        path: path.into(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"),
    })?;
    serde_json::from_str(&text).map_err(|e| IoError::Json { path: path.into(), message: e.to_string() })
}

/// Whether `path` is `-`, standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The bytes of `path`, or of standard input for `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>, IoError> {
    let err = |source| IoError::File { path: path.into(), source };
    if is_stdin(path) {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes).map_err(err)?;
        Ok(bytes)
    } else {
        std::fs::read(path).map_err(err)
    }
}

/// The format of a points file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointsFormat {
    /// Comma-separated text, one point per row.
    Csv,
    /// NumPy `.npy`.
    Npy,
}

const NPY_MAGIC: &[u8] = b"\x93NUMPY";

impl PointsFormat {
    /// The format named by the extension of `path` (case-insensitive `.csv` or `.npy`).
    ///
    /// ```
    /// use gmdiff::io::PointsFormat;
    /// use std::path::Path;
    /// assert_eq!(PointsFormat::of(Path::new("x.NPY")).unwrap(), PointsFormat::Npy);
    /// assert!(PointsFormat::of(Path::new("x.dat")).is_err());
    /// ```
    pub fn of(path: &Path) -> Result<Self, IoError> {
        match path.extension().map(|e| e.to_string_lossy().to_lowercase()).as_deref() {
            Some("csv") => Ok(PointsFormat::Csv),
            Some("npy") => Ok(PointsFormat::Npy),
            other => Err(IoError::Format {
                path: path.into(),
                message: match other {
                    Some(ext) => format!("unknown extension `.{ext}`: points files are .csv or .npy (or - for standard input)"),
                    None => "no extension: points files are .csv or .npy (or - for standard input)".into(),
                },
            }),
        }
    }
}

/// Reads points (`n × d`) from a `.csv` or `.npy` file, chosen by extension, or from standard
/// input for `-` (`.npy` if it starts with the npy magic, else CSV).
pub fn read_points(path: &Path) -> Result<Mat<f64>, IoError> {
    let format = if is_stdin(path) { None } else { Some(PointsFormat::of(path)?) };
    let bytes = read_input(path)?;
    let npy = match format {
        Some(f) => f == PointsFormat::Npy,
        None => bytes.starts_with(NPY_MAGIC),
    };
    let with_path = |e: IoError| match e {
        IoError::Csv { message, .. } => IoError::Csv { path: path.into(), message },
        IoError::Format { message, .. } => IoError::Format { path: path.into(), message },
        other => other,
    };
    if npy { parse_points_npy(&bytes).map_err(with_path) } else { parse_points_csv(&bytes).map_err(with_path) }
}

/// Parses `.npy` bytes holding a `float64`/`float32` array of shape `(n, d)` or `(n,)`, every value
/// finite; errors are [`IoError::Format`] (shape, type) or [`IoError::Csv`]-like value errors with
/// the path `(bytes)`.
///
/// ```
/// let x = faer::mat![[1.0, 2.0], [3.0, 4.0]];
/// let bytes = gmdiff::io::points_npy_bytes(x.as_ref()).unwrap();
/// assert_eq!(gmdiff::io::parse_points_npy(&bytes).unwrap(), x);
/// ```
pub fn parse_points_npy(bytes: &[u8]) -> Result<Mat<f64>, IoError> {
    let err = |message: String| IoError::Format { path: "(bytes)".into(), message };
    let npy = npyz::NpyFile::new(bytes).map_err(|e| err(format!("not a valid .npy file: {e}")))?;
    let shape = npy.shape().to_vec();
    let (n, d) = match shape[..] {
        [n] => (n, 1),
        [n, d] => (n, d),
        _ => return Err(err(format!("expected a 1-D or 2-D array of points, found shape {shape:?}"))),
    };
    let (n, d) =
        (usize::try_from(n).map_err(|_| err("too many rows".into()))?, usize::try_from(d).map_err(|_| err("too many columns".into()))?);
    if n == 0 || d == 0 {
        return Err(err(format!("no points: the array has shape {shape:?}")));
    }
    let fortran = npy.order() == npyz::Order::Fortran;
    let descr = npy.dtype().descr().trim_matches(['\'', '"']).to_string();
    let values: Vec<f64> = match descr.trim_start_matches(['<', '>', '=', '|']) {
        "f8" => npy.into_vec::<f64>(),
        "f4" => npy.into_vec::<f32>().map(|v| v.into_iter().map(f64::from).collect()),
        _ => return Err(err(format!("expected float64 or float32 values, found dtype '{descr}'"))),
    }
    .map_err(|e| err(format!("could not read the values: {e}")))?;
    if values.len() != n * d {
        return Err(err(format!("the payload holds {} values, the shape {shape:?} needs {}", values.len(), n * d)));
    }
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        let (i, j) = if fortran { (k % n, k / n) } else { (k / d, k % d) };
        return Err(IoError::Csv {
            path: "(bytes)".into(),
            message: format!("row {}, column {}: {} is not finite", i + 1, j + 1, values[k]),
        });
    }
    Ok(if fortran { Mat::from_fn(n, d, |i, j| values[j * n + i]) } else { Mat::from_fn(n, d, |i, j| values[i * d + j]) })
}

/// The rows of `x` as `.npy` bytes: little-endian `float64`, C order, shape `(n, d)`.
pub fn points_npy_bytes(x: faer::MatRef<'_, f64>) -> std::io::Result<Vec<u8>> {
    use npyz::WriterBuilder;
    let mut bytes = Vec::with_capacity(128 + 8 * x.nrows() * x.ncols());
    let mut w =
        npyz::WriteOptions::<f64>::new().default_dtype().shape(&[x.nrows() as u64, x.ncols() as u64]).writer(&mut bytes).begin_nd()?;
    for i in 0..x.nrows() {
        for j in 0..x.ncols() {
            w.push(&x[(i, j)])?;
        }
    }
    w.finish()?;
    Ok(bytes)
}

/// The rows of `x` as CSV bytes (see [`write_matrix_csv`]).
pub fn points_csv_bytes(x: faer::MatRef<'_, f64>) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(x.nrows() * x.ncols() * 20);
    write_matrix_csv(&mut bytes, x)?;
    Ok(bytes)
}

/// Writes points atomically to `path`, as `.csv` or `.npy` by its extension (any other is refused
/// before anything is written).
pub fn write_points(path: &Path, x: faer::MatRef<'_, f64>) -> Result<(), IoError> {
    let bytes = match PointsFormat::of(path)? {
        PointsFormat::Csv => points_csv_bytes(x),
        PointsFormat::Npy => points_npy_bytes(x),
    }
    .map_err(|source| IoError::File { path: path.into(), source })?;
    write_atomic(path, &bytes)
}

/// The shortest decimal that parses back to exactly `v`: plain notation for moderate magnitudes,
/// scientific otherwise; `inf`, `-inf` and `NaN` as Python and numpy read them; `−0` as `0`.
///
/// ```
/// use gmdiff::io::format_f64;
/// assert_eq!(format_f64(0.1), "0.1");
/// assert_eq!(format_f64(1e-300), "1e-300");
/// assert_eq!(format_f64(-2.5e20), "-2.5e20");
/// assert_eq!(format_f64(f64::INFINITY), "inf");
/// assert_eq!(format_f64(-0.0), "0");
/// ```
pub fn format_f64(v: f64) -> String {
    if v == 0.0 {
        // −0 and +0 print as 0: the sign of a zero carries no information here.
        "0".into()
    } else if v.is_nan() {
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
