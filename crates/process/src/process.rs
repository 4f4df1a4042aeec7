//! Continuous variance-preserving forward processes.
//!
//! All processes here are of the form `dx = −½ β(t) x dt + sqrt(β(t)) dw` (Song et al.), so that
//! `x_t = a_t x_0 + b_t z` with `a_t = exp(−½ ∫₀ᵗ β)` and `b_t² = 1 − a_t²` (THEORY §0).

use crate::error::{ProcessError, check};
use serde::{Deserialize, Serialize};
use std::f64::consts::FRAC_PI_2;

/// The coefficients of a forward process at one time `t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coefficients {
    /// The forward time `t`.
    pub t: f64,
    /// Signal scale `a_t = exp(−½ B(t))`.
    pub a: f64,
    /// Noise scale `b_t = sqrt(1 − a_t²)`, computed as `sqrt(−expm1(−B(t)))`.
    pub b: f64,
    /// Noise rate `β(t)`.
    pub beta: f64,
    /// Integrated rate `B(t) = ∫₀ᵗ β(s) ds`.
    pub integrated_beta: f64,
}

/// A variance-preserving forward process `dx = −½ β(t) x dt + sqrt(β(t)) dw` on `[0, T]`.
///
/// Implementors give `β`, its integral and the integral's inverse; everything else follows:
///
/// * `a_t = exp(−½ B(t))`, `b_t = sqrt(1 − a_t²)`,
/// * the log signal-to-noise ratio `λ(t) = log(a_t² / b_t²) = −log(expm1(B(t)))`.
///
/// The unchecked methods assume `t ∈ [0, T]`; [`ForwardProcess::at`] checks it.
///
/// ```
/// use gmdiff_process::{ForwardProcess, VpLinear};
/// let vp = VpLinear::default(); // β_min = 0.1, β_max = 20, T = 1
/// let c = vp.at(1.0).unwrap();
/// assert!((c.integrated_beta - 10.05).abs() < 1e-12);
/// assert!((c.a * c.a + c.b * c.b - 1.0).abs() < 1e-15);
/// ```
pub trait ForwardProcess: Send + Sync {
    /// The horizon `T`.
    fn horizon(&self) -> f64;
    /// The noise rate `β(t)`.
    fn beta(&self, t: f64) -> f64;
    /// `B(t) = ∫₀ᵗ β(s) ds`.
    fn integrated_beta(&self, t: f64) -> f64;
    /// The inverse of `B`: the time `t` with `B(t) = big_b`, for `big_b ∈ [0, B(T)]`.
    fn time_of_integrated_beta(&self, big_b: f64) -> f64;

    /// `a_t = exp(−½ B(t))`.
    fn alpha(&self, t: f64) -> f64 {
        (-0.5 * self.integrated_beta(t)).exp()
    }
    /// `b_t = sqrt(1 − a_t²) = sqrt(−expm1(−B(t)))`, accurate for small `t`.
    fn sigma(&self, t: f64) -> f64 {
        (-(-self.integrated_beta(t)).exp_m1()).sqrt()
    }
    /// The log signal-to-noise ratio `λ(t) = log(a_t²/b_t²) = −log(expm1(B(t)))`, decreasing in `t`.
    fn log_snr(&self, t: f64) -> f64 {
        -self.integrated_beta(t).exp_m1().ln()
    }
    /// The inverse of [`ForwardProcess::log_snr`]: `B = log1p(e^{−λ})`, then `t = B⁻¹(B)`.
    fn time_of_log_snr(&self, lambda: f64) -> f64 {
        let big_b = if lambda > 0.0 { (-lambda).exp().ln_1p() } else { -lambda + lambda.exp().ln_1p() };
        self.time_of_integrated_beta(big_b)
    }
    /// The end of the times at which the formulas define the process: `∞` when `β(t)` is defined
    /// and non-negative for every `t ≥ 0` (Ornstein–Uhlenbeck; linear VP, whose `β` is continued
    /// linearly past `T`), else the horizon `T` (the cosine schedule, whose `β` blows up).
    ///
    /// The horizon `T` is where *samplers* start; a density, score or Hessian query of `p_t` is
    /// meaningful at any `t ∈ [0, defined_until()]` ([`ForwardProcess::coefficients`]).
    fn defined_until(&self) -> f64 {
        self.horizon()
    }
    /// Checks `t ∈ [0, T]` and returns the coefficients at `t`: the route for samplers and grids,
    /// which run on `[0, T]`.
    fn at(&self, t: f64) -> Result<Coefficients, ProcessError> {
        let horizon = self.horizon();
        if !(t.is_finite() && (0.0..=horizon).contains(&t)) {
            return Err(ProcessError::TimeOutOfRange { t, horizon });
        }
        Ok(coefficients_unchecked(self, t))
    }
    /// Checks `t ∈ [0, defined_until()]` (not `t ≤ T`) and returns the coefficients at `t`: the
    /// route for density, score and Hessian queries of `p_t`, which need no horizon. For OU and
    /// linear VP any finite `t ≥ 0` is accepted; at large `t`, `a_t` underflows to `0` and `b_t = 1`
    /// (then `p_t = N(0, I)` to `f64` precision).
    ///
    /// Errors: [`ProcessError::TimeOutOfRange`] (with `horizon = defined_until()`) for a negative,
    /// non-finite or too late `t`.
    ///
    /// ```
    /// use gmdiff_process::{ForwardProcess, Ou};
    /// let ou = Ou::new(1.0).unwrap();
    /// assert!(ou.at(1.5).is_err()); // samplers stop at T
    /// let c = ou.coefficients(1.5).unwrap(); // queries do not
    /// assert_eq!(c.a, (-1.5f64).exp());
    /// ```
    fn coefficients(&self, t: f64) -> Result<Coefficients, ProcessError> {
        let end = self.defined_until();
        if !(t.is_finite() && t >= 0.0 && t <= end) {
            return Err(ProcessError::TimeOutOfRange { t, horizon: end });
        }
        Ok(coefficients_unchecked(self, t))
    }
}

/// `(a_t, b_t, β(t), B(t))` at `t`, without range check.
fn coefficients_unchecked<P: ForwardProcess + ?Sized>(p: &P, t: f64) -> Coefficients {
    let integrated_beta = p.integrated_beta(t);
    Coefficients { t, a: (-0.5 * integrated_beta).exp(), b: (-(-integrated_beta).exp_m1()).sqrt(), beta: p.beta(t), integrated_beta }
}

/// VP process with linear rate `β(t) = β_min + t (β_max − β_min)` (Song et al.).
///
/// `B(t) = β_min t + ½ (β_max − β_min) t²`. Pierret–Galerne's `β̃ = β/2` is the same process.
///
/// ```
/// use gmdiff_process::{ForwardProcess, VpLinear};
/// let vp = VpLinear::new(0.1, 20.0, 1.0).unwrap();
/// let t = vp.time_of_integrated_beta(vp.integrated_beta(0.3));
/// assert!((t - 0.3).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "VpLinearSpec")]
pub struct VpLinear {
    beta_min: f64,
    beta_max: f64,
    horizon: f64,
}

impl VpLinear {
    /// A linear VP process; needs `0 ≤ β_min ≤ β_max`, `β_max > 0` and `T > 0`.
    pub fn new(beta_min: f64, beta_max: f64, horizon: f64) -> Result<Self, ProcessError> {
        check("beta_min", beta_min, |b| b >= 0.0, "must be finite and ≥ 0")?;
        check("beta_max", beta_max, |b| b >= 0.0, "must be finite and ≥ 0")?;
        check("beta_min + beta_max", beta_min + beta_max, |b| b > 0.0, "must be > 0")?;
        check("beta_min", beta_min, |b| b <= beta_max, "must not exceed beta_max (β rises from β_min at t = 0 to β_max at t = T)")?;
        check("T", horizon, |t| t > 0.0, "must be finite and > 0")?;
        Ok(Self { beta_min, beta_max, horizon })
    }
    /// `β_min`.
    pub fn beta_min(&self) -> f64 {
        self.beta_min
    }
    /// `β_max`.
    pub fn beta_max(&self) -> f64 {
        self.beta_max
    }
    fn slope(&self) -> f64 {
        (self.beta_max - self.beta_min) / self.horizon
    }
}

impl Default for VpLinear {
    /// `β_min = 0.1`, `β_max = 20`, `T = 1`.
    fn default() -> Self {
        Self { beta_min: 0.1, beta_max: 20.0, horizon: 1.0 }
    }
}

impl ForwardProcess for VpLinear {
    fn horizon(&self) -> f64 {
        self.horizon
    }
    /// `∞`: `β(t) = β_min + t (β_max − β_min)/T` is continued linearly past `T` (still `≥ 0`).
    fn defined_until(&self) -> f64 {
        f64::INFINITY
    }
    fn beta(&self, t: f64) -> f64 {
        self.beta_min + t * self.slope()
    }
    fn integrated_beta(&self, t: f64) -> f64 {
        t * (self.beta_min + 0.5 * self.slope() * t)
    }
    fn time_of_integrated_beta(&self, big_b: f64) -> f64 {
        // Root of ½ s t² + β_min t − B = 0 in the cancellation-free form 2B / (β_min + sqrt(β_min² + 2 s B)).
        let s = self.slope();
        2.0 * big_b / (self.beta_min + (self.beta_min * self.beta_min + 2.0 * s * big_b).sqrt())
    }
}

/// VP process with the cosine schedule of Nichol and Dhariwal, in continuous time.
///
/// `a_t² = ᾱ(t) = f(t)/f(0)` with `f(t) = cos²(π/2 · (t/T + s)/(1 + s))`, so
/// `B(t) = −log ᾱ(t)` and `β(t) = π/(T (1+s)) · tan(π/2 · (t/T + s)/(1 + s))`.
/// `β` blows up at `t/T = 1`, so the process is used on `[0, t_max]` with `t_max < T`; the default
/// (`s = 0.008`, `T = 1`, `t_max = 0.9946`) is the choice of DPM-Solver.
///
/// ```
/// use gmdiff_process::{ForwardProcess, VpCosine};
/// let c = VpCosine::default();
/// let a = c.alpha(0.5);
/// let f = |t: f64| ((t + 0.008) / 1.008 * std::f64::consts::FRAC_PI_2).cos();
/// assert!((a - f(0.5) / f(0.0)).abs() < 1e-14);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "VpCosineSpec")]
pub struct VpCosine {
    offset: f64,
    scale: f64,
    t_max: f64,
}

impl VpCosine {
    /// A cosine VP process with offset `s > 0`, time scale `T > 0`, used on `[0, t_max]`, `0 < t_max < T`.
    pub fn new(offset: f64, scale: f64, t_max: f64) -> Result<Self, ProcessError> {
        check("s", offset, |s| s > 0.0, "must be finite and > 0")?;
        check("T", scale, |t| t > 0.0, "must be finite and > 0")?;
        check("t_max", t_max, |t| t > 0.0 && t < scale, "must satisfy 0 < t_max < T")?;
        Ok(Self { offset, scale, t_max })
    }
    fn angle(&self, t: f64) -> f64 {
        FRAC_PI_2 * (t / self.scale + self.offset) / (1.0 + self.offset)
    }
}

impl Default for VpCosine {
    fn default() -> Self {
        Self { offset: 0.008, scale: 1.0, t_max: 0.9946 }
    }
}

impl ForwardProcess for VpCosine {
    fn horizon(&self) -> f64 {
        self.t_max
    }
    fn beta(&self, t: f64) -> f64 {
        std::f64::consts::PI / (self.scale * (1.0 + self.offset)) * self.angle(t).tan()
    }
    fn integrated_beta(&self, t: f64) -> f64 {
        2.0 * (self.angle(0.0).cos().ln() - self.angle(t).cos().ln())
    }
    fn time_of_integrated_beta(&self, big_b: f64) -> f64 {
        let theta = ((-0.5 * big_b).exp() * self.angle(0.0).cos()).acos();
        self.scale * (theta * (1.0 + self.offset) / FRAC_PI_2 - self.offset)
    }
}

/// The Ornstein–Uhlenbeck process `dx = −x dt + sqrt(2) dw`: VP with `β ≡ 2`, so `a_t = e^{−t}`.
///
/// ```
/// use gmdiff_process::{ForwardProcess, Ou};
/// let ou = Ou::new(5.0).unwrap();
/// assert!((ou.alpha(1.0) - (-1.0f64).exp()).abs() < 1e-16);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "OuSpec")]
pub struct Ou {
    horizon: f64,
}

impl Ou {
    /// The OU process on `[0, T]`, `T > 0`.
    pub fn new(horizon: f64) -> Result<Self, ProcessError> {
        check("T", horizon, |t| t > 0.0, "must be finite and > 0")?;
        Ok(Self { horizon })
    }
}

impl ForwardProcess for Ou {
    fn horizon(&self) -> f64 {
        self.horizon
    }
    /// `∞`: `β ≡ 2` for every `t ≥ 0`; the horizon only says where samplers start.
    fn defined_until(&self) -> f64 {
        f64::INFINITY
    }
    fn beta(&self, _t: f64) -> f64 {
        2.0
    }
    fn integrated_beta(&self, t: f64) -> f64 {
        2.0 * t
    }
    fn time_of_integrated_beta(&self, big_b: f64) -> f64 {
        0.5 * big_b
    }
}

/// Any of the continuous processes, for configuration files and the CLI.
///
/// ```
/// use gmdiff_process::{ForwardProcess, Process};
/// let p: Process = serde_json::from_str(r#"{"kind":"ou","horizon":2.0}"#).unwrap();
/// assert_eq!(p.horizon(), 2.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Process {
    /// [`VpLinear`].
    Vp(VpLinear),
    /// [`VpCosine`].
    VpCosine(VpCosine),
    /// [`Ou`].
    Ou(Ou),
}

impl Default for Process {
    fn default() -> Self {
        Process::Vp(VpLinear::default())
    }
}

macro_rules! delegate {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            Process::Vp($p) => $e,
            Process::VpCosine($p) => $e,
            Process::Ou($p) => $e,
        }
    };
}

impl ForwardProcess for Process {
    fn horizon(&self) -> f64 {
        delegate!(self, p => p.horizon())
    }
    fn defined_until(&self) -> f64 {
        delegate!(self, p => p.defined_until())
    }
    fn beta(&self, t: f64) -> f64 {
        delegate!(self, p => p.beta(t))
    }
    fn integrated_beta(&self, t: f64) -> f64 {
        delegate!(self, p => p.integrated_beta(t))
    }
    fn time_of_integrated_beta(&self, big_b: f64) -> f64 {
        delegate!(self, p => p.time_of_integrated_beta(big_b))
    }
}

// Unvalidated mirrors of the process structs: serde reads these, then the checked constructors run.
#[derive(Deserialize)]
struct VpLinearSpec {
    beta_min: f64,
    beta_max: f64,
    horizon: f64,
}
impl TryFrom<VpLinearSpec> for VpLinear {
    type Error = ProcessError;
    fn try_from(s: VpLinearSpec) -> Result<Self, ProcessError> {
        VpLinear::new(s.beta_min, s.beta_max, s.horizon)
    }
}
#[derive(Deserialize)]
struct VpCosineSpec {
    offset: f64,
    scale: f64,
    t_max: f64,
}
impl TryFrom<VpCosineSpec> for VpCosine {
    type Error = ProcessError;
    fn try_from(s: VpCosineSpec) -> Result<Self, ProcessError> {
        VpCosine::new(s.offset, s.scale, s.t_max)
    }
}
#[derive(Deserialize)]
struct OuSpec {
    horizon: f64,
}
impl TryFrom<OuSpec> for Ou {
    type Error = ProcessError;
    fn try_from(s: OuSpec) -> Result<Self, ProcessError> {
        Ou::new(s.horizon)
    }
}
