//! Small dense symmetric linear algebra on covariance matrices.

use crate::error::{MetricsError, Result};
use faer::{Mat, MatRef, Side};

/// Relative tolerance of the symmetry check: `max |S_ij − S_ji| ≤ SYM_RTOL · max |S_ij|`
/// (the workspace's one covariance tolerance, [`gmdiff_process::COVARIANCE_RTOL`]).
pub const SYM_RTOL: f64 = gmdiff_process::COVARIANCE_RTOL;
/// Relative tolerance of the PSD check: eigenvalues `≥ −PSD_RTOL · λ_max` are clamped to zero,
/// smaller ones are an error ([`gmdiff_process::COVARIANCE_RTOL`]).
pub const PSD_RTOL: f64 = gmdiff_process::COVARIANCE_RTOL;
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

/// Checks that `s` is a finite, square `d × d`, symmetric matrix and returns its symmetric part
/// ([`gmdiff_process::symmetric_part`], the shared check).
pub(crate) fn check_symmetric(what: &'static str, s: MatRef<'_, f64>, d: usize) -> Result<Mat<f64>> {
    if s.nrows() != d || s.ncols() != d {
        return Err(MetricsError::DimensionMismatch { what, expected: d, got: if s.nrows() != d { s.nrows() } else { s.ncols() } });
    }
    gmdiff_process::symmetric_part(s).map_err(|e| covariance_error(what, e, d))
}

/// The shared covariance check's error as a [`MetricsError`] about `what`.
fn covariance_error(what: &'static str, e: gmdiff_process::CovarianceError, d: usize) -> MetricsError {
    use gmdiff_process::CovarianceError as C;
    match e {
        C::NonFinite { i, j, .. } => MetricsError::NonFinite { what, index: i * d + j },
        C::NotSymmetric { gap, .. } => MetricsError::NotSymmetric { what, asymmetry: gap },
        C::NotPositiveSemiDefinite { min_eigenvalue } => MetricsError::NotPsd { what, min_eigenvalue },
        C::NoConvergence => MetricsError::NotConverged { what: "symmetric eigendecomposition", reason: "non-finite eigenvalue".into() },
        C::Empty | C::NotSquare { .. } => MetricsError::DimensionMismatch { what, expected: d, got: 0 },
    }
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
    gmdiff_process::check_psd_eigenvalues(&values).map_err(|e| covariance_error(what, e, d))?;
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
