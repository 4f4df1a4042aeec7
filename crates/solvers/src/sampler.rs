//! The samplers. Each step is written once over an [`Algebra`], so it runs on particles and on
//! exact Gaussian laws alike (see [`crate::algebra`]).

use crate::algebra::{Algebra, Carrier};
use crate::error::{SolverError, check};
use crate::schedule::{Schedule, StepInfo};

/// Overdamped Langevin corrector `X ← X + h_c s_t(X) + sqrt(2 h_c) ξ`, aimed at `p_t`.
///
/// It runs `iterations` times after every `every`-th predictor step (never after the last step),
/// at the step's end time `t`, with `h_c = step_scale · b_t²` (the score scales like `1/b_t²`).
/// The schedule is our reconstruction of DPOM's "every 1/L of time" (THEORY §1, constants
/// unverified).
///
/// ```
/// use gmdiff_solvers::Langevin;
/// let c = Langevin::default();
/// assert_eq!((c.every, c.iterations), (1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Langevin {
    /// Correct after every `every` predictor steps (`≥ 1`).
    pub every: usize,
    /// Corrector iterations per correction.
    pub iterations: usize,
    /// `h_c = step_scale · b_t²`, `> 0`.
    pub step_scale: f64,
}

impl Default for Langevin {
    fn default() -> Self {
        Self { every: 1, iterations: 1, step_scale: 0.05 }
    }
}

/// Underdamped Langevin corrector with friction `γ` (DPUM), on position `X` and velocity `V`:
/// the dynamics `dX = V dt`, `dV = (s_t(X) − γ V) dt + sqrt(2γ) dW` leave `p_t ⊗ N(0, I)` invariant.
///
/// One iteration with `h = step_scale · b_t` and `γ_t = friction / b_t` (so the corrector is
/// invariant to the noise scale) is the BAOAB splitting (Leimkuhler–Matthews; 2 score evaluations):
/// `V ← V + h/2 s_t(X)`, `X ← X + h/2 V`, `V ← e^{−γ_t h} V + sqrt(1 − e^{−2 γ_t h}) ξ` (exact friction
/// and noise), `X ← X + h/2 V`, `V ← V + h/2 s_t(X)`. The velocity starts as `N(0, I)` and is kept
/// across steps.
/// \[reconstructed\] — Chen et al.'s exact discretisation and constants were not retrievable.
///
/// ```
/// use gmdiff_solvers::Underdamped;
/// assert_eq!(Underdamped::default().friction, 2.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Underdamped {
    /// Correct after every `every` predictor steps (`≥ 1`).
    pub every: usize,
    /// Corrector iterations per correction.
    pub iterations: usize,
    /// `h = step_scale · b_t`, `> 0`.
    pub step_scale: f64,
    /// Friction `γ` in units of `1/b_t`, `> 0`.
    pub friction: f64,
}

impl Default for Underdamped {
    fn default() -> Self {
        Self { every: 1, iterations: 1, step_scale: 0.2, friction: 2.0 }
    }
}

/// A reverse-time sampler. `β̃ = β/2`; step `k` goes from forward time `t = t_k` to `s = t_{k+1}`,
/// `h = t − s`, `δ = (B(t) − B(s))/2`; `ξ ~ N(0, I)` is fresh noise; the score is evaluated at the
/// start of each step unless stated otherwise.
///
/// * `EulerMaruyama`: `X ← X + h β̃(t) (X + 2 s_t(X)) + sqrt(2 h β̃(t)) ξ`.
/// * `ExponentialIntegrator`: `X ← X + γ₁ (X + 2 s_t(X)) + sqrt(2 γ₂) ξ`, `γ₁ = e^δ − 1`,
///   `γ₂ = (e^{2δ} − 1)/2` (Chen et al.; OU: `e^h X + 2(e^h − 1) s + sqrt(e^{2h} − 1) ξ`).
/// * `Ddpm`: `X ← (X + β_k s_t(X)) / sqrt(1 − β_k) + sqrt(β_k) ξ`, `β_k = h β(t)` on a grid
///   (THEORY §3) or the chain's `β_k` (Li–Cai–Wei); `β_k ≥ 1` is refused.
/// * `Ddim { eta }`: `x̂₀ = (X + b_t² s)/a_t`, `ε̂ = −b_t s`,
///   `σ = η sqrt(b_s²/b_t² (1 − a_t²/a_s²))`, `X ← a_s x̂₀ + sqrt(b_s² − σ²) ε̂ + σ ξ`.
/// * `Euler`: `X ← X + h β̃(t) (X + s_t(X))` (flow ODE).
/// * `Heun`: `k₁ = f(t, X)`, `k₂ = f(s, X + h k₁)`, `X ← X + h/2 (k₁ + k₂)`, `f(t, x) = β̃(t)(x + s_t(x))`.
/// * `Rk4`: the classical four stages on `f`, stages 2 and 3 at `t − h/2`.
/// * `OdeExponential`: `X ← e^δ X + (e^δ − 1) s_t(X)`.
/// * `DpmSolver2M`: DPM-Solver++(2M) in data prediction with `λ = log(a/b)`; first order on the first
///   step and on a last step to `b_s = 0`.
/// * `Dpom(c)`: `OdeExponential` predictor and the overdamped [`Langevin`] corrector.
/// * `Dpum(c)`: `OdeExponential` predictor and the [`Underdamped`] corrector.
///
/// ```
/// use gmdiff_solvers::{Sampler, Schedule};
/// let s = Sampler::from_name("rk4").unwrap();
/// assert_eq!(s.score_evals(&Schedule::uniform_vp(10, 1e-3).unwrap()), 40);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    /// Reverse-SDE Euler–Maruyama.
    EulerMaruyama,
    /// Reverse-SDE exponential integrator.
    ExponentialIntegrator,
    /// DDPM ancestral sampling.
    Ddpm,
    /// DDIM with stochasticity `η ∈ [0, 1]`.
    Ddim {
        /// `η`: 0 is the deterministic DDIM, 1 is DDPM-like.
        eta: f64,
    },
    /// Flow-ODE explicit Euler.
    Euler,
    /// Flow-ODE Heun (2 score evaluations per step).
    Heun,
    /// Flow-ODE classical Runge–Kutta 4 (4 score evaluations per step).
    Rk4,
    /// Flow-ODE exponential integrator.
    OdeExponential,
    /// DPM-Solver++(2M).
    DpmSolver2M,
    /// Flow-ODE exponential predictor + overdamped Langevin corrector.
    Dpom(Langevin),
    /// Flow-ODE exponential predictor + underdamped Langevin corrector.
    Dpum(Underdamped),
}

impl Sampler {
    /// Every sampler name the CLI accepts.
    pub const NAMES: [&'static str; 11] = ["em", "ei", "ddpm", "ddim", "euler", "heun", "rk4", "ode-ei", "dpmpp2m", "dpom", "dpum"];

    /// The sampler of a CLI name, with default parameters (`ddim` is `η = 0`).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "em" => Sampler::EulerMaruyama,
            "ei" => Sampler::ExponentialIntegrator,
            "ddpm" => Sampler::Ddpm,
            "ddim" => Sampler::Ddim { eta: 0.0 },
            "euler" => Sampler::Euler,
            "heun" => Sampler::Heun,
            "rk4" => Sampler::Rk4,
            "ode-ei" => Sampler::OdeExponential,
            "dpmpp2m" => Sampler::DpmSolver2M,
            "dpom" => Sampler::Dpom(Langevin::default()),
            "dpum" => Sampler::Dpum(Underdamped::default()),
            _ => return None,
        })
    }

    /// The CLI name.
    pub fn name(&self) -> &'static str {
        match self {
            Sampler::EulerMaruyama => "em",
            Sampler::ExponentialIntegrator => "ei",
            Sampler::Ddpm => "ddpm",
            Sampler::Ddim { .. } => "ddim",
            Sampler::Euler => "euler",
            Sampler::Heun => "heun",
            Sampler::Rk4 => "rk4",
            Sampler::OdeExponential => "ode-ei",
            Sampler::DpmSolver2M => "dpmpp2m",
            Sampler::Dpom(_) => "dpom",
            Sampler::Dpum(_) => "dpum",
        }
    }

    /// True for the samplers that draw fresh noise.
    pub fn is_stochastic(&self) -> bool {
        match self {
            Sampler::EulerMaruyama | Sampler::ExponentialIntegrator | Sampler::Ddpm | Sampler::Dpom(_) | Sampler::Dpum(_) => true,
            Sampler::Ddim { eta } => *eta > 0.0,
            _ => false,
        }
    }

    /// Checks the parameters and that the sampler runs on `schedule`.
    pub fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        match self {
            Sampler::Ddim { eta } => {
                check("eta", *eta, |e| (0.0..=1.0).contains(&e), "must lie in [0, 1]")?;
            }
            Sampler::Dpom(c) => {
                check("step_scale", c.step_scale, |h| h > 0.0, "must be finite and > 0")?;
                check("every", c.every as f64, |e| e >= 1.0, "must be ≥ 1")?;
            }
            Sampler::Dpum(c) => {
                check("step_scale", c.step_scale, |h| h > 0.0, "must be finite and > 0")?;
                check("friction", c.friction, |g| g > 0.0, "must be finite and > 0")?;
                check("every", c.every as f64, |e| e >= 1.0, "must be ≥ 1")?;
            }
            _ => {}
        }
        let on_chain = matches!(self, Sampler::Ddpm | Sampler::Ddim { .. } | Sampler::DpmSolver2M);
        if let Schedule::Chain(_) = schedule
            && !on_chain
        {
            return Err(SolverError::Unsupported { sampler: self.name(), schedule: "a discrete chain (use ddpm, ddim or dpmpp2m)" });
        }
        Ok(())
    }

    /// Number of state slots: 1, or 2 for DPM-Solver++(2M) (history) and DPUM (velocity).
    pub fn slots(&self) -> usize {
        match self {
            Sampler::DpmSolver2M | Sampler::Dpum(_) => 2,
            _ => 1,
        }
    }

    /// The number of score evaluations (per particle) of a whole run on `schedule`.
    pub fn score_evals(&self, schedule: &Schedule) -> usize {
        let s = schedule.steps();
        let corrections = |every: usize, iterations: usize| iterations * (1..s).filter(|j| j.is_multiple_of(every.max(1))).count();
        match self {
            Sampler::Heun => 2 * s,
            Sampler::Rk4 => 4 * s,
            Sampler::Dpom(c) => s + corrections(c.every, c.iterations),
            Sampler::Dpum(c) => s + 2 * corrections(c.every, c.iterations),
            _ => s,
        }
    }

    /// The initial state from a start position `x` (the law `N(0, I)` or `p_T`).
    pub fn init<A: Algebra>(&self, alg: &mut A, x: A::Value) -> Vec<A::Value> {
        match self {
            Sampler::DpmSolver2M => vec![x.clone(), x],
            Sampler::Dpum(_) => {
                let v = alg.noise();
                vec![x, v]
            }
            _ => vec![x],
        }
    }

    /// One step of the sampler on `state` (slot 0 is the position).
    pub fn step<A: Algebra>(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s, h) = (&info.from, &info.to, info.h);
        let x = &state[0];
        let half_log_ratio = 0.5 * (t.integrated_beta - s.integrated_beta);
        let need_grid =
            || if info.continuous { Ok(()) } else { Err(SolverError::Unsupported { sampler: self.name(), schedule: "a discrete chain" }) };
        let new_x = match self {
            Sampler::EulerMaruyama => {
                need_grid()?;
                let b = 0.5 * t.beta;
                let sc = alg.score(t, x)?;
                let xi = alg.noise();
                alg.lin(&[(1.0 + h * b, x), (2.0 * h * b, &sc), ((2.0 * h * b).sqrt(), &xi)])
            }
            Sampler::ExponentialIntegrator => {
                need_grid()?;
                let g1 = half_log_ratio.exp_m1();
                let g2 = 0.5 * (2.0 * half_log_ratio).exp_m1();
                let sc = alg.score(t, x)?;
                let xi = alg.noise();
                alg.lin(&[(1.0 + g1, x), (2.0 * g1, &sc), ((2.0 * g2).sqrt(), &xi)])
            }
            Sampler::Ddpm => {
                let beta = info.ddpm_beta;
                if !(beta > 0.0 && beta < 1.0) {
                    return Err(SolverError::DdpmRate { step: info.index, beta, t: t.t });
                }
                let r = 1.0 / (1.0 - beta).sqrt();
                let sc = alg.score(t, x)?;
                let xi = alg.noise();
                alg.lin(&[(r, x), (beta * r, &sc), (beta.sqrt(), &xi)])
            }
            Sampler::Ddim { eta } => {
                let ratio = -(-(t.integrated_beta - s.integrated_beta)).exp_m1(); // 1 − a_t²/a_s²
                let sigma = eta * (s.b * s.b / (t.b * t.b) * ratio).sqrt();
                let keep = (s.b * s.b - sigma * sigma).max(0.0).sqrt();
                let sc = alg.score(t, x)?;
                let c_x = s.a / t.a;
                let c_s = s.a * t.b * t.b / t.a - keep * t.b;
                if sigma > 0.0 {
                    let xi = alg.noise();
                    alg.lin(&[(c_x, x), (c_s, &sc), (sigma, &xi)])
                } else {
                    alg.lin(&[(c_x, x), (c_s, &sc)])
                }
            }
            Sampler::Euler => {
                need_grid()?;
                let b = 0.5 * t.beta;
                let sc = alg.score(t, x)?;
                alg.lin(&[(1.0 + h * b, x), (h * b, &sc)])
            }
            Sampler::Heun => {
                need_grid()?;
                let k1 = drift(alg, t, x)?;
                let x1 = alg.lin(&[(1.0, x), (h, &k1)]);
                let k2 = drift(alg, s, &x1)?;
                alg.lin(&[(1.0, x), (0.5 * h, &k1), (0.5 * h, &k2)])
            }
            Sampler::Rk4 => {
                need_grid()?;
                let m = info.mid.as_ref().expect("grid steps have a midpoint");
                let k1 = drift(alg, t, x)?;
                let y2 = alg.lin(&[(1.0, x), (0.5 * h, &k1)]);
                let k2 = drift(alg, m, &y2)?;
                let y3 = alg.lin(&[(1.0, x), (0.5 * h, &k2)]);
                let k3 = drift(alg, m, &y3)?;
                let y4 = alg.lin(&[(1.0, x), (h, &k3)]);
                let k4 = drift(alg, s, &y4)?;
                alg.lin(&[(1.0, x), (h / 6.0, &k1), (h / 3.0, &k2), (h / 3.0, &k3), (h / 6.0, &k4)])
            }
            Sampler::OdeExponential | Sampler::Dpom(_) | Sampler::Dpum(_) => {
                need_grid()?;
                let sc = alg.score(t, x)?;
                alg.lin(&[(half_log_ratio.exp(), x), (half_log_ratio.exp_m1(), &sc)])
            }
            Sampler::DpmSolver2M => {
                let sc = alg.score(t, x)?;
                let d = alg.lin(&[(1.0 / t.a, x), (t.b * t.b / t.a, &sc)]);
                let new_x = if s.b == 0.0 {
                    alg.lin(&[(s.a, &d)])
                } else {
                    // e^{−h} with h = λ_s − λ_t, λ = log(a/b), computed without logarithms.
                    let em = (t.a * s.b) / (t.b * s.a);
                    let c_x = s.b / t.b;
                    let c_d = s.a * (1.0 - em);
                    match &info.prev {
                        Some(p) if info.index > 0 => {
                            let lambda = |c: &gmdiff_process::Coefficients| c.a.ln() - c.b.ln();
                            let r = (lambda(t) - lambda(p)) / (lambda(s) - lambda(t));
                            let w = 0.5 / r;
                            alg.lin(&[(c_x, x), (c_d * (1.0 + w), &d), (-c_d * w, &state[1])])
                        }
                        _ => alg.lin(&[(c_x, x), (c_d, &d)]),
                    }
                };
                state[1] = d;
                new_x
            }
        };
        state[0] = new_x;
        let correct_now = |every: usize| (info.index + 1) < info.steps && (info.index + 1).is_multiple_of(every);
        match self {
            Sampler::Dpom(c) if correct_now(c.every) => {
                let hc = c.step_scale * s.b * s.b;
                for _ in 0..c.iterations {
                    let sc = alg.score(s, &state[0])?;
                    let xi = alg.noise();
                    state[0] = alg.lin(&[(1.0, &state[0]), (hc, &sc), ((2.0 * hc).sqrt(), &xi)]);
                }
            }
            Sampler::Dpum(c) if correct_now(c.every) => {
                let hc = c.step_scale * s.b;
                let gamma = c.friction / s.b;
                let decay = (-gamma * hc).exp();
                let kick = (-(-2.0 * gamma * hc).exp_m1()).sqrt();
                for _ in 0..c.iterations {
                    // BAOAB: half kick, half drift, exact friction + noise, half drift, half kick.
                    let sc = alg.score(s, &state[0])?;
                    let v = alg.lin(&[(1.0, &state[1]), (0.5 * hc, &sc)]);
                    let x = alg.lin(&[(1.0, &state[0]), (0.5 * hc, &v)]);
                    let xi = alg.noise();
                    let v = alg.lin(&[(decay, &v), (kick, &xi)]);
                    let x = alg.lin(&[(1.0, &x), (0.5 * hc, &v)]);
                    let sc = alg.score(s, &x)?;
                    state[1] = alg.lin(&[(1.0, &v), (0.5 * hc, &sc)]);
                    state[0] = x;
                }
            }
            _ => {}
        }
        Ok(state)
    }
}

/// The flow-ODE drift in reverse time, `f(t, x) = β̃(t) (x + s_t(x))`.
fn drift<A: Algebra>(alg: &mut A, at: &gmdiff_process::Coefficients, x: &A::Value) -> Result<A::Value, SolverError> {
    let b = 0.5 * at.beta;
    let sc = alg.score(at, x)?;
    Ok(alg.lin(&[(b, x), (b, &sc)]))
}

/// Runs `sampler` over `schedule` on a [`Carrier`] whose state holds the start position (one slot).
///
/// `observe(k, carrier)` is called after the initial state is set (`k = 0`) and after every step
/// (`k = 1..=S`, grid point `k`).
///
/// ```
/// use gmdiff_solvers::{Diag, LawEngine, Marginal, Sampler, Schedule, SpectralGaussian, run};
/// // Track the exact variance of one coordinate (λ = 0.25) along a DDIM run.
/// let target = SpectralGaussian::centred(vec![0.25]).unwrap();
/// let mut engine = LawEngine::new(&target, Marginal::<Diag>::standard());
/// let mut seen = 0;
/// run(&Sampler::Ddim { eta: 0.0 }, &Schedule::uniform_vp(20, 1e-3).unwrap(), &mut engine, |_, _| { seen += 1; Ok(()) }).unwrap();
/// assert_eq!(seen, 21);
/// ```
pub fn run<C: Carrier>(
    sampler: &Sampler,
    schedule: &Schedule,
    carrier: &mut C,
    mut observe: impl FnMut(usize, &C) -> Result<(), SolverError>,
) -> Result<(), SolverError> {
    sampler.validate(schedule)?;
    let mut start = carrier.open();
    if start.is_empty() {
        return Err(SolverError::Dimension { what: "initial state slots", expected: 1, found: 0 });
    }
    let x = start.swap_remove(0);
    let state = sampler.init(carrier, x);
    carrier.close(state)?;
    observe(0, carrier)?;
    for k in 0..schedule.steps() {
        let info = schedule.step(k)?;
        let state = carrier.open();
        let state = sampler.step(carrier, &info, state)?;
        carrier.close(state)?;
        observe(k + 1, carrier)?;
    }
    Ok(())
}
