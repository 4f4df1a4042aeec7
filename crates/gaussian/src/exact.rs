//! Exact continuous laws per eigen-coordinate: forward, backward SDE and flow ODE (THEORY §3).
//!
//! In the eigenbasis of `Σ`, a coordinate with variance `λ` and mean `m` diffuses as
//! `m_t = a_t m`, `λ(t) = a_t² λ + b_t²`. The exact reverse SDE and flow ODE with the exact score
//! are linear; started at `T` from `N(μ₀, v₀)` their law at `t` is
//!
//! * mean `m_t + ρ(t) (μ₀ − m_T)`, variance `λ(t) + ρ(t)² (v₀ − λ(T))`, with
//! * SDE: `ρ(t) = (a_T / a_t) · λ(t)/λ(T)` (so from `N(0, I)`:
//!   `λ̃(t) = λ(t) + e^{−2(B̃_T − B̃_t)} λ(t)²/λ(T) (1/λ(T) − 1)`, THEORY §3 [verified]),
//! * ODE: `ρ(t) = sqrt(λ(t)/λ(T))` (so `λ̂(t) = λ(t)/λ(T)` from `N(0, I)` [verified]).
//!
//! The mean shift for non-centred data uses the same multiplier `ρ` [derived; tested by Monte
//! Carlo and against the sampler laws as steps grow].

use gmdiff_process::Coefficients;

/// Which continuous reverse-time dynamics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dynamics {
    /// The reverse SDE `dy = β̃ (y + 2∇log p_t) ds + sqrt(2β̃) dw`.
    Sde,
    /// The flow ODE `dy = β̃ (y + ∇log p_t) ds`.
    Ode,
}

/// The law at `at` of one coordinate (variance `lam`, mean `m`) under `dynamics` started at the
/// horizon coefficients `top` from `N(mu0, v0)`; returns `(mean, variance)`.
///
/// ```
/// use gmdiff_gaussian::{Dynamics, continuous_coordinate};
/// use gmdiff_process::{GaussianPath, VpLinear};
/// let p = VpLinear::default();
/// let (top, at) = (p.at(1.0).unwrap(), p.at(0.3).unwrap());
/// // Started from the exact p_T, both dynamics give the exact p_t.
/// let lt = at.a * at.a * 2.0 + at.b * at.b;
/// let lam_t = top.a * top.a * 2.0 + top.b * top.b;
/// let (_, v) = continuous_coordinate(Dynamics::Sde, 2.0, 0.0, &top, &at, 0.0, lam_t);
/// assert!((v - lt).abs() < 1e-14);
/// ```
pub fn continuous_coordinate(dynamics: Dynamics, lam: f64, m: f64, top: &Coefficients, at: &Coefficients, mu0: f64, v0: f64) -> (f64, f64) {
    let lt = at.a * at.a * lam + at.b * at.b;
    let lt_top = top.a * top.a * lam + top.b * top.b;
    let rho = match dynamics {
        Dynamics::Sde => (top.a / at.a) * lt / lt_top,
        Dynamics::Ode => (lt / lt_top).sqrt(),
    };
    let mean = at.a * m + rho * (mu0 - top.a * m);
    let var = match dynamics {
        Dynamics::Sde => lt + rho * rho * (v0 - lt_top),
        Dynamics::Ode => lt * (v0 / lt_top),
    };
    (mean, var.max(0.0))
}

/// `(√v − √u)²` computed as `(v − u)²/(√v + √u)²` (no cancellation when `v ≈ u`); `∞` if either is.
///
/// ```
/// assert_eq!(gmdiff_gaussian::sqrt_gap_sq(4.0, 1.0), 1.0);
/// assert_eq!(gmdiff_gaussian::sqrt_gap_sq(f64::INFINITY, 1.0), f64::INFINITY);
/// ```
pub fn sqrt_gap_sq(v: f64, u: f64) -> f64 {
    if v.is_infinite() || u.is_infinite() {
        return f64::INFINITY;
    }
    let s = v.sqrt() + u.sqrt();
    if s == 0.0 { 0.0 } else { ((v - u) / s).powi(2) }
}

/// `KL(N(μ1, v1) ‖ N(μ2, v2))` in one dimension: `½ (r − 1 − ln r + (μ1 − μ2)²/v2)`, `r = v1/v2`;
/// `0` for two equal point masses, `∞` when `N1` is not absolutely continuous w.r.t. `N2`.
///
/// ```
/// assert_eq!(gmdiff_gaussian::kl_coordinate(0.0, 1.0, 1.0, 1.0), 0.5);
/// assert_eq!(gmdiff_gaussian::kl_coordinate(0.0, 1.0, 0.0, 0.0), f64::INFINITY);
/// ```
pub fn kl_coordinate(mu1: f64, v1: f64, mu2: f64, v2: f64) -> f64 {
    if v1.is_infinite() {
        return f64::INFINITY;
    }
    if v2 == 0.0 {
        return if v1 == 0.0 && mu1 == mu2 { 0.0 } else { f64::INFINITY };
    }
    if v1 == 0.0 {
        return f64::INFINITY;
    }
    let r = v1 / v2;
    let x = r - 1.0;
    let core = if x.abs() < 0.5 { x - x.ln_1p() } else { x - r.ln() };
    0.5 * (core + (mu1 - mu2).powi(2) / v2)
}
