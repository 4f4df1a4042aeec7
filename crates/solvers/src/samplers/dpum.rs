//! DPUM: flow-ODE exponential predictor with an underdamped Langevin corrector.

use super::{correct_now, ode_exponential};
use crate::algebra::Algebra;
use crate::error::{SolverError, check};
use crate::sampler::{Sampler, SamplerInfo, refuse_chain};
use crate::schedule::{Schedule, StepInfo};

/// Underdamped Langevin corrector with friction `γ` (DPUM), on position `X` and velocity `V`:
/// the dynamics `dX = V dt`, `dV = (s_t(X) − γ V) dt + sqrt(2γ) dW` leave `p_t ⊗ N(0, I)` invariant.
///
/// One iteration with `h = step_scale · b_t` and `γ_t = friction / b_t` (so the corrector is
/// invariant to the noise scale) is the BAOAB splitting (Leimkuhler–Matthews; 2 score evaluations):
/// `V ← V + h/2 s_t(X)`, `X ← X + h/2 V`, `V ← e^{−γ_t h} V + sqrt(1 − e^{−2 γ_t h}) ξ` (exact friction
/// and noise), `X ← X + h/2 V`, `V ← V + h/2 s_t(X)`. The velocity starts as `N(0, I)` and is kept
/// across steps.
/// \[reconstructed\] — Chen et al.'s exact discretisation and constants were not retrievable.
///
/// ```
/// use gmdiff_solvers::Underdamped;
/// assert_eq!(Underdamped::default().friction, 2.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Underdamped {
    /// Correct after every `every` predictor steps (`≥ 1`).
    pub every: usize,
    /// Corrector iterations per correction.
    pub iterations: usize,
    /// `h = step_scale · b_t`, `> 0`.
    pub step_scale: f64,
    /// Friction `γ` in units of `1/b_t`, `> 0`.
    pub friction: f64,
}

impl Default for Underdamped {
    fn default() -> Self {
        Self { every: 1, iterations: 1, step_scale: 0.2, friction: 2.0 }
    }
}

/// DPUM: the [`crate::OdeExponential`] predictor `X ← e^δ X + (e^δ − 1) s_t(X)`, then the
/// [`Underdamped`] corrector (BAOAB) at the step's end time after every `every`-th step (not the
/// last).
///
/// Source: Chen et al. (DPUM; THEORY §1), reconstructed. Score evaluations per step: 1, plus
/// `2 · iterations` after a correcting step; two slots (position and velocity `V`, which `init`
/// draws as `N(0, I)`). Grid schedules only.
///
/// ```
/// use gmdiff_solvers::{Dpum, Schedule, score_evals, slots};
/// let s = Schedule::uniform_vp(10, 1e-3).unwrap();
/// // 10 predictor steps and 9 corrections (not after the last step) of 2 evaluations.
/// assert_eq!((score_evals(&Dpum::default(), &s).unwrap(), slots(&Dpum::default())), (10 + 2 * 9, 2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Dpum(pub Underdamped);

impl Dpum {
    /// The CLI name.
    pub const NAME: &'static str = "dpum";
}

impl SamplerInfo for Dpum {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        let c = &self.0;
        check("step_scale", c.step_scale, |h| h > 0.0, "must be finite and > 0")?;
        check("friction", c.friction, |g| g > 0.0, "must be finite and > 0")?;
        check("every", c.every as f64, |e| e >= 1.0, "must be ≥ 1")?;
        refuse_chain(self.name(), schedule)?;
        super::need_signal(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for Dpum {
    fn init(&self, alg: &mut A, x: A::Value) -> Vec<A::Value> {
        let v = alg.noise();
        vec![x, v]
    }
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let c = &self.0;
        let s = &info.to;
        state[0] = ode_exponential(alg, self.name(), info, &state[0])?;
        if correct_now(info, c.every) {
            let hc = c.step_scale * s.b;
            let gamma = c.friction / s.b;
            let decay = (-gamma * hc).exp();
            let kick = (-(-2.0 * gamma * hc).exp_m1()).sqrt();
            for _ in 0..c.iterations {
                // BAOAB: half kick, half drift, exact friction + noise, half drift, half kick.
                let sc = alg.score(s, &state[0])?;
                let v = alg.lin(&[(1.0, &state[1]), (0.5 * hc, &sc)]);
                let x = alg.lin(&[(1.0, &state[0]), (0.5 * hc, &v)]);
                let xi = alg.noise();
                let v = alg.lin(&[(decay, &v), (kick, &xi)]);
                let x = alg.lin(&[(1.0, &x), (0.5 * hc, &v)]);
                let sc = alg.score(s, &x)?;
                state[1] = alg.lin(&[(1.0, &v), (0.5 * hc, &sc)]);
                state[0] = x;
            }
        }
        Ok(state)
    }
}
