//! The error type of the guidance crate.

use thiserror::Error;

/// Everything that can go wrong when building a class-conditional model, a guided score, or a
/// measurement of guided outputs. Never a panic, never a silent NaN.
///
/// ```
/// use gmdiff_guidance::{ClassConditional, GuidanceError};
/// let m: gmdiff_mixture::GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[-1.0],[1.0]],"covariances":[1.0,1.0]}"#).unwrap();
/// let model = ClassConditional::per_component(m);
/// assert!(matches!(model.check_class(2), Err(GuidanceError::ClassOutOfRange { class: 2, classes: 2 })));
/// ```
#[derive(Debug, Error)]
pub enum GuidanceError {
    /// A class index `≥` the number of classes.
    #[error("class {class} is out of range: the model has {classes} classes (0..{classes})")]
    ClassOutOfRange {
        /// The requested class.
        class: usize,
        /// The number of classes.
        classes: usize,
    },
    /// Classes that are not a partition of the components.
    #[error("invalid classes: {reason}")]
    InvalidClasses {
        /// Why.
        reason: String,
    },
    /// A class whose components all have weight zero, so `p(x | y)` is undefined.
    #[error("class {class} has prior weight π_y = 0, so p(x | y) is undefined")]
    ZeroClassWeight {
        /// The class.
        class: usize,
    },
    /// A parameter that is NaN, infinite or outside its range (e.g. a negative guidance strength).
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// The value.
        value: f64,
        /// The admissible range.
        reason: &'static str,
    },
    /// A non-finite intermediate: a point too far from every component for `f64`, or a diverged run.
    #[error("non-finite value in {what}")]
    NonFinite {
        /// Where.
        what: String,
    },
    /// A measurement that does not apply to the requested sampler.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What was asked, and what is supported.
        what: String,
    },
    /// A step map `x ↦ c_x x + c_s s_t(x)` whose Jacobian is not positive definite at a visited
    /// point: the map may fold there, so the change-of-variables density does not apply.
    #[error(
        "step {step}: the Jacobian of the step map is not positive definite at particle {particle} \
         (the map may fold; the change-of-variables density does not apply — use more steps)"
    )]
    NotInvertible {
        /// The step index.
        step: usize,
        /// The particle index.
        particle: usize,
    },
    /// Too few values for a mean with a standard error.
    #[error("need at least 2 values for a mean with a standard error, got {found}")]
    TooFewValues {
        /// The number of values.
        found: usize,
    },
    /// Too few samples for the Kozachenko–Leonenko estimate with `k` neighbours (it needs `N > k`).
    #[error("the k-NN entropy estimate with k = {k} neighbours needs at least {needed} samples, got {found}")]
    TooFewSamples {
        /// The number of samples.
        found: usize,
        /// The number needed, `k + 1`.
        needed: usize,
        /// The number of neighbours.
        k: usize,
    },
    /// A mixture error (invalid covariance, singular component where a density is needed, …).
    #[error(transparent)]
    Mixture(#[from] gmdiff_mixture::MixtureError),
    /// A sampler error.
    #[error(transparent)]
    Solver(#[from] gmdiff_solvers::SolverError),
    /// A process or grid error.
    #[error(transparent)]
    Process(#[from] gmdiff_process::ProcessError),
    /// A metrics error (k-NN entropy).
    #[error(transparent)]
    Metrics(#[from] gmdiff_metrics::MetricsError),
}

/// [`gmdiff_process::check_parameter`] with this crate's error.
pub(crate) fn check_param(name: &'static str, value: f64, ok: impl Fn(f64) -> bool, reason: &'static str) -> Result<f64, GuidanceError> {
    gmdiff_process::check_parameter(name, value, ok, reason).map_err(|e| GuidanceError::InvalidParameter {
        name: e.name,
        value: e.value,
        reason: e.reason,
    })
}
