//! `gmdiff gaussian-error`: the exact W2 (and KL) error of a sampler on Gaussian data
//! (Pierret–Galerne, THEORY §3), from a spectrum or from a mean and a covariance.

use super::args::{CliError, ProcessArgs, json_number};
use clap::{Args, ValueEnum};
use gmdiff::gaussian::{DenseProblem, Dynamics, Init, Report, SpectralProblem, SpectralScore, read_spectrum};
use gmdiff::io::read_points_csv;
use gmdiff::process::{GaussianPath, TimeGrid};
use gmdiff::solvers::{Builtin, Ddim, ScaledScore, Schedule};
use std::io::Write;
use std::path::PathBuf;

/// The start law.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum InitKind {
    /// N(0, I).
    Standard,
    /// The exact p_T.
    Exact,
}

#[derive(Args, Debug)]
pub struct GaussianErrorArgs {
    /// Covariance spectrum: .npy (float32/float64) or plain text; the data is N(0, diag(spectrum)).
    #[arg(long, conflicts_with_all = ["mean", "covariance"])]
    spectrum: Option<PathBuf>,
    /// Data mean (CSV, one row or one column); with --covariance instead of --spectrum.
    #[arg(long, requires = "covariance")]
    mean: Option<PathBuf>,
    /// Data covariance (CSV, d rows of d values).
    #[arg(long, requires = "mean")]
    covariance: Option<PathBuf>,
    /// Sampler: em, ei, ddpm, ddim, euler, heun, rk4, ode-ei, dpmpp2m, dpom, dpum (as `gmdiff
    /// sample`), or the exact continuous sde / ode. `--scheme` is an alias.
    #[arg(long, visible_alias = "scheme")]
    sampler: String,
    /// η of DDIM (0 = deterministic; as `gmdiff sample`).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    eta: f64,
    /// Number of steps S (the grid has S + 1 points); optional for sde/ode (trajectory grid).
    #[arg(long)]
    steps: Option<usize>,
    /// Early stop ε (the last grid time). Default 0, unlike `gmdiff sample`: the error is measured
    /// against the data p_0 (Pierret–Galerne), so the truncation W2(p_ε, p_0) is part of it.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    eps: f64,
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
    /// discretization, score (see docs/gaussian.md).
    #[arg(long)]
    decompose: bool,
    #[command(flatten)]
    process: ProcessArgs,
}

pub fn run(args: &GaussianErrorArgs, out: &mut impl Write) -> Result<(), CliError> {
    let err = |e: gmdiff::gaussian::GaussianError| CliError::Usage(e.to_string());
    let process = args.process.process()?;
    let init = match args.init {
        InitKind::Standard => Init::Standard,
        InitKind::Exact => Init::Exact,
    };
    enum Data {
        Spectral(SpectralProblem),
        Dense(DenseProblem),
    }
    let data = match (&args.spectrum, &args.mean, &args.covariance) {
        (Some(path), _, _) => Data::Spectral(SpectralProblem::centred(read_spectrum(path).map_err(err)?).map_err(err)?),
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
            Data::Dense(DenseProblem::new(mean, cov).map_err(err)?)
        }
        _ => return Err(CliError::Usage("give --spectrum FILE, or --mean FILE and --covariance FILE".into())),
    };
    let grid = match args.steps {
        Some(s) => Some(TimeGrid::uniform(&process, s, args.eps)?),
        None => None,
    };
    if !args.score_scale.is_finite() || args.score_scale <= -1.0 {
        return Err(CliError::Usage(format!("--score-scale {} must be finite and > −1", args.score_scale)));
    }
    let mut decomposition: Option<String> = None;
    let report: Report = match args.sampler.as_str() {
        "sde" | "ode" => {
            let dynamics = if args.sampler == "sde" { Dynamics::Sde } else { Dynamics::Ode };
            if !(args.eps.is_finite() && (0.0..process.horizon()).contains(&args.eps)) {
                return Err(CliError::Usage(format!("--eps {} must lie in [0, T)", args.eps)));
            }
            if args.score_scale != 0.0 || args.decompose {
                return Err(CliError::Usage("--score-scale and --decompose apply to discrete samplers, not to the exact sde/ode".into()));
            }
            if args.eta != 0.0 {
                return Err(CliError::Usage("--eta applies only to --sampler ddim".into()));
            }
            if args.trajectory && grid.is_none() {
                return Err(CliError::Usage("--trajectory with sde/ode needs --steps for the grid".into()));
            }
            let times = grid.as_ref().map(|g| g.times().to_vec());
            match &data {
                Data::Spectral(p) => p.continuous(dynamics, &process, args.eps, init, times.as_deref()),
                Data::Dense(p) => p.continuous(dynamics, &process, args.eps, init, times.as_deref()),
            }
            .map_err(err)?
        }
        name => {
            let mut sampler = Builtin::from_name(name).ok_or_else(|| {
                CliError::Usage(format!("unknown sampler `{name}`: expected one of {}, sde, ode", Builtin::NAMES.join(", ")))
            })?;
            if let Builtin::Ddim(Ddim { eta }) = &mut sampler {
                *eta = args.eta;
            } else if args.eta != 0.0 {
                return Err(CliError::Usage("--eta applies only to --sampler ddim".into()));
            }
            let grid = grid.ok_or_else(|| CliError::Usage(format!("--steps is required for --sampler {name}")))?;
            let schedule = Schedule::grid(process, grid);
            let score = if args.score_scale == 0.0 { SpectralScore::Exact } else { SpectralScore::Scaled(args.score_scale) };
            let report = match &data {
                Data::Spectral(p) => p.scheme(&sampler, &schedule, init, &score, args.trajectory),
                Data::Dense(p) if args.score_scale == 0.0 => p.scheme(&sampler, &schedule, init, p.target(), args.trajectory),
                Data::Dense(p) => {
                    p.scheme(&sampler, &schedule, init, &ScaledScore::new(p.target().clone(), args.score_scale), args.trajectory)
                }
            }
            .map_err(err)?;
            if args.decompose {
                let steps = args.steps.unwrap_or(0);
                let d = match &data {
                    Data::Spectral(p) => p.decompose(&sampler, &process, steps, args.eps, init, &score),
                    Data::Dense(p) => p.spectral().and_then(|s| s.decompose(&sampler, &process, steps, args.eps, init, &score)),
                }
                .map_err(err)?;
                decomposition = Some(format!(
                    ", \"decomposition\": {{\"total\": {}, \"truncation\": {}, \"initialization\": {}, \"discretization\": {}, \"score\": {}}}",
                    json_number(d.total),
                    json_number(d.truncation),
                    json_number(d.initialization),
                    json_number(d.discretization),
                    json_number(d.score)
                ));
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
    if let Some(d) = &decomposition {
        line.push_str(d);
    }
    if let Some(note) = &report.note {
        line.push_str(&format!(", \"note\": {}", serde_json::to_string(note).unwrap_or_default()));
    }
    line.push_str("}\n");
    out.write_all(line.as_bytes())?;
    Ok(out.flush()?)
}
