//! EDM's deterministic Heun sampler (Karras et al. 2022, Algorithm 1).

use super::need_signal;
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};
use gmdiff_process::Coefficients;

/// EDM Heun: Heun's method in `σ` on the probability-flow ODE `dx̃/dσ = (x̃ − D(x̃, σ))/σ`, with an
/// Euler step on a last step to `σ = 0`.
///
/// On `x̃ = x/a` at `σ = b/a` (`docs/solvers.md`, σ-form), step `σ_t → σ_s`, `d = (x̃ − D)/σ_t = ε̂`:
/// `x̃₂ = x̃ + (σ_s − σ_t) d`; if `σ_s = 0`, `x̃_s = x̃₂ = D`; else `d₂ = (x̃₂ − D(x̃₂, σ_s))/σ_s`
/// and `x̃_s = x̃ + (σ_s − σ_t)(d + d₂)/2 = x̃₂ + (σ_s − σ_t)(D − D₂)/(2σ_s)`. On any path:
/// `X₂ = (b_s/b_t) X + a_s (1 − σ_s/σ_t) D` (the Euler predictor, evaluated at `t_{k+1}`) and
/// `X ← X₂ + ½ a_s (1 − σ_t/σ_s)(D − D₂)`. On EDM (`a = 1`, `σ = t`) this is Algorithm 1.
///
/// Source: Karras, Aittala, Aila & Laine, *Elucidating the Design Space of Diffusion-Based
/// Generative Models* (NeurIPS 2022), Algorithm 1; k-diffusion `sample_heun` with `s_churn = 0`;
/// NVlabs `edm/generate.py`, `edm_sampler` with `S_churn = 0`. Two score evaluations per step, one
/// on a last step to `σ = 0`: `2S − 1` for `S` steps ending at `σ = 0` (EDM's 18 steps: 35), `2S`
/// otherwise. One slot, deterministic. Runs on grids and chains (only the grid points are used);
/// refuses `a_T = 0` (flow at `T = 1`), where the trapezoid weights `x̃` by an infinite `σ_t`.
///
/// ```
/// use gmdiff_process::{Edm, Process, TimeGrid};
/// use gmdiff_solvers::{EdmHeun, Schedule, score_evals};
/// let edm = Edm::default();
/// let grid = TimeGrid::karras(&edm, 17, 0.002, 7.0).unwrap().with_final_zero(); // num_steps = 18
/// assert_eq!(score_evals(&EdmHeun, &Schedule::grid(Process::Edm(edm), grid)).unwrap(), 35);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EdmHeun;

impl EdmHeun {
    /// The CLI name.
    pub const NAME: &'static str = "edm-heun";
}

impl SamplerInfo for EdmHeun {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A last step to `σ = 0` is Euler's `x̃ ← D` (Algorithm 1's `t_N = 0`).
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        need_signal(self.name(), schedule)
    }
}

/// Refuses a σ-form step that starts where `a_t = 0` (`σ_t = ∞`), at run time.
pub(crate) fn need_finite_sigma(sampler: &'static str, t: &Coefficients) -> Result<(), SolverError> {
    if t.a > 0.0 {
        Ok(())
    } else {
        Err(SolverError::Unsupported { sampler, schedule: "a step from a_t = 0 (σ_t = ∞, flow matching at T = 1): use a horizon T < 1" })
    }
}

/// One step of Heun's method in `σ` from `t` to `s` on the carrier value `x` at `t` (Euler when
/// `b_s = 0`), shared by [`EdmHeun`] and [`crate::EdmSde`] (which starts it at the churned `σ̂`).
/// Needs `a_t > 0`.
///
/// With `x̃₂ = x̃ + (σ_s − σ_t) d = D₁ + σ_s d` and `d₂ − d = (D₁ − D₂)/σ_s` (both from
/// `x̃₂ − σ_s d = D₁`), Heun's `x̃ + (σ_s − σ_t)(d + d₂)/2` is `x̃₂ + (σ_s − σ_t)(D₁ − D₂)/(2σ_s)`: the
/// Euler predictor plus a correction, without the cancellation of `x̃` against `σ_t d`.
pub(crate) fn heun_in_sigma<A: Algebra + ?Sized>(alg: &mut A, t: &Coefficients, s: &Coefficients, x: &A::Value) -> Result<A::Value, SolverError> {
    let d1 = alg.denoise(t, x)?;
    if s.b == 0.0 {
        // x̃_s = x̃ − σ_t d = D.
        return Ok(alg.lin(&[(s.a, &d1)]));
    }
    // The Euler predictor a_s x̃₂ = a_s D₁ + b_s ε̂ = (b_s/b_t) X + a_s (1 − σ_s/σ_t) D₁, with
    // σ_s/σ_t = e^{λ_t − λ_s}.
    let x2 = alg.lin(&[(s.b / t.b, x), (-s.a * (t.lambda - s.lambda).exp_m1(), &d1)]);
    let d2 = alg.denoise(s, &x2)?;
    // X ← X₂ + c (D₁ − D₂), c = a_s (σ_s − σ_t)/(2σ_s) = −½ a_s expm1(λ_s − λ_t).
    let c = -0.5 * s.a * (s.lambda - t.lambda).exp_m1();
    Ok(alg.lin(&[(1.0, &x2), (c, &d1), (-c, &d2)]))
}

impl<A: Algebra + ?Sized> Sampler<A> for EdmHeun {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        need_finite_sigma(self.name(), &info.from)?;
        state[0] = heun_in_sigma(alg, &info.from, &info.to, &state[0])?;
        Ok(state)
    }
}
