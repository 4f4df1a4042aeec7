//! DPM-Solver++(3M), and the multistep data-prediction update shared by the DPM-Solver++ family
//! (`dpmpp2m`, `dpmpp3m`, `dpmpp2m-sde`, `dpmpp3m-sde`).

use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::StepInfo;

/// DPM-Solver++(3M) as diffusers and DPM-Solver's code ship it: the multistep solver in data
/// prediction with `λ = log(a/b)` and a third-order *form*, which is second order (below).
///
/// With the data predictions `D₀ = x̂₀(t_k, X)`, `D₁`, `D₂` at the two earlier grid points,
/// `h = λ_s − λ_t`, `h₀ = λ_t − λ_{t_{k−1}}`, `h₁ = λ_{t_{k−1}} − λ_{t_{k−2}}`, `r₀ = h₀/h`, `r₁ = h₁/h`:
///
/// * order 1: `X ← (b_s/b_t) X + a_s (1 − e^{−h}) D₀` (DDIM);
/// * order 2 (midpoint form, diffusers' default `solver_type`):
///   `X ← (b_s/b_t) X + a_s (1 − e^{−h}) (D₀ + (D₀ − D₁)/(2 r₀))`;
/// * order 3: with `d₁₀ = (D₀ − D₁)/r₀`, `d₁₁ = (D₁ − D₂)/r₁`, `Δ₁ = d₁₀ + r₀/(r₀ + r₁) (d₁₀ − d₁₁)`,
///   `Δ₂ = (d₁₀ − d₁₁)/(r₀ + r₁)`, `φ₂(h) = (e^{−h} − 1 + h)/h`, `φ₃(h) = φ₂(h)/h − ½`:
///   `X ← (b_s/b_t) X + a_s ((1 − e^{−h}) D₀ + φ₂(h) Δ₁ − φ₃(h) Δ₂)`.
///
/// The order of step `k` (of `S`) is `min(k + 1, 3)` (lower orders while the history fills), then:
/// with `lower_order_final` on a schedule of fewer than 15 steps, first order on the last step and at
/// most second order on the one before (diffusers' `lower_order_final and len(timesteps) < 15`, so
/// the option never costs the asymptotic order); and a last step to `b_s = 0` is always first order,
/// `X ← a_s D₀` (diffusers' `final_sigmas_type = "zero"`, k-diffusion's rule for σ = 0).
///
/// **Order.** `Δ₂ = h² D''/2 + O(h³)` (`D'' = d²x̂₀/dλ²`) while the exact integral needs
/// `−φ₃(h) h² D''`: the `D''` term is halved, the local error is `O(h³)` and the scheme is second
/// order (as `h → 0` it is `h (11 D₀ − 7 D₁ + 2 D₂)/6`, not Adams–Bashforth's
/// `h (23 D₀ − 16 D₁ + 5 D₂)/12`, which `2 Δ₂` would give). Measured on exact laws: slope 1.91 of the
/// error against steps on EDM's Karras grid (100–400 steps), 2.98 with `2 Δ₂`
/// (`tests/dpmpp_samplers.rs`). gmdiff keeps the shipped coefficient: this sampler is the one the
/// field runs.
///
/// **Default** `lower_order_final = true`: on the CIFAR-10 and ADSN spectra (exact W2, 5–50 steps,
/// `docs/solvers.md`) the third-order extrapolation over the long last step of a grid that stops at
/// `ε > 0` makes the plain scheme worse than DDIM at few steps (VP uniform, 10 steps, CIFAR-10: W2
/// 7.51 against DDIM's 5.10; with the flag 2.74); the flag costs up to a factor 1.7 on Karras grids at
/// 10–20 steps (2.1 on ADSN at 30 steps with a last step to σ = 0), where the errors are small.
///
/// Source: Lu et al., *DPM-Solver++* (2022, arXiv 2211.01095) and the multistep third-order update of
/// DPM-Solver's code (LuChengTHU/dpm-solver, `multistep_dpm_solver_third_update`), as diffusers'
/// `DPMSolverMultistepScheduler` (`solver_order = 3`, `algorithm_type = "dpmsolver++"`,
/// `multistep_dpm_solver_third_order_update`) writes it; our `(a, b)` are its `(α, σ)` on any path.
/// `φ₂`, `φ₃` are computed without cancellation (series for `h < 1`). One score evaluation per step;
/// three slots (the position and the two previous data predictions). Runs on grids and chains; finite
/// where `a_t = 0` (flow matching's start: `e^{−h} = 0` and the terms of an infinite `h₀` vanish).
///
/// ```
/// use gmdiff_solvers::{DpmSolver3M, Schedule, score_evals, slots};
/// let s = DpmSolver3M::default();
/// assert!(s.lower_order_final);
/// assert_eq!((score_evals(&s, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), slots(&s)), (10, 3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DpmSolver3M {
    /// First order on the last step and at most second order on the one before (default `true`).
    pub lower_order_final: bool,
}

impl Default for DpmSolver3M {
    fn default() -> Self {
        Self { lower_order_final: true }
    }
}

impl DpmSolver3M {
    /// The CLI name.
    pub const NAME: &'static str = "dpmpp3m";
}

impl SamplerInfo for DpmSolver3M {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A last step to `b = 0` is always first order: `X_S = a_S D`.
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for DpmSolver3M {
    fn init(&self, _: &mut A, x: A::Value) -> Vec<A::Value> {
        vec![x.clone(), x.clone(), x]
    }
    fn step(&self, alg: &mut A, info: &StepInfo, state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let order = multistep_order(info, 3, self.lower_order_final);
        multistep_step(alg, info, order, DpmSolverType::Midpoint, (0.0, 0.0), state)
    }
}

/// The order of a multistep step: `min(k + 1, max_order)`; with `lower_order_final` on a schedule of
/// fewer than 15 steps, 1 on the last step and at most 2 on the one before (diffusers'
/// `DPMSolverMultistepScheduler`: `lower_order_final and len(timesteps) < 15`; longer schedules
/// keep their order to the end, so the option never costs the asymptotic order).
pub(crate) fn multistep_order(info: &StepInfo, max_order: usize, lower_order_final: bool) -> usize {
    let mut order = max_order.min(info.index + 1);
    if lower_order_final && info.steps < 15 {
        let left = info.steps - info.index;
        if left == 1 {
            order = 1;
        } else if left == 2 {
            order = order.min(2);
        }
    }
    order
}

/// The form of the second-order multistep correction (diffusers' and k-diffusion's
/// `solver_type`).
///
/// With `D₁ = (D₀ − D_prev)/r`, `r = h_prev/h`, and `ĥ` the step's exponent:
/// `Midpoint` adds `½ (1 − e^{−ĥ}) D₁`, `Heun` adds `φ₂(ĥ) D₁`, `φ₂(ĥ) = (e^{−ĥ} − 1 + ĥ)/ĥ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpmSolverType {
    /// `½ (1 − e^{−ĥ}) D₁` (the default of k-diffusion and diffusers).
    #[default]
    Midpoint,
    /// `φ₂(ĥ) D₁`.
    Heun,
}

impl DpmSolverType {
    /// The names `midpoint` and `heun`, in the order of the variants.
    pub const NAMES: [&'static str; 2] = ["midpoint", "heun"];

    /// The variant of a name (`midpoint`, `heun`), as k-diffusion and diffusers spell them.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "midpoint" => Some(Self::Midpoint),
            "heun" => Some(Self::Heun),
            _ => None,
        }
    }
}

/// `φ₂(h) = (e^{−h} − 1 + h)/h` and `φ₃(h) = φ₂(h)/h − ½ = (e^{−h} − 1 + h − h²/2)/h²` (the
/// k-diffusion convention: `φ₂ = expm1(−h)/h + 1`, `φ₃ = φ₂/h − ½`), accurate to a few ulps for
/// every `h ≥ 0`. For `h < 1`, where the closed forms cancel, the Taylor series
/// `φ₃ = Σ_{n≥3} (−h)^{n−2}/n!` and `φ₂ = h (½ + φ₃)`; else the closed forms (`φ₂(∞) = 1`,
/// `φ₃(∞) = −½`).
pub(crate) fn phi23(h: f64) -> (f64, f64) {
    if h < 1.0 {
        // u_n = (−h)^{n−2}/n!, n ≥ 3; the terms fall by h/(n + 1) < 1/4 each.
        let (mut p3, mut u) = (0.0, -h / 6.0);
        for n in 3..30 {
            p3 += u;
            u *= -h / (n + 1) as f64;
            if u.abs() <= 1e-17 * p3.abs() {
                break;
            }
        }
        (h * (0.5 + p3), p3)
    } else {
        let p2 = (-h).exp_m1() / h + 1.0;
        (p2, p2 / h - 0.5)
    }
}

/// The weights `(w₀, w₁, w₂)` of the multistep data-prediction update
/// `x̃_s = e^{−ηh} (σ_s/σ_t) x̃_t + w₀ D₀ + w₁ D₁ + w₂ D₂` (`D₁`, `D₂` the data predictions at
/// `t_{k−1}`, `t_{k−2}`), for `order` 1–3, with the exponent `ĥ = (1 + η) h` (`h = λ_s − λ_t`; `η = 0`
/// for the ODE) and the earlier log-SNR steps `h₀ = λ_t − λ_{k−1}`, `h₁ = λ_{k−1} − λ_{k−2}`:
///
/// * order 1: `w₀ = 1 − e^{−ĥ}`;
/// * order 2: plus `q (D₀ − D₁)`, `q = c h/h₀` with `c = ½ (1 − e^{−ĥ})` (midpoint) or `φ₂(ĥ)` (heun);
/// * order 3: plus `φ₂(ĥ) d₁₀ + (φ₂(ĥ) ρ − φ₃(ĥ) γ) (d₁₀ − d₁₁)`, `d₁₀ = (h/h₀)(D₀ − D₁)`,
///   `d₁₁ = (h/h₁)(D₁ − D₂)`, `ρ = h₀/(h₀ + h₁)`, `γ = h/(h₀ + h₁)` (the `r₀/(r₀ + r₁)` and
///   `1/(r₀ + r₁)` of diffusers).
///
/// `1/r` is formed as `h/h_j`, so an infinite earlier step (a start at `a = 0`) contributes 0, not NaN.
pub(crate) fn multistep_weights(order: usize, form: DpmSolverType, h_hat: f64, h: f64, h0: f64, h1: f64) -> [f64; 3] {
    let w0 = -(-h_hat).exp_m1();
    match order {
        0 | 1 => [w0, 0.0, 0.0],
        2 => {
            let c = match form {
                DpmSolverType::Midpoint => 0.5 * w0,
                DpmSolverType::Heun => phi23(h_hat).0,
            };
            let q = c * (h / h0);
            [w0 + q, -q, 0.0]
        }
        _ => {
            let (p2, p3) = phi23(h_hat);
            let (alpha, beta) = (h / h0, h / h1);
            let (rho, gamma) = (h0 / (h0 + h1), h / (h0 + h1));
            let k = p2 * rho - p3 * gamma;
            [w0 + (p2 + k) * alpha, -(p2 * alpha) - k * (alpha + beta), k * beta]
        }
    }
}

/// The log-SNR steps `(h₀, h₁)` before step `k`: `λ_t − λ_{k−1}` and `λ_{k−1} − λ_{k−2}` (NaN where
/// the history does not reach; only used at the orders the history allows).
pub(crate) fn history_steps(info: &StepInfo) -> (f64, f64) {
    let l = |j: usize| info.earlier(j).map_or(f64::NAN, |c| c.lambda);
    (info.from.lambda - l(1), l(1) - l(2))
}

/// One multistep DPM-Solver++ step of `order` (ODE at `η = 0`, k-diffusion's SDE form at `η > 0`) on
/// the state `[X, D₁, D₂]` (slots beyond the position hold the earlier data predictions):
/// `X ← (b_s/b_t) e^{−ηh} X + a_s Σ_j w_j D_j + s_noise b_s sqrt(1 − e^{−2ηh}) ξ` with the weights of
/// [`multistep_weights`] at `ĥ = (1 + η) h` (`1 − e^{−x}` as `−expm1(−x)`), and `X ← a_s D₀` on a
/// step to `b_s = 0` (no noise). On `x̃ = x/a` this is k-diffusion's
/// `x̃_s = (σ_s/σ_t) e^{−ηh} x̃_t + Σ_j w_j D_j + s_noise σ_s sqrt(1 − e^{−2ηh}) ξ`. `ξ` is drawn
/// (after the score evaluation) only when its coefficient is non-zero. Evaluates `D₀` (one score
/// evaluation) and shifts the history. Shared by [`crate::DpmSolver2M`], [`DpmSolver3M`],
/// [`crate::DpmSolver2MSde`] and [`crate::DpmSolver3MSde`].
pub(crate) fn multistep_step<A: Algebra + ?Sized>(
    alg: &mut A,
    info: &StepInfo,
    order: usize,
    form: DpmSolverType,
    (eta, s_noise): (f64, f64),
    mut state: Vec<A::Value>,
) -> Result<Vec<A::Value>, SolverError> {
    let (t, s) = (&info.from, &info.to);
    let d = alg.denoise(t, &state[0])?;
    let new_x = if s.b == 0.0 {
        alg.lin(&[(s.a, &d)])
    } else {
        let h = s.lambda - t.lambda;
        // η h, written so that η = 0 with an infinite h (a start at a = 0) gives 0, not NaN.
        let eta_h = if eta == 0.0 { 0.0 } else { eta * h };
        let (h0, h1) = history_steps(info);
        let w = multistep_weights(order, form, h + eta_h, h, h0, h1);
        let c_x = (s.b / t.b) * (-eta_h).exp();
        let noise = s_noise * s.b * (-(-2.0 * eta_h).exp_m1()).sqrt();
        let xi = if noise > 0.0 { Some(alg.noise()) } else { None };
        let mut terms: Vec<(f64, &A::Value)> = vec![(c_x, &state[0]), (s.a * w[0], &d)];
        for (j, wj) in w.iter().enumerate().take(order.min(3)).skip(1) {
            terms.push((s.a * wj, &state[j]));
        }
        if let Some(xi) = xi.as_ref() {
            terms.push((noise, xi));
        }
        alg.lin(&terms)
    };
    shift_history(&mut state, d);
    state[0] = new_x;
    Ok(state)
}

/// Moves the data predictions one slot down (`D₂ ← D₁`, `D₁ ← d`); slot 0 is left to the caller.
pub(crate) fn shift_history<V>(state: &mut [V], d: V) {
    let n = state.len();
    if n > 1 {
        state[1..].rotate_right(1);
        state[1] = d;
    }
}

#[cfg(test)]
mod tests {
    use super::phi23;

    /// `φ₂`, `φ₃` against 60-digit values from Python's `decimal`
    /// (`p2 = (exp(-h) - 1 + h)/h`, `p3 = p2/h - 0.5`, `getcontext().prec = 60`), rounded to f64
    /// (`repr(float(·))`),
    /// on both sides of the switch at `h = 1` and where the closed forms cancel.
    #[test]
    fn phi_functions_are_accurate_to_a_few_ulps() {
        let reference = [
            (1e-8, 4.999999983333333e-09, -1.6666666625e-09),
            (1e-4, 4.999833337499917e-05, -1.6666250008333195e-05),
            (0.01, 0.004983374916805358, -0.0016625083194642609),
            (0.3, 0.1360607356057262, -0.046464214647579265),
            (0.99, 0.36522898083034916, -0.13108183754510183),
            (1.0, 0.36787944117144233, -0.13212055882855767),
            (2.5, 0.6328339994495595, -0.2468664002201762),
            (40.0, 0.975, -0.475625),
        ];
        for (h, p2, p3) in reference {
            let (g2, g3) = phi23(h);
            assert!((g2 - p2).abs() <= 4.0 * f64::EPSILON * p2.abs(), "φ₂({h}) = {g2:e} vs {p2:e}");
            assert!((g3 - p3).abs() <= 8.0 * f64::EPSILON * p3.abs(), "φ₃({h}) = {g3:e} vs {p3:e}");
        }
        assert_eq!(phi23(0.0), (0.0, 0.0));
        assert_eq!(phi23(f64::INFINITY), (1.0, -0.5));
    }
}
