//! Reading covariance spectra: `.npy` (float32 or float64, through `npyz`) and plain text.

use crate::error::GaussianError;
use std::path::Path;

/// Reads a spectrum: `.npy` files (shape `(n,)`, `(n, 1)` or `(1, n)`; `<f4`/`<f8`/`>f4`/`>f8`) through
/// `npyz`, other files as plain text (numbers separated by whitespace or commas, `#` comments).
/// Every value must be finite and `≥ 0` (`−0.0` is read as `0`).
///
/// ```
/// let p = std::env::temp_dir().join("gmdiff-doc-spectrum.txt");
/// std::fs::write(&p, "# eigenvalues\n1.5 0.25\n0\n").unwrap();
/// assert_eq!(gmdiff_gaussian::read_spectrum(&p).unwrap(), vec![1.5, 0.25, 0.0]);
/// ```
pub fn read_spectrum(path: &Path) -> Result<Vec<f64>, GaussianError> {
    let at_path = |message: String| GaussianError::Spectrum { path: path.display().to_string(), message };
    let bytes = std::fs::read(path).map_err(|e| at_path(e.to_string()))?;
    parse_spectrum(&bytes).map_err(|e| match e {
        GaussianError::Spectrum { message, .. } => at_path(message),
        other => other,
    })
}

/// Parses the bytes of a spectrum file, as [`read_spectrum`] reads it (errors name the source
/// `(bytes)`).
///
/// ```
/// assert_eq!(gmdiff_gaussian::parse_spectrum(b"2, 1\n0.5").unwrap(), vec![2.0, 1.0, 0.5]);
/// assert!(gmdiff_gaussian::parse_spectrum(b"1 -1").is_err());
/// ```
pub fn parse_spectrum(bytes: &[u8]) -> Result<Vec<f64>, GaussianError> {
    let err = |message: String| GaussianError::Spectrum { path: "(bytes)".into(), message };
    let values = if bytes.starts_with(b"\x93NUMPY") {
        check_npy_header(bytes).map_err(err)?;
        let npy = npyz::NpyFile::new(bytes).map_err(|e| err(format!("not a valid .npy file: {e}")))?;
        if npy.shape().iter().filter(|&&n| n != 1).count() > 1 {
            let dims: Vec<String> = npy.shape().iter().map(u64::to_string).collect();
            return Err(err(format!("a spectrum is a 1-D .npy array, got shape ({}) (a matrix is not a spectrum)", dims.join(", "))));
        }
        let ty = match npy.dtype() {
            npyz::DType::Plain(ty) => ty,
            other => return Err(err(format!("unsupported .npy dtype {}", other.descr()))),
        };
        match (ty.type_char(), ty.size_field()) {
            (npyz::TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(|e| err(e.to_string()))?,
            (npyz::TypeChar::Float, 4) => npy.into_vec::<f32>().map_err(|e| err(e.to_string()))?.into_iter().map(f64::from).collect(),
            _ => return Err(err(format!("unsupported .npy dtype {ty}: expected float32 or float64"))),
        }
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| err("neither .npy nor UTF-8 text".into()))?;
        let mut v = Vec::new();
        for (line_no, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("");
            for tok in line.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()) {
                v.push(tok.parse::<f64>().map_err(|_| err(format!("line {}: `{tok}` is not a number", line_no + 1)))?);
            }
        }
        v
    };
    if values.is_empty() {
        return Err(err("empty spectrum".into()));
    }
    values
        .into_iter()
        .enumerate()
        .map(
            |(i, v)| {
                if v.is_finite() && v >= 0.0 { Ok(v.abs()) } else { Err(err(format!("eigenvalue {i} = {v} must be finite and ≥ 0"))) }
            },
        )
        .collect()
}

/// Rejects `.npy` headers that are not the plain dictionary `np.save` writes for a numeric array.
///
/// The header is a Python literal, parsed by `npyz` through a backtracking parser; a header with
/// deeply nested brackets (possible only in structured dtypes, which are not spectra anyway) can
/// take that parser exponential time, so such headers are refused before parsing.
fn check_npy_header(bytes: &[u8]) -> Result<(), String> {
    let (len_at, width) = match bytes.get(6) {
        Some(1) => (8, 2),
        Some(2) | Some(3) => (8, 4),
        Some(v) => return Err(format!("unsupported .npy format version {v}")),
        None => return Err("truncated .npy file".into()),
    };
    let len_bytes = bytes.get(len_at..len_at + width).ok_or("truncated .npy header")?;
    let len = len_bytes.iter().rev().fold(0usize, |acc, &b| (acc << 8) | b as usize);
    let header = bytes.get(len_at + width..len_at + width + len).ok_or("truncated .npy header")?;
    if header.iter().filter(|&&b| b == b'{' || b == b'[').count() > 1 || header.contains(&b'[') {
        return Err("unsupported .npy header: expected a plain numeric array (no structured dtype)".into());
    }
    Ok(())
}
