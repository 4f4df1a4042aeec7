//! DEIS: the multistep exponential integrator of Zhang & Chen (2023), "logρ" form.

use super::lms::lagrange_basis;
use super::need_signal;
use crate::algebra::Algebra;
use crate::error::{SolverError, check};
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};

/// DEIS (Zhang & Chen, *Fast Sampling of Diffusion Models with Exponential Integrator*, ICLR 2023,
/// §4 and eq. 14, the multistep "ρAB-DEIS"), as diffusers' `DEISMultistepScheduler`
/// (`algorithm_type = "deis"`, `solver_type = "logrho"`) runs it: on the noise prediction
/// `ε̂ = (x − a_t D)/b_t`, the ODE `dx̃/dρ = ε̂` in `x̃ = x/a`, `ρ = σ = b/a`, with `ε̂` interpolated by a
/// polynomial in `log ρ = −λ` through the current and the `q − 1` previous grid points.
///
/// With `h = λ_s − λ_t` (step from `t = t_k` to `s = t_{k+1}`), the nodes `τ_j = λ_{t_{k−j}} − λ_t ≤ 0`
/// (`j = 0..q`), the Lagrange basis `ℓ_j(τ) = Σ_m A_{jm} τ^m` and `ρ = ρ_t e^{−τ}`:
///
/// `x ← (a_s/a_t) x − (a_s b_t/a_t) Σ_j C_j ε̂_{k−j}`,
/// `C_j = ∫₀^h e^{−τ} ℓ_j(τ) dτ = Σ_m A_{jm} γ(m + 1, h)`,
///
/// `γ(m + 1, h) = ∫₀^h e^{−τ} τ^m dτ = m! (1 − e^{−h} Σ_{i ≤ m} h^i/i!)` (its series
/// `h^{m+1} Σ_n (−h)^n/(n! (m + n + 1))` for `h < 1`, where the closed form cancels). This is the closed
/// form of diffusers' `ind_fn` differences (`∫_{ρ_t}^{ρ_s} ℓ_j(log ρ) dρ = −ρ_t C_j`), written in `λ`
/// so that it neither overflows nor cancels. Order 1 is DDIM: `x ← (a_s/a_t) x − a_s (σ_t − σ_s) ε̂`.
///
/// The order of step `k` of `S`: 1 at `k = 0`, at most 2 at `k = 1` (warm-up); with
/// `lower_order_final` and `S < 15` (diffusers' condition), 1 on the last step and at most 2 on the
/// one before. A last step to `b_s = 0` is first order, `x ← a_s D` (diffusers never steps to
/// `σ = 0` with DEIS; DPM-Solver's multistep scheduler lowers the order there in the same way).
///
/// One score evaluation per step; slots: the position and the `order − 1` previous `ε̂`'s. Only grid
/// points' `a`, `b`, `λ` enter, so it runs on grids and discrete chains. Refuses a start with
/// `a_T = 0` (flow at `T = 1`: `a_s/a_t` is infinite). Parameters: `order ∈ {1, 2, 3}` (default 2,
/// diffusers'), `lower_order_final` (default true).
///
/// ```
/// use gmdiff_solvers::{Schedule, score_evals, slots};
/// use gmdiff_solvers::samplers::Deis;
/// let s = Deis { order: 3, lower_order_final: true };
/// assert_eq!((score_evals(&s, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), slots(&s)), (10, 3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deis {
    /// The order (number of nodes of the interpolant of `ε̂`): 1, 2 or 3.
    pub order: usize,
    /// With fewer than 15 steps, lower the order on the last two steps (to 1 and 2).
    pub lower_order_final: bool,
}

impl Default for Deis {
    /// diffusers' defaults: order 2, `lower_order_final`.
    fn default() -> Self {
        Self { order: 2, lower_order_final: true }
    }
}

impl Deis {
    /// The CLI name.
    pub const NAME: &'static str = "deis";

    /// The order of step `k` of `steps` (diffusers' `DEISMultistepScheduler.step`).
    fn order_at(&self, k: usize, steps: usize) -> usize {
        let lower = self.lower_order_final && steps < 15;
        if self.order == 1 || k == 0 || (lower && k + 1 == steps) {
            1
        } else if self.order == 2 || k == 1 || (lower && k + 2 == steps) {
            2
        } else {
            3
        }
    }
}

impl SamplerInfo for Deis {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A last step to `b = 0` is `X_S = a_S D`, as DPM-Solver's multistep scheduler.
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        check("order", self.order as f64, |p| (1.0..=3.0).contains(&p), "must be 1, 2 or 3")?;
        need_signal(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for Deis {
    fn init(&self, _: &mut A, x: A::Value) -> Vec<A::Value> {
        vec![x; self.order]
    }

    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s) = (&info.from, &info.to);
        let d = alg.denoise(t, &state[0])?;
        let eps = alg.lin(&[(1.0 / t.b, &state[0]), (-t.a / t.b, &d)]);
        let next = if s.b == 0.0 {
            alg.lin(&[(s.a, &d)])
        } else {
            let q = self.order_at(info.index, info.steps);
            let mut nodes = [0.0; 3];
            for (j, tau) in nodes.iter_mut().enumerate().take(q).skip(1) {
                let at =
                    info.earlier(j).ok_or(SolverError::Unsupported { sampler: self.name(), schedule: "a step without its earlier grid points" })?;
                *tau = at.lambda - t.lambda;
            }
            let basis = lagrange_basis(&nodes[..q]);
            let gamma = lower_gammas(s.lambda - t.lambda);
            let scale = -s.a * t.b / t.a;
            let c: Vec<f64> = basis[..q].iter().map(|a| scale * a.iter().zip(&gamma).map(|(a, g)| a * g).sum::<f64>()).collect();
            let mut terms: Vec<(f64, &A::Value)> = vec![(s.a / t.a, &state[0]), (c[0], &eps)];
            terms.extend(c[1..].iter().zip(&state[1..]).map(|(&c, v)| (c, v)));
            alg.lin(&terms)
        };
        state[0] = next;
        if state.len() > 1 {
            state[1..].rotate_right(1);
            state[1] = eps;
        }
        Ok(state)
    }
}

/// `γ(m + 1, h) = ∫₀^h e^{−τ} τ^m dτ` for `m = 0..4`, `h > 0` (see [`Deis`]).
fn lower_gammas(h: f64) -> [f64; 4] {
    let mut out = [0.0; 4];
    if h < 1.0 {
        for (m, o) in out.iter_mut().enumerate() {
            // h^{m+1} Σ_n (−h)^n/(n! (m + n + 1)), 25 terms: h^25/25! < 7e-26.
            let mut term = 1.0;
            let mut sum = 0.0;
            for n in 0..25 {
                sum += term / (m + n + 1) as f64;
                term *= -h / (n + 1) as f64;
            }
            *o = h.powi(m as i32 + 1) * sum;
        }
    } else {
        let tail = (-h).exp();
        let (mut fact, mut partial, mut power) = (1.0, 0.0, 1.0);
        for (m, o) in out.iter_mut().enumerate() {
            if m > 0 {
                fact *= m as f64;
                power *= h / m as f64;
            }
            partial += power;
            *o = fact * (1.0 - tail * partial);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::lower_gammas;

    #[test]
    fn the_incomplete_gammas_agree_with_simpson_on_both_sides_of_the_switch() {
        for &h in &[1e-4, 0.3, 0.9999999, 1.0000001, 2.5, 9.0] {
            let g = lower_gammas(h);
            for (m, &got) in g.iter().enumerate() {
                let f = |x: f64| (-x).exp() * x.powi(m as i32);
                let n = 4000;
                let dx = h / n as f64;
                let mut s = f(0.0) + f(h);
                for i in 1..n {
                    s += if i % 2 == 1 { 4.0 } else { 2.0 } * f(i as f64 * dx);
                }
                let want = s * dx / 3.0;
                assert!((got - want).abs() < 1e-12 * want, "γ({}, {h}) = {got} vs {want}", m + 1);
            }
        }
    }
}
