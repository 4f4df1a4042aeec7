//! Flow-ODE exponential integrator.

use super::ode_exponential;
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// Flow-ODE exponential integrator: `X ← e^δ X + (e^δ − 1) s_t(X)` on VP (the linear part `β̃ x` of
/// the drift integrated exactly, the score frozen at the step start); on any path it acts on the
/// VP-normalised `y = x/c`: `X ← (c_s/c_t) e^δ X + c_s c_t (e^δ − 1) s_t(X)` (derived). Refuses a
/// start with `a_T = 0`.
///
/// Source: Chen et al.'s DPOM predictor (THEORY §1), derived. One score evaluation per step, one
/// slot. Grid schedules only.
///
/// ```
/// use gmdiff_solvers::{OdeExponential, Schedule, score_evals};
/// assert_eq!(score_evals(&OdeExponential, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OdeExponential;

impl OdeExponential {
    /// The CLI name.
    pub const NAME: &'static str = "ode-ei";
}

impl SamplerInfo for OdeExponential {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        refuse_chain(self.name(), schedule)?;
        super::need_signal(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for OdeExponential {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        state[0] = ode_exponential(alg, self.name(), info, &state[0])?;
        Ok(state)
    }
}
