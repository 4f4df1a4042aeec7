//! DPM-Solver++ SDE (k-diffusion's `sample_dpmpp_sde`), with its Brownian-tree noise.

use super::{ancestral_split, check_noise};
use super::need_signal;
use crate::algebra::Algebra;
use crate::error::{SolverError, check};
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// DPM-Solver++ SDE: a two-stage single-step solver whose stages are ancestral steps, with the
/// correlated noise of k-diffusion's Brownian tree.
///
/// In k-diffusion's variables (`x̃ = x/a`, `σ = b/a`, `λ = −log σ = log(a/b)`, `h = λ_s − λ_t`,
/// `D = x̂₀(t, X)`), with the ancestral split `(u, v)` of a log-SNR step (see
/// [`DpmSolver2SAncestral`](crate::DpmSolver2SAncestral): `σ_up = u σ_to`, `σ_down = sqrt(v) σ_to`):
///
/// 1. stage at `λ_r = λ_t + r h` (`σ_r = σ_t e^{−rh}`), split `(u₁, v₁)` of `rh`,
///    `h₁ = rh − ½ log v₁`: `x̃_r = e^{−h₁} x̃_t + (1 − e^{−h₁}) D + s_noise σ_r u₁ n₁`,
///    `D_r = x̂₀(σ_r, x̃_r)` (the denoiser at `σ_r`, not at the stage's `σ_down`);
/// 2. split `(u₂, v₂)` of `h`, `h₂ = h − ½ log v₂`, `D' = (1 − 1/(2r)) D + 1/(2r) D_r`:
///    `x̃_s = e^{−h₂} x̃_t + (1 − e^{−h₂}) D' + s_noise σ_s u₂ n₂`;
///
/// and a last step to `σ_s = 0` is Euler, `x̃ ← D`. On the carrier `x = a x̃` (the stage at the path's
/// time of `λ_r`, [`StepInfo::at_lambda`]): `X_r = (b_r/b_t) sqrt(v₁) X + a_r (1 − e^{−h₁}) D +
/// s_noise b_r u₁ n₁` and `X ← (b_s/b_t) sqrt(v₂) X + a_s (1 − e^{−h₂}) D' + s_noise b_s u₂ n₂`
/// (`1 − e^{−x}` as `−expm1(−x)`). At `η = 0` it is DPM-Solver++(2S) with the stage at `r` (Lu et al.
/// 2022, Algorithm 1).
///
/// **The noise (exact).** k-diffusion's default `noise_sampler` is a `BrownianTreeNoiseSampler` on
/// `[σ_min, σ_max]` with the identity transform: the tree's time *is* `σ`, and
/// `noise_sampler(σ_a, σ_b) = (W(σ_b) − W(σ_a))/sqrt(|σ_b − σ_a|)` for one Brownian motion `W`. The
/// two calls of a step cover the overlapping intervals `[σ_r, σ_t]` and `[σ_s, σ_t]`, so `n₁`, `n₂`
/// are standard normals with correlation `ρ = sqrt((σ_t − σ_r)/(σ_t − σ_s))`; different steps' intervals
/// are disjoint, hence independent. Here, from two independent `ξ₁, ξ₂ ~ N(0, I)`:
/// `n₁ = ξ₁`, `n₂ = ρ ξ₁ + ρ' ξ₂`, `ρ² = (1 − e^{−rh})/(1 − e^{−h})`,
/// `ρ'² = (σ_r − σ_s)/(σ_t − σ_s) = e^{−rh} (1 − e^{−(1−r)h})/(1 − e^{−h})`: exactly the law of the
/// Brownian increments (`ξ₁ = (W(σ_r) − W(σ_t))/sqrt(σ_t − σ_r)`,
/// `ξ₂ = (W(σ_s) − W(σ_r))/sqrt(σ_r − σ_s)`). torchsde's tree itself rounds its query times to its
/// tolerance (`tol = 1e-6`, absolute in `σ`), so k-diffusion's own increments are unit-variance only
/// up to that rounding; the law here is that of the exact Brownian motion.
///
/// **Replay.** Per step (`σ_s > 0`, non-zero coefficients), `ξ₁` is drawn in stage 1 (before the
/// second score evaluation) and `ξ₂` in stage 2; to replay a k-diffusion run whose noise sampler gave
/// `n₁ = noise_sampler(σ_t, σ_r)` and `n₂ = noise_sampler(σ_t, σ_s)`, feed `ξ₁ = n₁` and
/// `ξ₂ = (n₂ − ρ n₁)/ρ'`. (With k-diffusion's `default_noise_sampler`, independent `n₁`, `n₂`, the
/// law is a different one.) `ξ₂` is not drawn when `ρ' = 0` (`r = 1`), nor any noise at `η = 0` or
/// `s_noise = 0`.
///
/// Source: k-diffusion `sample_dpmpp_sde`, `BrownianTreeNoiseSampler`, `BatchedBrownianTree`
/// (crowsonkb/k-diffusion, `k_diffusion/sampling.py`, commit 4601bf0). Two score evaluations per step
/// (one on a step to `σ = 0`); one slot. Grid schedules only; refuses a start where `a_T = 0`.
///
/// ```
/// use gmdiff_solvers::{DpmSolverSde, Schedule, score_evals};
/// assert_eq!(score_evals(&DpmSolverSde::default(), &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DpmSolverSde {
    /// `η ≥ 0` (default 1, k-diffusion's): 0 is the deterministic DPM-Solver++(2S).
    pub eta: f64,
    /// `s_noise ≥ 0` (default 1): scales the fresh noise.
    pub s_noise: f64,
    /// The stage's fraction of the log-SNR step, `r ∈ (0, 1]` (default ½).
    pub r: f64,
}

impl Default for DpmSolverSde {
    fn default() -> Self {
        Self { eta: 1.0, s_noise: 1.0, r: 0.5 }
    }
}

impl DpmSolverSde {
    /// The CLI name.
    pub const NAME: &'static str = "dpmpp-sde";
}

impl SamplerInfo for DpmSolverSde {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A last step to `σ = 0` is `X_S = a_S D`, with no noise.
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        check_noise(self.eta, self.s_noise)?;
        check("r", self.r, |r| r > 0.0 && r <= 1.0, "must lie in (0, 1]")?;
        refuse_chain(self.name(), schedule)?;
        need_signal(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for DpmSolverSde {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s, r) = (&info.from, &info.to, self.r);
        let x = &state[0];
        let d = alg.denoise(t, x)?;
        if s.b == 0.0 {
            // Euler to σ = 0: x̃ ← D.
            state[0] = alg.lin(&[(s.a, &d)]);
            return Ok(state);
        }
        let h = s.lambda - t.lambda;
        // Stage 1, at λ_r = λ_t + r h.
        let mid = info.at_lambda(self.name(), t.lambda + r * h)?;
        let (u1, v1) = ancestral_split(r * h, self.eta);
        let h1 = r * h - 0.5 * v1.ln();
        let c1 = self.s_noise * mid.b * u1;
        let xi1 = if c1 > 0.0 { Some(alg.noise()) } else { None };
        let mut terms = vec![((mid.b / t.b) * v1.sqrt(), x), (-mid.a * (-h1).exp_m1(), &d)];
        if let Some(xi1) = xi1.as_ref() {
            terms.push((c1, xi1));
        }
        let x_r = alg.lin(&terms);
        let d_r = alg.denoise(&mid, &x_r)?;
        // Stage 2, to λ_s.
        let (u2, v2) = ancestral_split(h, self.eta);
        let h2 = h - 0.5 * v2.ln();
        let c2 = self.s_noise * s.b * u2;
        let fac = 0.5 / r;
        let w = -s.a * (-h2).exp_m1();
        let mut terms = vec![((s.b / t.b) * v2.sqrt(), x), (w * (1.0 - fac), &d), (w * fac, &d_r)];
        let (xi1_late, xi2);
        if c2 > 0.0 {
            // n₂ = ρ ξ₁ + ρ' ξ₂ (the Brownian increment over [σ_s, σ_t], normalised).
            let den = -(-h).exp_m1();
            let rho = (-(-r * h).exp_m1() / den).sqrt();
            let rho2 = ((-r * h).exp() * -(-(1.0 - r) * h).exp_m1() / den).sqrt();
            let xi1 = match xi1.as_ref() {
                Some(v) => v,
                None => {
                    xi1_late = alg.noise();
                    &xi1_late
                }
            };
            terms.push((c2 * rho, xi1));
            if rho2 > 0.0 {
                xi2 = alg.noise();
                terms.push((c2 * rho2, &xi2));
            }
        }
        state[0] = alg.lin(&terms);
        Ok(state)
    }
}
