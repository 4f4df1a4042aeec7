//! Reverse-SDE Euler–Maruyama.

use super::{need_grid, need_signal};
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// Reverse-SDE Euler–Maruyama on the path's own SDE `dx = f x dt + g dw`:
/// `X ← (1 − h f(t)) X + h g²(t) s_t(X) + sqrt(h g²(t)) ξ` (VP: `X + h β̃ (X + 2 s) + sqrt(2 h β̃) ξ`,
/// `β̃ = β/2`).
///
/// Source: Song et al. (2021), the reverse SDE `dx = (f x − g² ∇log p_t) dt + g dw̄` (eq. 6), and
/// THEORY §3 (Pierret–Galerne's Euler–Maruyama on `dY = β̃ (Y + 2 s) dτ + sqrt(2β̃) dW`). Refuses a
/// start with `a_T = 0`, where `f` and `g²` are infinite. One score evaluation per step, one slot (the position).
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
        refuse_chain(self.name(), schedule)?;
        need_signal(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for EulerMaruyama {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, h) = (&info.from, info.h);
        need_grid(self.name(), info)?;
        let x = &state[0];
        let sc = alg.score(t, x)?;
        let xi = alg.noise();
        state[0] = alg.lin(&[(1.0 - h * t.f, x), (h * t.g2, &sc), ((h * t.g2).sqrt(), &xi)]);
        Ok(state)
    }
}
