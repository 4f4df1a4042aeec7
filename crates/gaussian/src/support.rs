//! Which coordinates of a sampler's output law are exactly fixed: the support rule.
//!
//! The KL divergence to a singular `p_0 = N(μ, Σ)` is finite only when the output lives on the
//! same affine subspace `μ + range(Σ)` (two Gaussians on different affine subspaces are mutually
//! singular). Floating-point arithmetic cannot decide that from the computed output covariance: a
//! null direction of `Σ` that the sampler annihilates comes out with a variance of `0` or of
//! `1e-33` depending on how the last step's coefficients round, so the KL jumped between a finite
//! value and `∞` as the step count changed by one (issue 14, fault 3). The decision is therefore
//! taken from the structure of the step, never from the computed value:
//!
//! * **Landing step.** On a grid whose last point has `b_S = 0` (`ε = 0` on a continuous process, the
//!   data end of a discrete chain), the last step of DDIM (any `η`), DPM-Solver++(2M), UniPC and
//!   DEIS is `X_S = a_S x̂₀(X_{S−1})` with the data prediction `x̂₀(x) = (x + b_t² s_t(x))/a_t` at
//!   `t = t_{S−1}`: DDIM's `X_S = a_S x̂₀ + sqrt(b_S² − σ²) ε̂ + σ ξ` has `0 ≤ σ ≤ b_S = 0`, and
//!   DPM-Solver++(2M), UniPC and DEIS take a first-order step `X_S = a_S x̂₀` to `b_S = 0`
//!   (`gmdiff-solvers`, `Sampler` docs). LMS lands by exact integration instead: along a null
//!   direction the data prediction is the constant `uᵀμ`, so `d = (x̃ − uᵀμ)/σ` is constant along
//!   every LMS trajectory (`x̃ − uᵀμ ∝ σ` is reproduced exactly by each step, whose interpolant of a
//!   constant is that constant), and the step to `σ_S = 0` ends at `uᵀμ` — provided the score is
//!   exact on the null space at every grid point `t_0, …, t_{S−1}`.
//! * **Exact denoiser on the null space.** With the exact score `s_t(x) = −Σ_t⁻¹ (x − a_t μ)`,
//!   `Σ_t = a_t² Σ + b_t² I`, the data prediction is Tweedie's `x̂₀(x) = μ + a_t Σ Σ_t⁻¹ (x − a_t μ)`,
//!   whose component along a null direction `u` of `Σ` (`Σ u = 0`) is `uᵀμ` for every `x` — the
//!   factor `Σ` multiplies it by the eigenvalue `0`. So the output's null component is the point
//!   mass `a_S uᵀμ`, exactly the data's; the same holds for any score that equals the exact score
//!   on the null space at `t_{S−1}` (a precision perturbation that vanishes there).
//!
//! When both hold, the null coordinates of the output law are set to that point mass ("settled")
//! and the KL is taken over the support. Otherwise every sampler of `gmdiff-solvers` leaves a
//! non-degenerate null component (fresh noise, or a deterministic map whose null-direction factor,
//! e.g. Euler's `1 + hβ̃(1 − 1/b_t²)`, is not identically zero), so `KL(output ‖ p_0) = ∞` whenever
//! `p_0` is singular, whatever the rounding left in that coordinate.

use crate::error::GaussianError;
use gmdiff_process::Coefficients;
use gmdiff_solvers::{Landing as SolverLanding, SamplerInfo, Schedule};

/// The sampler lands on the data's support at `b_S = 0` (module docs).
#[derive(Debug, Clone)]
pub(crate) struct Landing {
    /// The last grid point (`b = 0`).
    pub(crate) last: Coefficients,
    /// Where the score must be exact on the null space: `t_{S−1}` for a last step
    /// `X_S = a_S x̂₀(X_{S−1})`, every grid point before the last for LMS.
    pub(crate) exact_at: Vec<Coefficients>,
}

/// `Some` when `sampler` on `schedule` lands on the data's support at `b_S = 0`
/// ([`SamplerInfo::landing`], checked against every built-in's step code in `tests/support.rs`).
pub(crate) fn landing<S: SamplerInfo + ?Sized>(sampler: &S, schedule: &Schedule) -> Result<Option<Landing>, GaussianError> {
    let steps = schedule.steps();
    let first = match sampler.landing() {
        SolverLanding::Denoiser => steps.saturating_sub(1),
        SolverLanding::Integration => 0,
        SolverLanding::No => return Ok(None),
    };
    if steps == 0 {
        return Ok(None);
    }
    let last = schedule.point(steps)?;
    if last.b != 0.0 {
        return Ok(None);
    }
    Ok(Some(Landing { last, exact_at: (first..steps).map(|k| schedule.point(k)).collect::<Result<_, _>>()? }))
}
