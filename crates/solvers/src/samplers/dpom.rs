//! DPOM: flow-ODE exponential predictor with an overdamped Langevin corrector.

use super::{correct_now, ode_exponential};
use crate::algebra::Algebra;
use crate::error::{SolverError, check};
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// Overdamped Langevin corrector `X ← X + h_c s_t(X) + sqrt(2 h_c) ξ`, aimed at `p_t`.
///
/// It runs `iterations` times after every `every`-th predictor step (never after the last step),
/// at the step's end time `t`, with `h_c = step_scale · b_t²` (the score scales like `1/b_t²`).
/// The schedule is our reconstruction of DPOM's "every 1/L of time" (THEORY §1, constants
/// unverified).
///
/// ```
/// use gmdiff_solvers::Langevin;
/// let c = Langevin::default();
/// assert_eq!((c.every, c.iterations), (1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Langevin {
    /// Correct after every `every` predictor steps (`≥ 1`).
    pub every: usize,
    /// Corrector iterations per correction.
    pub iterations: usize,
    /// `h_c = step_scale · b_t²`, `> 0`.
    pub step_scale: f64,
}

impl Default for Langevin {
    fn default() -> Self {
        Self { every: 1, iterations: 1, step_scale: 0.05 }
    }
}

/// DPOM: the [`crate::OdeExponential`] predictor `X ← e^δ X + (e^δ − 1) s_t(X)`, then the
/// overdamped [`Langevin`] corrector at the step's end time `s`: after every `every`-th step (not the
/// last), `iterations` × `X ← X + h_c s_s(X) + sqrt(2 h_c) ξ`, `h_c = step_scale · b_s²`.
///
/// Source: Chen et al. (DPOM; THEORY §1), reconstructed (the corrector's constants unverified).
/// Score evaluations per step: 1, plus `iterations` after a correcting step; one slot. Grid
/// schedules only.
///
/// ```
/// use gmdiff_solvers::{Dpom, Langevin, Schedule, score_evals};
/// let c = Langevin { every: 2, iterations: 3, ..Langevin::default() };
/// // 10 predictor steps, corrections after steps 2, 4, 6, 8.
/// assert_eq!(score_evals(&Dpom(c), &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), 10 + 4 * 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Dpom(pub Langevin);

impl Dpom {
    /// The CLI name.
    pub const NAME: &'static str = "dpom";
}

impl SamplerInfo for Dpom {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        let c = &self.0;
        check("step_scale", c.step_scale, |h| h > 0.0, "must be finite and > 0")?;
        check("every", c.every as f64, |e| e >= 1.0, "must be ≥ 1")?;
        refuse_chain(self.name(), schedule)?;
        super::need_signal(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for Dpom {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let c = &self.0;
        let s = &info.to;
        state[0] = ode_exponential(alg, self.name(), info, &state[0])?;
        if correct_now(info, c.every) {
            let hc = c.step_scale * s.b * s.b;
            for _ in 0..c.iterations {
                let sc = alg.score(s, &state[0])?;
                let xi = alg.noise();
                state[0] = alg.lin(&[(1.0, &state[0]), (hc, &sc), ((2.0 * hc).sqrt(), &xi)]);
            }
        }
        Ok(state)
    }
}
