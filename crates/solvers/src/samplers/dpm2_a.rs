//! DPM2 ancestral (k-diffusion `sample_dpm_2_ancestral`).

use super::dpm2::dpm2_stage;
use super::edm_heun::need_finite_sigma;
use super::{ancestral_split, check_noise};
use super::need_signal;
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// DPM2 ancestral with stochasticity `η` and noise scale `s_noise`: the ancestral split of
/// [`crate::EulerAncestral`], a [`crate::Dpm2`] step down to `σ_down`, then fresh noise `σ_up`.
///
/// On `x̃ = x/a` at `σ = b/a` (`docs/solvers.md`, σ-form), step `σ_t → σ_s`, `d = (x̃ − D)/σ_t = ε̂`:
/// `σ_up = min(σ_s, η sqrt(σ_s² (σ_t² − σ_s²)/σ_t²))`, `σ_down = sqrt(σ_s² − σ_up²)`;
///
/// * if `σ_down = 0`: `x̃_s = x̃ − σ_t d = D`, **without noise** (k-diffusion's Euler branch; with
///   `σ_s > 0` this happens only when `η² (1 − σ_s²/σ_t²) ≥ 1`, i.e. `η > 1` on a large step, and then
///   the `σ_up = σ_s` noise is dropped as in k-diffusion);
/// * else `σ_mid = exp((log σ_t + log σ_down)/2)`, `x̃₂ = x̃ + (σ_mid − σ_t) d`,
///   `d₂ = (x̃₂ − D(x̃₂, σ_mid))/σ_mid`, `x̃_s = x̃ + (σ_down − σ_t) d₂ + s_noise σ_up ξ`.
///
/// On any path `X = a x̃` with the stage at the path's time of `λ_mid = λ_t − ½ log(σ_down/σ_t)`
/// ([`StepInfo::at_lambda`]), as in [`crate::Dpm2`], and the output at the scale `a_s`.
///
/// Source: Crowson, k-diffusion `k_diffusion/sampling.py`, `sample_dpm_2_ancestral` and
/// `get_ancestral_step`. Two score evaluations per step, one when `σ_down = 0` (`2S − 1` for `S`
/// steps ending at `σ = 0` and `η ≤ 1`, else `2S`). One slot; one noise draw per step with
/// `σ_down > 0` and `η s_noise > 0`. Grid schedules only; refuses `a_T = 0` (flow at `T = 1`).
/// Parameters: `η ≥ 0` (default 1), `s_noise ≥ 0` (default 1).
///
/// ```
/// use gmdiff_solvers::{Dpm2Ancestral, Schedule, is_stochastic, score_evals};
/// let s = Schedule::uniform_vp(10, 0.0).unwrap();
/// assert_eq!(score_evals(&Dpm2Ancestral::default(), &s).unwrap(), 19);
/// assert!(is_stochastic(&Dpm2Ancestral::default(), &s).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dpm2Ancestral {
    /// `η ≥ 0`: 0 is [`crate::Dpm2`], 1 the ancestral step.
    pub eta: f64,
    /// `s_noise ≥ 0`: the factor on the added noise.
    pub s_noise: f64,
}

impl Default for Dpm2Ancestral {
    /// k-diffusion's defaults: `η = 1`, `s_noise = 1`.
    fn default() -> Self {
        Self { eta: 1.0, s_noise: 1.0 }
    }
}

impl Dpm2Ancestral {
    /// The CLI name.
    pub const NAME: &'static str = "dpm2-a";
}

impl SamplerInfo for Dpm2Ancestral {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A last step to `σ = 0` has `σ_down = 0` and takes the Euler branch `x̃ ← D`, with no noise.
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        check_noise(self.eta, self.s_noise)?;
        refuse_chain(self.name(), schedule)?;
        need_signal(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for Dpm2Ancestral {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s) = (&info.from, &info.to);
        need_finite_sigma(self.name(), t)?;
        let x = &state[0];
        let d = alg.denoise(t, x)?;
        let (rho, kappa_sq) = ancestral_split(s.lambda - t.lambda, self.eta);
        let kappa = kappa_sq.sqrt();
        if s.b == 0.0 || kappa == 0.0 {
            // σ_down = 0: x̃_s = D, and k-diffusion adds no noise on this branch.
            state[0] = alg.lin(&[(s.a, &d)]);
            return Ok(state);
        }
        // log(σ_down/σ_t) = (λ_t − λ_s) + log κ, log κ = ½ log1p(−ρ²).
        let log_ratio = (t.lambda - s.lambda) + 0.5 * (-rho * rho).ln_1p();
        let down = dpm2_stage(alg, self.name(), info, x, &d, log_ratio, s.a)?;
        let c_noise = self.s_noise * rho * s.b;
        state[0] = if c_noise > 0.0 {
            let xi = alg.noise();
            alg.lin(&[(1.0, &down), (c_noise, &xi)])
        } else {
            down
        };
        Ok(state)
    }
}
