use thiserror::Error;

/// Everything that can be wrong with a Gaussian, a mixture, or the points it is evaluated at.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MixtureError {
    /// A mixture with no component (`k = 0`).
    #[error("a mixture needs at least one component (k = 0)")]
    NoComponents,
    /// A distribution in dimension `d = 0`.
    #[error("the dimension d must be at least 1 (d = 0)")]
    ZeroDimension,
    /// Two objects that should have the same dimension do not.
    #[error("dimension mismatch in {what}: expected {expected}, found {found}")]
    DimensionMismatch {
        /// What was being matched.
        what: String,
        /// The expected size.
        expected: usize,
        /// The size found.
        found: usize,
    },
    /// A NaN or infinite value in an input.
    #[error("non-finite value {value} in {what}")]
    NonFinite {
        /// Where the value was found.
        what: String,
        /// The value.
        value: f64,
    },
    /// A negative mixture weight.
    #[error("weight {index} is negative ({value})")]
    NegativeWeight {
        /// Index of the weight.
        index: usize,
        /// The weight.
        value: f64,
    },
    /// Weights that do not sum to one.
    #[error("weights sum to {sum}, not 1 (tolerance {tol:e})", tol = gmdiff_process::WEIGHT_SUM_TOL)]
    WeightsNotNormalised {
        /// The sum of the weights.
        sum: f64,
    },
    /// A covariance matrix that is not symmetric.
    #[error("covariance of component {component} is not symmetric: entries ({i},{j}) and ({j},{i}) differ by {gap}")]
    NotSymmetric {
        /// Component index.
        component: usize,
        /// Row of the worst pair.
        i: usize,
        /// Column of the worst pair.
        j: usize,
        /// The asymmetry.
        gap: f64,
    },
    /// A covariance with a negative eigenvalue (or a negative variance).
    #[error("covariance of component {component} is not positive semi-definite (smallest eigenvalue {min_eigenvalue})")]
    NotPositiveSemiDefinite {
        /// Component index.
        component: usize,
        /// The most negative eigenvalue.
        min_eigenvalue: f64,
    },
    /// A singular covariance where a density is needed (for instance at `t = 0` with a degenerate component).
    #[error("covariance of component {component} is singular, so the law has no density (use t > 0 or a non-singular covariance)")]
    SingularCovariance {
        /// Component index.
        component: usize,
    },
    /// An invalid argument, such as a negative noise scale.
    #[error("invalid argument `{name}` = {value}: {reason}")]
    InvalidArgument {
        /// Argument name.
        name: &'static str,
        /// The value.
        value: f64,
        /// What is admissible.
        reason: &'static str,
    },
}

pub(crate) fn check_finite(what: impl Fn() -> String, values: impl IntoIterator<Item = f64>) -> Result<(), MixtureError> {
    match values.into_iter().find(|v| !v.is_finite()) {
        None => Ok(()),
        Some(value) => Err(MixtureError::NonFinite { what: what(), value }),
    }
}

impl From<gmdiff_process::CovarianceError> for MixtureError {
    /// The shared covariance check's error, for component 0 (see [`MixtureError::in_component`]).
    fn from(e: gmdiff_process::CovarianceError) -> Self {
        use gmdiff_process::CovarianceError as C;
        match e {
            C::Empty => MixtureError::ZeroDimension,
            C::NotSquare { rows, cols } => {
                MixtureError::DimensionMismatch { what: "covariance (columns vs rows)".into(), expected: rows, found: cols }
            }
            C::NonFinite { value, .. } => MixtureError::NonFinite { what: "covariance".into(), value },
            C::NotSymmetric { i, j, gap } => MixtureError::NotSymmetric { component: 0, i, j, gap },
            C::NotPositiveSemiDefinite { min_eigenvalue } => MixtureError::NotPositiveSemiDefinite { component: 0, min_eigenvalue },
            C::NoConvergence => MixtureError::NotPositiveSemiDefinite { component: 0, min_eigenvalue: f64::NAN },
        }
    }
}

impl From<gmdiff_process::WeightError> for MixtureError {
    fn from(e: gmdiff_process::WeightError) -> Self {
        use gmdiff_process::WeightError as W;
        match e {
            W::NonFinite { index, value } => MixtureError::NonFinite { what: format!("weight {index}"), value },
            W::Negative { index, value } => MixtureError::NegativeWeight { index, value },
            W::NotNormalised { sum } => MixtureError::WeightsNotNormalised { sum },
        }
    }
}
