//! Gaussian paths `x_t = a_t x_0 + b_t z` and the variance-preserving (VP) family.
//!
//! A path is given by `a_t`, `b_t`, their time derivatives, `λ_t = log(a_t/b_t)` and the inverse of
//! `λ` ([`GaussianPath`]). Its forward SDE `dx = f(t) x dt + g(t) dw` has `f = d log a/dt` and
//! `g² = d(b²)/dt − 2 f b² = −2 b² dλ/dt` (Song et al. 2021; Kingma et al. 2021, eq. 9; THEORY §0).
//! The VP processes `dx = −½ β(t) x dt + sqrt(β(t)) dw` ([`ForwardProcess`]) are paths with
//! `a_t = exp(−½ B(t))`, `b_t² = 1 − a_t²`, `f = −β/2`, `g² = β`. The other built-in paths (sub-VP,
//! VE, EDM, flow matching) are in [`crate::paths`].

use crate::error::{ProcessError, check};
use serde::{Deserialize, Serialize};
use std::f64::consts::FRAC_PI_2;

/// A Gaussian path at one time `t`: `x_t = a x_0 + b z`, with the derivatives a step needs.
///
/// Every field is computed by the path through its most accurate route (for VP: from `β(t)` and
/// `B(t)`; `f = −β/2`, `g² = β`, `log a = −B/2` exactly). On a discrete chain the time derivatives
/// do not exist and `da`, `db`, `f`, `g2` are NaN; the samplers that need them refuse chains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coefficients {
    /// The forward time `t` (the step index on a discrete chain).
    pub t: f64,
    /// Signal scale `a_t ≥ 0`.
    pub a: f64,
    /// Noise scale `b_t ≥ 0`.
    pub b: f64,
    /// `da/dt`.
    pub da: f64,
    /// `db/dt` (`+∞` where `b = 0` on VP paths, whose `b ∝ sqrt(t)` near 0).
    pub db: f64,
    /// `log a_t` (`−∞` where `a_t = 0`).
    pub log_a: f64,
    /// The log signal-to-noise ratio `λ_t = log(a_t/b_t)` (half of `log SNR`), decreasing in `t`.
    pub lambda: f64,
    /// The drift coefficient `f(t) = d log a/dt` (`−∞` where `a_t = 0`).
    pub f: f64,
    /// The squared diffusion `g(t)² = d(b²)/dt − 2 f b² = −2 b² dλ/dt`.
    pub g2: f64,
    /// The total scale `c_t² = a_t² + b_t²`: exactly `1` on VP paths, so that the VP-derived samplers
    /// (DDPM, EI) act on `x/c_t`, which is VP on every path.
    pub c2: f64,
}

impl Coefficients {
    /// `σ_t = b_t/a_t` (`∞` where `a_t = 0`): the noise level of the scaled variable `x/a_t`, the
    /// `σ` of EDM and k-diffusion.
    pub fn sigma(&self) -> f64 {
        self.b / self.a
    }

    /// The coefficients of a discrete VP point with cumulative `ᾱ ∈ [0, 1]` at label `t`:
    /// `a = sqrt(ᾱ)`, `b = sqrt(1 − ᾱ)`, `log a = ½ log ᾱ`, `λ = log(a/b)`, `c² = 1`; a discrete point
    /// has no time derivatives, so `da`, `db`, `f` and `g2` are NaN. (`ᾱ = 1` is the data: `b = 0`,
    /// `λ = ∞`; `ᾱ = 0` is pure noise: `a = 0`, `λ = −∞`.) Used by [`crate::DiscreteChain::at`] and by
    /// explicit step lists such as diffusers' DDIM timesteps.
    pub fn discrete(t: f64, alpha_bar: f64) -> Self {
        let (a, b) = (alpha_bar.sqrt(), (1.0 - alpha_bar).sqrt());
        Coefficients {
            t,
            a,
            b,
            da: f64::NAN,
            db: f64::NAN,
            log_a: 0.5 * alpha_bar.ln(),
            lambda: a.ln() - b.ln(),
            f: f64::NAN,
            g2: f64::NAN,
            c2: 1.0,
        }
    }
}

/// A Gaussian path `x_t = a_t x_0 + b_t z` on `[0, T]`: the one small trait a user's own path
/// implements (issue 12). Densities, scores, samplers and exact laws only see [`Coefficients`].
///
/// Required: the horizon, [`GaussianPath::eval`] (all coefficients at `t`, unchecked) and the
/// inverse of `λ`. `b_0 = 0` is expected (the data at `t = 0`) but not enforced.
///
/// ```
/// use gmdiff_process::{GaussianPath, Flow};
/// let flow = Flow::default(); // a = 1 − t, b = t
/// let c = flow.at(0.25).unwrap();
/// assert_eq!((c.a, c.b, c.da, c.db), (0.75, 0.25, -1.0, 1.0));
/// assert!((flow.time_of_lambda(c.lambda) - 0.25).abs() < 1e-15);
/// ```
pub trait GaussianPath: Send + Sync {
    /// The horizon `T`, where samplers start.
    fn horizon(&self) -> f64;
    /// All coefficients at `t`, without a range check.
    fn eval(&self, t: f64) -> Coefficients;
    /// The inverse of `λ_t = log(a_t/b_t)`: the time with `λ_t = lambda`.
    fn time_of_lambda(&self, lambda: f64) -> f64;
    /// `σ_t = b_t/a_t` at `t` (`∞` where `a_t = 0`), unchecked.
    fn sigma_at(&self, t: f64) -> f64 {
        self.eval(t).sigma()
    }
    /// The time with `σ_t = b_t/a_t = sigma`; by default through `λ = −log σ`.
    fn time_of_sigma(&self, sigma: f64) -> f64 {
        self.time_of_lambda(-sigma.ln())
    }
    /// The standard deviation `s` of the standard start `N(0, s² I)` at `T`: `1` for VP, sub-VP and
    /// flow, `σ_max` for VE and EDM.
    fn start_std(&self) -> f64 {
        1.0
    }
    /// The end of the times at which the formulas define the path: `∞` when they hold for every
    /// `t ≥ 0` (Ornstein–Uhlenbeck; linear VP, whose `β` is continued linearly past `T`), else the
    /// horizon `T`.
    ///
    /// The horizon `T` is where *samplers* start; a density, score or Hessian query of `p_t` is
    /// meaningful at any `t ∈ [0, defined_until()]` ([`GaussianPath::coefficients`]).
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
        Ok(self.eval(t))
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
    /// use gmdiff_process::{GaussianPath, Ou};
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
        Ok(self.eval(t))
    }
}

/// A variance-preserving forward process `dx = −½ β(t) x dt + sqrt(β(t)) dw` on `[0, T]`.
///
/// Implementors give `β`, its integral and the integral's inverse; the [`GaussianPath`] follows:
///
/// * `a_t = exp(−½ B(t))`, `b_t = sqrt(1 − a_t²) = sqrt(−expm1(−B(t)))`, `f = −β/2`, `g² = β`,
/// * `λ_t = log(a_t/b_t) = −½ log(expm1(B(t)))`, inverted through `B = log1p(e^{−2λ})`.
///
/// ```
/// use gmdiff_process::{ForwardProcess, GaussianPath, VpLinear};
/// let vp = VpLinear::default(); // β_min = 0.1, β_max = 20, T = 1
/// let c = vp.at(1.0).unwrap();
/// assert!((-2.0 * c.log_a - 10.05).abs() < 1e-12);
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
    /// See [`GaussianPath::defined_until`].
    fn defined_until(&self) -> f64 {
        self.horizon()
    }
}

impl<P: ForwardProcess + ?Sized> GaussianPath for P {
    fn horizon(&self) -> f64 {
        ForwardProcess::horizon(self)
    }
    fn defined_until(&self) -> f64 {
        ForwardProcess::defined_until(self)
    }
    fn eval(&self, t: f64) -> Coefficients {
        vp_coefficients(t, self.beta(t), self.integrated_beta(t))
    }
    /// `B = log1p(e^{−2λ})` (in an overflow-free form), then `t = B⁻¹(B)`.
    fn time_of_lambda(&self, lambda: f64) -> f64 {
        let l = 2.0 * lambda;
        let big_b = if l > 0.0 { (-l).exp().ln_1p() } else { -l + l.exp().ln_1p() };
        self.time_of_integrated_beta(big_b)
    }
    /// `σ = sqrt(expm1(B))`.
    fn sigma_at(&self, t: f64) -> f64 {
        self.integrated_beta(t).exp_m1().sqrt()
    }
    /// `B = log1p(σ²)`, then `t = B⁻¹(B)` (the route of the Karras grid).
    fn time_of_sigma(&self, sigma: f64) -> f64 {
        self.time_of_integrated_beta((sigma * sigma).ln_1p())
    }
}

/// The VP coefficients from `β(t)` and `B(t)`: `a = e^{−B/2}`, `b = sqrt(−expm1(−B))`, `f = −β/2`,
/// `g² = β`, `da = f a`, `db = β a²/(2b)`, `λ = −½ log(expm1(B))`.
pub(crate) fn vp_coefficients(t: f64, beta: f64, integrated_beta: f64) -> Coefficients {
    let a = (-0.5 * integrated_beta).exp();
    let b = (-(-integrated_beta).exp_m1()).sqrt();
    let f = -0.5 * beta;
    Coefficients {
        t,
        a,
        b,
        da: f * a,
        db: 0.5 * beta * a * a / b,
        log_a: -0.5 * integrated_beta,
        lambda: -0.5 * integrated_beta.exp_m1().ln(),
        f,
        g2: beta,
        c2: 1.0,
    }
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
/// use gmdiff_process::{GaussianPath, VpCosine};
/// let c = VpCosine::default();
/// let a = c.eval(0.5).a;
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
    /// `B = −2 log(cos θ/cos θ₀)` with `cos θ/cos θ₀ = 1 − 2 sin²(δ/2) − tan θ₀ sin δ`,
    /// `δ = θ − θ₀ = π/2 · (t/T)/(1 + s)`, through `log1p`: the difference of the two logarithms lost
    /// `~|log cos θ₀|/B` ulps at small `t` (1e-8 relative at `t = 4.5e-7`).
    fn integrated_beta(&self, t: f64) -> f64 {
        let delta = FRAC_PI_2 * (t / self.scale) / (1.0 + self.offset);
        let half = (0.5 * delta).sin();
        -2.0 * (-2.0 * half * half - self.angle(0.0).tan() * delta.sin()).ln_1p()
    }
    /// Solves `cos θ = e^{−B/2} cos θ₀` for `θ − θ₀` without cancellation, then
    /// `t = T (1 + s)(θ − θ₀)/(π/2)`. With `S = sin θ = sqrt(sin²θ₀ − cos²θ₀ expm1(−B))`,
    /// `sin(θ − θ₀) = −cos θ₀ expm1(−B)/(S + e^{−B/2} sin θ₀)` and
    /// `cos(θ − θ₀) = e^{−B/2} cos²θ₀ + S sin θ₀`, so `B = 0` gives `t = 0` exactly and small `B`
    /// keeps full relative accuracy (the direct `acos` lost ~`1/θ₀²` ulps there).
    fn time_of_integrated_beta(&self, big_b: f64) -> f64 {
        let (sin0, cos0) = self.angle(0.0).sin_cos();
        let em1 = (-big_b).exp_m1();
        let half = (-0.5 * big_b).exp();
        let sin_theta = (sin0 * sin0 - cos0 * cos0 * em1).sqrt();
        let sin_diff = -cos0 * em1 / (sin_theta + half * sin0);
        let cos_diff = half * cos0 * cos0 + sin_theta * sin0;
        self.scale * (1.0 + self.offset) * sin_diff.atan2(cos_diff) / FRAC_PI_2
    }
}

/// The Ornstein–Uhlenbeck process `dx = −x dt + sqrt(2) dw`: VP with `β ≡ 2`, so `a_t = e^{−t}`.
///
/// ```
/// use gmdiff_process::{GaussianPath, Ou};
/// let ou = Ou::new(5.0).unwrap();
/// assert!((ou.eval(1.0).a - (-1.0f64).exp()).abs() < 1e-16);
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

/// Any of the built-in paths, for configuration files and the CLI.
///
/// ```
/// use gmdiff_process::{GaussianPath, Process};
/// let p: Process = serde_json::from_str(r#"{"kind":"ou","horizon":2.0}"#).unwrap();
/// assert_eq!(p.horizon(), 2.0);
/// let e: Process = serde_json::from_str(r#"{"kind":"edm","sigma_max":80.0}"#).unwrap();
/// assert_eq!(e.start_std(), 80.0);
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
    /// [`crate::SubVp`].
    SubVp(crate::SubVp),
    /// [`crate::Ve`].
    Ve(crate::Ve),
    /// [`crate::Edm`].
    Edm(crate::Edm),
    /// [`crate::Flow`].
    Flow(crate::Flow),
}

impl Default for Process {
    fn default() -> Self {
        Process::Vp(VpLinear::default())
    }
}

impl Process {
    /// The CLI names of the paths, in the order of the variants.
    pub const NAMES: [&'static str; 7] = ["vp", "vp-cosine", "ou", "sub-vp", "ve", "edm", "flow"];
    /// True on the VP paths (`a² + b² = 1`): VP linear, VP cosine and OU.
    pub fn is_variance_preserving(&self) -> bool {
        matches!(self, Process::Vp(_) | Process::VpCosine(_) | Process::Ou(_))
    }
}

macro_rules! delegate {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            Process::Vp($p) => $e,
            Process::VpCosine($p) => $e,
            Process::Ou($p) => $e,
            Process::SubVp($p) => $e,
            Process::Ve($p) => $e,
            Process::Edm($p) => $e,
            Process::Flow($p) => $e,
        }
    };
}

impl GaussianPath for Process {
    fn horizon(&self) -> f64 {
        delegate!(self, p => GaussianPath::horizon(p))
    }
    fn defined_until(&self) -> f64 {
        delegate!(self, p => GaussianPath::defined_until(p))
    }
    fn eval(&self, t: f64) -> Coefficients {
        delegate!(self, p => p.eval(t))
    }
    fn time_of_lambda(&self, lambda: f64) -> f64 {
        delegate!(self, p => p.time_of_lambda(lambda))
    }
    fn time_of_sigma(&self, sigma: f64) -> f64 {
        delegate!(self, p => p.time_of_sigma(sigma))
    }
    fn sigma_at(&self, t: f64) -> f64 {
        delegate!(self, p => p.sigma_at(t))
    }
    fn start_std(&self) -> f64 {
        delegate!(self, p => p.start_std())
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
