//! The non-VP Gaussian paths: sub-VP, VE, EDM and flow matching (rectified flow).
//!
//! Each is a [`GaussianPath`] `x_t = a_t x_0 + b_t z`, written from its paper's definition:
//!
//! | path | `a_t` | `b_t` | source |
//! |---|---|---|---|
//! | [`SubVp`] | `e^{−B/2}` | `1 − e^{−B}` | Song et al. 2021, eq. 34 and App. B |
//! | [`Ve`] | `1` | `sqrt(σ(t)² − σ_min²)`, `σ(t) = σ_min (σ_max/σ_min)^t` | Song et al. 2021, eq. 30 and App. B (eq. 29) |
//! | [`Edm`] | `1` | `t` | Karras et al. 2022, Table 1 (`σ(t) = t`, `s(t) = 1`) |
//! | [`Flow`] | `1 − t` | `t` | Lipman et al. 2023; Liu et al. 2023 (rectified flow) |

use crate::error::{ProcessError, check};
use crate::process::{Coefficients, ForwardProcess, GaussianPath, VpLinear};
use serde::{Deserialize, Serialize};

/// The sub-VP SDE `dx = −½ β(t) x dt + sqrt(β(t)(1 − e^{−2B(t)})) dw` of Song et al. (2021, eq. 34),
/// on the linear `β` of a [`VpLinear`].
///
/// Its marginal is `a_t = e^{−B/2}`, `b_t = 1 − e^{−B}` (Song et al., App. B: the variance is
/// `(1 − e^{−B})²`), so `f = −β/2` and `g² = β (1 − e^{−2B})`. `λ` inverts in closed form: with
/// `u = e^{−B/2}`, `u/(1 − u²) = e^λ` gives `u = 2e^λ/(1 + sqrt(1 + 4e^{2λ}))`.
///
/// ```
/// use gmdiff_process::{GaussianPath, SubVp};
/// let p = SubVp::default();
/// let c = p.at(0.5).unwrap();
/// assert!((c.b - (1.0 - c.a * c.a)).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SubVp {
    /// The rate `β(t)`, its integral and horizon.
    #[serde(flatten)]
    pub vp: VpLinear,
}

impl SubVp {
    /// The sub-VP path on the rate of `vp`.
    pub fn new(vp: VpLinear) -> Self {
        Self { vp }
    }
}

impl GaussianPath for SubVp {
    fn horizon(&self) -> f64 {
        ForwardProcess::horizon(&self.vp)
    }
    /// As the rate's VP path (`∞` for linear `β`, continued linearly past `T`): `a = e^{−B/2}`,
    /// `b = 1 − e^{−B}` hold for every `t` where `B` does (a stage above `T`, e.g. EDM's churn).
    fn defined_until(&self) -> f64 {
        ForwardProcess::defined_until(&self.vp)
    }
    fn eval(&self, t: f64) -> Coefficients {
        let big_b = self.vp.integrated_beta(t);
        let beta = self.vp.beta(t);
        let a = (-0.5 * big_b).exp();
        let b = -(-big_b).exp_m1();
        let f = -0.5 * beta;
        Coefficients {
            t,
            a,
            b,
            da: f * a,
            db: beta * (-big_b).exp(),
            log_a: -0.5 * big_b,
            lambda: -0.5 * big_b - b.ln(),
            f,
            g2: beta * -(-2.0 * big_b).exp_m1(),
            c2: a * a + b * b,
        }
    }
    fn time_of_lambda(&self, lambda: f64) -> f64 {
        // u = e^{−B/2} = 2e^λ / (1 + sqrt(1 + 4e^{2λ})), and B = −2 log u. For λ > 0 (small t, u near
        // 1), with e = e^{−λ} and r = sqrt(e² + 4): u − 1 = −(e + e²/(2 + r))/(e + r) exactly, so
        // B = −2 log1p(u − 1) keeps its relative accuracy (−2 log u lost ~1/B ulps).
        let big_b = if lambda <= 0.0 {
            let e = lambda.exp();
            -2.0 * (2.0 * e / (1.0 + (1.0 + 4.0 * e * e).sqrt())).ln()
        } else {
            let e = (-lambda).exp();
            let r = (e * e + 4.0).sqrt();
            -2.0 * (-(e + e * e / (2.0 + r)) / (e + r)).ln_1p()
        };
        self.vp.time_of_integrated_beta(big_b)
    }
}

/// The variance-exploding path of Song et al. (2021, eq. 30): `dx = sqrt(d[σ²(t)]/dt) dw` with the
/// geometric `σ(t) = σ_min (σ_max/σ_min)^t`, `t ∈ [0, 1]`.
///
/// Its perturbation kernel is `N(x_0, (σ(t)² − σ_min²) I)` (Song et al., App. B, eq. 29), so
/// `a_t = 1` and `b_t = sqrt(σ(t)² − σ_min²)`: `b_0 = 0`, and `b_t = σ_min` at the time where
/// `σ(t)² = 2σ_min²`. `f = 0`, `g² = d(b²)/dt = 2 log(σ_max/σ_min) σ(t)²`. The standard start is
/// `N(0, σ_max² I)`. Defaults: `σ_min = 0.01`, `σ_max = 50` (Song et al., CIFAR-10).
///
/// ```
/// use gmdiff_process::{GaussianPath, Ve};
/// let ve = Ve::new(0.01, 50.0).unwrap();
/// let c = ve.at(1.0).unwrap();
/// assert!((c.b * c.b - (50.0f64.powi(2) - 1e-4)).abs() < 1e-9);
/// assert_eq!(ve.start_std(), 50.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "VeSpec")]
pub struct Ve {
    sigma_min: f64,
    sigma_max: f64,
}

impl Ve {
    /// A VE path; needs `0 < σ_min < σ_max < ∞`.
    pub fn new(sigma_min: f64, sigma_max: f64) -> Result<Self, ProcessError> {
        check("sigma_min", sigma_min, |s| s > 0.0, "must be finite and > 0")?;
        check("sigma_max", sigma_max, |s| s > sigma_min, "must be finite and > sigma_min")?;
        Ok(Self { sigma_min, sigma_max })
    }
    /// `σ_min`.
    pub fn sigma_min(&self) -> f64 {
        self.sigma_min
    }
    /// `σ_max`.
    pub fn sigma_max(&self) -> f64 {
        self.sigma_max
    }
    fn log_ratio(&self) -> f64 {
        (self.sigma_max / self.sigma_min).ln()
    }
}

impl Default for Ve {
    fn default() -> Self {
        Self { sigma_min: 0.01, sigma_max: 50.0 }
    }
}

impl GaussianPath for Ve {
    fn horizon(&self) -> f64 {
        1.0
    }
    /// `∞`: the geometric `σ(t) = σ_min (σ_max/σ_min)^t` is defined for every `t ≥ 0` (a stage above
    /// `T = 1`, e.g. EDM's churn, has `σ > σ_max`).
    fn defined_until(&self) -> f64 {
        f64::INFINITY
    }
    fn eval(&self, t: f64) -> Coefficients {
        let r = self.log_ratio();
        let sigma_sq = self.sigma_min * self.sigma_min * (2.0 * r * t).exp();
        // b² = σ_min² (e^{2rt} − 1), through expm1 for small t.
        let b_sq = self.sigma_min * self.sigma_min * (2.0 * r * t).exp_m1();
        let b = b_sq.sqrt();
        let g2 = 2.0 * r * sigma_sq;
        Coefficients { t, a: 1.0, b, da: 0.0, db: 0.5 * g2 / b, log_a: 0.0, lambda: -b.ln(), f: 0.0, g2, c2: 1.0 + b_sq }
    }
    fn time_of_lambda(&self, lambda: f64) -> f64 {
        // b² = e^{−2λ} = σ_min² (e^{2rt} − 1)  ⇒  t = log1p(e^{−2λ}/σ_min²) / (2r).
        ((-2.0 * lambda).exp() / (self.sigma_min * self.sigma_min)).ln_1p() / (2.0 * self.log_ratio())
    }
    fn start_std(&self) -> f64 {
        self.sigma_max
    }
}

/// The EDM path of Karras et al. (2022, Table 1): `a_t = 1`, `b_t = σ(t) = t`, `t ∈ [0, σ_max]`.
///
/// `f = 0`, `g² = 2t`, `λ = −log t`. The standard start is `N(0, σ_max² I)`; defaults
/// `σ_max = 80` (with `σ_min = 0.002` and `ρ = 7` on the Karras grid).
///
/// ```
/// use gmdiff_process::{Edm, GaussianPath};
/// let e = Edm::default();
/// assert_eq!(e.horizon(), 80.0);
/// assert_eq!(e.at(2.0).unwrap().b, 2.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EdmSpec")]
pub struct Edm {
    sigma_max: f64,
}

impl Edm {
    /// The EDM path up to `σ_max > 0`.
    pub fn new(sigma_max: f64) -> Result<Self, ProcessError> {
        check("sigma_max", sigma_max, |s| s > 0.0, "must be finite and > 0")?;
        Ok(Self { sigma_max })
    }
}

impl Default for Edm {
    fn default() -> Self {
        Self { sigma_max: 80.0 }
    }
}

impl GaussianPath for Edm {
    fn horizon(&self) -> f64 {
        self.sigma_max
    }
    /// `∞`: `σ(t) = t` is defined for every `t ≥ 0`.
    fn defined_until(&self) -> f64 {
        f64::INFINITY
    }
    fn eval(&self, t: f64) -> Coefficients {
        Coefficients { t, a: 1.0, b: t, da: 0.0, db: 1.0, log_a: 0.0, lambda: -t.ln(), f: 0.0, g2: 2.0 * t, c2: 1.0 + t * t }
    }
    fn time_of_lambda(&self, lambda: f64) -> f64 {
        (-lambda).exp()
    }
    fn time_of_sigma(&self, sigma: f64) -> f64 {
        sigma
    }
    fn start_std(&self) -> f64 {
        self.sigma_max
    }
}

/// The flow-matching (rectified flow) path `a_t = 1 − t`, `b_t = t`, `t ∈ [0, T]`, `T ≤ 1`
/// (Lipman et al. 2023, the optimal-transport path with `σ_min = 0`; Liu et al. 2023).
///
/// `f = −1/(1 − t)` and `g² = 2t/(1 − t)` are infinite at `t = 1`, where `a = 0`: samplers that start
/// there are written through the `x₀` prediction or the velocity `v = ε − x₀`, which stay finite.
/// `λ = log((1 − t)/t)`, inverted by `t = 1/(1 + e^λ)`. The standard start is `N(0, I)`.
///
/// ```
/// use gmdiff_process::{Flow, GaussianPath};
/// let c = Flow::default().at(1.0).unwrap();
/// assert_eq!((c.a, c.b, c.da, c.db), (0.0, 1.0, -1.0, 1.0));
/// assert_eq!(c.f, f64::NEG_INFINITY);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FlowSpec")]
pub struct Flow {
    horizon: f64,
}

impl Flow {
    /// The flow path on `[0, T]`, `0 < T ≤ 1`.
    pub fn new(horizon: f64) -> Result<Self, ProcessError> {
        check("T", horizon, |t| t > 0.0 && t <= 1.0, "must satisfy 0 < T ≤ 1 (a_t = 1 − t must stay ≥ 0)")?;
        Ok(Self { horizon })
    }
}

impl Default for Flow {
    fn default() -> Self {
        Self { horizon: 1.0 }
    }
}

impl GaussianPath for Flow {
    fn horizon(&self) -> f64 {
        self.horizon
    }
    /// `1`: `a = 1 − t ≥ 0` up to `t = 1`, whatever the horizon `T ≤ 1` (a stage above `T`, e.g.
    /// EDM's churn, stays a flow-matching marginal).
    fn defined_until(&self) -> f64 {
        1.0
    }
    fn eval(&self, t: f64) -> Coefficients {
        let a = 1.0 - t;
        let f = if a > 0.0 { -1.0 / a } else { f64::NEG_INFINITY };
        let g2 = if a > 0.0 { 2.0 * t / a } else { f64::INFINITY };
        let log_a = (-t).ln_1p();
        Coefficients { t, a, b: t, da: -1.0, db: 1.0, log_a, lambda: log_a - t.ln(), f, g2, c2: a * a + t * t }
    }
    fn time_of_lambda(&self, lambda: f64) -> f64 {
        // t = 1/(1 + e^λ), written to avoid overflow for large λ.
        if lambda > 0.0 {
            let e = (-lambda).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + lambda.exp())
        }
    }
}

// Unvalidated mirrors: serde reads these, then the checked constructors run.
#[derive(Deserialize)]
struct VeSpec {
    sigma_min: f64,
    sigma_max: f64,
}
impl TryFrom<VeSpec> for Ve {
    type Error = ProcessError;
    fn try_from(s: VeSpec) -> Result<Self, ProcessError> {
        Ve::new(s.sigma_min, s.sigma_max)
    }
}
#[derive(Deserialize)]
struct EdmSpec {
    sigma_max: f64,
}
impl TryFrom<EdmSpec> for Edm {
    type Error = ProcessError;
    fn try_from(s: EdmSpec) -> Result<Self, ProcessError> {
        Edm::new(s.sigma_max)
    }
}
#[derive(Deserialize)]
struct FlowSpec {
    horizon: f64,
}
impl TryFrom<FlowSpec> for Flow {
    type Error = ProcessError;
    fn try_from(s: FlowSpec) -> Result<Self, ProcessError> {
        Flow::new(s.horizon)
    }
}
