//! DPM2 (k-diffusion `sample_dpm_2`).

use super::edm_heun::need_finite_sigma;
use super::need_signal;
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// DPM2: k-diffusion's second-order step "inspired by DPM-Solver-2", an explicit midpoint rule in
/// `σ` whose midpoint is the geometric mean of the noise levels (the midpoint in `λ = −log σ`), with
/// an Euler step on a last step to `σ = 0`.
///
/// On `x̃ = x/a` at `σ = b/a` (`docs/solvers.md`, σ-form), step `σ_t → σ_s`, `d = (x̃ − D)/σ_t = ε̂`:
/// if `σ_s = 0`, `x̃_s = x̃ − σ_t d = D`; else `σ_mid = exp((log σ_t + log σ_s)/2)`,
/// `x̃₂ = x̃ + (σ_mid − σ_t) d`, `d₂ = (x̃₂ − D(x̃₂, σ_mid))/σ_mid` and `x̃_s = x̃ + (σ_s − σ_t) d₂`.
/// On any path the stage is the carrier value `X₂ = a_mid x̃₂ = (b_mid/b_t) X + a_mid (1 − σ_mid/σ_t) D`
/// at the path's time of `λ_mid = (λ_t + λ_s)/2` ([`StepInfo::at_lambda`]), and, with
/// `x̃_s = D + σ_s d + (σ_s − σ_t)(D − D₂)/σ_mid`,
/// `X ← (b_s/b_t) X + a_s (1 − σ_s/σ_t) D + a_s ((σ_s − σ_t)/σ_mid)(D − D₂)`.
///
/// Source: Crowson, k-diffusion `k_diffusion/sampling.py`, `sample_dpm_2` (with `s_churn = 0`);
/// in `σ`-form it is DPM-Solver-2 with `r₁ = ½` in noise prediction (Lu et al., *DPM-Solver*,
/// NeurIPS 2022: `x̃_s = x̃ + (σ_s − σ_t) ε̂(x̃₂, σ_mid)` since `σ_s e^{λ_s − λ_t} = σ_t`). Two score evaluations per step, one on a last step to `σ = 0` (`2S − 1`
/// ending at `σ = 0`, else `2S`). One slot, deterministic. Grid schedules only (the midpoint is off
/// the grid); refuses `a_T = 0` (flow at `T = 1`, where `σ_mid = ∞`).
///
/// ```
/// use gmdiff_solvers::{Dpm2, Schedule, score_evals};
/// assert_eq!(score_evals(&Dpm2, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), 20);
/// assert_eq!(score_evals(&Dpm2, &Schedule::uniform_vp(10, 0.0).unwrap()).unwrap(), 19);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Dpm2;

impl Dpm2 {
    /// The CLI name.
    pub const NAME: &'static str = "dpm2";
}

impl SamplerInfo for Dpm2 {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A last step to `σ = 0` is Euler's `x̃ ← D`.
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        refuse_chain(self.name(), schedule)?;
        need_signal(self.name(), schedule)
    }
}

/// k-diffusion's DPM-Solver-2 step in `σ` from `σ_t` (`info.from`, carrier value `x`, data
/// prediction `d1 = D(x)` already evaluated) to `σ' = r σ_t`, `r = e^{log_ratio} < 1`, returned at
/// the output scale `a_out`: `a_out x̃'` with `x̃' = x̃ + (σ' − σ_t) d₂`. One score evaluation (at the
/// midpoint `λ_m = λ_t − log_ratio/2`). Shared by [`Dpm2`] (`σ' = σ_s`, `a_out = a_s`) and
/// [`crate::Dpm2Ancestral`] (`σ' = σ_down`).
///
/// With `x̃₂ = D₁ + σ_m d` and `d₂ − d = (D₁ − D₂)/σ_m`: `x̃' = D₁ + σ' d + (σ' − σ_t)(D₁ − D₂)/σ_m`,
/// so `a_out x̃' = (a_out/a_t) r X + a_out (1 − r) D₁ + a_out (r − 1)(σ_t/σ_m)(D₁ − D₂)`: the Euler
/// step to `σ'` plus a correction, without the cancellation of `x̃` against `σ_t d₂`.
pub(crate) fn dpm2_stage<A: Algebra + ?Sized>(
    alg: &mut A,
    name: &'static str,
    info: &StepInfo,
    x: &A::Value,
    d1: &A::Value,
    log_ratio: f64,
    a_out: f64,
) -> Result<A::Value, SolverError> {
    let t = &info.from;
    let m = info.at_lambda(name, t.lambda - 0.5 * log_ratio)?;
    // X₂ = a_m (D₁ + σ_m ε̂) = (b_m/b_t) X + a_m (1 − σ_m/σ_t) D₁, σ_m/σ_t = e^{λ_t − λ_m} (the
    // path's own λ_m, so that X₂ is the carrier value at the time where D₂ is evaluated).
    let x2 = alg.lin(&[(m.b / t.b, x), (-m.a * (t.lambda - m.lambda).exp_m1(), d1)]);
    let d2 = alg.denoise(&m, &x2)?;
    let r_m1 = log_ratio.exp_m1();
    let c = a_out * r_m1 * (m.lambda - t.lambda).exp();
    Ok(alg.lin(&[((a_out / t.a) * (1.0 + r_m1), x), (-a_out * r_m1 + c, d1), (-c, &d2)]))
}

impl<A: Algebra + ?Sized> Sampler<A> for Dpm2 {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s) = (&info.from, &info.to);
        need_finite_sigma(self.name(), t)?;
        let x = &state[0];
        let d = alg.denoise(t, x)?;
        state[0] = if s.b == 0.0 {
            alg.lin(&[(s.a, &d)])
        } else {
            // log(σ_s/σ_t) = λ_t − λ_s.
            dpm2_stage(alg, self.name(), info, x, &d, t.lambda - s.lambda, s.a)?
        };
        Ok(state)
    }
}
