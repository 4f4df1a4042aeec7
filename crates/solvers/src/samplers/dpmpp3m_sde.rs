//! DPM-Solver++(3M) SDE.

use super::check_noise;
use super::dpmpp3m::{DpmSolverType, multistep_step};
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};

/// DPM-Solver++(3M) SDE: the third-order multistep solver of the reverse SDE in data prediction,
/// with stochasticity `η`.
///
/// In k-diffusion's variables (`x̃ = x/a`, `σ = b/a`, `λ = −log σ`, `h = λ_s − λ_t`,
/// `ĥ = (1 + η) h`, `D₀ = x̂₀(t, X)`, `D₁`, `D₂` the two previous steps', `h₀ = λ_t − λ_{k−1}`,
/// `h₁ = λ_{k−1} − λ_{k−2}`, `r₀ = h₀/h`, `r₁ = h₁/h`, `φ₂(ĥ) = (e^{−ĥ} − 1 + ĥ)/ĥ`,
/// `φ₃(ĥ) = φ₂(ĥ)/ĥ − ½`):
/// `x̃_s = (σ_s/σ_t) e^{−ηh} x̃_t + (1 − e^{−ĥ}) D₀ + [correction] + s_noise σ_s sqrt(1 − e^{−2ηh}) ξ`
/// (k-diffusion writes `(σ_s/σ_t) e^{−ηh}` as `e^{−ĥ}`), with the correction
///
/// * none on the first step;
/// * `φ₂(ĥ) (D₀ − D₁)/r₀` on the second;
/// * `φ₂(ĥ) Δ₁ − φ₃(ĥ) Δ₂` after, `d₁₀ = (D₀ − D₁)/r₀`, `d₁₁ = (D₁ − D₂)/r₁`,
///   `Δ₁ = d₁₀ + (d₁₀ − d₁₁) r₀/(r₀ + r₁)`, `Δ₂ = (d₁₀ − d₁₁)/(r₀ + r₁)`.
///
/// On the carrier `x = a x̃`: `X ← (b_s/b_t) e^{−ηh} X + a_s (…) + s_noise b_s sqrt(1 − e^{−2ηh}) ξ`;
/// a last step to `σ_s = 0` is `X ← a_s D₀` (no noise). `ξ` is drawn once per step, only when its
/// coefficient is non-zero, so k-diffusion replays with its `noise_sampler(σ_t, σ_s)` outputs in order
/// (independent under its Brownian tree: the steps' intervals are disjoint). At `η = 0` it is
/// DPM-Solver++(3M) with a heun-form second step (diffusers' `dpmpp3m` uses the midpoint form there).
/// `φ₂`, `φ₃` are computed without cancellation (series for `ĥ < 1`). Finite where `a_t = 0`.
///
/// Source: k-diffusion `sample_dpmpp_3m_sde` (crowsonkb/k-diffusion, `k_diffusion/sampling.py`,
/// commit 4601bf0); Lu et al. (2022, arXiv 2211.01095). One score evaluation per step; three slots.
/// Runs on grids and chains.
///
/// ```
/// use gmdiff_solvers::{DpmSolver3MSde, Schedule, score_evals, slots};
/// let s = DpmSolver3MSde::default();
/// assert_eq!((score_evals(&s, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), slots(&s)), (10, 3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DpmSolver3MSde {
    /// `η ≥ 0` (default 1, k-diffusion's): 0 is the ODE, 1 the reverse SDE.
    pub eta: f64,
    /// `s_noise ≥ 0` (default 1): scales the fresh noise.
    pub s_noise: f64,
}

impl Default for DpmSolver3MSde {
    fn default() -> Self {
        Self { eta: 1.0, s_noise: 1.0 }
    }
}

impl DpmSolver3MSde {
    /// The CLI name.
    pub const NAME: &'static str = "dpmpp3m-sde";
}

impl SamplerInfo for DpmSolver3MSde {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A last step to `b = 0` is `X_S = a_S D`, with no noise.
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
    fn validate(&self, _: &Schedule) -> Result<(), SolverError> {
        check_noise(self.eta, self.s_noise)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for DpmSolver3MSde {
    fn init(&self, _: &mut A, x: A::Value) -> Vec<A::Value> {
        vec![x.clone(), x.clone(), x]
    }
    fn step(&self, alg: &mut A, info: &StepInfo, state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let order = info.index.min(2) + 1;
        multistep_step(alg, info, order, DpmSolverType::Heun, (self.eta, self.s_noise), state)
    }
}
