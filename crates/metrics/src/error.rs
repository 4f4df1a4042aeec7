//! The error type of the crate and the input checks shared by every metric.

use faer::MatRef;
use thiserror::Error;

/// Errors raised by the metrics.
///
/// No metric panics on bad input and none returns a silent NaN: every rejected input maps to one
/// of these variants. A quantity that is *mathematically* infinite (for example the KL divergence
/// to a singular Gaussian) is not an error; it is returned as `f64::INFINITY` and documented on
/// the function.
///
/// ```
/// use gmdiff_metrics::{w2_exact, MetricsError};
/// let x = faer::Mat::<f64>::zeros(0, 2);
/// let y = faer::Mat::<f64>::zeros(3, 2);
/// assert!(matches!(w2_exact(x.as_ref(), y.as_ref()), Err(MetricsError::Empty { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MetricsError {
    /// A point cloud, weight vector or mixture has no element (or too few for the estimator).
    #[error("`{what}` is empty or too small: {reason}")]
    Empty {
        /// The argument, as named in the docs.
        what: &'static str,
        /// What was needed.
        reason: String,
    },
    /// Two inputs that must share a dimension do not.
    #[error("dimension mismatch for `{what}`: expected {expected}, got {got}")]
    DimensionMismatch {
        /// The argument, as named in the docs.
        what: &'static str,
        /// The expected size.
        expected: usize,
        /// The size received.
        got: usize,
    },
    /// An input holds NaN or ±∞.
    #[error("`{what}` contains a non-finite value at index {index}")]
    NonFinite {
        /// The argument, as named in the docs.
        what: &'static str,
        /// Flat (row-major) index of the first offending entry.
        index: usize,
    },
    /// A covariance matrix is not symmetric within tolerance.
    #[error("`{what}` is not symmetric (max |S - Sᵀ| = {asymmetry:e})")]
    NotSymmetric {
        /// The argument, as named in the docs.
        what: &'static str,
        /// The largest absolute asymmetry found.
        asymmetry: f64,
    },
    /// A covariance matrix has a clearly negative eigenvalue.
    #[error("`{what}` is not positive semi-definite (smallest eigenvalue {min_eigenvalue:e})")]
    NotPsd {
        /// The argument, as named in the docs.
        what: &'static str,
        /// The smallest eigenvalue found.
        min_eigenvalue: f64,
    },
    /// Weights that are negative, non-finite, all zero, or do not sum to one.
    #[error("bad weights `{what}`: {reason}")]
    BadWeights {
        /// The argument, as named in the docs.
        what: &'static str,
        /// Why they were rejected.
        reason: String,
    },
    /// A parameter is outside its admissible range.
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        /// The parameter, as named in the docs.
        name: &'static str,
        /// The offending value (cast to `f64` for integers).
        value: f64,
        /// The admissible range.
        reason: &'static str,
    },
    /// An iterative solver stopped before it could certify its answer.
    #[error("{what} did not converge: {reason}")]
    NotConverged {
        /// The solver.
        what: &'static str,
        /// Why it stopped.
        reason: String,
    },
    /// A user-supplied density returned an unusable value.
    #[error("the density `{what}` returned an invalid value {value} at point {index}")]
    BadDensity {
        /// The density, as named in the docs.
        what: &'static str,
        /// The returned value.
        value: f64,
        /// Index of the evaluation point.
        index: usize,
    },
    /// A result that is finite in exact arithmetic overflowed `f64` (inputs of magnitude near
    /// `1e154` or more); rescale the inputs.
    #[error("{what} overflowed f64 (got {value}); rescale the inputs")]
    Overflow {
        /// The quantity.
        what: &'static str,
        /// The non-finite value obtained.
        value: f64,
    },
    /// An external component (for example a mixture) reported an error.
    #[error("{what}: {reason}")]
    External {
        /// What failed.
        what: &'static str,
        /// Its message.
        reason: String,
    },
}

/// Shorthand for `Result<T, MetricsError>`.
pub type Result<T> = std::result::Result<T, MetricsError>;

/// Checks a point cloud: at least `min_rows` rows, at least one column, all entries finite.
pub(crate) fn check_cloud(what: &'static str, x: MatRef<'_, f64>, min_rows: usize) -> Result<()> {
    if x.nrows() < min_rows.max(1) || x.ncols() == 0 {
        return Err(MetricsError::Empty {
            what,
            reason: format!("got {} × {}, need at least {} row(s) and one column", x.nrows(), x.ncols(), min_rows.max(1)),
        });
    }
    for i in 0..x.nrows() {
        for k in 0..x.ncols() {
            if !x[(i, k)].is_finite() {
                return Err(MetricsError::NonFinite { what, index: i * x.ncols() + k });
            }
        }
    }
    Ok(())
}

/// Checks that two clouds share their dimension.
pub(crate) fn check_same_dim(what: &'static str, x: MatRef<'_, f64>, y: MatRef<'_, f64>) -> Result<()> {
    if x.ncols() != y.ncols() {
        return Err(MetricsError::DimensionMismatch { what, expected: x.ncols(), got: y.ncols() });
    }
    Ok(())
}

/// Checks a finite slice of the expected length.
pub(crate) fn check_vec(what: &'static str, v: &[f64], len: usize) -> Result<()> {
    if v.len() != len {
        return Err(MetricsError::DimensionMismatch { what, expected: len, got: v.len() });
    }
    if let Some(index) = v.iter().position(|t| !t.is_finite()) {
        return Err(MetricsError::NonFinite { what, index });
    }
    Ok(())
}

/// Absolute tolerance on `|Σ w − 1|` accepted for probability weights: the workspace's one
/// weight tolerance, [`gmdiff_process::WEIGHT_SUM_TOL`].
pub use gmdiff_process::WEIGHT_SUM_TOL;

/// Checks probability weights (finite, non-negative, of length `len`, summing to one within
/// [`WEIGHT_SUM_TOL`]) and returns them; `None` means uniform weights `1/len`.
pub(crate) fn weights_or_uniform(what: &'static str, w: Option<&[f64]>, len: usize) -> Result<Vec<f64>> {
    match w {
        None => Ok(vec![1.0 / len as f64; len]),
        Some(w) => {
            if w.len() != len {
                return Err(MetricsError::DimensionMismatch { what, expected: len, got: w.len() });
            }
            match gmdiff_process::check_weights(w) {
                Ok(()) => Ok(w.to_vec()),
                Err(gmdiff_process::WeightError::NonFinite { index, .. }) => Err(MetricsError::NonFinite { what, index }),
                Err(e) => Err(MetricsError::BadWeights { what, reason: e.to_string() }),
            }
        }
    }
}

/// Returns `v` when it is finite, else [`MetricsError::Overflow`].
pub(crate) fn finite(what: &'static str, v: f64) -> Result<f64> {
    if v.is_finite() { Ok(v) } else { Err(MetricsError::Overflow { what, value: v }) }
}

/// Returns `v` unless it is NaN ([`MetricsError::Overflow`]); infinities pass.
pub(crate) fn not_nan(what: &'static str, v: f64) -> Result<f64> {
    if v.is_nan() { Err(MetricsError::Overflow { what, value: v }) } else { Ok(v) }
}

/// Checks that a scalar parameter is finite and satisfies `ok`.
pub(crate) fn check_param(name: &'static str, value: f64, ok: bool, reason: &'static str) -> Result<f64> {
    gmdiff_process::check_parameter(name, value, |_| ok, reason).map_err(|e| MetricsError::InvalidParameter {
        name: e.name,
        value: e.value,
        reason: e.reason,
    })
}
