//! Reverse-SDE Euler–Maruyama.

use super::need_grid;
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// Reverse-SDE Euler–Maruyama: `X ← X + h β̃(t) (X + 2 s_t(X)) + sqrt(2 h β̃(t)) ξ`.
///
/// Source: THEORY §3 (Pierret–Galerne's Euler–Maruyama on the reverse SDE
/// `dY = β̃ (Y + 2 s) dτ + sqrt(2β̃) dW`). One score evaluation per step, one slot (the position).
/// Grid schedules only.
///
/// ```
/// use gmdiff_solvers::{EulerMaruyama, Schedule, is_stochastic, score_evals};
/// let s = Schedule::uniform_vp(10, 1e-3).unwrap();
/// assert_eq!(score_evals(&EulerMaruyama, &s).unwrap(), 10);
/// assert!(is_stochastic(&EulerMaruyama, &s).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EulerMaruyama;

impl EulerMaruyama {
    /// The CLI name.
    pub const NAME: &'static str = "em";
}

impl SamplerInfo for EulerMaruyama {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        refuse_chain(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for EulerMaruyama {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, h) = (&info.from, info.h);
        need_grid(self.name(), info)?;
        let x = &state[0];
        let b = 0.5 * t.beta;
        let sc = alg.score(t, x)?;
        let xi = alg.noise();
        state[0] = alg.lin(&[(1.0 + h * b, x), (2.0 * h * b, &sc), ((2.0 * h * b).sqrt(), &xi)]);
        Ok(state)
    }
}
