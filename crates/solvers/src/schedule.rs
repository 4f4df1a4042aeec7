//! Where a sampler runs: a continuous process on a time grid, or a discrete DDPM chain.

use crate::error::SolverError;
use gmdiff_process::{Coefficients, DiscreteChain, GaussianPath, Process, TimeGrid};

/// A continuous process with a decreasing grid `T = t_0 > … > t_S = ε`, or a discrete chain.
///
/// ```
/// use gmdiff_process::{Process, TimeGrid, VpLinear};
/// use gmdiff_solvers::Schedule;
/// let p = Process::Vp(VpLinear::default());
/// let s = Schedule::grid(p, TimeGrid::uniform(&p, 10, 1e-3).unwrap());
/// assert_eq!(s.steps(), 10);
/// let info = s.step(0).unwrap();
/// assert_eq!((info.from.t, info.to.t), (1.0, 1.0 - 0.0999));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// A continuous process on a grid.
    Grid {
        /// The forward process.
        process: Process,
        /// The grid, from `T` down to `ε`.
        grid: TimeGrid,
    },
    /// A discrete chain `X_k = sqrt(α_k) X_{k−1} + sqrt(1 − α_k) W_k`, run from `k = N` down to `0`.
    Chain(DiscreteChain),
    /// Explicit discrete steps, each from one point to another, where a step need not start where
    /// the previous one ended (diffusers' DDIM, DDPM and PNDM step from `t` to `t − ⌊N/n⌋`, which with
    /// `linspace` spacing is not the next timestep: huggingface/diffusers issue 12633).
    Pairs(StepPairs),
}

/// The steps of [`Schedule::Pairs`]: step `k` goes from `from[k]` to `to[k]`; the next step starts
/// at `from[k + 1]`, which may differ from `to[k]`. Grid point `k < S` is `from[k]` and point `S` is
/// `to[S − 1]`. Discrete: no time derivatives, no path; a step's DDPM rate is
/// `β_k = 1 − a_t²/a_s²` (on VP points `1 − ᾱ_t/ᾱ_s`, the rate of the two-point chain).
///
/// ```
/// use gmdiff_solvers::{Schedule, StepPairs};
/// // DDIM, 1000 training steps, 3 inference steps, linspace: timesteps 999, 500, 0 but stride 333.
/// let abar = |t: f64| (-(1e-4 * t + 1e-5 * t * t)).exp();
/// let from = [(999.0, abar(999.0)), (500.0, abar(500.0)), (0.0, abar(0.0))];
/// let to = [(666.0, abar(666.0)), (167.0, abar(167.0)), (-1.0, 1.0)];
/// let s = Schedule::Pairs(StepPairs::vp(&from, &to).unwrap());
/// assert_eq!(s.steps(), 3);
/// let step = s.step(0).unwrap();
/// assert_eq!((step.from.t, step.to.t, s.step(1).unwrap().from.t), (999.0, 666.0, 500.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StepPairs {
    from: Vec<Coefficients>,
    to: Vec<Coefficients>,
    mid: Option<Vec<Coefficients>>,
}

impl StepPairs {
    /// Steps between discrete VP points given as `(label, ᾱ)`: `from[k] → to[k]`
    /// ([`Coefficients::discrete`]).
    ///
    /// Errors: [`SolverError::Dimension`] when the lists are empty or of different lengths;
    /// [`SolverError::InvalidParameter`] when an `ᾱ` is not in `[0, 1]` or a label is not finite.
    pub fn vp(from: &[(f64, f64)], to: &[(f64, f64)]) -> Result<Self, SolverError> {
        if from.is_empty() || from.len() != to.len() {
            return Err(SolverError::Dimension { what: "step pairs (to points)", expected: from.len().max(1), found: to.len() });
        }
        let point = |&(t, ab): &(f64, f64)| -> Result<Coefficients, SolverError> {
            crate::error::check("step label t", t, |_| true, "must be finite")?;
            crate::error::check("alpha_bar", ab, |v| (0.0..=1.0).contains(&v), "must lie in [0, 1]")?;
            Ok(Coefficients::discrete(t, ab))
        };
        Ok(Self { from: from.iter().map(point).collect::<Result<_, _>>()?, to: to.iter().map(point).collect::<Result<_, _>>()?, mid: None })
    }
    /// The same steps with an intermediate VP point per step (`StepInfo::mid`; PNDM's half steps
    /// `t − ⌊⌊N/n⌋/2⌋`).
    ///
    /// Errors: as [`StepPairs::vp`], and [`SolverError::Dimension`] unless there is one per step.
    pub fn with_mid(mut self, mid: &[(f64, f64)]) -> Result<Self, SolverError> {
        if mid.len() != self.from.len() {
            return Err(SolverError::Dimension { what: "step pairs (mid points)", expected: self.from.len(), found: mid.len() });
        }
        let check = Self::vp(mid, mid)?;
        self.mid = Some(check.from);
        Ok(self)
    }
    /// The start points of the steps.
    pub fn from_points(&self) -> &[Coefficients] {
        &self.from
    }
    /// The end points of the steps.
    pub fn to_points(&self) -> &[Coefficients] {
        &self.to
    }
}

/// Everything a step needs to know about its times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    /// Step index `k`, `0..S`.
    pub index: usize,
    /// Total number of steps `S`.
    pub steps: usize,
    /// Coefficients at the start `t_k`.
    pub from: Coefficients,
    /// Coefficients at the end `t_{k+1}`.
    pub to: Coefficients,
    /// Coefficients at the midpoint `t_k − h/2` (continuous schedules; on [`Schedule::Pairs`] the
    /// intermediate point given with [`StepPairs::with_mid`], if any).
    pub mid: Option<Coefficients>,
    /// Coefficients at the earlier grid times `t_{k−1}`, `t_{k−2}`, `t_{k−3}` (for multistep
    /// methods; `None` before the start).
    pub history: [Option<Coefficients>; 3],
    /// The continuous path (`None` on a chain): for the samplers that evaluate the score at times
    /// off the grid, through [`StepInfo::at_lambda`] and [`StepInfo::at_sigma`].
    pub path: Option<Process>,
    /// The step length `h = t_k − t_{k+1}` in forward time (`1` on a chain).
    pub h: f64,
    /// The DDPM rate: `β_k = h·g²(t_k)/c²(t_k)` on a grid, the rate of the VP-normalised variable
    /// `x/c_t` (on VP paths `g² = β` and `c = 1`, so `β_k = h·β(t_k)`, THEORY §3); the chain's `β_k` on
    /// a chain.
    pub ddpm_beta: f64,
    /// True on a continuous schedule.
    pub continuous: bool,
}

impl StepInfo {
    /// The coefficients at the earlier grid time `t_{k−j}`, `j = 1, 2, 3` (`None` before the
    /// start or for `j` outside `1..=3`).
    pub fn earlier(&self, j: usize) -> Option<&Coefficients> {
        j.checked_sub(1).and_then(|i| self.history.get(i)).and_then(Option::as_ref)
    }

    /// The path's coefficients at the time where `λ_t = log(a_t/b_t) = lambda` (for a stage off the
    /// grid, e.g. the midpoint in `λ` of DPM-Solver-2). Checked against the path's
    /// [`GaussianPath::defined_until`], not its horizon, so that a stage may lie above `T` (EDM's
    /// churn raises `σ`).
    ///
    /// Errors: [`SolverError::Unsupported`] on a discrete chain (`sampler` names the caller), and
    /// the path's time error when the time is not finite or not defined.
    pub fn at_lambda(&self, sampler: &'static str, lambda: f64) -> Result<Coefficients, SolverError> {
        let path = self.path.as_ref().ok_or(SolverError::Unsupported { sampler, schedule: "a discrete chain" })?;
        Ok(path.coefficients(path.time_of_lambda(lambda))?)
    }

    /// The path's coefficients where `σ_t = b_t/a_t = sigma` (see [`StepInfo::at_lambda`]).
    pub fn at_sigma(&self, sampler: &'static str, sigma: f64) -> Result<Coefficients, SolverError> {
        let path = self.path.as_ref().ok_or(SolverError::Unsupported { sampler, schedule: "a discrete chain" })?;
        Ok(path.coefficients(path.time_of_sigma(sigma))?)
    }
}

impl Schedule {
    /// A continuous process on a grid.
    pub fn grid(process: Process, grid: TimeGrid) -> Self {
        Schedule::Grid { process, grid }
    }
    /// The default schedule of the CLI and of Pierret–Galerne: VP linear (0.1, 20, T = 1), `steps`
    /// uniform steps down to `eps`.
    pub fn uniform_vp(steps: usize, eps: f64) -> Result<Self, SolverError> {
        let p = Process::default();
        Ok(Self::grid(p, TimeGrid::uniform(&p, steps, eps)?))
    }
    /// The standard deviation `s` of the standard start `N(0, s² I)`: the path's
    /// [`GaussianPath::start_std`] (`σ_max` on VE and EDM, else 1), and 1 on a chain.
    pub fn start_std(&self) -> f64 {
        match self {
            Schedule::Grid { process, .. } => process.start_std(),
            Schedule::Chain(_) | Schedule::Pairs(_) => 1.0,
        }
    }
    /// The coefficients of the data end, `t = 0` (`a = 1`, `b = 0` on VP paths and discrete
    /// schedules): where an output is compared with the data.
    pub fn data_point(&self) -> Result<Coefficients, SolverError> {
        Ok(match self {
            Schedule::Grid { process, .. } => process.at(0.0)?,
            Schedule::Chain(c) => c.at(0)?,
            Schedule::Pairs(_) => Coefficients::discrete(0.0, 1.0),
        })
    }
    /// Number of steps `S`.
    pub fn steps(&self) -> usize {
        match self {
            Schedule::Grid { grid, .. } => grid.steps(),
            Schedule::Chain(c) => c.len(),
            Schedule::Pairs(p) => p.from.len(),
        }
    }
    /// The coefficients at grid point `k ∈ 0..=S` (`k = 0` is the start, the noisiest point).
    pub fn point(&self, k: usize) -> Result<Coefficients, SolverError> {
        if k > self.steps() {
            return Err(SolverError::InvalidParameter {
                name: "grid point k",
                value: k as f64,
                reason: "outside 0..=S (S the number of steps)",
            });
        }
        Ok(match self {
            Schedule::Grid { process, grid } => process.at(grid.times()[k])?,
            Schedule::Chain(c) => c.at(c.len() - k)?,
            Schedule::Pairs(p) => {
                if k < p.from.len() {
                    p.from[k]
                } else {
                    p.to[k - 1]
                }
            }
        })
    }
    /// The description of step `k` (from point `k` to point `k + 1`).
    pub fn step(&self, k: usize) -> Result<StepInfo, SolverError> {
        let steps = self.steps();
        if k >= steps {
            return Err(SolverError::InvalidParameter { name: "step k", value: k as f64, reason: "outside 0..S (S the number of steps)" });
        }
        let from = self.point(k)?;
        let to = match self {
            Schedule::Pairs(p) => p.to[k],
            _ => self.point(k + 1)?,
        };
        let mut history = [None; 3];
        for (j, slot) in history.iter_mut().enumerate() {
            if k > j {
                *slot = Some(self.point(k - j - 1)?);
            }
        }
        Ok(match self {
            Schedule::Grid { process, .. } => {
                let h = from.t - to.t;
                StepInfo {
                    index: k,
                    steps,
                    from,
                    to,
                    mid: Some(process.at(from.t - 0.5 * h)?),
                    history,
                    path: Some(*process),
                    h,
                    ddpm_beta: h * from.g2 / from.c2,
                    continuous: true,
                }
            }
            Schedule::Chain(c) => {
                let j = c.len() - k;
                StepInfo { index: k, steps, from, to, mid: None, history, path: None, h: 1.0, ddpm_beta: c.beta(j), continuous: false }
            }
            Schedule::Pairs(p) => {
                let ddpm_beta = 1.0 - (from.a / to.a).powi(2);
                let mid = p.mid.as_ref().map(|m| m[k]);
                StepInfo { index: k, steps, from, to, mid, history, path: None, h: 1.0, ddpm_beta, continuous: false }
            }
        })
    }
}
