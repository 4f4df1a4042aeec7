//! `gmdiff.sample`, `gmdiff.output_law` and `gmdiff.gaussian_error`: the library calls behind
//! `gmdiff sample` and `gmdiff gaussian-error`, with samplers and grids built by the CLI's options.

use crate::convert::{ArrayIn, mat_out, matrix, vec_out, vector};
use crate::errors::{Error, guarded};
use crate::mixture::PyMixture;
use crate::options::{init, path_args, sampler_args};
use gmdiff::cli_args::{InitKind, ProcessArgs, SamplerArgs, default_eps};
use gmdiff::gaussian::{DenseProblem, Dynamics, Init, Report, SpectralProblem, SpectralScore};
use gmdiff::process::{GaussianPath, Process};
use gmdiff::solvers::{Builtin, Dense, Marginal, ScaledScore, Schedule, SolverError, Start, output_law as law_of};
use numpy::PyArray2;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// The process of `path` with the defaults of `gmdiff sample` and `gaussian-error` (VP linear).
fn process_of(args: &ProcessArgs) -> Result<Process, Error> {
    Ok(args.process()?)
}

/// Samples of a reverse-time sampler with the exact mixture score (`gmdiff sample`): shape `(n, d)`.
#[pyfunction]
#[pyo3(signature = (mixture, *, sampler, steps = None, n, seed = 0, path = None, grid = None, eps = None, init = "standard", **options))]
#[allow(clippy::too_many_arguments)]
pub fn sample<'py>(
    py: Python<'py>,
    mixture: &Bound<'py, PyMixture>,
    sampler: &str,
    steps: Option<usize>,
    n: usize,
    seed: u64,
    path: Option<&Bound<'py, PyAny>>,
    grid: Option<&str>,
    eps: Option<f64>,
    init: &str,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let args = sampler_args("sample", sampler, grid, options)?;
    let init = crate::options::init(init)?;
    let pargs = path_args(path)?;
    let m = &mixture.get().inner;
    if n == 0 {
        return Err(Error::Usage("n must be at least 1".into()).into());
    }
    if sampler == "exact" {
        let process_given = [pargs.beta_min, pargs.beta_max, pargs.horizon, pargs.sigma_min, pargs.sigma_max].iter().any(Option::is_some);
        if steps.is_some() || eps.is_some() || pargs.process.is_some() || process_given || init != InitKind::Standard {
            return Err(Error::Usage("sampler 'exact' draws the target p_0 itself: steps, eps, init and path do not apply".into()).into());
        }
        args.refuse_foreign("exact").map_err(Error::from)?;
        args.refuse_grid("--sampler exact draws the target p_0 itself").map_err(Error::from)?;
        let x = guarded(py, || {
            gmdiff::solvers::check_particle_memory(n, m.dim(), 1)?;
            Ok(m.sample(n, seed))
        })?;
        return mat_out(py, x);
    }
    let process = process_of(&pargs)?;
    let steps = steps.ok_or_else(|| Error::Usage(format!("steps is required for sampler {sampler} (the number of sampler steps)")))?;
    let eps = eps.unwrap_or_else(|| default_eps(&process, 1e-3));
    let (s, schedule) = args.build(process, steps, eps, "exact").map_err(Error::from)?;
    let x = guarded(py, || {
        let start = match init {
            InitKind::Standard => Start::Standard,
            InitKind::Exact => Start::Exact(m),
        };
        Ok(gmdiff::solvers::sample(&s, &schedule, m, start, n, seed)?.samples)
    })?;
    mat_out(py, x)
}

/// The Gaussian data of `gaussian_error` / `output_law`.
enum Data {
    Spectral { problem: SpectralProblem, eigenvalues: Vec<f64> },
    Dense(DenseProblem),
}

fn data(mean: Option<ArrayIn<'_>>, covariance: Option<ArrayIn<'_>>, spectrum: Option<ArrayIn<'_>>) -> Result<Data, Error> {
    match (mean, covariance, spectrum) {
        (None, None, Some(s)) => {
            let eigenvalues = vector(&s, "spectrum", None)?;
            Ok(Data::Spectral { problem: SpectralProblem::centred(eigenvalues.clone())?, eigenvalues })
        }
        (Some(m), Some(c), None) => {
            let mean = vector(&m, "mean", None)?;
            let cov = matrix(&c, "covariance", Some(mean.len()))?;
            Ok(Data::Dense(DenseProblem::new(mean, cov)?))
        }
        _ => Err(Error::Usage("give spectrum=..., or mean=... and covariance=... (not both)".into())),
    }
}

/// The discrete sampler and its schedule, or the exact dynamics (`sde`, `ode`) with its optional grid.
struct Run {
    process: Process,
    eps: f64,
    init: Init,
    built: Option<(Builtin, Schedule)>,
}

fn run_of(args: &SamplerArgs, pargs: &ProcessArgs, steps: Option<usize>, eps: Option<f64>, init_name: &str) -> Result<Run, Error> {
    let process = process_of(pargs)?;
    let init = match init(init_name)? {
        InitKind::Standard => Init::Standard,
        InitKind::Exact => Init::Exact,
    };
    let eps = eps.unwrap_or_else(|| default_eps(&process, 0.0));
    let name = args.sampler.as_str();
    if name == "sde" || name == "ode" {
        return Ok(Run { process, eps, init, built: None });
    }
    let Some(steps) = steps else {
        args.builtin("sde, ode")?;
        return Err(Error::Usage(format!("steps is required for sampler {name}")));
    };
    Ok(Run { process, eps, init, built: Some(args.build(process, steps, eps, "sde, ode")?) })
}

fn score_of(score_scale: f64) -> Result<SpectralScore, Error> {
    if !score_scale.is_finite() || score_scale <= -1.0 {
        return Err(Error::Usage(format!("--score-scale {score_scale} must be finite and > −1")));
    }
    Ok(if score_scale == 0.0 { SpectralScore::Exact } else { SpectralScore::Scaled(score_scale) })
}

/// The exact output law of the discrete sampler on dense data (the law behind `DenseProblem::scheme`'s W2).
fn dense_law(
    p: &DenseProblem,
    sampler: &Builtin,
    schedule: &Schedule,
    init: Init,
    score_scale: f64,
) -> Result<Marginal<Dense>, SolverError> {
    let start = p.law_start(init, &schedule.point(0)?);
    let out = if score_scale == 0.0 {
        law_of(sampler, schedule, p.target(), start, |_, _| Ok(()))
    } else {
        law_of(sampler, schedule, &ScaledScore::new(p.target().clone(), score_scale), start, |_, _| Ok(()))
    }?;
    Ok(out.law)
}

/// `(mean, covariance)` of a dense law, shapes `(d,)` and `(d, d)`.
fn law_arrays<'py>(py: Python<'py>, law: Marginal<Dense>, d: usize) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let mean = law.mean.unwrap_or_else(|| vec![0.0; d]);
    let Dense(cov) = law.cov.to_full(d);
    Ok((vec_out(py, mean).into_any(), mat_out(py, cov)?.into_any()))
}

/// The exact law of a discrete sampler's output on Gaussian data.
#[pyfunction]
#[pyo3(signature = (mean = None, covariance = None, *, spectrum = None, sampler, steps, path = None, grid = None, eps = None, init = "standard", score_scale = 0.0, **options))]
#[allow(clippy::too_many_arguments)]
pub fn output_law<'py>(
    py: Python<'py>,
    mean: Option<ArrayIn<'py>>,
    covariance: Option<ArrayIn<'py>>,
    spectrum: Option<ArrayIn<'py>>,
    sampler: &str,
    steps: usize,
    path: Option<&Bound<'py, PyAny>>,
    grid: Option<&str>,
    eps: Option<f64>,
    init: &str,
    score_scale: f64,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let args = sampler_args("output_law", sampler, grid, options)?;
    if sampler == "sde" || sampler == "ode" {
        return Err(Error::Usage(format!(
            "output_law gives the output law of a discrete sampler, not of the exact {sampler} (its law is not exposed by the library)"
        ))
        .into());
    }
    let data = data(mean, covariance, spectrum)?;
    let run = run_of(&args, &path_args(path)?, Some(steps), eps, init)?;
    let score = score_of(score_scale)?;
    let (sampler, schedule) = run.built.as_ref().expect("a discrete sampler");
    match &data {
        Data::Spectral { eigenvalues, .. } => {
            let each = SpectralProblem::new(eigenvalues.clone(), vec![0.0; eigenvalues.len()]).map_err(Error::from)?;
            let law = guarded(py, || Ok(each.scheme_law(sampler, schedule, run.init, &score)?))?;
            match law {
                Some((_, variances)) => Ok(vec_out(py, variances).into_any()),
                None => Err(Error::Usage(
                    "the sampler evaluates the exact score where it is infinite: its output law is not defined (see gaussian_error's note)"
                        .into(),
                )
                .into()),
            }
        }
        Data::Dense(p) => {
            let d = p.target().mean().len();
            let law = guarded(py, || Ok(dense_law(p, sampler, schedule, run.init, score_scale)?))?;
            let (m, c) = law_arrays(py, law, d)?;
            Ok(pyo3::types::PyTuple::new(py, [m, c])?.into_any())
        }
    }
}

/// The exact W2 and KL error of a sampler on Gaussian data (`gmdiff gaussian-error`): a dict.
#[pyfunction]
#[pyo3(signature = (mean = None, covariance = None, *, spectrum = None, sampler, steps = None, path = None, grid = None, eps = None, init = "standard", score_scale = 0.0, trajectory = false, **options))]
#[allow(clippy::too_many_arguments)]
pub fn gaussian_error<'py>(
    py: Python<'py>,
    mean: Option<ArrayIn<'py>>,
    covariance: Option<ArrayIn<'py>>,
    spectrum: Option<ArrayIn<'py>>,
    sampler: &str,
    steps: Option<usize>,
    path: Option<&Bound<'py, PyAny>>,
    grid: Option<&str>,
    eps: Option<f64>,
    init: &str,
    score_scale: f64,
    trajectory: bool,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let args = sampler_args("gaussian_error", sampler, grid, options)?;
    let data = data(mean, covariance, spectrum)?;
    let run = run_of(&args, &path_args(path)?, steps, eps, init)?;
    let score = score_of(score_scale)?;
    let out = PyDict::new(py);
    let report: Report = match &run.built {
        None => {
            let dynamics = if sampler == "sde" { Dynamics::Sde } else { Dynamics::Ode };
            args.refuse_foreign(sampler).map_err(Error::from)?;
            let process = run.process;
            if !(run.eps.is_finite() && (0.0..process.horizon()).contains(&run.eps)) {
                return Err(Error::Usage(format!("--eps {} must lie in [0, T) = [0, {})", run.eps, process.horizon())).into());
            }
            if score_scale != 0.0 {
                return Err(
                    Error::Usage("--score-scale and --decompose apply to discrete samplers, not to the exact sde/ode".into()).into()
                );
            }
            let grid = match steps {
                Some(s) => Some(args.grid(&process, s, run.eps).map_err(Error::from)?),
                None => {
                    args.refuse_grid(&format!("--sampler {sampler} without --steps has no grid")).map_err(Error::from)?;
                    None
                }
            };
            if trajectory && grid.is_none() {
                return Err(Error::Usage("--trajectory with sde/ode needs --steps for the grid".into()).into());
            }
            let times = grid.as_ref().map(|g| g.times().to_vec());
            // Every EDM run ends at σ = 0 (the sampled grids by their final step).
            let end = if matches!(process, Process::Edm(_)) { 0.0 } else { run.eps };
            let init = run.init;
            guarded(py, || {
                Ok(match &data {
                    Data::Spectral { problem, .. } => problem.continuous(dynamics, &process, end, init, times.as_deref()),
                    Data::Dense(p) => p.continuous(dynamics, &process, end, init, times.as_deref()),
                }?)
            })?
        }
        Some((s, schedule)) => {
            let init = run.init;
            let report = guarded(py, || {
                Ok(match &data {
                    Data::Spectral { problem, .. } => problem.scheme(s, schedule, init, &score, trajectory),
                    Data::Dense(p) if score_scale == 0.0 => p.scheme(s, schedule, init, p.target(), trajectory),
                    Data::Dense(p) => p.scheme(s, schedule, init, &ScaledScore::new(p.target().clone(), score_scale), trajectory),
                }?)
            })?;
            let law = match &data {
                Data::Spectral { eigenvalues, .. } => {
                    let each = SpectralProblem::new(eigenvalues.clone(), vec![0.0; eigenvalues.len()]).map_err(Error::from)?;
                    match guarded(py, || Ok(each.scheme_law(s, schedule, init, &score)?))? {
                        Some((_, variances)) => {
                            let law = PyDict::new(py);
                            law.set_item("variances", vec_out(py, variances))?;
                            Some(law)
                        }
                        None => None,
                    }
                }
                Data::Dense(p) => match guarded(py, || Ok(dense_law(p, s, schedule, init, score_scale)))? {
                    Ok(law) => {
                        let (m, c) = law_arrays(py, law, p.target().mean().len())?;
                        let d = PyDict::new(py);
                        d.set_item("mean", m)?;
                        d.set_item("covariance", c)?;
                        Some(d)
                    }
                    Err(SolverError::SingularScore { .. }) => None,
                    Err(e) => return Err(Error::from(e).into()),
                },
            };
            out.set_item("law", law)?;
            report
        }
    };
    out.set_item("w2", report.w2)?;
    out.set_item("kl", report.kl)?;
    out.set_item("score_evals", report.score_evals)?;
    if let (Some(w2), Some(t)) = (&report.trajectory, &report.trajectory_times) {
        // The library lists ascending forward time; give the sampler's order k = 0..S, as the CLI.
        let items: Vec<(f64, f64)> = t.iter().zip(w2).rev().map(|(t, w)| (*t, *w)).collect();
        out.set_item("trajectory", PyList::new(py, items)?)?;
    }
    out.set_item("note", report.note.clone())?;
    Ok(out)
}
