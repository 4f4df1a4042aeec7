//! Flow-ODE Heun.

use super::{drift, need_grid};
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// Flow-ODE Heun (explicit trapezoid): `k₁ = k(t, X)`, `k₂ = k(s, X + h k₁)`,
/// `X ← X + h/2 (k₁ + k₂)`, with the reverse-time probability-flow drift `k(t, x) = −f x + ½ g² s_t(x)`
/// (VP: `β̃ (x + s)`; through `x̂₀` where `a_t = 0`, see [`crate::Euler`]).
///
/// Source: THEORY §3 (Pierret–Galerne's Heun scheme).
/// Two score evaluations per step, one slot. Grid schedules only.
///
/// ```
/// use gmdiff_solvers::{Heun, Schedule, score_evals};
/// assert_eq!(score_evals(&Heun, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Heun;

impl Heun {
    /// The CLI name.
    pub const NAME: &'static str = "heun";
}

impl SamplerInfo for Heun {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        refuse_chain(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for Heun {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s, h) = (&info.from, &info.to, info.h);
        need_grid(self.name(), info)?;
        let x = &state[0];
        let k1 = drift(alg, t, x)?;
        let x1 = alg.lin(&[(1.0, x), (h, &k1)]);
        let k2 = drift(alg, s, &x1)?;
        state[0] = alg.lin(&[(1.0, x), (0.5 * h, &k1), (0.5 * h, &k2)]);
        Ok(state)
    }
}
