//! Measurements of guided outputs: classification confidence, and the exact log-density of every
//! output sample (hence the differential entropy) by change of variables.

use crate::classes::ClassConditional;
use crate::error::GuidanceError;
use crate::guided::ScoreJacobian;
use faer::{Mat, MatMut, MatRef};
use gmdiff_process::Coefficients;
use gmdiff_solvers::{Algebra, Carrier, Particles, Sampler, Schedule, SolverError, StepInfo, run};
use rayon::prelude::*;
use std::f64::consts::PI;

/// A Monte Carlo mean with its standard error `s / √n` (`s` the sample standard deviation, `n − 1`
/// in the denominator).
///
/// ```
/// use gmdiff_guidance::Estimate;
/// let e = Estimate::from_values(&[1.0, 2.0, 3.0, 4.0]).unwrap();
/// assert_eq!(e.mean, 2.5);
/// assert!((e.stderr - (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The sample mean.
    pub mean: f64,
    /// Its standard error.
    pub stderr: f64,
    /// The number of values.
    pub n: usize,
}

impl Estimate {
    /// Mean and standard error of `values` (summed in order: deterministic). Needs `n ≥ 2` and
    /// finite values.
    pub fn from_values(values: &[f64]) -> Result<Self, GuidanceError> {
        let n = values.len();
        if n < 2 {
            return Err(GuidanceError::TooFewValues { found: n });
        }
        if !values.iter().all(|v| v.is_finite()) {
            return Err(GuidanceError::NonFinite { what: "values of a Monte Carlo mean".into() });
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        Ok(Self { mean, stderr: (var / n as f64).sqrt(), n })
    }
}

/// The classification confidence of samples: the mean of the exact data classifier
/// `p_0(y | x_r)` over the rows, with its standard error.
///
/// ```
/// use gmdiff_guidance::{ClassConditional, confidence};
/// let m: gmdiff_mixture::GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[-1.0],[1.0]],"covariances":[1.0,1.0]}"#).unwrap();
/// let model = ClassConditional::per_component(m);
/// let x = faer::mat![[0.0], [0.0]];
/// // At the midpoint both classes are equally likely.
/// assert!((confidence(&model, 1, x.as_ref()).unwrap().mean - 0.5).abs() < 1e-15);
/// ```
pub fn confidence(model: &ClassConditional, class: usize, samples: MatRef<'_, f64>) -> Result<Estimate, GuidanceError> {
    model.check_class(class)?;
    let lp = model.data_classifier()?.log_posterior_batch(samples, class)?;
    let p: Vec<f64> = lp.iter().map(|l| l.exp()).collect();
    Estimate::from_values(&p)
}

/// Samples with the exact log-density of their law at each of them; the entropy estimate is
/// `h = −(1/n) Σ_r log p_out(x_r)` with standard error `sd(log p_out)/√n`.
///
/// ```
/// use gmdiff_guidance::DensityOutput;
/// let out = DensityOutput { samples: faer::Mat::zeros(2, 1), log_density: vec![-1.0, -2.0], score_evals: 0 };
/// assert_eq!(out.entropy().unwrap().mean, 1.5);
/// ```
#[derive(Debug, Clone)]
pub struct DensityOutput {
    /// The samples `x_out`, `n × d`.
    pub samples: Mat<f64>,
    /// `log p_out(x_out,r)` for every row (see the producing function for what `p_out` is).
    pub log_density: Vec<f64>,
    /// Score evaluations per particle.
    pub score_evals: usize,
}

impl DensityOutput {
    /// The differential entropy estimate `h = −mean_r log p_out(x_r)` with its standard error.
    pub fn entropy(&self) -> Result<Estimate, GuidanceError> {
        let neg: Vec<f64> = self.log_density.iter().map(|l| -l).collect();
        Estimate::from_values(&neg)
    }
}

/// `n` start points `x_r ~ N(0, s² I_d)` (the path's standard start, `s = schedule.start_std()`),
/// drawn by the solvers' own particles (so exactly as `gmdiff_solvers::Start::Standard` draws them),
/// with `log N(x_r; 0, s² I) = −|x_r|²/(2s²) − d log s − (d/2) log 2π`.
fn standard_start<S: ScoreJacobian + ?Sized>(
    field: &S,
    schedule: &Schedule,
    n: usize,
    seed: u64,
) -> Result<(Vec<f64>, Vec<f64>), GuidanceError> {
    let d = field.dim();
    // The state, its log-densities and a few work arrays of the same size.
    gmdiff_solvers::check_particle_memory(n, d + 1, 4)?;
    let z = Particles::new(field, n, seed).noise();
    let s = schedule.start_std();
    let half_log_2pi = 0.5 * (2.0 * PI).ln();
    let log_norm = |z: &[f64]| -0.5 * z.iter().map(|v| v * v).sum::<f64>() - d as f64 * half_log_2pi;
    if s == 1.0 {
        let l = z.chunks(d).map(log_norm).collect();
        return Ok((z, l));
    }
    let l = z.chunks(d).map(|z| log_norm(z) - d as f64 * s.ln()).collect();
    Ok((z.into_iter().map(|v| s * v).collect(), l))
}

/// The particle carrier augmented with the log-density: each particle is the row
/// `(x_1, …, x_d, ℓ)`; the score of the augmented state is `(s_t(x), r (d + ℓ) − ∇·s_t(x))` with
/// `r = 2f/g²`, so the reverse-time drift `−f X + ½ g² s` of every Runge–Kutta scheme of the solvers
/// acts on `ℓ` as `f d − ½ g² ∇·s_t(x) = −∇·(−f x + ½ g² s_t(x))` (VP: `r = −1` and
/// `−β̃ (d + ∇·s)`): the instantaneous change of variables, integrated by the *same* stages as the
/// samples. [`flow_log_density`] runs samplers on it.
pub struct Augmented<'a, S: ScoreJacobian + ?Sized> {
    field: &'a S,
    n: usize,
    d: usize,
    state: Vec<Vec<f64>>,
    evals: usize,
    noise_requested: bool,
}

impl<S: ScoreJacobian + ?Sized> Algebra for Augmented<'_, S> {
    type Value = Vec<f64>;
    fn lin(&mut self, terms: &[(f64, &Vec<f64>)]) -> Vec<f64> {
        gmdiff_solvers::linear_combination(terms)
    }
    fn score(&mut self, at: &Coefficients, v: &Vec<f64>) -> Result<Vec<f64>, SolverError> {
        let (n, d, w) = (self.n, self.d, self.d + 1);
        let r = 2.0 * at.f / at.g2;
        let x = Mat::from_fn(n, d, |i, j| v[i * w + j]);
        let mut s = Mat::zeros(n, d);
        let mut div = vec![0.0; n];
        self.field
            .score_divergence_into(at, x.as_ref(), s.as_mut(), &mut div)
            .map_err(|e| SolverError::Score { t: at.t, message: e.to_string() })?;
        let mut out = vec![0.0; n * w];
        for i in 0..n {
            for j in 0..d {
                out[i * w + j] = s[(i, j)];
            }
            // σ = r (d + ℓ) − ∇·s with r = 2f/g² (−1 on VP, where this is −(d + ∇·s) − ℓ bit for bit).
            out[i * w + d] = r * d as f64 - div[i] + r * v[i * w + d];
        }
        self.evals += 1;
        Ok(out)
    }
    fn noise(&mut self) -> Vec<f64> {
        self.noise_requested = true;
        vec![0.0; self.n * (self.d + 1)]
    }
    fn score_evals(&self) -> usize {
        self.evals
    }
}

impl<S: ScoreJacobian + ?Sized> Carrier for Augmented<'_, S> {
    fn open(&mut self) -> Vec<Vec<f64>> {
        std::mem::take(&mut self.state)
    }
    fn close(&mut self, values: Vec<Vec<f64>>) -> Result<(), SolverError> {
        self.state = values;
        Ok(())
    }
}

/// Runs a flow-ODE Runge–Kutta sampler (`Euler`, `Heun`, `Rk4` or your own) from the path's standard
/// start `N(0, s² I_d)` and integrates the log-density along it: the instantaneous change of
/// variables `log p_out(x_out) = log N(x_start; 0, s² I) − ∫ ∇·k ds`, with the reverse-time drift
/// `k = −f x + ½ g² s_t(x)` (VP: `β̃ (x + s)`) and `∇·k = −f d + ½ g² tr ∇s_t`, the exact divergence
/// from [`ScoreJacobian`].
///
/// The samples are bit-identical to `gmdiff_solvers::sample(sampler, schedule, field,
/// Start::Standard, n, seed)`: the solvers' own step code runs on the augmented state
/// `(x, ℓ)`. **Discretisation**: `ℓ` is integrated by the same Runge–Kutta stages as `x`, so
/// `log_density` approximates the log-density of the *continuous* flow's output law at the
/// sample with the scheme's order (`O(h)`, `O(h²)`, `O(h⁴)`); it is not the exact density of the
/// discrete map. [`map_log_density`] gives that exactly for one-step maps (Euler, DDIM). Errors
/// ([`GuidanceError::Unsupported`]) unless every step is an explicit Runge–Kutta step on the drift,
/// read off the sampler's own code on [`Stages`] (built-ins: Euler, Heun, RK4; any user sampler of
/// that form).
///
/// ```
/// use gmdiff_guidance::{ClassConditional, Guidance, GuidedScore, flow_log_density};
/// use gmdiff_process::{Ou, Process, TimeGrid};
/// use gmdiff_solvers::{Rk4, Schedule};
/// let m: gmdiff_mixture::GaussianMixture = serde_json::from_str(
///     r#"{"weights":[1.0],"means":[[1.0]],"covariances":[0.25]}"#).unwrap();
/// let s = GuidedScore::new(ClassConditional::per_component(m), 0, 0.0, Guidance::Classifier).unwrap();
/// let p = Process::Ou(Ou::new(5.0).unwrap());
/// let sched = Schedule::grid(p, TimeGrid::uniform(&p, 40, 1e-3).unwrap());
/// let out = flow_log_density(&Rk4, &sched, &s, 2000, 1).unwrap();
/// // The output is ≈ N(1, 0.25): entropy ½ log(2πe · 0.25) ≈ 0.726.
/// assert!((out.entropy().unwrap().mean - 0.7258).abs() < 0.05);
/// ```
pub fn flow_log_density<'a, S: ScoreJacobian + ?Sized, M: Sampler<Augmented<'a, S>> + Sampler<Stages> + ?Sized>(
    sampler: &M,
    schedule: &Schedule,
    field: &'a S,
    n: usize,
    seed: u64,
) -> Result<DensityOutput, GuidanceError> {
    sampler.validate(schedule)?;
    // The augmented state is exact only for Runge–Kutta stages on the drift −f x + ½ g² s: read the
    // structure of every step off the sampler's own code.
    for k in 0..schedule.steps() {
        runge_kutta_on_drift(sampler, &schedule.step(k)?)?;
    }
    let d = field.dim();
    let (x, l) = standard_start(field, schedule, n, seed)?;
    let w = d + 1;
    let mut aug = vec![0.0; n * w];
    for i in 0..n {
        aug[i * w..i * w + d].copy_from_slice(&x[i * d..(i + 1) * d]);
        aug[i * w + d] = l[i];
    }
    let mut carrier = Augmented { field, n, d, state: vec![aug], evals: 0, noise_requested: false };
    run(sampler, schedule, &mut carrier, |_, _| Ok(()))?;
    if carrier.noise_requested {
        return Err(GuidanceError::Unsupported { what: format!("sampler `{}` drew noise: not a flow", sampler.name()) });
    }
    let v = &carrier.state[0];
    if !v.iter().all(|v| v.is_finite()) {
        return Err(GuidanceError::NonFinite { what: "the samples or their log-density (the scheme diverged)".into() });
    }
    Ok(DensityOutput {
        samples: Mat::from_fn(n, d, |i, j| v[i * w + j]),
        log_density: (0..n).map(|i| v[i * w + d]).collect(),
        score_evals: carrier.evals,
    })
}

/// A value of [`Stages`]: coefficients on the basis `(X, s_1, …, s_m)`, the step's start and the
/// results of its score evaluations so far.
#[derive(Debug, Clone)]
pub struct StageValue(Vec<f64>);

/// The algebra [`flow_log_density`] runs one step on to check that it is an explicit Runge–Kutta
/// step on the flow drift `k(t, x) = −f x + ½ g² s_t(x)` (VP: `β̃ (x + s)`): it records each score
/// evaluation's argument and the drift's two coefficients `(−f, ½ g²)`, and any noise.
#[derive(Debug, Default)]
pub struct Stages {
    calls: Vec<(f64, f64, StageValue)>,
    noise: bool,
}

impl Algebra for Stages {
    type Value = StageValue;
    fn lin(&mut self, terms: &[(f64, &StageValue)]) -> StageValue {
        let len = terms.iter().map(|(_, v)| v.0.len()).max().unwrap_or(0);
        let mut out = vec![0.0; len];
        for (c, v) in terms {
            for (o, x) in out.iter_mut().zip(&v.0) {
                *o += c * x;
            }
        }
        StageValue(out)
    }
    fn score(&mut self, at: &Coefficients, x: &StageValue) -> Result<StageValue, SolverError> {
        self.calls.push((-at.f, 0.5 * at.g2, x.clone()));
        let mut e = vec![0.0; self.calls.len() + 1];
        e[self.calls.len()] = 1.0;
        Ok(StageValue(e))
    }
    fn noise(&mut self) -> StageValue {
        self.noise = true;
        StageValue(Vec::new())
    }
    fn score_evals(&self) -> usize {
        self.calls.len()
    }
}

/// Checks that one step of `sampler` is `X ← X + Σ_i c_i f(t_i, Y_i)` with `Σ_i c_i = h` (consistent)
/// and every stage `Y_k = X + Σ_{i<k} a_ki f(t_i, Y_i)`: explicit Runge–Kutta on the flow drift,
/// one slot, no noise. Then the augmented carrier integrates `ℓ` by the same stages. The
/// coefficients `c_i` are solved from the last stage down, and the remainder must vanish to
/// `1e-9` relative.
fn runge_kutta_on_drift<M: Sampler<Stages> + ?Sized>(sampler: &M, info: &StepInfo) -> Result<(), GuidanceError> {
    let unsupported = |why: &str| GuidanceError::Unsupported {
        what: format!(
            "the instantaneous change of variables runs on explicit Runge–Kutta steps on the flow drift −f x + ½ g² s (euler, heun, rk4); `{}` {why} (use map_log_density for ddim)",
            sampler.name()
        ),
    };
    let mut alg = Stages::default();
    let start = sampler.init(&mut alg, StageValue(vec![1.0]));
    if start.len() != 1 || alg.noise {
        return Err(unsupported("keeps more than a position or draws noise"));
    }
    let out = sampler.step(&mut alg, info, start).map_err(|e| match e {
        SolverError::Unsupported { .. } => unsupported("does not run here"),
        other => GuidanceError::Solver(other),
    })?;
    if alg.noise || out.len() != 1 {
        return Err(unsupported("draws noise or keeps more than a position"));
    }
    // `v − X` must be Σ_{i<k} c_i (−f_i Y_i + ½ g_i² s_i); returns Σ c_i.
    let increments = |v: &StageValue, k: usize| -> Option<f64> {
        let mut r = v.0.clone();
        r.resize(alg.calls.len() + 1, 0.0);
        r[0] -= 1.0;
        let scale = v.0.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        let mut total = 0.0;
        for i in (0..k).rev() {
            let (cy, cs, y) = &alg.calls[i];
            if *cs == 0.0 || !cs.is_finite() || !cy.is_finite() {
                return None;
            }
            let c = r[i + 1] / cs;
            total += c;
            for (r, y) in r.iter_mut().zip(&y.0) {
                *r -= c * cy * y;
            }
            r[i + 1] = 0.0;
        }
        r.iter().all(|x| x.abs() <= 1e-9 * scale).then_some(total)
    };
    for k in 0..alg.calls.len() {
        if increments(&alg.calls[k].2, k).is_none() {
            return Err(unsupported("evaluates the score off the Runge–Kutta stages"));
        }
    }
    match increments(&out[0], alg.calls.len()) {
        Some(total) if !alg.calls.is_empty() && (total - info.h).abs() <= 1e-9 * info.h.abs() => Ok(()),
        _ => Err(unsupported("is not a consistent Runge–Kutta step on the drift")),
    }
}

/// Which log-density of a sampler's outputs can be tracked along with the samples
/// ([`density_route`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DensityRoute {
    /// Every step is a deterministic one-evaluation map `X ← c_x X + c_s s_t(X)` (ddim with η = 0,
    /// euler, ode-ei): [`map_log_density`] gives the **exact** density of the discrete output.
    Map,
    /// Every step is an explicit Runge–Kutta step on the flow drift (heun, rk4, or a user sampler of
    /// that form): [`flow_log_density`] integrates the instantaneous change of variables with the
    /// scheme's own stages (the continuous flow's density, to the scheme's order).
    Flow,
    /// Neither (a sampler that draws noise, keeps earlier evaluations, or evaluates off the stages):
    /// no density is tracked; an estimate from the samples ([`knn_entropy`]) is what remains.
    Samples,
}

/// The route to the log-density of `sampler`'s outputs on `schedule`, read off the sampler's own
/// step code at every step: [`DensityRoute::Map`] when [`step_coefficients`] accepts every step,
/// else [`DensityRoute::Flow`] when every step is an explicit Runge–Kutta step on the drift, else
/// [`DensityRoute::Samples`]. Costs one symbolic step per grid step (no score evaluations).
///
/// Errors: [`GuidanceError::Solver`] if the sampler refuses the schedule or a step fails for a
/// reason other than its structure.
///
/// ```
/// use gmdiff_guidance::{DensityRoute, density_route};
/// use gmdiff_solvers::{Builtin, Schedule};
/// let sched = Schedule::uniform_vp(100, 1e-3).unwrap();
/// let route = |name| density_route(&Builtin::from_name(name).unwrap(), &sched).unwrap();
/// assert_eq!(route("ddim"), DensityRoute::Map);
/// assert_eq!(route("heun"), DensityRoute::Flow);
/// assert_eq!(route("ddpm"), DensityRoute::Samples);
/// assert_eq!(route("dpmpp2m"), DensityRoute::Samples);
/// ```
pub fn density_route<M: Sampler<Symbolic> + Sampler<Stages> + ?Sized>(
    sampler: &M,
    schedule: &Schedule,
) -> Result<DensityRoute, GuidanceError> {
    sampler.validate(schedule)?;
    let infos = (0..schedule.steps()).map(|k| schedule.step(k)).collect::<Result<Vec<_>, _>>()?;
    let all = |check: &dyn Fn(&StepInfo) -> Result<(), GuidanceError>| -> Result<bool, GuidanceError> {
        for info in &infos {
            match check(info) {
                Ok(()) => {}
                Err(GuidanceError::Unsupported { .. }) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    };
    if all(&|info| step_coefficients(sampler, info).map(|_| ()))? {
        Ok(DensityRoute::Map)
    } else if all(&|info| runge_kutta_on_drift(sampler, info))? {
        Ok(DensityRoute::Flow)
    } else {
        Ok(DensityRoute::Samples)
    }
}

/// A symbolic value `c_x X + c_s s_t(X)` for reading a step's coefficients off the solvers' code.
#[derive(Debug, Clone, Copy)]
pub struct Sym {
    /// `c_x`.
    pub x: f64,
    /// `c_s`.
    pub s: f64,
}

/// The algebra of [`Sym`] values that [`step_coefficients`] runs one step on: it accepts one score
/// evaluation, at the step start and at the start position, and records any noise.
pub struct Symbolic {
    from: Coefficients,
    evals: usize,
    noise: bool,
    name: &'static str,
}

impl Algebra for Symbolic {
    type Value = Sym;
    fn lin(&mut self, terms: &[(f64, &Sym)]) -> Sym {
        terms.iter().fold(Sym { x: 0.0, s: 0.0 }, |acc, (c, v)| Sym { x: acc.x + c * v.x, s: acc.s + c * v.s })
    }
    fn score(&mut self, at: &Coefficients, v: &Sym) -> Result<Sym, SolverError> {
        if self.evals > 0 || v.x != 1.0 || v.s != 0.0 || *at != self.from {
            return Err(SolverError::Unsupported {
                sampler: self.name,
                schedule: "the exact map density (needs one score evaluation at the step start)",
            });
        }
        self.evals += 1;
        Ok(Sym { x: 0.0, s: 1.0 })
    }
    fn noise(&mut self) -> Sym {
        self.noise = true;
        Sym { x: 0.0, s: 0.0 }
    }
    fn score_evals(&self) -> usize {
        self.evals
    }
}

/// The coefficients `(c_x, c_s)` of a one-evaluation deterministic step `X ← c_x X + c_s s_t(X)`,
/// read off the solvers' own step code (DDIM with `η = 0`: `c_x = a_s/a_t`,
/// `c_s = a_s b_t²/a_t − b_s b_t`; flow Euler: `1 + h β̃`, `h β̃`; flow exponential: `e^δ`, `e^δ − 1`).
///
/// ```
/// use gmdiff_guidance::step_coefficients;
/// use gmdiff_solvers::{Ddim, Ddpm, Schedule};
/// let sched = Schedule::uniform_vp(10, 1e-3).unwrap();
/// let info = sched.step(0).unwrap();
/// let (cx, cs) = step_coefficients(&Ddim { eta: 0.0 }, &info).unwrap();
/// let (t, s) = (info.from, info.to);
/// assert!((cx - s.a / t.a).abs() < 1e-15 && (cs - (s.a * t.b * t.b / t.a - s.b * t.b)).abs() < 1e-15);
/// assert!(step_coefficients(&Ddpm::default(), &info).is_err());
/// ```
pub fn step_coefficients<M: Sampler<Symbolic> + ?Sized>(sampler: &M, info: &StepInfo) -> Result<(f64, f64), GuidanceError> {
    let unsupported = || GuidanceError::Unsupported {
        what: format!(
            "`{}` is not a deterministic one-evaluation map X ← c_x X + c_s s_t(X) (supported: ddim with η = 0, euler, ode-ei)",
            sampler.name()
        ),
    };
    // The sampler's own init and step, read symbolically: one slot, no noise, one evaluation.
    let mut alg = Symbolic { from: info.from, evals: 0, noise: false, name: sampler.name() };
    let start = sampler.init(&mut alg, Sym { x: 1.0, s: 0.0 });
    if start.len() != 1 || alg.noise {
        return Err(unsupported());
    }
    let state = sampler.step(&mut alg, info, start).map_err(|e| match e {
        SolverError::Unsupported { .. } => unsupported(),
        other => GuidanceError::Solver(other),
    })?;
    if alg.noise || alg.evals != 1 {
        return Err(unsupported());
    }
    Ok((state[0].x, state[0].s))
}

/// Runs a deterministic one-evaluation sampler (DDIM with `η = 0`, flow Euler, flow exponential
/// integrator) from `N(0, I_d)` and tracks the **exact** log-density of its output by the discrete
/// change of variables: each step is `F_k(x) = c_x x + c_s s_t(x)` with the symmetric Jacobian
/// `J_k = c_x I + c_s ∇s_t(x)`, so `log p_out(x_S) = log N(x_0; 0, I) − Σ_k log det J_k(x_k)`.
///
/// `F_k` is the gradient of `c_x ‖x‖²/2 + c_s log p̃_t(x)`; where `J_k` is positive definite the map is
/// locally invertible and orientation preserving. The log-determinant uses a Cholesky factorisation;
/// when it fails at a visited point the map may fold there and the function returns
/// [`GuidanceError::NotInvertible`] rather than a wrong density. (Positive definiteness is checked
/// at the visited points only; global injectivity needs it everywhere.) Costs `O(n S d³)`.
///
/// The samples are bit-identical to `gmdiff_solvers::sample(.., Start::Standard, n, seed)`. There is
/// no discretisation error in `log_density`: it is the density of the discrete sampler's output.
///
/// ```
/// use gmdiff_guidance::{ClassConditional, Guidance, GuidedScore, map_log_density};
/// use gmdiff_process::{Ou, Process, TimeGrid};
/// use gmdiff_solvers::{Ddim, Schedule};
/// let m: gmdiff_mixture::GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[-2.0],[2.0]],"covariances":[1.0,1.0]}"#).unwrap();
/// let p = Process::Ou(Ou::new(5.0).unwrap());
/// let sched = Schedule::grid(p, TimeGrid::uniform(&p, 50, 1e-3).unwrap());
/// let h = |eta| {
///     let s = GuidedScore::new(ClassConditional::per_component(m.clone()), 1, eta, Guidance::Classifier).unwrap();
///     map_log_density(&Ddim { eta: 0.0 }, &sched, &s, 4000, 3).unwrap().entropy().unwrap().mean
/// };
/// assert!(h(4.0) < h(0.0));
/// ```
pub fn map_log_density<S: ScoreJacobian + ?Sized, M: Sampler<Symbolic> + ?Sized>(
    sampler: &M,
    schedule: &Schedule,
    field: &S,
    n: usize,
    seed: u64,
) -> Result<DensityOutput, GuidanceError> {
    sampler.validate(schedule)?;
    let d = field.dim();
    let (mut x, mut l) = standard_start(field, schedule, n, seed)?;
    for k in 0..schedule.steps() {
        let info = schedule.step(k)?;
        let (cx, cs) = step_coefficients(sampler, &info)?;
        let xm = MatRef::from_row_major_slice(&x, n, d);
        let mut s = vec![0.0; n * d];
        field
            .score_into(&info.from, xm, MatMut::from_row_major_slice_mut(&mut s, n, d))
            .map_err(|e| GuidanceError::Solver(SolverError::Score { t: info.from.t, message: e.to_string() }))?;
        let jac = field
            .jacobian_batch(&info.from, xm)
            .map_err(|e| GuidanceError::Solver(SolverError::Score { t: info.from.t, message: e.to_string() }))?;
        let logdets: Vec<Option<f64>> = jac
            .par_iter()
            .map(|j| {
                let m = Mat::from_fn(d, d, |a, b| cs * j[(a, b)] + if a == b { cx } else { 0.0 });
                cholesky_logdet(m)
            })
            .collect();
        for (i, ld) in logdets.iter().enumerate() {
            match ld {
                Some(v) => l[i] -= v,
                None => return Err(GuidanceError::NotInvertible { step: k, particle: i }),
            }
        }
        x = gmdiff_solvers::linear_combination(&[(cx, &x), (cs, &s)]);
    }
    if !(x.iter().all(|v| v.is_finite()) && l.iter().all(|v| v.is_finite())) {
        return Err(GuidanceError::NonFinite { what: "the samples or their log-density (the scheme diverged)".into() });
    }
    Ok(DensityOutput { samples: Mat::from_fn(n, d, |i, j| x[i * d + j]), log_density: l, score_evals: schedule.steps() })
}

/// `log det M` of a symmetric matrix by Cholesky, `None` unless positive definite.
fn cholesky_logdet(mut m: Mat<f64>) -> Option<f64> {
    let d = m.nrows();
    let mut logdet = 0.0;
    for j in 0..d {
        let mut diag = m[(j, j)];
        for p in 0..j {
            diag -= m[(j, p)] * m[(j, p)];
        }
        if diag <= 0.0 || !diag.is_finite() {
            return None;
        }
        let ljj = diag.sqrt();
        m[(j, j)] = ljj;
        logdet += 2.0 * ljj.ln();
        for i in j + 1..d {
            let mut v = m[(i, j)];
            for p in 0..j {
                v -= m[(i, p)] * m[(j, p)];
            }
            m[(i, j)] = v / ljj;
        }
    }
    Some(logdet)
}

/// The Kozachenko–Leonenko `k`-nearest-neighbour entropy of samples (`gmdiff_metrics::entropy_knn`):
/// the estimator for outputs whose density is not tracked (DDPM). It has no standard error here
/// (its terms are dependent) and a bias that shrinks slowly with `n` in higher dimension.
///
/// ```
/// use gmdiff_mixture::{Gaussian, GaussianMixture};
/// let x = GaussianMixture::from_gaussian(Gaussian::standard(1).unwrap()).sample(4000, 2);
/// let h = gmdiff_guidance::knn_entropy(x.as_ref(), 5).unwrap();
/// assert!((h - 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln()).abs() < 0.06); // N(0, 1)
/// ```
pub fn knn_entropy(samples: MatRef<'_, f64>, k: usize) -> Result<f64, GuidanceError> {
    if k > 0 && samples.nrows() <= k {
        return Err(GuidanceError::TooFewSamples { found: samples.nrows(), needed: k + 1, k });
    }
    Ok(gmdiff_metrics::entropy_knn(samples, k)?)
}
