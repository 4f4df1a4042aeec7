//! The spectral fast path: data `N(μ, Σ)` described by `Σ`'s eigenvalues (and the mean's
//! coordinates in the eigenbasis). Every quantity decouples per coordinate, so the solvers' step
//! code runs with diagonal coefficients, vectorised over eigenvalues, in parallel chunks.

use crate::error::GaussianError;
use crate::exact::{Dynamics, continuous_coordinate, kl_coordinate, sqrt_gap_sq};
use crate::support::{Landing, landing};
use gmdiff_process::{Coefficients, GaussianPath, Process};
use gmdiff_solvers::{
    Diag, LawSampler, LawStart, Marginal, Op, PerturbedPrecision, ScaledScore, Schedule, SolverError, SpectralGaussian, StepLaw, output_law,
};
use rayon::prelude::*;

/// Eigenvalues per parallel task (a cache-sized block of coordinates).
const CHUNK: usize = 4096;

/// The start of a reverse-time run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// `N(0, I)`.
    Standard,
    /// The exact `p_T`.
    Exact,
}

/// The score used by a scheme, in the spectral basis.
#[derive(Debug, Clone, PartialEq)]
pub enum SpectralScore {
    /// The exact score `−Σ_t⁻¹ (x − m_t)`.
    Exact,
    /// `(1 + δ)` times the exact score.
    Scaled(f64),
    /// A perturbed precision `−(Σ_t⁻¹ + diag(e))(x − m_t)`, `e` one entry per coordinate.
    Precision(Vec<f64>),
}

/// W2 (and KL) of a scheme's output against the data, with the optional trajectory.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// `W2(output, p_0)` (Bures; `∞` when the scheme evaluates an infinite score).
    pub w2: f64,
    /// `KL(output ‖ p_0)` (`∞` when the output is not absolutely continuous w.r.t. `p_0`; over the
    /// support when both live on `μ + range(Σ)`, decided by the support rule of `docs/gaussian.md`).
    pub kl: f64,
    /// The trajectory, in ascending forward time: `trajectory[j] = W2(X_{S−j}, p_{t_{S−j}})`, the
    /// law of the iterate after `S − j` steps against the true marginal at its own grid time
    /// (Pierret–Galerne's Figure 1a and their notebook). `trajectory[0]` is the output against
    /// `p_ε` (equal to `w2` only when `ε = 0`); `trajectory[S]` is the start against `p_T`.
    pub trajectory: Option<Vec<f64>>,
    /// The forward time of each `trajectory` entry: `trajectory_times[j] = t_{S−j}` (ascending; for a
    /// discrete chain, the chain index).
    pub trajectory_times: Option<Vec<f64>>,
    /// Score evaluations of the run.
    pub score_evals: usize,
    /// Why a value is infinite, when one is.
    pub note: Option<String>,
}

/// Data in the spectral basis, compressed: equal eigenvalues of centred data share one lane with
/// a multiplicity weight (the ADSN spectrum has 65 511 distinct values among 196 608).
///
/// ```
/// use gmdiff_gaussian::{Init, SpectralProblem, SpectralScore};
/// use gmdiff_solvers::{EulerMaruyama, Schedule};
/// let p = SpectralProblem::centred(vec![0.0, 0.5, 0.5, 2.0]).unwrap();
/// assert_eq!(p.lanes(), 3);
/// let r = p.scheme(&EulerMaruyama, &Schedule::uniform_vp(500, 1e-3).unwrap(), Init::Standard, &SpectralScore::Exact, false).unwrap();
/// assert!(r.w2 > 0.0 && r.w2 < 0.2);
/// ```
#[derive(Debug, Clone)]
pub struct SpectralProblem {
    values: Vec<f64>,
    mean: Option<Vec<f64>>,
    weights: Vec<f64>,
    /// For each original coordinate, its lane (for per-coordinate score perturbations).
    lane_of: Vec<usize>,
}

impl SpectralProblem {
    /// Centred data with eigenvalues `λ_i ≥ 0`.
    pub fn centred(eigenvalues: Vec<f64>) -> Result<Self, GaussianError> {
        let checked = SpectralGaussian::centred(eigenvalues)?;
        let v = checked.eigenvalues();
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut values = Vec::new();
        let mut weights: Vec<f64> = Vec::new();
        let mut lane_of = vec![0; v.len()];
        for i in order {
            if values.last() != Some(&v[i]) {
                values.push(v[i]);
                weights.push(0.0);
            }
            *weights.last_mut().expect("pushed") += 1.0;
            lane_of[i] = values.len() - 1;
        }
        Ok(Self { values, mean: None, weights, lane_of })
    }
    /// Data with eigenvalues `λ_i` and mean coordinates `m_i = u_iᵀ μ` (no compression).
    pub fn new(eigenvalues: Vec<f64>, mean: Vec<f64>) -> Result<Self, GaussianError> {
        let checked = SpectralGaussian::new(eigenvalues, Some(mean))?;
        let d = checked.eigenvalues().len();
        Ok(Self {
            values: checked.eigenvalues().to_vec(),
            mean: checked.mean().map(|m| m.to_vec()),
            weights: vec![1.0; d],
            lane_of: (0..d).collect(),
        })
    }
    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.lane_of.len()
    }
    /// The number of distinct lanes actually computed.
    pub fn lanes(&self) -> usize {
        self.values.len()
    }

    fn lane_data(&self, range: std::ops::Range<usize>) -> Result<SpectralGaussian, SolverError> {
        SpectralGaussian::new(self.values[range.clone()].to_vec(), self.mean.as_ref().map(|m| m[range].to_vec()))
    }

    fn lane_perturbation(&self, e: &[f64]) -> Result<Vec<f64>, GaussianError> {
        if e.len() != self.dim() {
            return Err(GaussianError::Invalid(format!("precision perturbation has {} entries for dimension {}", e.len(), self.dim())));
        }
        let mut lanes: Vec<Option<f64>> = vec![None; self.lanes()];
        for (i, &v) in e.iter().enumerate() {
            match lanes[self.lane_of[i]] {
                Some(w) if w != v => {
                    return Err(GaussianError::Invalid(
                        "a per-coordinate precision perturbation needs an uncompressed problem (SpectralProblem::new)".into(),
                    ));
                }
                _ => lanes[self.lane_of[i]] = Some(v),
            }
        }
        Ok(lanes.into_iter().map(|v| v.unwrap_or(0.0)).collect())
    }

    /// Weighted `Σ w_i [(√v_i − √u_i)² + (μ_i − ν_i)²]` of a lane range against `p_t` at `at`.
    fn w2_sq_against(&self, start: usize, law: &Marginal<Diag>, at: &Coefficients) -> f64 {
        let n = match &law.cov {
            Op::Full(Diag(v)) => v.len(),
            Op::Scalar(_) => return f64::NAN,
        };
        diag_w2_sq((0..n).map(|i| {
            let lane = start + i;
            let dm = law.mean.as_ref().map_or(0.0, |m| m[i]) - self.mean.as_ref().map_or(0.0, |m| at.a * m[lane]);
            (self.weights[lane], cov_at(&law.cov, i), var_at(at, self.values[lane]), dm)
        }))
    }

    /// Weighted `Σ w_i KL(N(μ_i, v_i) ‖ N(ν_i, u_i))` of a lane range against `p_t` at `at`. A lane
    /// where `p_t` is a point mass (`u_i = 0`) and whose output is not settled by the support rule
    /// (`settled(lane)` false) is `∞`, whatever the rounding left in `v_i`.
    fn kl_against(&self, start: usize, law: &Marginal<Diag>, at: &Coefficients, settled: &impl Fn(usize) -> bool) -> f64 {
        let n = self.values.len().min(start + lane_count(law)) - start;
        (0..n)
            .map(|i| {
                let lane = start + i;
                let u = var_at(at, self.values[lane]);
                if u == 0.0 && !settled(lane) {
                    return f64::INFINITY;
                }
                let mu = law.mean.as_ref().map_or(0.0, |m| m[i]);
                let nu = self.mean.as_ref().map_or(0.0, |m| at.a * m[lane]);
                self.weights[lane] * kl_coordinate(mu, cov_at(&law.cov, i), nu, u)
            })
            .sum()
    }

    /// Whether the output lane `lane` is settled by the support rule (`docs/gaussian.md`): the
    /// sampler lands on the data prediction at `b_S = 0`, the lane is a null direction of `Σ`
    /// (`λ = 0`), and the score is exact on that lane.
    fn settles(&self, lane: usize, landing: Option<&Landing>, score: &SpectralScore, lane_e: Option<&[f64]>) -> bool {
        landing.is_some()
            && self.values[lane] == 0.0
            && match score {
                SpectralScore::Exact => true,
                SpectralScore::Scaled(delta) => *delta == 0.0,
                SpectralScore::Precision(_) => lane_e.is_some_and(|e| e[lane] == 0.0),
            }
    }

    /// Sets the settled lanes of a lane range's output law to their exact value, the point mass at
    /// `a_S m_i` (the data's null coordinate carried to the last grid point).
    fn settle(&self, start: usize, law: &mut Marginal<Diag>, landing: Option<&Landing>, settled: &impl Fn(usize) -> bool) {
        let Some(landing) = landing else { return };
        let n = lane_count(law).min(self.lanes() - start);
        if let (None, Some(_)) = (&law.mean, &self.mean) {
            law.mean = Some(vec![0.0; n]);
        }
        for i in 0..n {
            let lane = start + i;
            if settled(lane) {
                if let Op::Full(Diag(v)) = &mut law.cov {
                    v[i] = 0.0;
                }
                if let (Some(m), Some(data)) = (law.mean.as_mut(), self.mean.as_ref()) {
                    m[i] = landing.last.a * data[lane];
                }
            }
        }
    }

    /// The exact output law of `sampler` (its own step run on Gaussian laws) and its W2/KL to `p_0`.
    ///
    /// A scheme that evaluates the exact score where it is infinite (Heun or RK4 at `ε = 0` with a
    /// zero eigenvalue) gets `w2 = kl = ∞` and a note; never NaN. Null lanes of `Σ` follow the
    /// support rule (`docs/gaussian.md`): exactly the data's point mass after a landing at `b_S = 0`
    /// (DDIM, DPM-Solver++(2M), UniPC, DEIS, LMS) with a score exact there, else `KL = ∞`.
    pub fn scheme<S: LawSampler<Diag> + ?Sized>(
        &self,
        sampler: &S,
        schedule: &Schedule,
        init: Init,
        score: &SpectralScore,
        trajectory: bool,
    ) -> Result<Report, GaussianError> {
        let steps = schedule.steps();
        let points: Vec<Coefficients> = (0..=steps).map(|k| schedule.point(k)).collect::<Result<_, _>>()?;
        let zero = schedule.data_point()?;
        let lane_e = match score {
            SpectralScore::Precision(e) => Some(self.lane_perturbation(e)?),
            _ => None,
        };
        let landing = landing(sampler, schedule)?;
        let settled = |lane: usize| self.settles(lane, landing.as_ref(), score, lane_e.as_deref());
        let ranges: Vec<std::ops::Range<usize>> = (0..self.lanes()).step_by(CHUNK).map(|s| s..(s + CHUNK).min(self.lanes())).collect();
        struct Chunk {
            partial: Vec<f64>,
            w2_sq: f64,
            kl: f64,
            evals: usize,
            singular: Option<f64>,
        }
        let chunks: Vec<Result<Chunk, GaussianError>> = ranges
            .par_iter()
            .map(|r| {
                let data = self.lane_data(r.clone())?;
                let start = match init {
                    Init::Standard => LawStart::Standard,
                    Init::Exact => LawStart::Exact,
                };
                let mut partial = Vec::new();
                let mut observe = |k: usize, law: &dyn StepLaw<Diag>| {
                    if trajectory {
                        let law = expand(&law.position(), r.len());
                        partial.push(self.w2_sq_against(r.start, &law, &points[k]));
                    }
                    Ok(())
                };
                let out = match score {
                    SpectralScore::Exact => output_law(sampler, schedule, &data, start, &mut observe),
                    SpectralScore::Scaled(delta) => output_law(sampler, schedule, &ScaledScore::new(data, *delta), start, &mut observe),
                    SpectralScore::Precision(_) => {
                        let e = Diag(lane_e.as_ref().expect("computed above")[r.clone()].to_vec());
                        output_law(sampler, schedule, &PerturbedPrecision::new(data, e), start, &mut observe)
                    }
                };
                match out {
                    Ok(out) => {
                        let mut law = expand(&out.law, r.len());
                        if landing.is_some() {
                            self.settle(r.start, &mut law, landing.as_ref(), &settled);
                            // The last iterate is the (settled) output.
                            if let Some(last) = partial.last_mut() {
                                *last = self.w2_sq_against(r.start, &law, &points[steps]);
                            }
                        }
                        Ok(Chunk {
                            w2_sq: self.w2_sq_against(r.start, &law, &zero),
                            kl: self.kl_against(r.start, &law, &zero, &settled),
                            partial,
                            evals: out.score_evals,
                            singular: None,
                        })
                    }
                    Err(SolverError::SingularScore { t }) => {
                        Ok(Chunk { partial, w2_sq: f64::INFINITY, kl: f64::INFINITY, evals: 0, singular: Some(t) })
                    }
                    Err(e) => Err(e.into()),
                }
            })
            .collect();
        let chunks: Vec<Chunk> = chunks.into_iter().collect::<Result<_, _>>()?;
        let w2_sq: f64 = chunks.iter().map(|c| c.w2_sq).sum();
        let kl: f64 = chunks.iter().map(|c| c.kl).sum();
        let singular = chunks.iter().find_map(|c| c.singular);
        let evals = chunks.iter().map(|c| c.evals).max().unwrap_or(0);
        let evals = if singular.is_some() { gmdiff_solvers::score_evals(sampler, schedule)? } else { evals };
        let trajectory_times = trajectory.then(|| points.iter().rev().map(|c| c.t).collect());
        let trajectory = trajectory.then(|| {
            (0..=steps)
                .rev()
                .map(|k| chunks.iter().map(|c| c.partial.get(k).copied().unwrap_or(f64::INFINITY)).sum::<f64>().sqrt())
                .collect()
        });
        Ok(Report {
            w2: w2_sq.sqrt(),
            kl,
            trajectory,
            trajectory_times,
            score_evals: evals,
            note: singular.map(|t| {
                format!("the scheme evaluates the exact score at t = {t}, where p_t is singular (zero eigenvalue): the output is infinite")
            }),
        })
    }

    /// The exact continuous reverse SDE or flow ODE from `init`, read at forward time `eps` and
    /// compared with `p_0` (`w2`, `kl`), with an optional trajectory on `grid` (forward times in the
    /// sampler's order, descending as a `TimeGrid`'s): `W2(law at t, p_t)` at every grid time, listed
    /// in ascending forward time as in [`Report`].
    ///
    /// ```
    /// use gmdiff_gaussian::{Dynamics, Init, SpectralProblem};
    /// use gmdiff_process::Process;
    /// let p = SpectralProblem::centred(vec![0.0, 0.5, 2.0]).unwrap();
    /// let vp = Process::default();
    /// let sde = p.continuous(Dynamics::Sde, &vp, 0.0, Init::Standard, None).unwrap().w2;
    /// let ode = p.continuous(Dynamics::Ode, &vp, 0.0, Init::Standard, None).unwrap().w2;
    /// assert!(sde <= ode); // Prop. 4
    /// ```
    pub fn continuous(
        &self,
        dynamics: Dynamics,
        process: &Process,
        eps: f64,
        init: Init,
        grid: Option<&[f64]>,
    ) -> Result<Report, GaussianError> {
        let top = process.at(process.horizon())?;
        let zero = process.at(0.0)?;
        let start_var = process.start_std().powi(2);
        let w2_kl_at = |at: &Coefficients, against: &Coefficients| self.continuous_gap(dynamics, &top, init, start_var, at, against);
        let (w2, kl) = w2_kl_at(&process.at(eps)?, &zero);
        let trajectory = match grid {
            None => None,
            Some(times) => Some(times.iter().rev().map(|&t| process.at(t).map(|c| w2_kl_at(&c, &c).0)).collect::<Result<Vec<f64>, _>>()?),
        };
        let trajectory_times = grid.map(|times| times.iter().rev().copied().collect());
        Ok(Report { w2, kl, trajectory, trajectory_times, score_evals: 0, note: None })
    }

    /// The truncation error `W2(p_ε, p_0)`.
    pub fn truncation(&self, process: &Process, eps: f64) -> Result<f64, GaussianError> {
        let (at, zero) = (process.at(eps)?, process.at(0.0)?);
        Ok(self.gap(&at, &zero))
    }

    /// The initialization gap `W2(N(0, s² I), p_T)` from the path's standard start.
    pub fn init_gap(&self, process: &Process) -> Result<f64, GaussianError> {
        let top = process.at(process.horizon())?;
        let start_var = process.start_std().powi(2);
        let lanes = self.values.iter().enumerate().map(|(lane, &lam)| {
            let m = self.mean.as_ref().map_or(0.0, |m| top.a * m[lane]);
            (self.weights[lane], start_var, var_at(&top, lam), m)
        });
        Ok(diag_w2_sq(lanes).sqrt())
    }

    /// `W2(p_s, p_t)` for the forward marginals at `s` and `t`.
    fn gap(&self, s: &Coefficients, t: &Coefficients) -> f64 {
        let lanes = self.values.iter().enumerate().map(|(lane, &lam)| {
            let dm = self.mean.as_ref().map_or(0.0, |m| (s.a - t.a) * m[lane]);
            (self.weights[lane], var_at(s, lam), var_at(t, lam), dm)
        });
        diag_w2_sq(lanes).sqrt()
    }

    /// The error decomposition of a scheme (all W2):
    ///
    /// * `total`: the output (from `init`, with `score`) against `p_0`;
    /// * `truncation`: `W2(p_ε, p_0)`;
    /// * `initialization`: the exact continuous dynamics (SDE for stochastic samplers, ODE for
    ///   deterministic ones) from `init`, at `ε`, against `p_ε` (0 for the exact start);
    /// * `discretization`: the scheme from the exact `p_T` with the exact score, against `p_ε`;
    /// * `score`: the scheme with `score` against the scheme with the exact score, same start.
    ///
    /// ```
    /// use gmdiff_gaussian::{Init, SpectralProblem, SpectralScore};
    /// use gmdiff_process::Process;
    /// use gmdiff_solvers::Euler;
    /// let p = SpectralProblem::centred(vec![0.1, 1.0, 3.0]).unwrap();
    /// let d = p.decompose(&Euler, &Process::default(), 200, 1e-3, Init::Standard, &SpectralScore::Scaled(0.01)).unwrap();
    /// assert!(d.score > 0.0 && d.truncation > 0.0 && d.total > 0.0);
    /// ```
    pub fn decompose<S: LawSampler<Diag> + ?Sized>(
        &self,
        sampler: &S,
        process: &Process,
        steps: usize,
        eps: f64,
        init: Init,
        score: &SpectralScore,
    ) -> Result<Decomposition, GaussianError> {
        let grid = gmdiff_process::TimeGrid::uniform(process, steps, eps)?;
        let schedule = Schedule::grid(*process, grid);
        let at_eps = process.at(eps)?;
        let total = self.scheme(sampler, &schedule, init, score, false)?.w2;
        let dynamics = if gmdiff_solvers::is_stochastic(sampler, &schedule)? { Dynamics::Sde } else { Dynamics::Ode };
        let initialization = self.continuous_against_eps(dynamics, process, eps, init)?;
        let discretization = self.scheme_against(sampler, &schedule, Init::Exact, &SpectralScore::Exact, &at_eps)?;
        let exact_score = self.scheme_law(sampler, &schedule, init, &SpectralScore::Exact)?;
        let given_score = self.scheme_law(sampler, &schedule, init, score)?;
        let score_part = match (exact_score, given_score) {
            (Some(a), Some(b)) => diag_w2_sq((0..self.lanes()).map(|i| (self.weights[i], a.1[i], b.1[i], a.0[i] - b.0[i]))).sqrt(),
            _ => f64::INFINITY,
        };
        Ok(Decomposition { total, truncation: self.truncation(process, eps)?, initialization, discretization, score: score_part })
    }

    /// W2 between the exact continuous `dynamics` from `init`, read at `ε`, and `p_ε`.
    pub fn continuous_against_eps(&self, dynamics: Dynamics, process: &Process, eps: f64, init: Init) -> Result<f64, GaussianError> {
        let (top, at) = (process.at(process.horizon())?, process.at(eps)?);
        Ok(self.continuous_gap(dynamics, &top, init, process.start_std().powi(2), &at, &at).0)
    }

    /// W2 and KL between the law of the exact continuous `dynamics` started from `init` at `top`
    /// and read at `at`, and the true marginal at `against`, lane by lane.
    fn continuous_gap(
        &self,
        dynamics: Dynamics,
        top: &Coefficients,
        init: Init,
        start_var: f64,
        at: &Coefficients,
        against: &Coefficients,
    ) -> (f64, f64) {
        // Per lane: (weight, output mean, output variance, p_t mean, p_t variance).
        let lanes: Vec<(f64, f64, f64, f64, f64)> = self
            .values
            .iter()
            .enumerate()
            .map(|(lane, &lam)| {
                let m = self.mean.as_ref().map_or(0.0, |m| m[lane]);
                let (mu0, v0) = match init {
                    Init::Standard => (0.0, start_var),
                    Init::Exact => (top.a * m, var_at(top, lam)),
                };
                let (mu, v) = continuous_coordinate(dynamics, lam, m, top, at, mu0, v0);
                (self.weights[lane], mu, v, against.a * m, var_at(against, lam))
            })
            .collect();
        let w = diag_w2_sq(lanes.iter().map(|&(w, mu, v, nu, u)| (w, v, u, mu - nu)));
        let kl = lanes.iter().map(|&(w, mu, v, nu, u)| w * kl_coordinate(mu, v, nu, u)).sum();
        (w.sqrt(), kl)
    }

    fn scheme_against<S: LawSampler<Diag> + ?Sized>(
        &self,
        sampler: &S,
        schedule: &Schedule,
        init: Init,
        score: &SpectralScore,
        at: &Coefficients,
    ) -> Result<f64, GaussianError> {
        Ok(match self.scheme_law(sampler, schedule, init, score)? {
            None => f64::INFINITY,
            Some((mean, var)) => {
                let lanes = self.values.iter().enumerate().map(|(lane, &lam)| {
                    let m = self.mean.as_ref().map_or(0.0, |m| at.a * m[lane]);
                    (self.weights[lane], var[lane], var_at(at, lam), mean[lane] - m)
                });
                diag_w2_sq(lanes).sqrt()
            }
        })
    }

    /// The output law per lane `(means, variances)`, or `None` when the score is infinite somewhere;
    /// null lanes settled by the support rule as in [`SpectralProblem::scheme`].
    pub fn scheme_law<S: LawSampler<Diag> + ?Sized>(
        &self,
        sampler: &S,
        schedule: &Schedule,
        init: Init,
        score: &SpectralScore,
    ) -> Result<Option<LaneLaw>, GaussianError> {
        let data = self.lane_data(0..self.lanes())?;
        let start = match init {
            Init::Standard => LawStart::Standard,
            Init::Exact => LawStart::Exact,
        };
        let lane_e = match score {
            SpectralScore::Precision(e) => Some(self.lane_perturbation(e)?),
            _ => None,
        };
        let out = match score {
            SpectralScore::Exact => output_law(sampler, schedule, &data, start, |_, _| Ok(())),
            SpectralScore::Scaled(d) => output_law(sampler, schedule, &ScaledScore::new(data, *d), start, |_, _| Ok(())),
            SpectralScore::Precision(_) => {
                let e = Diag(lane_e.clone().expect("computed above"));
                output_law(sampler, schedule, &PerturbedPrecision::new(data, e), start, |_, _| Ok(()))
            }
        };
        match out {
            Ok(o) => {
                let n = self.lanes();
                let mut law = expand(&o.law, n);
                let landing = landing(sampler, schedule)?;
                self.settle(0, &mut law, landing.as_ref(), &|lane| self.settles(lane, landing.as_ref(), score, lane_e.as_deref()));
                Ok(Some((law.mean.unwrap_or_else(|| vec![0.0; n]), (0..n).map(|i| cov_at(&law.cov, i)).collect())))
            }
            Err(SolverError::SingularScore { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Per-lane output law `(means, variances)` of [`SpectralProblem::scheme_law`].
pub type LaneLaw = (Vec<f64>, Vec<f64>);

/// The error decomposition of [`SpectralProblem::decompose`] (all W2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decomposition {
    /// Output against `p_0`.
    pub total: f64,
    /// `W2(p_ε, p_0)`.
    pub truncation: f64,
    /// Continuous dynamics from the start, against `p_ε`.
    pub initialization: f64,
    /// Scheme from `p_T` with the exact score, against `p_ε`.
    pub discretization: f64,
    /// Scheme with the given score against the scheme with the exact score.
    pub score: f64,
}

/// `Σ_i w_i [(√v_i − √u_i)² + (μ_i − ν_i)²]` over lanes `(w_i, v_i, u_i, μ_i − ν_i)`: the squared W2
/// between two Gaussians that are diagonal in one orthonormal basis (the Bures formula for commuting
/// covariances; lane `i` has multiplicity `w_i`), with `(√v − √u)²` by [`sqrt_gap_sq`] (no
/// cancellation). Summed in lane order, so every caller gets the same bits.
fn diag_w2_sq(lanes: impl Iterator<Item = (f64, f64, f64, f64)>) -> f64 {
    let mut acc = 0.0;
    for (w, v, u, dm) in lanes {
        acc += w * (sqrt_gap_sq(v, u) + dm * dm);
    }
    acc
}

/// The forward variance `a_t² λ + b_t²` of an eigen-coordinate with variance `λ`.
fn var_at(at: &Coefficients, lam: f64) -> f64 {
    at.a * at.a * lam + at.b * at.b
}

fn lane_count(law: &Marginal<Diag>) -> usize {
    match &law.cov {
        Op::Full(Diag(v)) => v.len(),
        Op::Scalar(_) => usize::MAX,
    }
}

fn cov_at(cov: &Op<Diag>, i: usize) -> f64 {
    match cov {
        Op::Full(Diag(v)) => v[i].max(0.0),
        Op::Scalar(s) => s.max(0.0),
    }
}

/// A law with a full diagonal of length `n` (a scalar covariance is expanded).
fn expand(law: &Marginal<Diag>, n: usize) -> Marginal<Diag> {
    Marginal { mean: law.mean.clone(), cov: Op::Full(Diag((0..n).map(|i| cov_at(&law.cov, i)).collect())) }
}
