//! Flow-ODE explicit Euler.

use super::{drift_parts, need_grid};
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// Flow-ODE explicit Euler in `t`: `X ← X + h k(t, X)` with the reverse-time probability-flow drift
/// `k(t, x) = −f x + ½ g² s_t(x)` (VP: `β̃ (x + s)`, `β̃ = β/2`); at `a_t = 0` (flow matching's
/// start) `k` is written through the `x₀` prediction (`samplers` module, `drift`), so flow starts
/// finite at `T = 1`.
///
/// Source: THEORY §3 (Pierret–Galerne's Euler scheme on the flow ODE). One score evaluation per
/// step, one slot. Grid schedules only.
///
/// ```
/// use gmdiff_solvers::{Euler, Schedule, is_stochastic};
/// assert!(!is_stochastic(&Euler, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Euler;

impl Euler {
    /// The CLI name.
    pub const NAME: &'static str = "euler";
}

impl SamplerInfo for Euler {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        refuse_chain(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for Euler {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, h) = (&info.from, info.h);
        need_grid(self.name(), info)?;
        let x = &state[0];
        let (c_x, c_p, p) = drift_parts(alg, t, x)?;
        state[0] = alg.lin(&[(1.0 + h * c_x, x), (h * c_p, &p)]);
        Ok(state)
    }
}
