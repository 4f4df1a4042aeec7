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
//!   data end of a discrete chain), the last step of DDIM (any `η`) and of DPM-Solver++(2M) is
//!   `X_S = a_S x̂₀(X_{S−1})` with the data prediction `x̂₀(x) = (x + b_t² s_t(x))/a_t` at
//!   `t = t_{S−1}`: DDIM's `X_S = a_S x̂₀ + sqrt(b_S² − σ²) ε̂ + σ ξ` has `0 ≤ σ ≤ b_S = 0`, and
//!   DPM-Solver++(2M) takes a first-order step `X_S = a_S x̂₀` to `b_S = 0` (`gmdiff-solvers`,
//!   `Sampler` docs); so do DPM-Solver++(3M), the 2M and 3M SDE samplers (their "denoising step",
//!   no noise) and DPM-Solver++(2S) ancestral and SDE (k-diffusion's Euler step to `σ = 0`, no noise).
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
use gmdiff_solvers::{SamplerInfo, Schedule};

/// The sampler's last step is the landing `X_S = a_S x̂₀(X_{S−1})` (module docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Landing {
    /// The last grid point (`b = 0`).
    pub(crate) last: Coefficients,
    /// Where the last step evaluates the score, `t_{S−1}`.
    pub(crate) score_at: Coefficients,
}

/// `Some` when `sampler`'s last step on `schedule` lands on the data prediction at `b_S = 0`
/// ([`SamplerInfo::lands`], checked against every built-in's step code in `tests/support.rs`).
pub(crate) fn landing<S: SamplerInfo + ?Sized>(sampler: &S, schedule: &Schedule) -> Result<Option<Landing>, GaussianError> {
    let steps = schedule.steps();
    if steps == 0 || !sampler.lands() {
        return Ok(None);
    }
    let last = schedule.point(steps)?;
    if last.b != 0.0 {
        return Ok(None);
    }
    Ok(Some(Landing { last, score_at: schedule.point(steps - 1)? }))
}
