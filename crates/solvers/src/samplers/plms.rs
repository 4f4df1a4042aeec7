//! PLMS: the pseudo linear multistep method of PNDM (Liu et al. 2022), as diffusers' `PNDMScheduler`
//! runs it with `skip_prk_steps = true`.

use super::need_signal;
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};
use gmdiff_process::Coefficients;

/// PLMS (Liu, Ren, Lin & Zhao, *Pseudo Numerical Methods for Diffusion Models on Manifolds*, ICLR
/// 2022, eq. 9 and 12): Adams–Bashforth on the noise prediction `ε̂ = −b_t s_t(x)`, carried by the
/// DDIM transfer `φ(x, ε, t → s) = (a_s/a_t) x + (b_s − a_s b_t/a_t) ε` (PNDM's eq. 9, which
/// diffusers' `_get_prev_sample` writes as `sqrt(ᾱ_s/ᾱ_t) x − (ᾱ_s − ᾱ_t) ε / (ᾱ_t sqrt(1 − ᾱ_s) + sqrt(ᾱ_t (1 − ᾱ_t) ᾱ_s))`).
///
/// Step `k` from `t = t_k` to `s = t_{k+1}`, with `ε_k = ε̂(t_k, x_k)`:
/// * `k = 0`, a pseudo improved Euler step (diffusers' first two model calls):
///   `x' = φ(x_0, ε_0, t → s)`, `ε' = ε̂(s, x')`, `x_1 = φ(x_0, (ε_0 + ε')/2, t → s)`; `ε'` is not kept;
/// * `k = 1`: `φ(x, (3 ε_1 − ε_0)/2)`; `k = 2`: `φ(x, (23 ε_2 − 16 ε_1 + 5 ε_0)/12)`;
/// * `k ≥ 3`: `φ(x, (55 ε_k − 59 ε_{k−1} + 37 ε_{k−2} − 9 ε_{k−3})/24)`.
///
/// This is diffusers' `step_plms` on timesteps whose steps end where the next starts (`leading` or
/// `trailing` spacing with `n | N`); with `linspace` spacing diffusers' stride `⌊N/n⌋` does not meet
/// its timesteps and [`crate::diffusers::SchedulerConfig::plan`] refuses it. PNDM's Runge–Kutta
/// warm-up (`skip_prk_steps = false`) is not this sampler.
///
/// `S + 1` score evaluations for `S ≥ 2` steps (one step alone is the plain transfer, as in diffusers,
/// whose one timestep makes one model call); four slots (the position and the last three `ε̂`). Only grid points' `a`, `b` enter, so it runs on grids, chains and
/// pairs; refuses a start with `a_T = 0` (the transfer divides by `a_t`).
///
/// ```
/// use gmdiff_solvers::{Schedule, score_evals, slots};
/// use gmdiff_solvers::samplers::Plms;
/// assert_eq!((score_evals(&Plms, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), slots(&Plms)), (11, 4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Plms;

impl Plms {
    /// The CLI name.
    pub const NAME: &'static str = "plms";
}

impl SamplerInfo for Plms {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        need_signal(self.name(), schedule)
    }
}

/// `ε̂ = (x − a_t x̂₀)/b_t` (one evaluation), formed through the data prediction as DEIS forms it:
/// `−b_t s_t(x)` directly would carry the score's rounding times `b_t` instead of `b_t²`, which on an
/// ill-conditioned `a² Σ + b² I` at small `b` is measurably worse (the dense-route agreement test).
fn eps<A: Algebra + ?Sized>(alg: &mut A, at: &Coefficients, x: &A::Value) -> Result<A::Value, SolverError> {
    let d = alg.denoise(at, x)?;
    Ok(alg.lin(&[(1.0 / at.b, x), (-at.a / at.b, &d)]))
}

/// The DDIM transfer `(a_s/a_t) x + (b_s − a_s b_t/a_t) ε` as `(c_x, c_ε)`.
fn transfer(t: &Coefficients, s: &Coefficients) -> (f64, f64) {
    (s.a / t.a, s.b - s.a * t.b / t.a)
}

impl<A: Algebra + ?Sized> Sampler<A> for Plms {
    fn init(&self, _: &mut A, x: A::Value) -> Vec<A::Value> {
        vec![x.clone(), x.clone(), x.clone(), x]
    }
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s) = (&info.from, &info.to);
        if t.a <= 0.0 {
            return Err(SolverError::Unsupported { sampler: Self::NAME, schedule: "a point with a_t = 0 (the transfer divides by a_t)" });
        }
        let (cx, ce) = transfer(t, s);
        let e = eps(alg, t, &state[0])?;
        let k = info.index;
        let comb = match k {
            0 if info.steps == 1 => e.clone(),
            0 => {
                let x1 = alg.lin(&[(cx, &state[0]), (ce, &e)]);
                let e1 = if s.a > 0.0 { eps(alg, s, &x1)? } else { return Err(SolverError::Unsupported { sampler: Self::NAME, schedule: "a one-step schedule ending at a_s = 0" }) };
                alg.lin(&[(0.5, &e), (0.5, &e1)])
            }
            1 => alg.lin(&[(1.5, &e), (-0.5, &state[1])]),
            2 => alg.lin(&[(23.0 / 12.0, &e), (-16.0 / 12.0, &state[1]), (5.0 / 12.0, &state[2])]),
            _ => alg.lin(&[(55.0 / 24.0, &e), (-59.0 / 24.0, &state[1]), (37.0 / 24.0, &state[2]), (-9.0 / 24.0, &state[3])]),
        };
        state[0] = alg.lin(&[(cx, &state[0]), (ce, &comb)]);
        // Shift the ε history: slot 1 is the newest (after the last step nothing reads it).
        if info.index + 1 == info.steps {
            return Ok(state);
        }
        let older = std::mem::replace(&mut state[1], e);
        state[3] = std::mem::replace(&mut state[2], older);
        Ok(state)
    }
}
