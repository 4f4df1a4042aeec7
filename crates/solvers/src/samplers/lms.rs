//! Linear multistep in σ (k-diffusion's `sample_lms`).

use super::need_signal;
use crate::algebra::Algebra;
use crate::error::{SolverError, check};
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};

/// The linear multistep method in `σ = b/a` of k-diffusion (`sample_lms`, Crowson,
/// `k_diffusion/sampling.py`; the Adams–Bashforth family on the EDM ODE `dx̃/dσ = d`, Karras et al.
/// 2022, eq. 4 with `x̃ = x/a`).
///
/// With `d_k = ε̂ = (x_k − a_k D_k)/b_k` (k-diffusion's `to_d`: `(x̃ − D)/σ`), the order
/// `q = min(k + 1, order)` of step `k` (the warm-up of `cur_order`) and the Lagrange basis
/// `ℓ_j` of the nodes `σ_{k−j}`, `j = 0..q`:
///
/// `x̃_{k+1} = x̃_k + Σ_j c_j d_{k−j}`, `c_j = ∫_{σ_k}^{σ_{k+1}} ℓ_j(σ) dσ`,
///
/// i.e. `x_s = (a_s/a_t) x + a_s Σ_j c_j d_{k−j}`. k-diffusion integrates `c_j` with `scipy.integrate.quad`;
/// here exactly: in `w = (σ − σ_k)/(σ_{k+1} − σ_k)` (nodes `w_j = expm1(λ_k − λ_{k−j})/expm1(λ_k − λ_{k+1})`,
/// through `λ` so nothing overflows), `c_j = (σ_{k+1} − σ_k) Σ_m A_{jm}/(m + 1)` with `ℓ_j(w) = Σ_m A_{jm} w^m`.
/// A last step to `σ = 0` is the same formula (as in k-diffusion: the polynomial is integrated down to 0).
///
/// One score evaluation per step; slots: the position and the `order − 1` previous `d`'s. Only grid
/// points' `a`, `b`, `λ` enter, so it runs on grids and discrete chains. Refuses a start with
/// `a_T = 0` (flow at `T = 1`, `σ_T = ∞`). `order ∈ {1, 2, 3, 4}` (default 4, k-diffusion's; at most 4
/// because [`StepInfo`] holds three earlier grid points); order 1 is Euler in `σ` (DDIM).
///
/// ```
/// use gmdiff_solvers::{Schedule, score_evals, slots};
/// use gmdiff_solvers::samplers::Lms;
/// assert_eq!(score_evals(&Lms::default(), &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), 10);
/// assert_eq!(slots(&Lms::default()), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lms {
    /// The order (number of nodes of the interpolant): 1 to 4.
    pub order: usize,
}

impl Default for Lms {
    /// k-diffusion's default, order 4.
    fn default() -> Self {
        Self { order: 4 }
    }
}

impl Lms {
    /// The CLI name.
    pub const NAME: &'static str = "lms";
}

impl SamplerInfo for Lms {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A step to `σ = 0` integrates the Lagrange polynomial of `d`, which is constant along a null direction when the score is exact there (`Landing::Integration`).
    fn landing(&self) -> crate::Landing {
        crate::Landing::Integration
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        check("order", self.order as f64, |p| (1.0..=4.0).contains(&p), "must be 1, 2, 3 or 4")?;
        need_signal(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for Lms {
    fn init(&self, _: &mut A, x: A::Value) -> Vec<A::Value> {
        vec![x; self.order]
    }

    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s) = (&info.from, &info.to);
        let q = self.order.min(info.index + 1);
        let d = alg.denoise(t, &state[0])?;
        let eps = alg.lin(&[(1.0 / t.b, &state[0]), (-t.a / t.b, &d)]);
        // (σ_s − σ_t)/σ_t, −1 on a last step to σ_s = 0.
        let em = (t.lambda - s.lambda).exp_m1();
        let mut nodes = [0.0; 4];
        for (j, w) in nodes.iter_mut().enumerate().take(q).skip(1) {
            let at = info.earlier(j).ok_or(SolverError::Unsupported { sampler: self.name(), schedule: "a step without its earlier grid points" })?;
            *w = (t.lambda - at.lambda).exp_m1() / em;
        }
        let basis = lagrange_basis(&nodes[..q]);
        // a_s (σ_s − σ_t) = (a_s b_t/a_t) (σ_s − σ_t)/σ_t.
        let scale = s.a * t.b / t.a * em;
        let c: Vec<f64> = basis[..q].iter().map(|a| scale * a.iter().enumerate().map(|(m, a)| a / (m + 1) as f64).sum::<f64>()).collect();
        let mut terms: Vec<(f64, &A::Value)> = vec![(s.a / t.a, &state[0]), (c[0], &eps)];
        terms.extend(c[1..].iter().zip(&state[1..]).map(|(&c, v)| (c, v)));
        let next = alg.lin(&terms);
        state[0] = next;
        if state.len() > 1 {
            state[1..].rotate_right(1);
            state[1] = eps;
        }
        Ok(state)
    }
}

/// The monomial coefficients of the Lagrange basis of `nodes` (at most 4, distinct):
/// `ℓ_j(w) = Π_{i≠j} (w − w_i)/(w_j − w_i) = Σ_m out[j][m] w^m` (rows beyond `nodes.len()` are 0).
/// Shared by [`Lms`] (integrated over `[0, 1]`) and [`crate::samplers::Deis`] (against `e^{−τ}`).
pub(crate) fn lagrange_basis(nodes: &[f64]) -> [[f64; 4]; 4] {
    let mut out = [[0.0; 4]; 4];
    for (j, row) in out.iter_mut().enumerate().take(nodes.len()) {
        row[0] = 1.0;
        let mut degree = 0;
        for (i, &wi) in nodes.iter().enumerate() {
            if i == j {
                continue;
            }
            // row ← row · (w − w_i)/(w_j − w_i), highest power first so row[m − 1] is still old.
            let scale = 1.0 / (nodes[j] - wi);
            for m in (0..=degree + 1).rev() {
                let shifted = if m > 0 { row[m - 1] } else { 0.0 };
                row[m] = (shifted - wi * row[m]) * scale;
            }
            degree += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::lagrange_basis;

    #[test]
    fn the_lagrange_basis_is_one_at_its_node_and_zero_at_the_others() {
        let nodes = [0.0, -0.4, -1.1, -2.5];
        for n in 1..=4 {
            let b = lagrange_basis(&nodes[..n]);
            for (j, row) in b.iter().enumerate().take(n) {
                for (i, &w) in nodes[..n].iter().enumerate() {
                    let v: f64 = row.iter().enumerate().map(|(m, c)| c * w.powi(m as i32)).sum();
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!((v - want).abs() < 1e-13, "n {n} ℓ_{j}(w_{i}) = {v}");
                }
            }
            assert!(b[n..].iter().all(|r| r.iter().all(|&c| c == 0.0)));
        }
    }
}
