//! DPM-Solver++(2M).

use super::dpmpp3m::{DpmSolverType, multistep_order, multistep_step};
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::StepInfo;

/// DPM-Solver++(2M), the multistep second-order solver in data prediction, with `λ = log(a/b)`.
///
/// With the data prediction `D = x̂₀ = E[x₀ | x_t = X]` (Tweedie: `(X + b_t² s_t(X))/a_t`), `e^{−h} = (a_t b_s)/(b_t a_s)`
/// (`h = λ_s − λ_t`), `r = (λ_t − λ_{t_{k−1}})/(λ_s − λ_t)` and `w = 1/(2r)`:
/// `X ← (b_s/b_t) X + a_s (1 − e^{−h}) ((1 + w) D − w D_prev)`; first order
/// (`X ← (b_s/b_t) X + a_s (1 − e^{−h}) D`) on the first step, and `X ← a_s D` on a last step to
/// `b_s = 0`. With `lower_order_final`, the last step is first order whatever `b_s` (diffusers'
/// `lower_order_final`, which diffusers applies only below 15 steps; gmdiff's flag applies at every
/// length).
///
/// Source: Lu et al., *DPM-Solver++* (2022, arXiv 2211.01095, Algorithm 2), derived; k-diffusion's
/// `sample_dpmpp_2m` and diffusers' `DPMSolverMultistepScheduler` (`solver_order = 2`, midpoint form)
/// are the same update. One score evaluation per step; two slots (the position and the previous data
/// prediction `D_prev`). Runs on grids and chains.
///
/// ```
/// use gmdiff_solvers::{DpmSolver2M, Schedule, score_evals, slots};
/// let s = DpmSolver2M::default();
/// assert_eq!((score_evals(&s, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), slots(&s)), (10, 2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DpmSolver2M {
    /// First order on the last step (default `false`; see `docs/solvers.md` for the measurements
    /// behind the default).
    pub lower_order_final: bool,
}

impl DpmSolver2M {
    /// The CLI name.
    pub const NAME: &'static str = "dpmpp2m";
}

impl SamplerInfo for DpmSolver2M {
    fn name(&self) -> &'static str {
        Self::NAME
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for DpmSolver2M {
    fn init(&self, _: &mut A, x: A::Value) -> Vec<A::Value> {
        vec![x.clone(), x]
    }
    fn step(&self, alg: &mut A, info: &StepInfo, state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let order = multistep_order(info, 2, self.lower_order_final);
        multistep_step(alg, info, order, DpmSolverType::Midpoint, (0.0, 0.0), state)
    }
}
