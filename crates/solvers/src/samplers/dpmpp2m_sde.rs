//! DPM-Solver++(2M) SDE.

use super::check_noise;
use super::dpmpp3m::{DpmSolverType, multistep_step};
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};

/// DPM-Solver++(2M) SDE: the second-order multistep solver of the variance-preserving reverse SDE
/// in data prediction, with stochasticity `η`.
///
/// In k-diffusion's variables (`x̃ = x/a`, `σ = b/a`, `h = λ_s − λ_t` with `λ = −log σ = log(a/b)`,
/// `ĥ = (1 + η) h`, `D = x̂₀(t, X)`, `D_prev` the previous step's, `r = h_prev/h`):
/// `x̃_s = (σ_s/σ_t) e^{−ηh} x̃_t + (1 − e^{−ĥ}) D + c (D − D_prev)/r + s_noise σ_s sqrt(1 − e^{−2ηh}) ξ`,
/// with `c = ½ (1 − e^{−ĥ})` (`solver_type` midpoint) or `c = φ₂(ĥ) = (e^{−ĥ} − 1 + ĥ)/ĥ` (heun),
/// and no correction on the first step. On the carrier `x = a x̃` this is
/// `X ← (b_s/b_t) e^{−ηh} X + a_s ((1 − e^{−ĥ}) D + c (D − D_prev)/r) + s_noise b_s sqrt(1 − e^{−2ηh}) ξ`
/// (`1 − e^{−x}` as `−expm1(−x)`); a last step to `σ_s = 0` is `X ← a_s D` ("denoising step", no noise).
/// `ξ` is drawn once per step, only when its coefficient is non-zero (`η > 0`, `s_noise > 0`,
/// `σ_s > 0`): replaying k-diffusion takes its `noise_sampler(σ_t, σ_s)` output of each such step, in
/// order (with its default Brownian-tree sampler the steps' intervals `[σ_s, σ_t]` are disjoint, so
/// these are independent `N(0, I)`, as here).
///
/// At `η = 0` it is DPM-Solver++(2M) in the midpoint form (and the heun form of diffusers). Finite
/// where `a_t = 0` (flow matching's start: `e^{−h} = 0`, `b_s/b_t` finite).
///
/// Source: k-diffusion `sample_dpmpp_2m_sde` (crowsonkb/k-diffusion, `k_diffusion/sampling.py`,
/// commit 4601bf0); diffusers `DPMSolverMultistepScheduler` with `algorithm_type = "sde-dpmsolver++"`,
/// `solver_order = 2` is the case `η = 1`; Lu et al. (2022, arXiv 2211.01095, §4 and App. B).
/// One score evaluation per step; two slots (the position and `D_prev`). Runs on grids and chains.
///
/// ```
/// use gmdiff_solvers::{DpmSolver2MSde, Schedule, is_stochastic, score_evals};
/// let s = Schedule::uniform_vp(10, 1e-3).unwrap();
/// assert_eq!(score_evals(&DpmSolver2MSde::default(), &s).unwrap(), 10);
/// assert!(!is_stochastic(&DpmSolver2MSde { eta: 0.0, ..Default::default() }, &s).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DpmSolver2MSde {
    /// `η ≥ 0` (default 1, k-diffusion's): 0 is the ODE, 1 the reverse SDE.
    pub eta: f64,
    /// `s_noise ≥ 0` (default 1): scales the fresh noise.
    pub s_noise: f64,
    /// The form of the second-order correction (default midpoint, k-diffusion's).
    pub solver_type: DpmSolverType,
}

impl Default for DpmSolver2MSde {
    fn default() -> Self {
        Self { eta: 1.0, s_noise: 1.0, solver_type: DpmSolverType::Midpoint }
    }
}

impl DpmSolver2MSde {
    /// The CLI name.
    pub const NAME: &'static str = "dpmpp2m-sde";
}

impl SamplerInfo for DpmSolver2MSde {
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

impl<A: Algebra + ?Sized> Sampler<A> for DpmSolver2MSde {
    fn init(&self, _: &mut A, x: A::Value) -> Vec<A::Value> {
        vec![x.clone(), x]
    }
    fn step(&self, alg: &mut A, info: &StepInfo, state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        // First order on the first step (no D_prev yet), second order after.
        let order = info.index.min(1) + 1;
        multistep_step(alg, info, order, self.solver_type, (self.eta, self.s_noise), state)
    }
}
