//! `gmdiff sample`: run a reverse-time sampler on a mixture target with its exact score.

use super::args::{CliError, ProcessArgs, RunArgs, samples_csv};
use clap::{Args, ValueEnum};
use gmdiff::io::read_mixture_json;
use gmdiff::process::TimeGrid;
use gmdiff::solvers::{Sampler, Schedule, Start, sample};
use std::io::Write;

/// The time grid.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GridKind {
    /// `steps` equal steps from T down to ε.
    Uniform,
    /// The EDM grid of Karras et al. in σ = b/a (ρ = --rho), needs ε > 0.
    Karras,
    /// Equal steps in log-SNR, needs ε > 0.
    LogSnr,
}

/// The start of the particles.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum InitKind {
    /// N(0, I).
    Standard,
    /// The exact diffused target p_T.
    Exact,
}

#[derive(Args, Debug)]
pub struct SampleArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Sampler: em, ei, ddpm, ddim, euler, heun, rk4, ode-ei, dpmpp2m, dpom, dpum.
    #[arg(long)]
    sampler: String,
    /// Start law.
    #[arg(long, value_enum, default_value = "standard")]
    init: InitKind,
    /// Time grid.
    #[arg(long, value_enum, default_value = "uniform")]
    grid: GridKind,
    /// ρ of the Karras grid.
    #[arg(long, default_value_t = 7.0, allow_negative_numbers = true)]
    rho: f64,
    /// η of DDIM (0 = deterministic).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    eta: f64,
    #[command(flatten)]
    process: ProcessArgs,
}

/// Writes the samples as CSV to `--out`, or to standard output when it is absent.
pub fn run(args: &SampleArgs, out: &mut impl Write) -> Result<(), CliError> {
    let run = &args.run;
    let solver = |e: gmdiff::solvers::SolverError| CliError::Usage(e.to_string());
    let mut sampler = Sampler::from_name(&args.sampler)
        .ok_or_else(|| CliError::Usage(format!("unknown sampler `{}`: expected one of {}", args.sampler, Sampler::NAMES.join(", "))))?;
    if let Sampler::Ddim { eta } = &mut sampler {
        *eta = args.eta;
    } else if args.eta != 0.0 {
        return Err(CliError::Usage("--eta applies only to --sampler ddim".into()));
    }
    if run.count == 0 {
        return Err(CliError::Usage("--count must be at least 1".into()));
    }
    let process = args.process.process()?;
    let grid = match args.grid {
        GridKind::Uniform => TimeGrid::uniform(&process, run.steps, run.eps)?,
        GridKind::Karras => TimeGrid::karras(&process, run.steps, run.eps, args.rho)?,
        GridKind::LogSnr => TimeGrid::log_snr_uniform(&process, run.steps, run.eps)?,
    };
    let schedule = Schedule::grid(process, grid);
    let mixture = read_mixture_json(&run.mixture)?;
    let start = match args.init {
        InitKind::Standard => Start::Standard,
        InitKind::Exact => Start::Exact(&mixture),
    };
    let result = sample(&sampler, &schedule, &mixture, start, run.count, run.seed).map_err(solver)?;
    if !run.write_samples(result.samples.as_ref())? {
        out.write_all(&samples_csv(result.samples.as_ref())?)?;
        out.flush()?;
    }
    Ok(())
}
