//! Convergence guarantees as functions: the DDPM bound of Chen et al. (arXiv 2209.11215) and the
//! DPOM / DPUM complexity forms of Chen et al. (arXiv 2305.11798), evaluated from a target's score
//! Lipschitz constant `L` and second moment `m₂` (see `gmdiff_mixture::lipschitz_bound`).
//!
//! **Every formula here is *transcribed* (THEORY §1)**: read from a third-party summary, with the
//! hidden absolute constants of `≲` and `Õ` set to 1 and logarithmic factors dropped. They give the
//! *rate* (how the error scales with steps, horizon, d, L, m₂, ε_score), never a certified number.
//! `docs/bounds.md` lists the source of each term.
//!
//! ```
//! use gmdiff_solvers::{DdpmBoundInput, ddpm_bound};
//! let b = ddpm_bound(&DdpmBoundInput { lipschitz: 2.0, second_moment: 3.0, dim: 2, horizon: 5.0,
//!     steps: 500, eps_score: 0.0, kl_to_gaussian: 1.0 }).unwrap();
//! // h = 0.01: (L sqrt(d h) + L m₂ h) sqrt(T) = (2·sqrt(0.02) + 0.06)·sqrt(5).
//! let disc = (2.0 * 0.02f64.sqrt() + 0.06) * 5f64.sqrt();
//! assert!((b.discretisation - disc).abs() < 1e-14 && b.step_condition);
//! ```

use crate::error::{SolverError, check};

/// The inputs of [`ddpm_bound`].
///
/// ```
/// use gmdiff_solvers::{DdpmBoundInput, ddpm_bound};
/// let input = DdpmBoundInput { lipschitz: 4.0, second_moment: 1.0, dim: 1, horizon: 2.0, steps: 4,
///     eps_score: 0.0, kl_to_gaussian: 0.0 };
/// // h = 0.5 > 1/L: the theorem's step condition fails, and the result says so.
/// assert!(!ddpm_bound(&input).unwrap().step_condition);
/// assert!(ddpm_bound(&DdpmBoundInput { steps: 0, ..input }).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DdpmBoundInput {
    /// `L`: Lipschitz constant of the score (uniform in t), `> 0`.
    pub lipschitz: f64,
    /// `m₂ = E‖x_0‖²`, `≥ 0`.
    pub second_moment: f64,
    /// The dimension `d ≥ 1`.
    pub dim: usize,
    /// The OU horizon `T > 0`.
    pub horizon: f64,
    /// The number of steps `N ≥ 1`; the step is `h = T/N`.
    pub steps: usize,
    /// `ε_score` with `E‖s − ∇log q‖² ≤ ε_score²` (averaged over the steps), `≥ 0`.
    pub eps_score: f64,
    /// `KL(q ‖ γ)` of the data to the standard Gaussian, `≥ 0`.
    pub kl_to_gaussian: f64,
}

/// The terms of the DDPM bound (all *transcribed*, constants 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DdpmBound {
    /// `sqrt(KL(q‖γ)) e^{−T}`: the initialisation (convergence of the OU process).
    pub initialisation: f64,
    /// `(L sqrt(d h) + L m₂ h) sqrt(T)`: the discretisation.
    pub discretisation: f64,
    /// `ε_score sqrt(T)`: the score error.
    pub score: f64,
    /// The TV bound: the sum of the three terms.
    pub tv: f64,
    /// The KL form: `KL(q‖γ) e^{−2T} + (L² d h + L² m₂² h²) T + ε_score² T` (the squares of the
    /// terms), so that `TV ≤ sqrt(KL/2)` by Pinsker once the constants are known.
    pub kl: f64,
    /// The step `h = T/N`.
    pub step: f64,
    /// Whether the theorem's step condition `h ≤ 1/L` holds.
    pub step_condition: bool,
}

/// Chen et al. (arXiv 2209.11215), DDPM with the exponential integrator on the OU process:
/// `TV ≲ sqrt(KL(q‖γ)) e^{−T} + (L sqrt(d h) + L m₂ h) sqrt(T) + ε_score sqrt(T)`, for `h ≲ 1/L`
/// (*transcribed*, THEORY §1; constants set to 1).
///
/// ```
/// use gmdiff_solvers::{DdpmBoundInput, ddpm_bound};
/// let input = DdpmBoundInput { lipschitz: 1.0, second_moment: 2.0, dim: 4, horizon: 3.0, steps: 100,
///     eps_score: 0.1, kl_to_gaussian: 0.5 };
/// let b = ddpm_bound(&input).unwrap();
/// assert!((b.tv - (b.initialisation + b.discretisation + b.score)).abs() < 1e-15);
/// assert!((b.score - 0.1 * 3f64.sqrt()).abs() < 1e-15);
/// ```
pub fn ddpm_bound(input: &DdpmBoundInput) -> Result<DdpmBound, SolverError> {
    let l = check("lipschitz", input.lipschitz, |v| v > 0.0, "must be finite and > 0")?;
    let m2 = check("second_moment", input.second_moment, |v| v >= 0.0, "must be finite and ≥ 0")?;
    let t = check("horizon", input.horizon, |v| v > 0.0, "must be finite and > 0")?;
    let eps = check("eps_score", input.eps_score, |v| v >= 0.0, "must be finite and ≥ 0")?;
    let kl0 = check("kl_to_gaussian", input.kl_to_gaussian, |v| v >= 0.0, "must be finite and ≥ 0")?;
    check("dim", input.dim as f64, |v| v >= 1.0, "must be ≥ 1")?;
    check("steps", input.steps as f64, |v| v >= 1.0, "must be ≥ 1")?;
    let d = input.dim as f64;
    let h = t / input.steps as f64;
    let initialisation = kl0.sqrt() * (-t).exp();
    let discretisation = (l * (d * h).sqrt() + l * m2 * h) * t.sqrt();
    let score = eps * t.sqrt();
    let kl = kl0 * (-2.0 * t).exp() + (l * l * d * h + (l * m2 * h).powi(2)) * t + eps * eps * t;
    let tv = initialisation + discretisation + score;
    if !(tv.is_finite() && kl.is_finite()) {
        return Err(SolverError::InvalidParameter { name: "bound", value: tv, reason: "overflowed: inputs too large" });
    }
    Ok(DdpmBound { initialisation, discretisation, score, tv, kl, step: h, step_condition: h * l <= 1.0 })
}

/// The number of steps DPOM needs for TV `ε`: `Õ(L³ d / ε²)` [transcribed, Chen et al. arXiv
/// 2305.11798; constant 1, logs dropped].
///
/// ```
/// use gmdiff_solvers::dpom_steps;
/// assert!((dpom_steps(2.0, 10, 0.1).unwrap() - 8000.0).abs() < 1e-9);
/// ```
pub fn dpom_steps(lipschitz: f64, dim: usize, eps: f64) -> Result<f64, SolverError> {
    let (l, d, e) = complexity_args(lipschitz, dim, eps)?;
    finite_result(l.powi(3) * d / (e * e))
}

/// The number of steps DPUM needs for TV `ε`: `Õ(L² sqrt(d) / ε)` [transcribed, Chen et al. arXiv
/// 2305.11798; constant 1, logs dropped].
///
/// ```
/// use gmdiff_solvers::dpum_steps;
/// assert!((dpum_steps(2.0, 16, 0.5).unwrap() - 32.0).abs() < 1e-12);
/// ```
pub fn dpum_steps(lipschitz: f64, dim: usize, eps: f64) -> Result<f64, SolverError> {
    let (l, d, e) = complexity_args(lipschitz, dim, eps)?;
    finite_result(l * l * d.sqrt() / e)
}

/// The TV the DPOM complexity form predicts after `N` steps: `ε = sqrt(L³ d / N)` (rate `N^{−1/2}`).
///
/// ```
/// use gmdiff_solvers::{dpom_steps, dpom_tv};
/// let n = dpom_steps(1.5, 3, 0.2).unwrap();
/// assert!((dpom_tv(1.5, 3, n).unwrap() - 0.2).abs() < 1e-15);
/// ```
pub fn dpom_tv(lipschitz: f64, dim: usize, steps: f64) -> Result<f64, SolverError> {
    let (l, d, n) = complexity_args(lipschitz, dim, steps)?;
    finite_result((l.powi(3) * d / n).sqrt())
}

/// The TV the DPUM complexity form predicts after `N` steps: `ε = L² sqrt(d) / N` (rate `N^{−1}`).
///
/// ```
/// use gmdiff_solvers::{dpum_steps, dpum_tv};
/// let n = dpum_steps(1.5, 3, 0.2).unwrap();
/// assert!((dpum_tv(1.5, 3, n).unwrap() - 0.2).abs() < 1e-15);
/// ```
pub fn dpum_tv(lipschitz: f64, dim: usize, steps: f64) -> Result<f64, SolverError> {
    let (l, d, n) = complexity_args(lipschitz, dim, steps)?;
    finite_result(l * l * d.sqrt() / n)
}

/// `value` when it is finite; an overflow of the inputs otherwise.
fn finite_result(value: f64) -> Result<f64, SolverError> {
    check("bound", value, |_| true, "overflowed: inputs too large")
}

fn complexity_args(lipschitz: f64, dim: usize, x: f64) -> Result<(f64, f64, f64), SolverError> {
    let l = check("lipschitz", lipschitz, |v| v > 0.0, "must be finite and > 0")?;
    check("dim", dim as f64, |v| v >= 1.0, "must be ≥ 1")?;
    let x = check("eps or steps", x, |v| v > 0.0, "must be finite and > 0")?;
    Ok((l, dim as f64, x))
}
