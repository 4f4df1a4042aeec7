//! DPM-Solver++(2M).

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
/// `b_s = 0`.
///
/// Source: Lu et al., *DPM-Solver++* (2022), derived. One score evaluation per step;
/// two slots (the position and the previous data prediction `D_prev`). Runs on grids and chains.
///
/// ```
/// use gmdiff_solvers::{DpmSolver2M, Schedule, score_evals, slots};
/// assert_eq!((score_evals(&DpmSolver2M, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), slots(&DpmSolver2M)), (10, 2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DpmSolver2M;

impl DpmSolver2M {
    /// The CLI name.
    pub const NAME: &'static str = "dpmpp2m";
}

impl SamplerInfo for DpmSolver2M {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A last step to `b_S = 0` is the first-order `X_S = a_S x̂₀`.
    fn lands(&self) -> bool {
        true
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for DpmSolver2M {
    fn init(&self, _: &mut A, x: A::Value) -> Vec<A::Value> {
        vec![x.clone(), x]
    }
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s) = (&info.from, &info.to);
        let x = &state[0];
        let d = alg.denoise(t, x)?;
        let new_x = if s.b == 0.0 {
            alg.lin(&[(s.a, &d)])
        } else {
            // e^{−h} with h = λ_s − λ_t, λ = log(a/b), computed without logarithms.
            let em = (t.a * s.b) / (t.b * s.a);
            let c_x = s.b / t.b;
            let c_d = s.a * (1.0 - em);
            match info.earlier(1) {
                Some(p) if info.index > 0 => {
                    let r = (t.lambda - p.lambda) / (s.lambda - t.lambda);
                    let w = 0.5 / r;
                    alg.lin(&[(c_x, x), (c_d * (1.0 + w), &d), (-c_d * w, &state[1])])
                }
                _ => alg.lin(&[(c_x, x), (c_d, &d)]),
            }
        };
        state[1] = d;
        state[0] = new_x;
        Ok(state)
    }
}
