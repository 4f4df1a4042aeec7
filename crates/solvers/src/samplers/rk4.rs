//! Flow-ODE classical Runge–Kutta 4.

use super::{drift, need_grid};
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// Flow-ODE classical Runge–Kutta 4 on the reverse-time drift `k(t, x) = −f x + ½ g² s_t(x)` (VP:
/// `β̃ (x + s)`; through `x̂₀` where `a_t = 0`, see [`crate::Euler`]), with the midpoint
/// `m = t − h/2`: `k₁ = k(t, X)`, `k₂ = k(m, X + h/2 k₁)`, `k₃ = k(m, X + h/2 k₂)`,
/// `k₄ = k(s, X + h k₃)`, `X ← X + h/6 (k₁ + 2k₂ + 2k₃ + k₄)`.
///
/// Source: THEORY §3 (the classical four-stage scheme). Four score evaluations per step, one slot.
/// Grid schedules only.
///
/// ```
/// use gmdiff_solvers::{Rk4, Schedule, score_evals};
/// assert_eq!(score_evals(&Rk4, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), 40);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rk4;

impl Rk4 {
    /// The CLI name.
    pub const NAME: &'static str = "rk4";
}

impl SamplerInfo for Rk4 {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        refuse_chain(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for Rk4 {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s, h) = (&info.from, &info.to, info.h);
        need_grid(self.name(), info)?;
        let x = &state[0];
        let m = info.mid.as_ref().expect("grid steps have a midpoint");
        let k1 = drift(alg, t, x)?;
        let y2 = alg.lin(&[(1.0, x), (0.5 * h, &k1)]);
        let k2 = drift(alg, m, &y2)?;
        let y3 = alg.lin(&[(1.0, x), (0.5 * h, &k2)]);
        let k3 = drift(alg, m, &y3)?;
        let y4 = alg.lin(&[(1.0, x), (h, &k3)]);
        let k4 = drift(alg, s, &y4)?;
        state[0] = alg.lin(&[(1.0, x), (h / 6.0, &k1), (h / 3.0, &k2), (h / 3.0, &k3), (h / 6.0, &k4)]);
        Ok(state)
    }
}
