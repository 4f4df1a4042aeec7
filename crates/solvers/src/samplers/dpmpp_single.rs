//! Single-step DPM-Solver++ with grid-point stages (diffusers' `DPMSolverSinglestepScheduler`).

use super::dpmpp3m::{DpmSolverType, phi23};
use super::need_signal;
use crate::algebra::Algebra;
use crate::error::{SolverError, check};
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};

/// Single-step DPM-Solver++ (Lu et al., *DPM-Solver++*, arXiv 2211.01095, Algorithm 1, and
/// DPM-Solver, arXiv 2206.00927, §3.3, orders 2 and 3), in the form of diffusers'
/// `DPMSolverSinglestepScheduler` (`algorithm_type = "dpmsolver++"`): the grid is cut into blocks of
/// `1, 2, 3` steps, and the intermediate stages of a block's one high-order step are its **grid
/// points**, not points chosen inside a step.
///
/// With the data prediction `D = x̂₀`, `λ = log(a/b)`, `φ₁(h) = 1 − e^{−h}`, `φ₂(h) = (e^{−h} − 1 + h)/h`,
/// `φ₃(h) = φ₂(h)/h − ½`: a block starts at grid point `s` with position `x_s`; step `k` of the block
/// (order `k + 1`) goes from `x_s` to the grid point `t` after the current one `s₀`, with `h = λ_t − λ_s`:
///
/// * order 1 (`s₀ = s`): `x_t = (b_t/b_s) x_s + a_t φ₁(h) D(s)` (DDIM);
/// * order 2 (stage `s₀ = s₁`, the grid point after `s`), `r₀ = (λ_{s₀} − λ_s)/h`,
///   `D₁ = (D(s₀) − D(s))/r₀`: midpoint `x_t = (b_t/b_s) x_s + a_t φ₁(h) (D(s) + ½ D₁)`, heun
///   `… + a_t φ₁(h) D(s) + a_t φ₂(h) D₁`;
/// * order 3 (stages `s₁`, `s₀`), `r₁ = (λ_{s₁} − λ_s)/h`, `r₀ = (λ_{s₀} − λ_s)/h`,
///   `D₁,₀ = (D(s₁) − D(s))/r₁`, `D₁,₁ = (D(s₀) − D(s))/r₀`, `D₁ = (r₀ D₁,₀ − r₁ D₁,₁)/(r₀ − r₁)`,
///   `D₂ = 2 (D₁,₁ − D₁,₀)/(r₀ − r₁)`: midpoint `x_t = (b_t/b_s) x_s + a_t φ₁(h) D(s) + a_t φ₂(h) D₁,₁`,
///   heun `… + a_t φ₂(h) D₁ − a_t φ₃(h) D₂`.
///
/// The orders of the `S` steps are diffusers' `get_order_list(S)`: with `lower_order_final`,
/// `[1, 2, 3]` repeated with a shorter tail (`S mod 3 = 0`: `… + [1, 2] + [1]`; `= 1`: `… + [1]`;
/// `= 2`: `… + [1, 2]`; order 2: `[1, 2]` repeated, `… + [1, 1]` for even `S`, `… + [1]` for odd);
/// without it `[1, …, order]` repeated `⌊S/order⌋` times, which needs `order | S` (diffusers then
/// switches `lower_order_final` on; so does [`crate::diffusers::SchedulerConfig::plan`]); and a last
/// step to `b = 0` is always first order (`x_t = a_t D(s)`; diffusers' `final_sigmas_type = "zero"`).
///
/// Source: Lu et al. (2022a, 2022b) as cited; diffusers 0.42.1
/// `singlestep_dpm_solver_{first,second,third}_order_update` (derived in `(a, b)` form; agreement
/// with diffusers' own scheduler on 2·10⁵ particles in `tests/diffusers_laws.rs`). One score
/// evaluation per step; four slots (the position, the block's start, the two previous data
/// predictions). Only grid points' `a`, `b`, `λ` enter, so it runs on grids, chains and pairs;
/// refuses a start with `a_T = 0` (its `λ = −∞` makes `r₀` undefined).
///
/// ```
/// use gmdiff_solvers::{Schedule, score_evals, slots};
/// use gmdiff_solvers::samplers::DpmSolverSinglestep;
/// let s = DpmSolverSinglestep::default();
/// assert_eq!((score_evals(&s, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), slots(&s)), (10, 4));
/// assert_eq!(DpmSolverSinglestep::orders(2, true, 10), vec![1, 2, 1, 2, 1, 2, 1, 2, 1, 1]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DpmSolverSinglestep {
    /// The highest order of a block (1, 2 or 3).
    pub order: usize,
    /// diffusers' `lower_order_final` (see the orders above).
    pub lower_order_final: bool,
    /// The second- and third-order form (diffusers' `solver_type`).
    pub solver_type: DpmSolverType,
}

impl Default for DpmSolverSinglestep {
    /// diffusers' defaults: order 2, midpoint; `lower_order_final` on (diffusers' default is off,
    /// but its `set_timesteps` switches it on whenever the last σ is 0, the default).
    fn default() -> Self {
        Self { order: 2, lower_order_final: true, solver_type: DpmSolverType::Midpoint }
    }
}

impl DpmSolverSinglestep {
    /// The CLI name.
    pub const NAME: &'static str = "dpmpp-single";

    /// diffusers' `get_order_list(steps)` (before the last step's reduction at `b = 0`); empty for an
    /// order outside 1–3.
    pub fn orders(order: usize, lower_order_final: bool, steps: usize) -> Vec<usize> {
        let rep = |block: &[usize], times: usize| block.iter().copied().cycle().take(block.len() * times).collect::<Vec<usize>>();
        match (order, lower_order_final) {
            (1, _) => vec![1; steps],
            (2, true) if steps.is_multiple_of(2) => [rep(&[1, 2], (steps / 2).saturating_sub(1)), vec![1, 1]].concat(),
            (2, true) => [rep(&[1, 2], steps / 2), vec![1]].concat(),
            (3, true) => match steps % 3 {
                0 => [rep(&[1, 2, 3], (steps / 3).saturating_sub(1)), vec![1, 2, 1]].concat(),
                1 => [rep(&[1, 2, 3], steps / 3), vec![1]].concat(),
                _ => [rep(&[1, 2, 3], steps / 3), vec![1, 2]].concat(),
            },
            (2, false) => rep(&[1, 2], steps / 2),
            (3, false) => rep(&[1, 2, 3], steps / 3),
            _ => Vec::new(),
        }
    }
}

impl SamplerInfo for DpmSolverSinglestep {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        check("order", self.order as f64, |o| (1.0..=3.0).contains(&o), "must be 1, 2 or 3")?;
        if !self.lower_order_final && !schedule.steps().is_multiple_of(self.order) {
            return Err(SolverError::InvalidParameter {
                name: "steps",
                value: schedule.steps() as f64,
                reason: "without lower_order_final the number of steps must be a multiple of the order (diffusers then turns lower_order_final on)",
            });
        }
        need_signal(self.name(), schedule)
    }
    /// A last step to `b_S = 0` is first order: `X_S = a_S D`.
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for DpmSolverSinglestep {
    fn init(&self, _: &mut A, x: A::Value) -> Vec<A::Value> {
        vec![x.clone(), x.clone(), x.clone(), x]
    }
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (s0, t) = (&info.from, &info.to);
        let mut order = Self::orders(self.order, self.lower_order_final, info.steps).get(info.index).copied().unwrap_or(1);
        if t.b == 0.0 && info.index + 1 == info.steps {
            order = 1;
        }
        order = order.min(info.index + 1);
        let d = alg.denoise(s0, &state[0])?;
        if order == 1 {
            state[1] = state[0].clone();
        }
        // The block's start s and its position x_s.
        let s = if order == 1 { *s0 } else { *info.earlier(order - 1).ok_or(SolverError::NonFinite { what: "single-step history", step: info.index })? };
        let h = t.lambda - s.lambda;
        let ratio = if t.b == 0.0 { 0.0 } else { t.b / s.b };
        let w1 = t.a * -(-h).exp_m1();
        let (p2, p3) = phi23(h);
        let x_new = match order {
            1 => alg.lin(&[(ratio, &state[1]), (w1, &d)]),
            2 => {
                // D(s) is the previous prediction (slot 2), D(s₀) the current one.
                let r0 = (s0.lambda - s.lambda) / h;
                let c1 = match self.solver_type {
                    DpmSolverType::Midpoint => 0.5 * w1 / r0,
                    DpmSolverType::Heun => t.a * p2 / r0,
                };
                alg.lin(&[(ratio, &state[1]), (w1 - c1, &state[2]), (c1, &d)])
            }
            _ => {
                let s1 = info.earlier(1).ok_or(SolverError::NonFinite { what: "single-step history", step: info.index })?;
                let (r0, r1) = ((s0.lambda - s.lambda) / h, (s1.lambda - s.lambda) / h);
                // m0 = D(s₀) (current), m1 = D(s₁) (slot 2), m2 = D(s) (slot 3).
                let (c0, c1, c2) = match self.solver_type {
                    DpmSolverType::Midpoint => {
                        // a_t φ₂ D₁,₁ = a_t φ₂ (m0 − m2)/r0.
                        let k = t.a * p2 / r0;
                        (k, 0.0, -k)
                    }
                    DpmSolverType::Heun => {
                        // D₁ = (r0 D₁,₀ − r1 D₁,₁)/(r0 − r1), D₂ = 2 (D₁,₁ − D₁,₀)/(r0 − r1), with
                        // D₁,₀ = (m1 − m2)/r1, D₁,₁ = (m0 − m2)/r0.
                        let (e, f) = (t.a * p2 / (r0 - r1), -2.0 * t.a * p3 / (r0 - r1));
                        // e (r0 D₁,₀ − r1 D₁,₁) + f (D₁,₁ − D₁,₀) in m0, m1, m2:
                        let (k10, k11) = (e * r0 - f, -e * r1 + f);
                        let (m0, m1) = (k11 / r0, k10 / r1);
                        (m0, m1, -(m0 + m1))
                    }
                };
                alg.lin(&[(ratio, &state[1]), (w1 + c2, &state[3]), (c1, &state[2]), (c0, &d)])
            }
        };
        state[0] = x_new;
        state[3] = std::mem::replace(&mut state[2], d);
        Ok(state)
    }
}
