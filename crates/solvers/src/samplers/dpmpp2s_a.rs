//! DPM-Solver++(2S) ancestral.

use super::{ancestral_split, check_noise};
use super::need_signal;
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// DPM-Solver++(2S) ancestral: k-diffusion's ancestral split of each step, with a DPM-Solver++(2S)
/// single-step stage to `σ_down` and fresh noise of size `σ_up`.
///
/// In k-diffusion's variables (`x̃ = x/a`, `σ = b/a`, `λ = −log σ = log(a/b)`, `h = λ_s − λ_t`,
/// `D = x̂₀(t, X)`): the ancestral split (`get_ancestral_step`)
/// `σ_up = min(σ_s, η σ_s sqrt(1 − σ_s²/σ_t²))`, `σ_down = sqrt(σ_s² − σ_up²)`, written as
/// `u = σ_up/σ_s = min(1, η sqrt(1 − e^{−2h}))` and `σ_down/σ_s = sqrt((1 − η²) + η² e^{−2h})`
/// (exact; no cancellation for `η ≤ 1`), so `h' = λ_down − λ_t = h − ½ log(σ_down²/σ_s²)`. Then, if
/// `σ_down > 0`, the 2S stage at the λ-midpoint `λ_m = λ_t + h'/2`:
/// `x̃_m = e^{−h'/2} x̃_t + (1 − e^{−h'/2}) D`, `D_m = x̂₀(σ_m, x̃_m)`,
/// `x̃_s = e^{−h'} x̃_t + (1 − e^{−h'}) D_m + s_noise σ_up ξ`;
/// if `σ_down = 0` (a last step to `σ_s = 0`, or `η` large enough that `σ_up = σ_s`), Euler to
/// `σ_down = 0`, `x̃ ← D`, then `+ s_noise σ_up ξ` when `σ_s > 0`. On the carrier `x = a x̃` (the stage
/// at the path's time of `λ_m`, [`StepInfo::at_lambda`]):
/// `X_m = (b_m/b_t) X + a_m (1 − e^{−h'/2}) D` and
/// `X ← (b_s/b_t)(σ_down/σ_s) X + a_s (1 − e^{−h'}) D_m + s_noise b_s u ξ` (`1 − e^{−x}` as
/// `−expm1(−x)`). `ξ` is drawn once per step, after the score evaluations, only when its coefficient
/// is non-zero (k-diffusion draws it whenever `σ_s > 0`, also at `η = 0` where it is multiplied by 0).
///
/// Source: k-diffusion `sample_dpmpp_2s_ancestral` (crowsonkb/k-diffusion, `k_diffusion/sampling.py`,
/// commit 4601bf0), the 2S step with `r = ½` of Lu et al., *DPM-Solver++* (2022, arXiv 2211.01095,
/// Algorithm 1). Two score evaluations per step (one on an Euler step); one slot. Grid schedules
/// only; refuses a start where `a_T = 0` (`σ_T = ∞`, the midpoint in `λ` is undefined).
///
/// ```
/// use gmdiff_solvers::{DpmSolver2SAncestral, Schedule, score_evals};
/// let s = DpmSolver2SAncestral::default();
/// assert_eq!(score_evals(&s, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DpmSolver2SAncestral {
    /// `η ≥ 0` (default 1, k-diffusion's): 0 is the deterministic DPM-Solver++(2S).
    pub eta: f64,
    /// `s_noise ≥ 0` (default 1): scales the fresh noise.
    pub s_noise: f64,
}

impl Default for DpmSolver2SAncestral {
    fn default() -> Self {
        Self { eta: 1.0, s_noise: 1.0 }
    }
}

impl DpmSolver2SAncestral {
    /// The CLI name.
    pub const NAME: &'static str = "dpmpp2s-a";
}

impl SamplerInfo for DpmSolver2SAncestral {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A last step to `σ_s = 0` has `σ_up = σ_down = 0` and is the first-order `X_S = a_S D`, with no noise.
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        check_noise(self.eta, self.s_noise)?;
        refuse_chain(self.name(), schedule)?;
        need_signal(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for DpmSolver2SAncestral {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s) = (&info.from, &info.to);
        let x = &state[0];
        let d = alg.denoise(t, x)?;
        if s.b == 0.0 {
            // σ_down = σ_s = 0: Euler to 0 is x̃ ← D, and no noise.
            state[0] = alg.lin(&[(s.a, &d)]);
            return Ok(state);
        }
        let h = s.lambda - t.lambda;
        let (u, v) = ancestral_split(h, self.eta);
        let noise = self.s_noise * s.b * u;
        let mut terms: Vec<(f64, &A::Value)> = Vec::with_capacity(3);
        let d_m;
        if v == 0.0 {
            // σ_down = 0: Euler to σ_down is x̃ ← D.
            terms.push((s.a, &d));
        } else {
            // h' = λ_down − λ_t, λ_down = λ_s − ½ log v.
            let hp = h - 0.5 * v.ln();
            let mid = info.at_lambda(self.name(), t.lambda + 0.5 * hp)?;
            let x_m = alg.lin(&[(mid.b / t.b, x), (-mid.a * (-0.5 * hp).exp_m1(), &d)]);
            d_m = alg.denoise(&mid, &x_m)?;
            terms.push(((s.b / t.b) * v.sqrt(), x));
            terms.push((-s.a * (-hp).exp_m1(), &d_m));
        }
        let xi;
        if noise > 0.0 {
            xi = alg.noise();
            terms.push((noise, &xi));
        }
        state[0] = alg.lin(&terms);
        Ok(state)
    }
}
