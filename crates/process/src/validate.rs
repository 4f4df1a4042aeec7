//! The one set of input checks every gmdiff crate uses: scalar parameters, probability weights
//! and covariance matrices. gmdiff-process is the base of the workspace, so a matrix one crate
//! accepts is accepted by all of them, with the same tolerances and the same messages.
//!
//! * [`check_parameter`]: finite and in range, else [`InvalidParameter`].
//! * [`check_weights`]: finite, `≥ 0`, summing to one within [`WEIGHT_SUM_TOL`].
//! * [`symmetric_part`], [`check_psd_eigenvalues`], [`covariance_eigen`], [`check_covariance`]:
//!   square, finite, symmetric to a relative [`COVARIANCE_RTOL`] (then symmetrised exactly) and
//!   positive semi-definite to a relative [`COVARIANCE_RTOL`] of the largest eigenvalue.

use faer::{Mat, MatRef, Side};
use thiserror::Error;

/// Relative tolerance of the covariance checks: `max |S_ij − S_ji| ≤ COVARIANCE_RTOL · max |S_ij|`
/// and `λ_min ≥ −COVARIANCE_RTOL · max(λ_max, 0)`.
///
/// `1e-10` accepts matrices printed with 11 significant digits and the rounding of an
/// eigensolver (`≈ d ε λ_max`, below `1e-10 λ_max` up to `d ≈ 4·10⁵`), and refuses anything
/// visibly asymmetric or indefinite.
pub const COVARIANCE_RTOL: f64 = 1e-10;

/// Absolute tolerance on `|Σ w_i − 1|` for probability weights.
pub const WEIGHT_SUM_TOL: f64 = 1e-9;

/// A scalar parameter that is NaN, infinite or outside its range.
///
/// ```
/// use gmdiff_process::check_parameter;
/// assert_eq!(check_parameter("T", 2.0, |t| t > 0.0, "must be finite and > 0"), Ok(2.0));
/// let e = check_parameter("T", f64::NAN, |t| t > 0.0, "must be finite and > 0").unwrap_err();
/// assert_eq!(e.to_string(), "invalid parameter `T` = NaN: must be finite and > 0");
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[error("invalid parameter `{name}` = {value}: {reason}")]
pub struct InvalidParameter {
    /// Parameter name, as in the docs.
    pub name: &'static str,
    /// The offending value.
    pub value: f64,
    /// What the admissible range is.
    pub reason: &'static str,
}

/// Returns `Ok(value)` when it is finite and satisfies `ok`, else [`InvalidParameter`].
pub fn check_parameter(
    name: &'static str,
    value: f64,
    ok: impl FnOnce(f64) -> bool,
    reason: &'static str,
) -> Result<f64, InvalidParameter> {
    if value.is_finite() && ok(value) { Ok(value) } else { Err(InvalidParameter { name, value, reason }) }
}

/// What is wrong with a vector of probability weights.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum WeightError {
    /// A NaN or infinite weight.
    #[error("weight {index} is not finite ({value})")]
    NonFinite {
        /// Index of the weight.
        index: usize,
        /// The weight.
        value: f64,
    },
    /// A negative weight.
    #[error("weight {index} is negative ({value})")]
    Negative {
        /// Index of the weight.
        index: usize,
        /// The weight.
        value: f64,
    },
    /// Weights whose sum is not one within [`WEIGHT_SUM_TOL`].
    #[error("weights sum to {sum}, not 1 (tolerance {tol:e})", tol = WEIGHT_SUM_TOL)]
    NotNormalised {
        /// The sum.
        sum: f64,
    },
}

/// Checks probability weights: finite, non-negative, `|Σ w − 1| ≤` [`WEIGHT_SUM_TOL`].
///
/// ```
/// use gmdiff_process::{WeightError, check_weights};
/// assert!(check_weights(&[0.25, 0.75]).is_ok());
/// assert!(matches!(check_weights(&[0.5, 0.6]), Err(WeightError::NotNormalised { .. })));
/// ```
pub fn check_weights(w: &[f64]) -> Result<(), WeightError> {
    if let Some((index, &value)) = w.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(WeightError::NonFinite { index, value });
    }
    if let Some((index, &value)) = w.iter().enumerate().find(|(_, v)| **v < 0.0) {
        return Err(WeightError::Negative { index, value });
    }
    let sum: f64 = w.iter().sum();
    if (sum - 1.0).abs() > WEIGHT_SUM_TOL {
        return Err(WeightError::NotNormalised { sum });
    }
    Ok(())
}

/// What is wrong with a covariance matrix.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CovarianceError {
    /// A `0 × 0` matrix.
    #[error("the covariance is empty (d = 0)")]
    Empty,
    /// A matrix that is not square.
    #[error("the covariance is {rows} × {cols}, not square")]
    NotSquare {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// A NaN or infinite entry.
    #[error("covariance entry ({i},{j}) is not finite ({value})")]
    NonFinite {
        /// Row.
        i: usize,
        /// Column.
        j: usize,
        /// The entry.
        value: f64,
    },
    /// `|S_ij − S_ji| > COVARIANCE_RTOL · max |S|` for the worst pair `(i, j)`.
    #[error("the covariance is not symmetric: entries ({i},{j}) and ({j},{i}) differ by {gap:e} (tolerance {tol:e} relative)", tol = COVARIANCE_RTOL)]
    NotSymmetric {
        /// Row of the worst pair.
        i: usize,
        /// Column of the worst pair.
        j: usize,
        /// The asymmetry `|S_ij − S_ji|`.
        gap: f64,
    },
    /// `λ_min < −COVARIANCE_RTOL · max(λ_max, 0)`.
    #[error("the covariance is not positive semi-definite: smallest eigenvalue {min_eigenvalue:e}")]
    NotPositiveSemiDefinite {
        /// The smallest eigenvalue.
        min_eigenvalue: f64,
    },
    /// The symmetric eigensolver failed (or returned a non-finite eigenvalue).
    #[error("the symmetric eigendecomposition of the covariance did not converge")]
    NoConvergence,
}

/// Checks that `s` is square, non-empty, finite and symmetric to [`COVARIANCE_RTOL`] (relative to
/// its largest entry), and returns the exact symmetric part `(S + Sᵀ)/2`.
pub fn symmetric_part(s: MatRef<'_, f64>) -> Result<Mat<f64>, CovarianceError> {
    let (rows, cols) = (s.nrows(), s.ncols());
    if rows != cols {
        return Err(CovarianceError::NotSquare { rows, cols });
    }
    if rows == 0 {
        return Err(CovarianceError::Empty);
    }
    let mut scale = 0.0f64;
    for j in 0..cols {
        for i in 0..rows {
            let value = s[(i, j)];
            if !value.is_finite() {
                return Err(CovarianceError::NonFinite { i, j, value });
            }
            scale = scale.max(value.abs());
        }
    }
    let mut worst = (0, 0, 0.0f64);
    for j in 0..cols {
        for i in j + 1..rows {
            let gap = (s[(i, j)] - s[(j, i)]).abs();
            if gap > worst.2 {
                worst = (i, j, gap);
            }
        }
    }
    if worst.2 > COVARIANCE_RTOL * scale {
        return Err(CovarianceError::NotSymmetric { i: worst.0, j: worst.1, gap: worst.2 });
    }
    Ok(Mat::from_fn(rows, cols, |i, j| if i == j { s[(i, i)] } else { 0.5 * (s[(i, j)] + s[(j, i)]) }))
}

/// Checks eigenvalues of a symmetric matrix for semi-definiteness:
/// `λ_min ≥ −COVARIANCE_RTOL · max(λ_max, 0)` (so a matrix with `λ_max ≤ 0` must have `λ_min = 0`).
pub fn check_psd_eigenvalues(values: &[f64]) -> Result<(), CovarianceError> {
    if values.iter().any(|v| !v.is_finite()) {
        return Err(CovarianceError::NoConvergence);
    }
    let max = values.iter().fold(0.0f64, |a, &b| a.max(b));
    let min = values.iter().fold(f64::INFINITY, |a, &b| a.min(b));
    if min < -COVARIANCE_RTOL * max || (max == 0.0 && min < 0.0) {
        return Err(CovarianceError::NotPositiveSemiDefinite { min_eigenvalue: min });
    }
    Ok(())
}

/// A validated covariance: its exact symmetric part `S`, and `S = U diag(λ) Uᵀ` with the
/// eigenvalues ascending and clamped to `≥ 0` (the negative ones within tolerance become `0`).
#[derive(Debug, Clone)]
pub struct CovarianceEigen {
    /// The symmetric part `(S + Sᵀ)/2` of the input.
    pub matrix: Mat<f64>,
    /// `λ_1 ≤ … ≤ λ_d`, all `≥ 0`.
    pub values: Vec<f64>,
    /// Orthonormal eigenvectors, one per column.
    pub vectors: Mat<f64>,
}

/// Validates a covariance ([`symmetric_part`], then [`check_psd_eigenvalues`]) and returns its
/// eigendecomposition with the eigenvalues clamped to `≥ 0`.
///
/// ```
/// use gmdiff_process::{CovarianceError, covariance_eigen};
/// let c = covariance_eigen(faer::mat![[2.0, 1.0], [1.0, 2.0]].as_ref()).unwrap();
/// assert!((c.values[0] - 1.0).abs() < 1e-15 && (c.values[1] - 3.0).abs() < 1e-15);
/// let bad = covariance_eigen(faer::mat![[1.0, 2.0], [2.0, 1.0]].as_ref()).unwrap_err();
/// assert!(matches!(bad, CovarianceError::NotPositiveSemiDefinite { .. }));
/// ```
pub fn covariance_eigen(s: MatRef<'_, f64>) -> Result<CovarianceEigen, CovarianceError> {
    let matrix = symmetric_part(s)?;
    // Decompose S / 2^k with 2^k ≥ max |S_ij| (exact scaling), so entries near f64::MAX do not
    // overflow inside the eigensolver; the eigenvalues are scaled back exactly.
    let top =
        (0..matrix.ncols()).flat_map(|j| (0..matrix.nrows()).map(move |i| (i, j))).fold(0.0f64, |a, (i, j)| a.max(matrix[(i, j)].abs()));
    let scale = if top > 1.0 { 2f64.powi((top.log2().ceil() as i32).min(1023)) } else { 1.0 };
    let scaled = Mat::from_fn(matrix.nrows(), matrix.ncols(), |i, j| matrix[(i, j)] / scale);
    let evd = scaled.self_adjoint_eigen(Side::Lower).map_err(|_| CovarianceError::NoConvergence)?;
    let d = matrix.nrows();
    let mut values: Vec<f64> = (0..d).map(|k| evd.S()[k] * scale).collect();
    check_psd_eigenvalues(&values)?;
    values.iter_mut().for_each(|v| *v = v.max(0.0));
    Ok(CovarianceEigen { matrix, values, vectors: evd.U().to_owned() })
}

/// Validates a covariance like [`covariance_eigen`] and returns its symmetric part; a matrix with
/// a Cholesky factor is positive definite and skips the eigendecomposition.
pub fn check_covariance(s: MatRef<'_, f64>) -> Result<Mat<f64>, CovarianceError> {
    let matrix = symmetric_part(s)?;
    if matrix.llt(Side::Lower).is_ok() {
        return Ok(matrix);
    }
    Ok(covariance_eigen(matrix.as_ref())?.matrix)
}
