//! The error type of the samplers.

use thiserror::Error;

/// Everything that can go wrong when configuring or running a sampler.
#[derive(Debug, Error)]
pub enum SolverError {
    /// A parameter is NaN, infinite or outside its admissible range.
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// The offending value.
        value: f64,
        /// The admissible range.
        reason: &'static str,
    },
    /// A DDPM ancestral step whose rate `β_k` is not in `(0, 1)`, so `sqrt(1 − β_k)` is undefined.
    #[error(
        "DDPM step {step} has rate β_k = {beta} ∉ (0, 1) (β_k = Δ·β(t_k) at t_k = {t}): \
         use more steps, a smaller β_max, or a discrete chain"
    )]
    DdpmRate {
        /// The step index `k` (0-based, from `t_0 = T`).
        step: usize,
        /// The rate `β_k`.
        beta: f64,
        /// The forward time of the step start.
        t: f64,
    },
    /// The sampler cannot run on the given schedule (e.g. an SDE scheme on a discrete chain).
    #[error("sampler `{sampler}` does not run on {schedule}")]
    Unsupported {
        /// The sampler name.
        sampler: &'static str,
        /// What was given.
        schedule: &'static str,
    },
    /// The score evaluation failed (the message of the underlying error).
    #[error("score evaluation at t = {t} failed: {message}")]
    Score {
        /// Forward time of the evaluation.
        t: f64,
        /// The underlying error.
        message: String,
    },
    /// An exact affine score was requested where `p_t` has a zero-variance direction
    /// (`a_t² λ_i + b_t² = 0`, e.g. at `t = 0` for singular data): the score is infinite there.
    #[error("the exact score at forward time t = {t} is infinite: p_t is singular (zero variance along some direction)")]
    SingularScore {
        /// Forward time of the evaluation.
        t: f64,
    },
    /// An `x₀` prediction at `a_t = 0`, where Tweedie's formula is `0/0`, for a score that does not
    /// give the data mean ([`gmdiff_process::Score::data_mean`]).
    #[error(
        "the x₀ prediction at t = {t} (where a_t = 0) needs the data mean, which this score does not give: start below a_t = 0 (e.g. a flow horizon T < 1)"
    )]
    NoDenoiser {
        /// Forward time of the evaluation.
        t: f64,
    },
    /// Two objects that should have the same dimension do not.
    #[error("dimension mismatch in {what}: expected {expected}, found {found}")]
    Dimension {
        /// What was compared.
        what: &'static str,
        /// Expected size.
        expected: usize,
        /// Size found.
        found: usize,
    },
    /// A run produced a NaN or an infinity (the scheme diverged).
    #[error("non-finite value in {what} after step {step}: the scheme diverged")]
    NonFinite {
        /// Where.
        what: &'static str,
        /// Steps completed.
        step: usize,
    },
    /// A process or grid error.
    #[error(transparent)]
    Process(#[from] gmdiff_process::ProcessError),
    /// A mixture error (e.g. while preparing an exact start).
    #[error(transparent)]
    Mixture(#[from] gmdiff_mixture::MixtureError),
}

pub(crate) fn check(name: &'static str, value: f64, ok: impl Fn(f64) -> bool, reason: &'static str) -> Result<f64, SolverError> {
    gmdiff_process::check_parameter(name, value, ok, reason).map_err(|e| SolverError::InvalidParameter {
        name: e.name,
        value: e.value,
        reason: e.reason,
    })
}
