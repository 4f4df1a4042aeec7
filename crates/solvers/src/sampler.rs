//! The sampler interface: a sampler is one step, written once over any [`Algebra`], so it runs on
//! particles, on exact Gaussian laws and on any other [`Carrier`] (see [`crate::algebra`]).
//!
//! The built-in samplers live one per file in [`crate::samplers`] and are gathered in the enum
//! [`crate::Builtin`] for run-time choice by name. A sampler of your own is a type implementing
//! [`SamplerInfo`] and `impl<A: Algebra + ?Sized> Sampler<A>`; it then runs everywhere the built-ins
//! run (see `docs/adding-a-sampler.md` and `examples/custom_sampler.rs`).
//!
//! What a sampler costs and needs is *derived from its step code*, never restated:
//! [`score_evals`] and [`is_stochastic`] run the whole schedule on the counting algebra [`Count`]
//! (values are `()`), and [`slots`] is the length of the state [`Sampler::init`] builds.

use crate::algebra::{Algebra, Carrier};
use crate::error::SolverError;
use crate::schedule::{Schedule, StepInfo};
use gmdiff_process::Coefficients;

/// A sampler's name and parameter checks: object safe and independent of the carrier.
pub trait SamplerInfo: std::fmt::Debug + Send + Sync {
    /// The name (the CLI's `--sampler` value for the built-ins).
    fn name(&self) -> &'static str;
    /// Checks the parameters and that the sampler runs on `schedule`. The default accepts
    /// everything; a step written in continuous time should refuse a discrete chain with
    /// [`refuse_chain`].
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        let _ = schedule;
        Ok(())
    }
    /// How the sampler lands on the data's support at a last grid point with `b_S = 0` (`ε = 0`,
    /// EDM's final `σ = 0`, a chain's data end), if it does ([`Landing`]). `gmdiff-gaussian`'s
    /// support rule trusts it: with a denoiser exact on the null space of `Σ` where the landing reads
    /// it, the output then sits exactly on the data's affine support and the KL over that support is
    /// finite. The default claims nothing ([`Landing::No`]); a test runs every built-in's step code
    /// on a null lane and checks the claim both ways.
    fn landing(&self) -> Landing {
        Landing::No
    }
}

/// How a sampler's output lands on the data's support at `b_S = 0` ([`SamplerInfo::landing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landing {
    /// No claim: the output keeps a non-degenerate component off the support.
    No,
    /// The last step is `X_S = a_S x̂₀(·)`: the data prediction at `t_{S−1}` (or at a stage of the
    /// last step) and nothing else (no `X` term, no noise, no earlier predictions).
    Denoiser,
    /// Exact integration: along a null direction of `Σ` the step reproduces the exact flow whenever
    /// the score is exact there at every grid point `t_0 … t_{S−1}` (LMS: the data prediction is the
    /// constant `uᵀμ`, so `d = (x̃ − uᵀμ)/σ` is constant and its interpolant is exact).
    Integration,
}

/// A reverse-time sampler: one step, written once over any algebra `A`.
///
/// The state is a short list of values ("slots"); slot 0 is the position. [`run`] calls
/// [`SamplerInfo::validate`], then `init` once on the start position, then `step` once per
/// schedule step (`info` describes the step's times, see [`StepInfo`]).
///
/// ```
/// use gmdiff_solvers::{Algebra, Sampler, SamplerInfo, Schedule, SolverError, StepInfo, refuse_chain, score_evals};
/// /// Flow-ODE explicit midpoint: `X ← X + h k(t − h/2, X + h/2 k(t, X))`, with the path's
/// /// reverse-time drift `k = −f x + ½ g² s` (VP: `β̃ (x + s)`).
/// #[derive(Debug)]
/// struct Midpoint;
/// impl SamplerInfo for Midpoint {
///     fn name(&self) -> &'static str { "midpoint" }
///     fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> { refuse_chain(self.name(), schedule) }
/// }
/// impl<A: Algebra + ?Sized> Sampler<A> for Midpoint {
///     fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
///         let (t, m, h) = (&info.from, info.mid.as_ref().expect("grid"), info.h);
///         let s1 = alg.score(t, &state[0])?;
///         let k1 = alg.lin(&[(-t.f, &state[0]), (0.5 * t.g2, &s1)]);
///         let y = alg.lin(&[(1.0, &state[0]), (0.5 * h, &k1)]);
///         let s2 = alg.score(m, &y)?;
///         let k2 = alg.lin(&[(-m.f, &y), (0.5 * m.g2, &s2)]);
///         state[0] = alg.lin(&[(1.0, &state[0]), (h, &k2)]);
///         Ok(state)
///     }
/// }
/// assert_eq!(score_evals(&Midpoint, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), 20);
/// ```
pub trait Sampler<A: Algebra + ?Sized>: SamplerInfo {
    /// The initial state from a start position `x` (the standard start or `p_T`); one slot by default.
    fn init(&self, alg: &mut A, x: A::Value) -> Vec<A::Value> {
        let _ = alg;
        vec![x]
    }
    /// One step on `state` (slot 0 is the position); returns the new state.
    fn step(&self, alg: &mut A, info: &StepInfo, state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError>;
}

/// The check of a sampler whose step is written in continuous time: refuses a discrete chain (or
/// explicit discrete steps, [`Schedule::Pairs`]) with
/// [`SolverError::Unsupported`].
pub fn refuse_chain(sampler: &'static str, schedule: &Schedule) -> Result<(), SolverError> {
    match schedule {
        Schedule::Chain(_) | Schedule::Pairs(_) => Err(SolverError::Unsupported {
            sampler,
            schedule: "a discrete chain (it steps in continuous time or off the grid points; docs/solvers.md lists the samplers that run on chains)",
        }),
        Schedule::Grid { .. } => Ok(()),
    }
}

/// Runs `sampler` over `schedule` on a [`Carrier`] whose state holds the start position (one slot).
///
/// `observe(k, carrier)` is called after the initial state is set (`k = 0`) and after every step
/// (`k = 1..=S`, grid point `k`). The sampler is dispatched once per step; everything inside a step
/// is the carrier's own (static) code.
///
/// ```
/// use gmdiff_solvers::{Ddim, Diag, LawEngine, Marginal, Schedule, SpectralGaussian, run};
/// // Track the exact variance of one coordinate (λ = 0.25) along a DDIM run.
/// let target = SpectralGaussian::centred(vec![0.25]).unwrap();
/// let mut engine = LawEngine::new(&target, Marginal::<Diag>::standard());
/// let mut seen = 0;
/// run(&Ddim { eta: 0.0 }, &Schedule::uniform_vp(20, 1e-3).unwrap(), &mut engine, |_, _| { seen += 1; Ok(()) }).unwrap();
/// assert_eq!(seen, 21);
/// ```
pub fn run<C: Carrier + ?Sized, S: Sampler<C> + ?Sized>(
    sampler: &S,
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

/// The counting algebra: values are `()`, and `score` and `noise` calls are counted. Running a
/// sampler's own step code on it gives its cost and whether it is random ([`score_evals`],
/// [`is_stochastic`], [`slots`]) without restating them.
///
/// ```
/// use gmdiff_solvers::{Count, Rk4, Schedule, run};
/// let mut c = Count::new();
/// run(&Rk4, &Schedule::uniform_vp(10, 1e-3).unwrap(), &mut c, |_, _| Ok(())).unwrap();
/// assert_eq!((c.scores, c.noises, c.slots), (40, 0, 1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Count {
    /// `score` calls so far.
    pub scores: usize,
    /// `noise` calls so far.
    pub noises: usize,
    /// The number of slots of the state (1 before [`run`]: the start position).
    pub slots: usize,
}

impl Count {
    /// Zero counts and a one-slot state (the start position).
    pub fn new() -> Self {
        Self { scores: 0, noises: 0, slots: 1 }
    }
}

impl Algebra for Count {
    type Value = ();
    fn lin(&mut self, _: &[(f64, &())]) {}
    fn score(&mut self, _: &Coefficients, _: &()) -> Result<(), SolverError> {
        self.scores += 1;
        Ok(())
    }
    /// Counts one evaluation: the `x₀` prediction where `a_t = 0` is a model call like any other.
    fn data_mean(&mut self, _: &Coefficients) -> Result<(), SolverError> {
        self.scores += 1;
        Ok(())
    }
    fn noise(&mut self) {
        self.noises += 1;
    }
    fn score_evals(&self) -> usize {
        self.scores
    }
}

impl Carrier for Count {
    fn open(&mut self) -> Vec<()> {
        vec![(); self.slots]
    }
    fn close(&mut self, values: Vec<()>) -> Result<(), SolverError> {
        self.slots = values.len();
        Ok(())
    }
}

/// The counts of a whole run of `sampler` on `schedule` (its own step code on [`Count`]).
fn census<S: Sampler<Count> + ?Sized>(sampler: &S, schedule: &Schedule) -> Result<Count, SolverError> {
    let mut c = Count::new();
    run(sampler, schedule, &mut c, |_, _| Ok(()))?;
    Ok(c)
}

/// The number of score evaluations (per particle) of a whole run of `sampler` on `schedule`,
/// counted by running its step code on [`Count`]. Errors as [`run`] does (an invalid parameter, a
/// schedule the sampler refuses).
///
/// ```
/// use gmdiff_solvers::{Builtin, Schedule, score_evals};
/// let s = Builtin::from_name("rk4").unwrap();
/// assert_eq!(score_evals(&s, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), 40);
/// ```
pub fn score_evals<S: Sampler<Count> + ?Sized>(sampler: &S, schedule: &Schedule) -> Result<usize, SolverError> {
    Ok(census(sampler, schedule)?.scores)
}

/// True when a run of `sampler` on `schedule` draws fresh noise (in `init` or in a step), counted
/// by running its step code on [`Count`]. (DPOM on a one-step schedule never corrects, so it
/// draws none.)
///
/// ```
/// use gmdiff_solvers::{Ddim, Heun, Schedule, is_stochastic};
/// let s = Schedule::uniform_vp(10, 1e-3).unwrap();
/// assert!(!is_stochastic(&Heun, &s).unwrap());
/// assert!(is_stochastic(&Ddim { eta: 0.5 }, &s).unwrap() && !is_stochastic(&Ddim { eta: 0.0 }, &s).unwrap());
/// ```
pub fn is_stochastic<S: Sampler<Count> + ?Sized>(sampler: &S, schedule: &Schedule) -> Result<bool, SolverError> {
    Ok(census(sampler, schedule)?.noises > 0)
}

/// The number of state slots `sampler` keeps: the length of its [`Sampler::init`] state (1, or 2
/// for DPM-Solver++(2M)'s history and DPUM's velocity).
///
/// ```
/// use gmdiff_solvers::{DpmSolver2M, Euler, slots};
/// assert_eq!((slots(&Euler), slots(&DpmSolver2M::default())), (1, 2));
/// ```
pub fn slots<S: Sampler<Count> + ?Sized>(sampler: &S) -> usize {
    sampler.init(&mut Count::new(), ()).len()
}
