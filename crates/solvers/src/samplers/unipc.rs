//! UniPC: the unified predictor–corrector of Zhao et al. (2023), in data prediction.

use super::need_signal;
use crate::algebra::Algebra;
use crate::error::{SolverError, check};
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};
use gmdiff_process::Coefficients;

/// The choice of `B(h)` in UniPC (Zhao et al. 2023, §3.3), with `z = −h` in data prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UniPcVariant {
    /// `B(h) = z = −h` (diffusers `solver_type = "bh1"`).
    Bh1,
    /// `B(h) = e^z − 1 = e^{−h} − 1` (diffusers `solver_type = "bh2"`, its default).
    #[default]
    Bh2,
}

impl UniPcVariant {
    /// The names (`bh1`, `bh2`), as the CLI and diffusers spell them.
    pub const NAMES: [&'static str; 2] = ["bh1", "bh2"];

    /// The name (`bh1` or `bh2`).
    pub fn name(self) -> &'static str {
        match self {
            UniPcVariant::Bh1 => "bh1",
            UniPcVariant::Bh2 => "bh2",
        }
    }

    /// The variant of a name (`bh1` or `bh2`), `None` otherwise.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "bh1" => Some(UniPcVariant::Bh1),
            "bh2" => Some(UniPcVariant::Bh2),
            _ => None,
        }
    }
}

/// UniPC (Zhao, Bai, Rao, Zhou & Lu, *UniPC: A Unified Predictor-Corrector Framework for Fast
/// Sampling of Diffusion Models*, NeurIPS 2023): the multistep predictor UniP-p and the corrector
/// UniC-p in data prediction (`D = x̂₀`, diffusers' `predict_x0 = True`), B(h) variants `bh1`/`bh2`.
///
/// **One update** from grid point `t` (position `x`, `m₀ = D(t, x)`) to `s`, with `h = λ_s − λ_t`,
/// `z = −h`, `B = z` (bh1) or `e^z − 1` (bh2), the earlier data predictions `D_m` at the grid points
/// `t_{k−m}` and `r_m = (λ_{t_{k−m}} − λ_t)/h < 0`:
///
/// `x ← (b_s/b_t) x + a_s (1 − e^z) m₀ − a_s B Σ_m ρ_m (D_m − m₀)/r_m`,
///
/// where `ρ` solves `Σ_m ρ_m r_m^{i−1} = i! z φ_{i+1}(z)/B` for `i = 1..n` (`φ_k` the exponential
/// φ-functions, `φ_{k+1}(z) = (φ_k(z) − 1/k!)/z`, `φ_0 = e^z`), `n` the number of `ρ`'s. The predictor
/// UniP-p uses the `n = p − 1` earlier points; the corrector UniC-p adds the node `r = 1` carrying the
/// data prediction at `s` (so `n = p`). As in diffusers (`multistep_uni_p_bh_update`,
/// `multistep_uni_c_bh_update`) and the authors' `uni_pc.py`, a single `ρ` (UniP-2, UniC-1) is `1/2`
/// instead of the solved value (`φ₂/φ₁` for bh2, `φ₂` for bh1; `1/2 + O(h)`).
///
/// **A step** `k` (from `t_k` to `t_{k+1}`, `S` steps) evaluates `D_k = D(t_k, x_k)` once at the
/// predicted `x_k`, then (corrector on, `k ≥ 1`) corrects `x_k` by UniC of the previous step's
/// order from the previous corrected position `x_{k−1}^c` with `D_{k−1}, D_{k−2}, …` and the new
/// `D_k` (evaluated at the uncorrected `x_k`, so UniC costs no evaluation), then predicts `x_{k+1}`
/// from `x_k^c` by UniP of order `p_k = min(order, k + 1, S − k)` (`S − k` only with
/// `lower_order_final`; `k + 1` is the warm-up). This is diffusers' `UniPCMultistepScheduler.step`.
/// **The last step** is the predictor only: its output `x_S` is never corrected (that would need
/// `D(x_S)`, a further evaluation; diffusers and the authors' code do the same). A last step to
/// `b_s = 0` is `x ← a_s D_{S−1}` (the `h → ∞` limit of UniP-1, i.e. order 1 whatever the order:
/// UniP-p, `p ≥ 2`, divides by `r_m → 0` there, and bh1's `B = −∞`).
///
/// One score evaluation per step. Slots: the position, the `order − 1` previous data predictions
/// and (corrector on) the part of the next correction known at the end of a step: UniC from `t_k`
/// to `t_{k+1}` is `x_{k+1}^c = P_{k+1} + c D_{k+1}` with `P_{k+1}` a combination of `x_k^c`, `D_k`,
/// `D_{k−1}`, … that the step stores (one slot instead of `x_k^c` and one more prediction, as the
/// exact-law engine's cost grows with the number of slots). Only grid points' `a`, `b`, `λ` enter,
/// so it runs on grids and discrete chains. Refuses a start with `a_T = 0` (flow at `T = 1`:
/// `λ_T = −∞`, so `r_m` and bh1's `B` are infinite).
///
/// Parameters: `variant` (`bh1`/`bh2`, default bh2), `order ∈ {1, 2, 3}` (default 2), `use_corrector`
/// (default true; the accuracy order is `order + 1` with it), `lower_order_final` (default true).
///
/// ```
/// use gmdiff_solvers::{Schedule, score_evals, slots};
/// use gmdiff_solvers::samplers::{UniPc, UniPcVariant};
/// let s = UniPc { variant: UniPcVariant::Bh1, order: 3, use_corrector: true, lower_order_final: false };
/// let sched = Schedule::uniform_vp(10, 1e-3).unwrap();
/// assert_eq!((score_evals(&s, &sched).unwrap(), slots(&s)), (10, 4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UniPc {
    /// `B(h)`: bh1 (`B = −h`) or bh2 (`B = e^{−h} − 1`).
    pub variant: UniPcVariant,
    /// The order `p` of UniP (1, 2 or 3); UniC-p raises the accuracy to `p + 1`.
    pub order: usize,
    /// Whether UniC corrects each position with the next step's evaluation.
    pub use_corrector: bool,
    /// Whether the last steps lower the order to the steps left (`p_k ≤ S − k`).
    pub lower_order_final: bool,
}

impl Default for UniPc {
    /// diffusers' defaults: bh2, order 2, corrector on, `lower_order_final`.
    fn default() -> Self {
        Self { variant: UniPcVariant::Bh2, order: 2, use_corrector: true, lower_order_final: true }
    }
}

impl UniPc {
    /// The CLI name.
    pub const NAME: &'static str = "unipc";

    /// The predictor order of step `k` of `steps`: `min(order, k + 1, steps − k)` (the last term only
    /// with `lower_order_final`).
    fn order_at(&self, k: usize, steps: usize) -> usize {
        let p = self.order.min(k + 1);
        if self.lower_order_final { p.min(steps - k) } else { p }
    }

    /// The index of the first stored data prediction: after the position and, with the corrector,
    /// the stored part of the next correction.
    fn first_history(&self) -> usize {
        1 + usize::from(self.use_corrector)
    }
}

/// The `λ`'s of the `count` grid points before `t_{k−offset}`: `λ(t_{k−offset−m})`, `m = 1..=count`.
fn earlier_lambdas(info: &StepInfo, offset: usize, count: usize, sampler: &'static str) -> Result<Vec<f64>, SolverError> {
    (1..=count)
        .map(|m| {
            info.earlier(offset + m)
                .map(|c| c.lambda)
                .ok_or(SolverError::Unsupported { sampler, schedule: "a step without its earlier grid points" })
        })
        .collect()
}

impl SamplerInfo for UniPc {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A last step to `b = 0` is the predictor `X_S = a_S D` whatever the order (no corrector on the last step).
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        check("order", self.order as f64, |p| (1.0..=3.0).contains(&p), "must be 1, 2 or 3")?;
        need_signal(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for UniPc {
    fn init(&self, _: &mut A, x: A::Value) -> Vec<A::Value> {
        vec![x; self.first_history() + self.order - 1]
    }

    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (k, t, s) = (info.index, &info.from, &info.to);
        let first = self.first_history();
        let d = alg.denoise(t, &state[0])?;
        // x_k^c = P_k + c D_k: UniC of the previous step's order from t_{k−1} to t_k (its known part
        // P_k stored in slot 1 by the previous step), with D_k evaluated at the predicted x_k.
        let corrected = match info.earlier(1) {
            Some(prev) if self.use_corrector && k > 0 => {
                let q = self.order_at(k - 1, info.steps);
                let u = Update::new(self.variant, prev, t, &earlier_lambdas(info, 1, q - 1, self.name())?, true);
                Some(alg.lin(&[(1.0, &state[1]), (u.c_new, &d)]))
            }
            _ => None,
        };
        let x = corrected.as_ref().unwrap_or(&state[0]);
        let p = self.order_at(k, info.steps);
        // UniP (and, for the next step, the known part of UniC) from t_k on x_k^c, D_k and the
        // stored D_{k−1}, …, D_{k−p+1}.
        let apply = |alg: &mut A, u: &Update| {
            let mut terms: Vec<(f64, &A::Value)> = vec![(u.c_x, x), (u.c_m0, &d)];
            terms.extend(u.c_earlier.iter().zip(&state[first..]).map(|(&c, v)| (c, v)));
            alg.lin(&terms)
        };
        let lambdas = earlier_lambdas(info, 0, p - 1, self.name())?;
        let next = if s.b == 0.0 { alg.lin(&[(s.a, &d)]) } else { apply(alg, &Update::new(self.variant, t, s, &lambdas, false)) };
        let partial = (self.use_corrector && k + 1 < info.steps).then(|| apply(alg, &Update::new(self.variant, t, s, &lambdas, true)));
        let previous = std::mem::replace(&mut state[0], next);
        if self.use_corrector {
            // The stored part of the next correction (the corrected position after the last step).
            state[1] = partial.or(corrected).unwrap_or(previous);
        }
        if state.len() > first {
            state[first..].rotate_right(1);
            state[first] = d;
        }
        Ok(state)
    }
}

/// The coefficients of one UniP (`corrector = false`) or UniC update from `t` to `s` (see [`UniPc`]):
/// `x_new = c_x x + c_m0 m₀ + Σ_m c_earlier[m] D_m + c_new D(s)` (`c_new = 0` for UniP).
struct Update {
    c_x: f64,
    c_m0: f64,
    c_earlier: Vec<f64>,
    c_new: f64,
}

impl Update {
    /// `earlier` holds `λ(t_{k−m})`, `m = 1, 2, …`, of the earlier points.
    fn new(variant: UniPcVariant, t: &Coefficients, s: &Coefficients, earlier: &[f64], corrector: bool) -> Self {
        let h = s.lambda - t.lambda;
        let z = -h;
        let mut nodes: Vec<f64> = earlier.iter().map(|l| (l - t.lambda) / h).collect();
        if corrector {
            nodes.push(1.0);
        }
        let rho = rhos(variant, z, &nodes);
        let big_b = match variant {
            UniPcVariant::Bh1 => z,
            UniPcVariant::Bh2 => z.exp_m1(),
        };
        let scale = s.a * big_b;
        // x ← (b_s/b_t) x + a_s (1 − e^z) m₀ − a_s B Σ ρ_m (D_m − m₀)/r_m.
        let weights: Vec<f64> = nodes.iter().zip(&rho).map(|(&r, &rho)| scale * rho / r).collect();
        let c_m0 = -s.a * z.exp_m1() + weights.iter().sum::<f64>();
        let c_new = if corrector { -weights[weights.len() - 1] } else { 0.0 };
        let c_earlier = weights[..earlier.len()].iter().map(|w| -w).collect();
        Self { c_x: s.b / t.b, c_m0, c_earlier, c_new }
    }
}

/// The `ρ`'s of one update on the nodes `r` (`n = r.len() ≤ 3`): `1/2` when `n = 1` (diffusers and
/// the authors' simplification), else the solution of `Σ_m ρ_m r_m^{i−1} = i! z φ_{i+1}(z)/B(z)`,
/// `i = 1..n`. With `B = z φ₁(z)` (bh2) or `z` (bh1), the right side is `i! φ_{i+1}/φ₁` or `i! φ_{i+1}`.
fn rhos(variant: UniPcVariant, z: f64, nodes: &[f64]) -> Vec<f64> {
    let n = nodes.len();
    match n {
        0 => Vec::new(),
        1 => vec![0.5],
        _ => {
            let phi = phis(z);
            let norm = match variant {
                UniPcVariant::Bh1 => 1.0,
                UniPcVariant::Bh2 => phi[1],
            };
            let mut fact = 1.0;
            let mut rhs = [0.0; 3];
            let mut m = [[0.0; 3]; 3];
            for i in 0..n {
                fact *= (i + 1) as f64;
                rhs[i] = fact * phi[i + 2] / norm;
                for (j, &r) in nodes.iter().enumerate() {
                    m[i][j] = r.powi(i as i32);
                }
            }
            solve(m, rhs, n)[..n].to_vec()
        }
    }
}

/// `φ_0(z), …, φ_4(z)`, `φ_k(z) = Σ_{j ≥ 0} z^j/(j + k)!` (`φ_0 = e^z`, `φ_{k+1} = (φ_k − 1/k!)/z`):
/// the Taylor series for `|z| < 1` (where the recursion cancels), the recursion otherwise (where it
/// does not amplify errors, `1/|z| ≤ 1`).
pub(crate) fn phis(z: f64) -> [f64; 5] {
    let mut out = [0.0; 5];
    if z.abs() < 1.0 {
        for (k, o) in out.iter_mut().enumerate() {
            // Σ_j z^j/(j + k)!, 24 terms: |z|^24/24! < 2e-24.
            let mut term = 1.0 / (1..=k).map(|i| i as f64).product::<f64>();
            let mut sum = 0.0;
            for j in 0..24 {
                sum += term;
                term *= z / (j + k + 1) as f64;
            }
            *o = sum;
        }
    } else {
        out[0] = z.exp();
        let mut inv_fact = 1.0;
        for k in 0..4 {
            out[k + 1] = (out[k] - inv_fact) / z;
            inv_fact /= (k + 1) as f64;
        }
    }
    out
}

/// Solves the `n × n` (`n ≤ 3`) system `m ρ = rhs` by Gaussian elimination with partial pivoting.
fn solve(mut m: [[f64; 3]; 3], mut rhs: [f64; 3], n: usize) -> [f64; 3] {
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs())).unwrap_or(col);
        m.swap(col, pivot);
        rhs.swap(col, pivot);
        let pivot_row = m[col];
        for row in col + 1..n {
            let f = m[row][col] / pivot_row[col];
            for (v, p) in m[row][col..n].iter_mut().zip(&pivot_row[col..n]) {
                *v -= f * p;
            }
            rhs[row] -= f * rhs[col];
        }
    }
    let mut out = [0.0; 3];
    for row in (0..n).rev() {
        let tail: f64 = (row + 1..n).map(|c| m[row][c] * out[c]).sum();
        out[row] = (rhs[row] - tail) / m[row][row];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_functions_agree_across_the_switch_and_with_their_integrals() {
        // φ_k(z) = ∫₀¹ e^{(1−θ)z} θ^{k−1}/(k−1)! dθ by composite Simpson (20000 panels, error
        // < 1e-13), on both sides of the series/recursion switch |z| = 1.
        for &z in &[-7.0, -1.0000001, -0.9999999, -0.3, -1e-3, 1e-6, 0.5, 2.0] {
            let phi = phis(z);
            assert!((phi[0] - f64::exp(z)).abs() < 1e-15 * phi[0]);
            for (k, &got) in phi.iter().enumerate().skip(1) {
                let f = |th: f64| ((1.0 - th) * z).exp() * th.powi(k as i32 - 1) / (1..k).map(|i| i as f64).product::<f64>();
                let n = 20000;
                let hh = 1.0 / n as f64;
                let mut s = f(0.0) + f(1.0);
                for i in 1..n {
                    s += if i % 2 == 1 { 4.0 } else { 2.0 } * f(i as f64 * hh);
                }
                let want = s * hh / 3.0;
                assert!((got - want).abs() < 1e-12 * want.abs(), "φ_{k}({z}) = {got} vs {want}");
            }
        }
    }

    #[test]
    fn the_solve_inverts_a_vandermonde_system() {
        let nodes = [-0.7, -1.9, 1.0];
        let want = [0.3, -1.2, 2.5];
        let mut m = [[0.0; 3]; 3];
        let mut rhs = [0.0; 3];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] = f64::powi(nodes[j], i as i32);
                rhs[i] += m[i][j] * want[j];
            }
        }
        let got = solve(m, rhs, 3);
        for j in 0..3 {
            assert!((got[j] - want[j]).abs() < 1e-14, "{got:?}");
        }
    }
}
