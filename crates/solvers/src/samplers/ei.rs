//! Reverse-SDE exponential integrator.

use super::{need_grid, need_signal, vp_normalised};
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// Reverse-SDE exponential integrator: on VP, `X ← X + γ₁ (X + 2 s_t(X)) + sqrt(2 γ₂) ξ`,
/// `γ₁ = e^δ − 1`, `γ₂ = (e^{2δ} − 1)/2` (the linear part integrated exactly, the score frozen at the
/// step start). On any path it acts on the VP-normalised `y = x/c` (module docs):
/// `X ← (c_s/c_t)(1 + γ₁) X + 2 γ₁ c_s c_t s_t(X) + c_s sqrt(2 γ₂) ξ` (derived).
///
/// Source: Chen et al. (the exponential integrator of the reverse OU SDE,
/// `e^h X + 2(e^h − 1) s + sqrt(e^{2h} − 1) ξ`), THEORY §1/§3. One score evaluation per step, one
/// slot. Grid schedules only; refuses a start with `a_T = 0`.
///
/// ```
/// use gmdiff_solvers::{ExponentialIntegrator, Schedule, score_evals};
/// assert_eq!(score_evals(&ExponentialIntegrator, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ExponentialIntegrator;

impl ExponentialIntegrator {
    /// The CLI name.
    pub const NAME: &'static str = "ei";
}

impl SamplerInfo for ExponentialIntegrator {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        refuse_chain(self.name(), schedule)?;
        need_signal(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for ExponentialIntegrator {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let t = &info.from;
        let (ct, cs, delta) = vp_normalised(info);
        need_grid(self.name(), info)?;
        let x = &state[0];
        let g1 = delta.exp_m1();
        let g2 = 0.5 * (2.0 * delta).exp_m1();
        let sc = alg.score(t, x)?;
        let xi = alg.noise();
        state[0] = alg.lin(&[((cs / ct) * (1.0 + g1), x), (2.0 * g1 * cs * ct, &sc), (cs * (2.0 * g2).sqrt(), &xi)]);
        Ok(state)
    }
}
