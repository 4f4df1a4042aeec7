//! `gmdiff gaussian-error`: the exact W2 (and KL) error of a sampler on Gaussian data
//! (Pierret–Galerne, THEORY §3), from a spectrum or from a mean and a covariance.

use super::args::{CliError, InitKind, ProcessArgs, SamplerArgs, default_eps, json_number};
use clap::Args;
use gmdiff::gaussian::{DenseProblem, Dynamics, Init, Report, SpectralProblem, SpectralScore, read_spectrum};
use gmdiff::io::read_points_csv;
use gmdiff::process::{GaussianPath, Process, TimeGrid};
use gmdiff::solvers::{Builtin, Dense, Marginal, ScaledScore, Schedule, SolverError, output_law};
use std::io::Write;
use std::path::PathBuf;

/// The Gaussian data of `gaussian-error` and `conformance`: `--spectrum`, or `--mean` and
/// `--covariance`.
#[derive(Args, Debug)]
pub struct GaussianDataArgs {
    /// Covariance spectrum: .npy (float32/float64) or plain text; the data is N(0, diag(spectrum)).
    #[arg(long, conflicts_with_all = ["mean", "covariance"])]
    spectrum: Option<PathBuf>,
    /// Data mean (CSV, one row or one column); with --covariance instead of --spectrum.
    #[arg(long, requires = "covariance")]
    mean: Option<PathBuf>,
    /// Data covariance (CSV, d rows of d values).
    #[arg(long, requires = "mean")]
    covariance: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct GaussianErrorArgs {
    #[command(flatten)]
    data: GaussianDataArgs,
    #[command(flatten)]
    sampler: SamplerArgs,
    /// Number of steps S (the grid has S + 1 points; on --process edm, EDM's num_steps); optional
    /// for sde/ode (trajectory grid).
    #[arg(long)]
    steps: Option<usize>,
    /// Early stop ε (the last grid time) [default: 0, unlike `gmdiff sample`: the error is measured
    /// against the data p_0 (Pierret–Galerne), so the truncation W2(p_ε, p_0) is part of it; for
    /// --process edm: σ_min = 0.002, and every run, sde/ode included, ends at σ = 0].
    #[arg(long, allow_negative_numbers = true)]
    eps: Option<f64>,
    /// Start law.
    #[arg(long, value_enum, default_value = "standard")]
    init: InitKind,
    /// Also print "trajectory": one {"t": t_k, "w2": W2(X_k, p_{t_k})} per grid point k = 0..S in
    /// the sampler's order (t_0 = T first, t_S = ε last; each iterate against the true marginal at
    /// its own time, so the last entry is against p_ε while "w2" is against p_0).
    #[arg(long)]
    trajectory: bool,
    /// Use the approximate score (1 + δ)·s instead of the exact score s (a linear score error).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    score_scale: f64,
    /// Also print the error decomposition (all W2): total, truncation, initialization,
    /// discretization, score (see docs/gaussian.md). Uniform grids ending at ε only.
    #[arg(long)]
    decompose: bool,
    /// Also print the exact output law of the discrete sampler: "law": {"variances": [...]} for
    /// --spectrum (one per eigenvalue, in the file's order), {"mean": [...], "covariance": [[...]]}
    /// for --mean/--covariance; null when the output is infinite (see "note").
    #[arg(long)]
    law: bool,
    #[command(flatten)]
    process: ProcessArgs,
}

/// The data: a spectrum (centred, diagonal) or a mean and a dense covariance.
pub(super) enum Data {
    Spectral { problem: SpectralProblem, eigenvalues: Vec<f64> },
    Dense(DenseProblem),
}

pub fn run(args: &GaussianErrorArgs, out: &mut impl Write) -> Result<(), CliError> {
    let process = args.process.process()?;
    let init = match args.init {
        InitKind::Standard => Init::Standard,
        InitKind::Exact => Init::Exact,
    };
    let data = args.data.load()?;
    if !args.score_scale.is_finite() || args.score_scale <= -1.0 {
        return Err(CliError::Usage(format!("--score-scale {} must be finite and > −1", args.score_scale)));
    }
    let eps = args.eps.unwrap_or_else(|| default_eps(&process, 0.0));
    let name = args.sampler.sampler.as_str();
    let mut fields = String::new();
    let report: Report = match name {
        "sde" | "ode" => {
            let dynamics = if name == "sde" { Dynamics::Sde } else { Dynamics::Ode };
            args.sampler.refuse_foreign(name)?;
            if !(eps.is_finite() && (0.0..process.horizon()).contains(&eps)) {
                return Err(CliError::Usage(format!("--eps {eps} must lie in [0, T) = [0, {})", process.horizon())));
            }
            if args.score_scale != 0.0 || args.decompose {
                return Err(CliError::Usage("--score-scale and --decompose apply to discrete samplers, not to the exact sde/ode".into()));
            }
            if args.law {
                return Err(CliError::Usage(format!(
                    "--law prints the output law of a discrete sampler, not of the exact {name} (its law is not exposed by the library)"
                )));
            }
            let grid = match args.steps {
                Some(s) => Some(args.sampler.grid(&process, s, eps)?),
                None => {
                    args.sampler.refuse_grid(&format!("--sampler {name} without --steps has no grid"))?;
                    None
                }
            };
            if args.trajectory && grid.is_none() {
                return Err(CliError::Usage("--trajectory with sde/ode needs --steps for the grid".into()));
            }
            let times = grid.as_ref().map(|g| g.times().to_vec());
            // Every EDM run ends at σ = 0 (the sampled grids by their final step).
            let end = if matches!(process, Process::Edm(_)) { 0.0 } else { eps };
            match &data {
                Data::Spectral { problem, .. } => problem.continuous(dynamics, &process, end, init, times.as_deref()),
                Data::Dense(p) => p.continuous(dynamics, &process, end, init, times.as_deref()),
            }
            .map_err(gaussian)?
        }
        _ => {
            let Some(steps) = args.steps else {
                args.sampler.builtin("sde, ode")?;
                return Err(CliError::Usage(format!("--steps is required for --sampler {name}")));
            };
            let (sampler, schedule) = args.sampler.build(process, steps, eps, "sde, ode")?;
            if args.decompose {
                // The library's decomposition runs the uniform grid of `steps` steps to ε.
                let uniform = TimeGrid::uniform(&process, steps, eps).ok();
                if !matches!(&schedule, Schedule::Grid { grid, .. } if Some(grid) == uniform.as_ref()) {
                    return Err(CliError::Usage(
                        "--decompose needs the uniform grid of --steps steps ending at --eps (pass --grid uniform; on --process edm also --eps 0)"
                            .into(),
                    ));
                }
            }
            let score = if args.score_scale == 0.0 { SpectralScore::Exact } else { SpectralScore::Scaled(args.score_scale) };
            let report = match &data {
                Data::Spectral { problem, .. } => problem.scheme(&sampler, &schedule, init, &score, args.trajectory),
                Data::Dense(p) if args.score_scale == 0.0 => p.scheme(&sampler, &schedule, init, p.target(), args.trajectory),
                Data::Dense(p) => {
                    p.scheme(&sampler, &schedule, init, &ScaledScore::new(p.target().clone(), args.score_scale), args.trajectory)
                }
            }
            .map_err(gaussian)?;
            if args.decompose {
                let d = match &data {
                    Data::Spectral { problem, .. } => problem.decompose(&sampler, &process, steps, eps, init, &score),
                    Data::Dense(p) => p.spectral().and_then(|s| s.decompose(&sampler, &process, steps, eps, init, &score)),
                }
                .map_err(gaussian)?;
                fields.push_str(&format!(
                    ", \"decomposition\": {{\"total\": {}, \"truncation\": {}, \"initialization\": {}, \"discretization\": {}, \"score\": {}}}",
                    json_number(d.total),
                    json_number(d.truncation),
                    json_number(d.initialization),
                    json_number(d.discretization),
                    json_number(d.score)
                ));
            }
            if args.law {
                let law = output_law_json(&data, &sampler, &schedule, init, &score, args.score_scale)?;
                fields.push_str(&format!(", \"law\": {}", law.as_deref().unwrap_or("null")));
            }
            report
        }
    };
    let mut line =
        format!("{{\"w2\": {}, \"kl\": {}, \"score_evals\": {}", json_number(report.w2), json_number(report.kl), report.score_evals);
    if let (Some(w2), Some(t)) = (&report.trajectory, &report.trajectory_times) {
        // The library lists ascending forward time; print in the sampler's order k = 0..S.
        let items: Vec<String> =
            t.iter().zip(w2).rev().map(|(t, w)| format!("{{\"t\": {}, \"w2\": {}}}", json_number(*t), json_number(*w))).collect();
        line.push_str(&format!(", \"trajectory\": [{}]", items.join(", ")));
    }
    line.push_str(&fields);
    if let Some(note) = &report.note {
        line.push_str(&format!(", \"note\": {}", serde_json::to_string(note).unwrap_or_default()));
    }
    line.push_str("}\n");
    out.write_all(line.as_bytes())?;
    Ok(out.flush()?)
}

pub(super) fn gaussian(e: gmdiff::gaussian::GaussianError) -> CliError {
    CliError::Usage(e.to_string())
}

impl GaussianDataArgs {
    /// Reads `--spectrum`, or `--mean` and `--covariance`.
    pub(super) fn load(&self) -> Result<Data, CliError> {
        match (&self.spectrum, &self.mean, &self.covariance) {
            (Some(path), _, _) => {
                let eigenvalues = read_spectrum(path).map_err(gaussian)?;
                Ok(Data::Spectral { problem: SpectralProblem::centred(eigenvalues.clone()).map_err(gaussian)?, eigenvalues })
            }
            (None, Some(m), Some(c)) => {
                let mean = read_points_csv(m)?;
                let mean: Vec<f64> = if mean.nrows() == 1 {
                    (0..mean.ncols()).map(|j| mean[(0, j)]).collect()
                } else if mean.ncols() == 1 {
                    (0..mean.nrows()).map(|i| mean[(i, 0)]).collect()
                } else {
                    return Err(CliError::Usage(format!("{}: the mean must be one row or one column", m.display())));
                };
                let cov = read_points_csv(c)?;
                if cov.nrows() != mean.len() || cov.ncols() != mean.len() {
                    return Err(CliError::Usage(format!(
                        "{}: the covariance is {} × {} but the mean has {} entries",
                        c.display(),
                        cov.nrows(),
                        cov.ncols(),
                        mean.len()
                    )));
                }
                Ok(Data::Dense(DenseProblem::new(mean, cov).map_err(gaussian)?))
            }
            _ => Err(CliError::Usage("give --spectrum FILE, or --mean FILE and --covariance FILE".into())),
        }
    }
}

/// The `"law"` object of `--law`, or `None` when the scheme evaluates the exact score where it is
/// infinite (the report's note says where).
///
/// Spectrum: [`SpectralProblem::scheme_law`] on the uncompressed problem ([`SpectralProblem::new`],
/// one lane per eigenvalue in the file's order; the same per-lane arithmetic as the compressed one
/// behind "w2"), `{"variances": [...]}`. Mean and covariance: [`output_law`] with the start and
/// score of [`DenseProblem::scheme`] (the law behind its "w2"), `{"mean": [...], "covariance": [[...]]}`.
pub(super) fn output_law_json(
    data: &Data,
    sampler: &Builtin,
    schedule: &Schedule,
    init: Init,
    score: &SpectralScore,
    score_scale: f64,
) -> Result<Option<String>, CliError> {
    let numbers = |v: &[f64]| v.iter().map(|x| json_number(*x)).collect::<Vec<_>>().join(", ");
    match data {
        Data::Spectral { eigenvalues, .. } => {
            let each = SpectralProblem::new(eigenvalues.clone(), vec![0.0; eigenvalues.len()]).map_err(gaussian)?;
            let law = each.scheme_law(sampler, schedule, init, score).map_err(gaussian)?;
            Ok(law.map(|(_, variances)| format!("{{\"variances\": [{}]}}", numbers(&variances))))
        }
        Data::Dense(p) => {
            let start = p.law_start(init, &schedule.point(0).map_err(|e| CliError::Usage(e.to_string()))?);
            let out = if score_scale == 0.0 {
                output_law(sampler, schedule, p.target(), start, |_, _| Ok(()))
            } else {
                output_law(sampler, schedule, &ScaledScore::new(p.target().clone(), score_scale), start, |_, _| Ok(()))
            };
            let law: Marginal<Dense> = match out {
                Ok(o) => o.law,
                Err(SolverError::SingularScore { .. }) => return Ok(None),
                Err(e) => return Err(CliError::Usage(e.to_string())),
            };
            let d = p.target().mean().len();
            let mean = law.mean.clone().unwrap_or_else(|| vec![0.0; d]);
            let Dense(cov) = law.cov.to_full(d);
            let rows: Vec<String> = (0..d).map(|i| format!("[{}]", numbers(&(0..d).map(|j| cov[(i, j)]).collect::<Vec<_>>()))).collect();
            Ok(Some(format!("{{\"mean\": [{}], \"covariance\": [{}]}}", numbers(&mean), rows.join(", "))))
        }
    }
}
