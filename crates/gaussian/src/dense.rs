//! The dense path: data `N(μ, Σ)` with a full (possibly singular) covariance and any affine score,
//! including score errors that do not commute with `Σ`. W2 is the Bures formula and KL the
//! Gaussian closed form, both from `gmdiff-metrics`.

use crate::error::GaussianError;
use crate::exact::Dynamics;
use crate::spectral::{Init, Report, SpectralProblem, SpectralScore};
use crate::support::landing;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use gmdiff_process::{Coefficients, Process};
use gmdiff_solvers::{Dense, DenseGaussian, Diag, LawSampler, LawStart, LinearScore, Marginal, Op, Schedule, SolverError, output_law};

/// Dense Gaussian data.
///
/// ```
/// use gmdiff_gaussian::{DenseProblem, Init};
/// use gmdiff_solvers::{Heun, Schedule};
/// let p = DenseProblem::new(vec![1.0, 0.0], faer::mat![[1.0, 0.5], [0.5, 1.0]]).unwrap();
/// let r = p.scheme(&Heun, &Schedule::uniform_vp(100, 1e-3).unwrap(), Init::Standard, p.target(), false).unwrap();
/// assert!(r.w2 < 0.1);
/// ```
#[derive(Debug, Clone)]
pub struct DenseProblem {
    data: DenseGaussian,
}

impl DenseProblem {
    /// `N(mean, cov)`.
    pub fn new(mean: Vec<f64>, cov: Mat<f64>) -> Result<Self, GaussianError> {
        Ok(Self { data: DenseGaussian::new(mean, cov)? })
    }
    /// The exact target (also its exact score).
    pub fn target(&self) -> &DenseGaussian {
        &self.data
    }
    /// The same data in its eigenbasis.
    pub fn spectral(&self) -> Result<SpectralProblem, GaussianError> {
        let s = self.data.spectral();
        let values = s.eigenvalues().to_vec();
        let mean = s.mean().map(|m| m.to_vec()).unwrap_or_else(|| vec![0.0; values.len()]);
        SpectralProblem::new(values, mean)
    }

    /// Refuses a score whose dimension is not the data's (the laws could not be compared).
    fn check_score_dim<T: LinearScore<Dense> + ?Sized>(&self, score: &T) -> Result<(), GaussianError> {
        let d = self.data.mean().len();
        if score.dim() != d {
            return Err(SolverError::Dimension { what: "score target vs data", expected: d, found: score.dim() }.into());
        }
        Ok(())
    }

    fn bures_to(&self, law: &Marginal<Dense>, at: &Coefficients) -> Result<f64, GaussianError> {
        let target = self.data.marginal(at);
        let d = self.data.mean().len();
        let (m1, s1) = dense_parts(law, d);
        let (m2, s2) = dense_parts(&target, d);
        if !(0..d).all(|j| (0..d).all(|i| s1[(i, j)].is_finite())) {
            return Ok(f64::INFINITY);
        }
        Ok(gmdiff_metrics::bures_w2(&m1, s1.as_ref(), &m2, s2.as_ref())?)
    }

    /// `KL(law ‖ p_t)` at `at`, in the eigenbasis `U` of `Σ`, by the support rule (`docs/gaussian.md`):
    /// an eigen-coordinate where `p_t` is a point mass (`a_t² λ_j + b_t² = 0`) makes the KL `∞` unless
    /// the output is `settled` there (then it is exactly the data's point mass and adds 0); the other
    /// coordinates `B = U[:, keep]` give `kl_gaussian(Bᵀ m, Bᵀ S B, a_t Bᵀ μ, diag(a_t² λ + b_t²))`.
    fn kl_to(&self, law: &Marginal<Dense>, at: &Coefficients, settled: bool) -> Result<f64, GaussianError> {
        let d = self.data.mean().len();
        let (m1, s1) = dense_parts(law, d);
        if !(0..d).all(|j| (0..d).all(|i| s1[(i, j)].is_finite())) {
            return Ok(f64::INFINITY);
        }
        let (values, vectors) = self.data.eigen();
        let var: Vec<f64> = values.iter().map(|&l| at.a * at.a * l + at.b * at.b).collect();
        let keep: Vec<usize> = (0..d).filter(|&j| var[j] != 0.0).collect();
        if keep.len() < d && !settled {
            return Ok(f64::INFINITY);
        }
        let r = keep.len();
        if r == 0 {
            return Ok(0.0);
        }
        let basis = Mat::from_fn(d, r, |i, k| vectors[(i, keep[k])]);
        let project = |v: &[f64]| -> Vec<f64> { (0..r).map(|k| (0..d).map(|i| basis[(i, k)] * v[i]).sum()).collect() };
        let mut sb = Mat::zeros(d, r);
        matmul(sb.as_mut(), Accum::Replace, s1.as_ref(), basis.as_ref(), 1.0, Par::Seq);
        let mut bsb = Mat::zeros(r, r);
        matmul(bsb.as_mut(), Accum::Replace, basis.transpose(), sb.as_ref(), 1.0, Par::Seq);
        let s_out = Mat::from_fn(r, r, |i, j| 0.5 * (bsb[(i, j)] + bsb[(j, i)]));
        let m_out = project(&m1);
        let m_ref: Vec<f64> = project(self.data.mean()).into_iter().map(|v| at.a * v).collect();
        let s_ref = Mat::from_fn(r, r, |i, j| if i == j { var[keep[i]] } else { 0.0 });
        Ok(gmdiff_metrics::kl_gaussian(&m_out, s_out.as_ref(), &m_ref, s_ref.as_ref())?)
    }

    /// A settled output (support rule): its component in the null space of `Σ` set to the data's
    /// point mass, `S ← P S P` and `m ← P m + (I − P) a_t μ` with `P = I − U₀ U₀ᵀ` (`U₀` the
    /// eigenvectors of the zero eigenvalues), as the spectral route sets its null lanes; so rounding
    /// in those directions reaches neither W2 nor the PSD check.
    fn settle(&self, law: &Marginal<Dense>, at: &Coefficients) -> Marginal<Dense> {
        let d = self.data.mean().len();
        let (m1, s1) = dense_parts(law, d);
        let (values, vectors) = self.data.eigen();
        let null: Vec<usize> = (0..d).filter(|&j| values[j] == 0.0).collect();
        let p =
            Mat::from_fn(d, d, |i, j| f64::from(u8::from(i == j)) - null.iter().map(|&k| vectors[(i, k)] * vectors[(j, k)]).sum::<f64>());
        let mut ps = Mat::zeros(d, d);
        matmul(ps.as_mut(), Accum::Replace, p.as_ref(), s1.as_ref(), 1.0, Par::Seq);
        let mut psp = Mat::zeros(d, d);
        matmul(psp.as_mut(), Accum::Replace, ps.as_ref(), p.as_ref(), 1.0, Par::Seq);
        let mu = self.data.mean();
        let mean =
            (0..d).map(|i| (0..d).map(|j| p[(i, j)] * m1[j] + (f64::from(u8::from(i == j)) - p[(i, j)]) * at.a * mu[j]).sum()).collect();
        Marginal { mean: Some(mean), cov: Op::Full(Dense(Mat::from_fn(d, d, |i, j| 0.5 * (psp[(i, j)] + psp[(j, i)])))) }
    }

    /// True when `score` is, bit for bit, the exact score of the data at `at` (the support rule needs
    /// the exact data prediction where the landing uses it).
    fn is_exact_at<T: LinearScore<Dense> + ?Sized>(&self, score: &T, at: &Coefficients) -> bool {
        match (score.affine(at), self.data.affine(at)) {
            (Ok(given), Ok(exact)) => given == exact,
            _ => false,
        }
    }

    /// The start law of a run from `init` at the first grid point `top`: the path's standard start,
    /// or the exact `p_T = N(a μ, a² Σ + b² I)` there.
    pub fn law_start(&self, init: Init, top: &Coefficients) -> LawStart<Dense> {
        match init {
            Init::Standard => LawStart::Standard,
            Init::Exact => LawStart::Law(self.data.marginal(top)),
        }
    }

    /// The exact output law of `sampler` with the affine `score` and its W2 (Bures) and KL to `p_0`;
    /// trajectory as in [`Report`]. The KL follows the support rule (`docs/gaussian.md`): after a
    /// landing at `b_S = 0` ([`gmdiff_solvers::SamplerInfo::landing`]) with the exact score, the
    /// output's component in the null space of `Σ` is exactly the data's (set so, W2 included) and
    /// the KL is taken over `range(Σ)`; otherwise a singular `p_0` gives `KL = ∞`.
    ///
    /// **Routes.** When `score` is this problem's own target ([`DenseProblem::target`], the same
    /// object: the exact score), every coefficient of the run is diagonal in the eigenbasis `U` of
    /// `Σ` (the exact denoiser is `U diag(·) Uᵀ`, the standard start is isotropic, the exact start is
    /// `U diag(a² λ + b²) Uᵀ`), so the run is done there, lane by lane, by
    /// [`SpectralProblem::scheme`] on [`DenseProblem::spectral`]: `O(d)` per step after the one
    /// eigendecomposition made by [`DenseProblem::new`], and W2 and KL in closed form. Any other
    /// score (a perturbed one, or a copy of the target) runs the dense engine, `O(d³)` per step. The two
    /// routes compute the same law with different rounding (tests in `crates/gaussian/tests/laws.rs`).
    pub fn scheme<T: LinearScore<Dense> + ?Sized, S: LawSampler<Dense> + LawSampler<Diag> + ?Sized>(
        &self,
        sampler: &S,
        schedule: &Schedule,
        init: Init,
        score: &T,
        trajectory: bool,
    ) -> Result<Report, GaussianError> {
        self.check_score_dim(score)?;
        if std::ptr::addr_eq(score as *const T, &self.data as *const DenseGaussian) {
            return self.spectral()?.scheme(sampler, schedule, init, &SpectralScore::Exact, trajectory);
        }
        let steps = schedule.steps();
        let points: Vec<Coefficients> = (0..=steps).map(|k| schedule.point(k)).collect::<Result<_, _>>()?;
        let zero = schedule.data_point()?;
        let start = self.law_start(init, &points[0]);
        let mut partial: Vec<f64> = Vec::new();
        let mut metric_err = None;
        let out = output_law(sampler, schedule, score, start, |k, law| {
            if trajectory {
                match self.bures_to(&law.position(), &points[k]) {
                    Ok(w) => partial.push(w),
                    Err(e) => metric_err = Some(e),
                }
            }
            Ok(())
        });
        if let Some(e) = metric_err {
            return Err(e);
        }
        let trajectory_times = trajectory.then(|| points.iter().rev().map(|c| c.t).collect());
        match out {
            Ok(out) => {
                let settled = landing(sampler, schedule)?.is_some_and(|l| l.exact_at.iter().all(|at| self.is_exact_at(score, at)));
                let law = if settled { self.settle(&out.law, &zero) } else { out.law };
                let w2 = self.bures_to(&law, &zero)?;
                let kl = self.kl_to(&law, &zero, settled)?;
                let trajectory = trajectory.then(|| {
                    partial.reverse();
                    partial
                });
                Ok(Report { w2, kl, trajectory, trajectory_times, score_evals: out.score_evals, note: None })
            }
            Err(SolverError::SingularScore { t }) => {
                let trajectory = trajectory.then(|| {
                    partial.resize(steps + 1, f64::INFINITY);
                    partial.reverse();
                    partial
                });
                Ok(Report {
                    w2: f64::INFINITY,
                    kl: f64::INFINITY,
                    trajectory,
                    trajectory_times,
                    score_evals: gmdiff_solvers::score_evals(sampler, schedule)?,
                    note: Some(format!("the scheme evaluates the exact score at t = {t}, where p_t is singular: the output is infinite")),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The exact continuous SDE / ODE law (computed in the eigenbasis, where it decouples).
    pub fn continuous(
        &self,
        dynamics: Dynamics,
        process: &Process,
        eps: f64,
        init: Init,
        grid: Option<&[f64]>,
    ) -> Result<Report, GaussianError> {
        self.spectral()?.continuous(dynamics, process, eps, init, grid)
    }
}

impl DenseProblem {
    /// The error decomposition (all W2, Bures) with any affine `score`, including score errors
    /// that do not commute with `Σ` (fields as in [`crate::Decomposition`]):
    /// `total` = output vs `p_0`; `truncation` = `W2(p_ε, p_0)`; `initialization` = exact continuous
    /// dynamics from `init` at `ε` vs `p_ε`; `discretization` = the scheme from `p_T` with the exact
    /// score vs `p_ε`; `score` = the scheme with `score` vs with the exact score, same start.
    ///
    /// ```
    /// use gmdiff_gaussian::{DenseProblem, Init};
    /// use gmdiff_process::Process;
    /// use gmdiff_solvers::{Dense, Heun, PerturbedPrecision};
    /// let p = DenseProblem::new(vec![1.0, 0.0], faer::mat![[1.0, 0.4], [0.4, 0.5]]).unwrap();
    /// let e = Dense(faer::mat![[0.0, 0.1], [0.1, 0.0]]);
    /// let d = p.decompose(&Heun, &Process::default(), 50, 1e-3, Init::Standard, &PerturbedPrecision::new(p.target().clone(), e)).unwrap();
    /// assert!(d.score > 0.0 && d.total.is_finite());
    /// ```
    pub fn decompose<T: LinearScore<Dense> + ?Sized, S: LawSampler<Dense> + ?Sized>(
        &self,
        sampler: &S,
        process: &Process,
        steps: usize,
        eps: f64,
        init: Init,
        score: &T,
    ) -> Result<crate::Decomposition, GaussianError> {
        use gmdiff_process::GaussianPath;
        self.check_score_dim(score)?;
        let schedule = Schedule::grid(*process, gmdiff_process::TimeGrid::uniform(process, steps, eps)?);
        let at_eps = process.at(eps)?;
        let top = process.at(process.horizon())?;
        let law = |score: &T, init: Init| -> Result<Option<Marginal<Dense>>, GaussianError> {
            let start = self.law_start(init, &top);
            match output_law(sampler, &schedule, score, start, |_, _| Ok(())) {
                Ok(o) => Ok(Some(o.law)),
                Err(SolverError::SingularScore { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            }
        };
        let exact_law = |init: Init| -> Result<Option<Marginal<Dense>>, GaussianError> {
            let start = self.law_start(init, &top);
            match output_law(sampler, &schedule, &self.data, start, |_, _| Ok(())) {
                Ok(o) => Ok(Some(o.law)),
                Err(SolverError::SingularScore { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            }
        };
        let d = self.data.mean().len();
        let bures = |a: &Marginal<Dense>, b: &Marginal<Dense>| -> Result<f64, GaussianError> {
            let (m1, s1) = dense_parts(a, d);
            let (m2, s2) = dense_parts(b, d);
            Ok(gmdiff_metrics::bures_w2(&m1, s1.as_ref(), &m2, s2.as_ref())?)
        };
        let zero = process.at(0.0)?;
        let given = law(score, init)?;
        let exact_same_start = exact_law(init)?;
        let exact_from_top = exact_law(Init::Exact)?;
        let total = match &given {
            Some(g) => bures(g, &self.data.marginal(&zero))?,
            None => f64::INFINITY,
        };
        let discretization = match &exact_from_top {
            Some(g) => bures(g, &self.data.marginal(&at_eps))?,
            None => f64::INFINITY,
        };
        let score_part = match (&given, &exact_same_start) {
            (Some(a), Some(b)) => bures(a, b)?,
            _ => f64::INFINITY,
        };
        let spectral = self.spectral()?;
        let dynamics = if gmdiff_solvers::is_stochastic(sampler, &schedule)? { crate::Dynamics::Sde } else { crate::Dynamics::Ode };
        Ok(crate::Decomposition {
            total,
            truncation: spectral.truncation(process, eps)?,
            initialization: spectral.continuous_against_eps(dynamics, process, eps, init)?,
            discretization,
            score: score_part,
        })
    }
}

fn dense_parts(law: &Marginal<Dense>, d: usize) -> (Vec<f64>, Mat<f64>) {
    let m = law.mean.clone().unwrap_or_else(|| vec![0.0; d]);
    let s = match &law.cov {
        Op::Full(Dense(c)) => Mat::from_fn(d, d, |i, j| 0.5 * (c[(i, j)] + c[(j, i)])),
        Op::Scalar(v) => Mat::from_fn(d, d, |i, j| if i == j { *v } else { 0.0 }),
    };
    (m, s)
}
