//! Small dense symmetric linear algebra on covariance matrices.

use crate::error::{MetricsError, Result};
use faer::{Mat, MatRef, Side};

/// Relative tolerance of the symmetry check: `max |S_ij − S_ji| ≤ SYM_RTOL · max |S_ij|`.
pub const SYM_RTOL: f64 = 1e-10;
/// Relative tolerance of the PSD check: eigenvalues `≥ −PSD_RTOL · λ_max` are clamped to zero,
/// smaller ones are an error.
pub const PSD_RTOL: f64 = 1e-10;
/// Relative numerical-rank tolerance: an eigenvalue `≤ RANK_RTOL · λ_max` counts as zero.
pub const RANK_RTOL: f64 = 1e-10;

/// A validated symmetric PSD matrix with its eigendecomposition `S = U diag(λ) Uᵀ`,
/// eigenvalues ascending and clamped to `≥ 0`.
pub(crate) struct SymEig {
    pub values: Vec<f64>,
    pub vectors: Mat<f64>,
}

impl SymEig {
    /// Largest eigenvalue (0 for the zero matrix).
    pub fn max(&self) -> f64 {
        self.values.last().copied().unwrap_or(0.0)
    }
    /// Number of eigenvalues above `RANK_RTOL · λ_max`.
    pub fn rank(&self) -> usize {
        let tol = RANK_RTOL * self.max();
        self.values.iter().filter(|&&l| l > tol && l > 0.0).count()
    }
    /// `U f(λ) Uᵀ`.
    pub fn apply(&self, f: impl Fn(f64) -> f64) -> Mat<f64> {
        let d = self.values.len();
        let u = self.vectors.as_ref();
        let fl: Vec<f64> = self.values.iter().map(|&l| f(l)).collect();
        Mat::from_fn(d, d, |i, j| (0..d).map(|k| u[(i, k)] * fl[k] * u[(j, k)]).sum())
    }
}

/// Checks that `s` is a finite, square `d × d`, symmetric matrix and returns its symmetric part.
pub(crate) fn check_symmetric(what: &'static str, s: MatRef<'_, f64>, d: usize) -> Result<Mat<f64>> {
    if s.nrows() != d || s.ncols() != d {
        return Err(MetricsError::DimensionMismatch { what, expected: d, got: if s.nrows() != d { s.nrows() } else { s.ncols() } });
    }
    let mut scale = 0.0f64;
    for i in 0..d {
        for j in 0..d {
            let v = s[(i, j)];
            if !v.is_finite() {
                return Err(MetricsError::NonFinite { what, index: i * d + j });
            }
            scale = scale.max(v.abs());
        }
    }
    let mut asym = 0.0f64;
    for i in 0..d {
        for j in 0..i {
            asym = asym.max((s[(i, j)] - s[(j, i)]).abs());
        }
    }
    if asym > SYM_RTOL * scale {
        return Err(MetricsError::NotSymmetric { what, asymmetry: asym });
    }
    Ok(Mat::from_fn(d, d, |i, j| 0.5 * (s[(i, j)] + s[(j, i)])))
}

/// Eigendecomposition of a symmetric matrix; checks PSD within [`PSD_RTOL`] and clamps.
pub(crate) fn psd_eig(what: &'static str, s: MatRef<'_, f64>) -> Result<SymEig> {
    let d = s.nrows();
    // Inputs are validated finite, so a non-finite entry here is an overflow upstream.
    for j in 0..d {
        for i in 0..d {
            if !s[(i, j)].is_finite() {
                return Err(MetricsError::Overflow { what, value: s[(i, j)] });
            }
        }
    }
    let evd = s
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| MetricsError::NotConverged { what: "symmetric eigendecomposition", reason: format!("{e:?}") })?;
    let mut values: Vec<f64> = (0..d).map(|k| evd.S()[k]).collect();
    let vectors = evd.U().to_owned();
    if values.iter().any(|v| !v.is_finite()) {
        return Err(MetricsError::NotConverged { what: "symmetric eigendecomposition", reason: "non-finite eigenvalue".into() });
    }
    let lmax = values.iter().fold(0.0f64, |a, &b| a.max(b));
    let lmin = values.iter().fold(f64::INFINITY, |a, &b| a.min(b));
    if lmin < -PSD_RTOL * lmax || (lmax == 0.0 && lmin < 0.0) {
        return Err(MetricsError::NotPsd { what, min_eigenvalue: lmin });
    }
    for v in values.iter_mut() {
        *v = v.max(0.0);
    }
    Ok(SymEig { values, vectors })
}

/// Validates a covariance matrix (square `d × d`, finite, symmetric, PSD) and decomposes it.
pub(crate) fn covariance(what: &'static str, s: MatRef<'_, f64>, d: usize) -> Result<(Mat<f64>, SymEig)> {
    let sym = check_symmetric(what, s, d)?;
    let eig = psd_eig(what, sym.as_ref())?;
    Ok((sym, eig))
}

/// `a · b` for small dense matrices.
pub(crate) fn matmul(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), b.ncols(), |i, j| (0..a.ncols()).map(|k| a[(i, k)] * b[(k, j)]).sum())
}

/// The symmetric part `(a + aᵀ)/2`.
pub(crate) fn symmetrize(a: MatRef<'_, f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| 0.5 * (a[(i, j)] + a[(j, i)]))
}

/// Trace.
pub(crate) fn trace(a: MatRef<'_, f64>) -> f64 {
    (0..a.nrows()).map(|i| a[(i, i)]).sum()
}
