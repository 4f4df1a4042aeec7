//! PNDM: the pseudo numerical methods of Liu et al. (2022), as diffusers' `PNDMScheduler` runs them.

use super::need_signal;
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};
use gmdiff_process::Coefficients;

/// PNDM (Liu, Ren, Lin & Zhao, *Pseudo Numerical Methods for Diffusion Models on Manifolds*, ICLR
/// 2022, eq. 9, 12 and 13): Adams–Bashforth (PLMS) on the noise prediction `ε̂ = (x − a_t x̂₀)/b_t`,
/// carried by the DDIM transfer `φ(x, ε, t → s) = (a_s/a_t) x + (b_s − a_s b_t/a_t) ε` (PNDM's eq. 9,
/// which diffusers' `_get_prev_sample` writes as `sqrt(ᾱ_s/ᾱ_t) x − (ᾱ_s − ᾱ_t) ε / (ᾱ_t sqrt(1 − ᾱ_s) + sqrt(ᾱ_t (1 − ᾱ_t) ᾱ_s))`),
/// after a warm-up that fills the history.
///
/// Step `k` from `t = t_k` to `s = t_{k+1}`, with `ε_k = ε̂(t_k, x_k)`:
/// * warm-up with `prk` (diffusers' default, `skip_prk_steps = false`): the first three steps are
///   pseudo Runge–Kutta steps through the step's midpoint `m` ([`StepInfo::mid`]):
///   `e₁ = ε_k`, `e₂ = ε̂(m, φ(x, e₁, t → m))`, `e₃ = ε̂(m, φ(x, e₂, t → m))`,
///   `e₄ = ε̂(s, φ(x, e₃, t → s))`, `x_{k+1} = φ(x, (e₁ + 2e₂ + 2e₃ + e₄)/6, t → s)`; `e₁` joins the
///   history;
/// * warm-up without (`skip_prk_steps = true`): step 0 is a pseudo improved Euler step,
///   `x' = φ(x_0, ε_0, t → s)`, `x_1 = φ(x_0, (ε_0 + ε̂(s, x'))/2, t → s)`, then `k = 1` uses
///   `(3 ε_1 − ε_0)/2` and `k = 2` uses `(23 ε_2 − 16 ε_1 + 5 ε_0)/12`;
/// * then PLMS: `x_{k+1} = φ(x_k, (55 ε_k − 59 ε_{k−1} + 37 ε_{k−2} − 9 ε_{k−3})/24, t → s)`.
///
/// This is diffusers' `step_prk` / `step_plms` on timesteps whose steps end where the next starts
/// (`leading` or `trailing` spacing with `n | N`, the midpoint `t − ⌊⌊N/n⌋/2⌋`, an ε-prediction);
/// [`crate::diffusers::SchedulerConfig::plan`] refuses the others.
///
/// Score evaluations: 4 per warm-up step and 1 per later step with `prk`; `S + 1` without (one
/// step alone is the plain transfer, as diffusers' one timestep makes one model call). Four slots
/// (the position and the last three `ε̂`). The warm-up with `prk` needs [`StepInfo::mid`] (grids, and
/// pairs given midpoints); without it only grid points' `a`, `b` enter, so it also runs on chains.
/// Refuses a start with `a_T = 0` (the transfer divides by `a_t`).
///
/// ```
/// use gmdiff_solvers::{Schedule, score_evals, slots};
/// use gmdiff_solvers::samplers::Pndm;
/// let s = Schedule::uniform_vp(10, 1e-3).unwrap();
/// assert_eq!(score_evals(&Pndm { prk: true }, &s).unwrap(), 3 * 4 + 7);
/// assert_eq!((score_evals(&Pndm { prk: false }, &s).unwrap(), slots(&Pndm::default())), (11, 4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pndm {
    /// Warm up with three pseudo Runge–Kutta steps (diffusers' default); else with a pseudo
    /// improved Euler step.
    pub prk: bool,
}

impl Default for Pndm {
    /// diffusers' default: the Runge–Kutta warm-up.
    fn default() -> Self {
        Self { prk: true }
    }
}

impl Pndm {
    /// The CLI name.
    pub const NAME: &'static str = "pndm";
}

impl SamplerInfo for Pndm {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        need_signal(self.name(), schedule)
    }
    /// Along a null direction of `Σ` with the exact score, `x_t = b_t z` and every `ε̂` is the same
    /// `z`; the combinations (weights summing to 1) keep it, and the transfer is exact for a constant
    /// `ε`, so a last step to `b = 0` lands on the data exactly.
    fn landing(&self) -> crate::Landing {
        crate::Landing::Integration
    }
}

/// `ε̂ = (x − a_t x̂₀)/b_t` (one evaluation), formed through the data prediction as DEIS forms it:
/// `−b_t s_t(x)` directly would carry the score's rounding times `b_t` instead of `b_t²`.
fn eps<A: Algebra + ?Sized>(alg: &mut A, at: &Coefficients, x: &A::Value) -> Result<A::Value, SolverError> {
    let d = alg.denoise(at, x)?;
    Ok(alg.lin(&[(1.0 / at.b, x), (-at.a / at.b, &d)]))
}

/// `φ(x, ε, t → s) = (a_s/a_t) x + (b_s − a_s b_t/a_t) ε`.
fn transfer<A: Algebra + ?Sized>(alg: &mut A, t: &Coefficients, s: &Coefficients, x: &A::Value, e: &A::Value) -> A::Value {
    alg.lin(&[(s.a / t.a, x), (s.b - s.a * t.b / t.a, e)])
}

impl<A: Algebra + ?Sized> Sampler<A> for Pndm {
    fn init(&self, _: &mut A, x: A::Value) -> Vec<A::Value> {
        vec![x.clone(), x.clone(), x.clone(), x]
    }
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s) = (&info.from, &info.to);
        if t.a <= 0.0 {
            return Err(SolverError::Unsupported { sampler: Self::NAME, schedule: "a point with a_t = 0 (the transfer divides by a_t)" });
        }
        let k = info.index;
        let e = eps(alg, t, &state[0])?;
        let comb = if self.prk && k < 3 {
            let m = info.mid.ok_or(SolverError::Unsupported {
                sampler: Self::NAME,
                schedule: "a schedule without midpoints (the Runge–Kutta warm-up steps through t − h/2; use prk = false)",
            })?;
            let x2 = transfer(alg, t, &m, &state[0], &e);
            let e2 = eps(alg, &m, &x2)?;
            let x3 = transfer(alg, t, &m, &state[0], &e2);
            let e3 = eps(alg, &m, &x3)?;
            if s.b <= 0.0 {
                return Err(SolverError::Unsupported { sampler: Self::NAME, schedule: "a Runge–Kutta warm-up step ending at b = 0 (fewer than four steps)" });
            }
            let x4 = transfer(alg, t, s, &state[0], &e3);
            let e4 = eps(alg, s, &x4)?;
            alg.lin(&[(1.0 / 6.0, &e), (2.0 / 6.0, &e2), (2.0 / 6.0, &e3), (1.0 / 6.0, &e4)])
        } else {
            match k {
                0 if info.steps == 1 => e.clone(),
                0 => {
                    let x1 = transfer(alg, t, s, &state[0], &e);
                    let e1 = eps(alg, s, &x1)?;
                    alg.lin(&[(0.5, &e), (0.5, &e1)])
                }
                1 => alg.lin(&[(1.5, &e), (-0.5, &state[1])]),
                2 => alg.lin(&[(23.0 / 12.0, &e), (-16.0 / 12.0, &state[1]), (5.0 / 12.0, &state[2])]),
                _ => alg.lin(&[(55.0 / 24.0, &e), (-59.0 / 24.0, &state[1]), (37.0 / 24.0, &state[2]), (-9.0 / 24.0, &state[3])]),
            }
        };
        state[0] = transfer(alg, t, s, &state[0], &comb);
        // Shift the ε history: slot 1 is the newest (after the last step nothing reads it).
        if k + 1 < info.steps {
            let older = std::mem::replace(&mut state[1], e);
            state[3] = std::mem::replace(&mut state[2], older);
        }
        Ok(state)
    }
}
