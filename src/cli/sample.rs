//! `gmdiff sample`: run a reverse-time sampler on a mixture target with its exact score, or draw
//! exact samples of the target itself (`--sampler exact`).

use super::args::{CliError, ProcessArgs, RunArgs, progress_bar, samples_csv, time_error};
use clap::{Args, ValueEnum};
use gmdiff::io::read_mixture_json;
use gmdiff::process::TimeGrid;
use gmdiff::solvers::{Builtin, Ddim, Schedule, Start, sample_observed};
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
    /// Sampler: em, ei, ddpm, ddim, euler, heun, rk4, ode-ei, dpmpp2m, dpom, dpum; or exact (i.i.d.
    /// draws of the target p_0 itself, sample i from the random stream (seed, i); no steps).
    #[arg(long, alias = "scheme")]
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
    /// η of DDIM (0 = deterministic, 1 = DDPM-like).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    eta: f64,
    #[command(flatten)]
    process: ProcessArgs,
}

/// Writes the samples to `--out` (.csv or .npy), or as CSV to standard output when it is absent.
pub fn run(args: &SampleArgs, out: &mut impl Write) -> Result<(), CliError> {
    let run = &args.run;
    run.check_out()?;
    if run.count == 0 {
        return Err(CliError::Usage("--count must be at least 1".into()));
    }
    if args.sampler == "exact" {
        return exact(args, out);
    }
    let solver = |e: gmdiff::solvers::SolverError| CliError::Usage(e.to_string());
    let mut sampler = Builtin::from_name(&args.sampler).ok_or_else(|| {
        CliError::Usage(format!("unknown sampler `{}`: expected one of {}, exact", args.sampler, Builtin::NAMES.join(", ")))
    })?;
    if let Builtin::Ddim(Ddim { eta }) = &mut sampler {
        *eta = args.eta;
    } else if args.eta != 0.0 {
        return Err(CliError::Usage("--eta applies only to --sampler ddim".into()));
    }
    let steps = run.steps()?;
    let process = args.process.process()?;
    let grid = match args.grid {
        GridKind::Uniform => TimeGrid::uniform(&process, steps, run.eps),
        GridKind::Karras => TimeGrid::karras(&process, steps, run.eps, args.rho),
        GridKind::LogSnr => TimeGrid::log_snr_uniform(&process, steps, run.eps),
    }
    .map_err(|e| time_error(e, &process, "--eps"))?;
    let schedule = Schedule::grid(process, grid);
    let mixture = read_mixture_json(&run.mixture)?;
    let start = match args.init {
        InitKind::Standard => Start::Standard,
        InitKind::Exact => Start::Exact(&mixture),
    };
    let bar = progress_bar(steps as u64, &format!("{} × {}", args.sampler, run.count));
    let result = sample_observed(&sampler, &schedule, &mixture, start, run.count, run.seed, |k| bar.set_position(k as u64));
    bar.finish_and_clear();
    let result = result.map_err(solver)?;
    emit(run, result.samples.as_ref(), out)
}

/// `--sampler exact`: `count` exact draws of the target `p_0` (no sampler, no grid).
fn exact(args: &SampleArgs, out: &mut impl Write) -> Result<(), CliError> {
    let run = &args.run;
    let p = &args.process;
    if run.steps.is_some() || p.process.is_some() || p.beta_min.is_some() || p.beta_max.is_some() || p.horizon.is_some() {
        return Err(CliError::Usage("--sampler exact draws the target p_0 itself: --steps and the process options do not apply".into()));
    }
    if args.eta != 0.0 {
        return Err(CliError::Usage("--eta applies only to --sampler ddim".into()));
    }
    let mixture = read_mixture_json(&run.mixture)?;
    gmdiff::solvers::check_particle_memory(run.count, mixture.dim(), 1).map_err(|e| CliError::Usage(e.to_string()))?;
    let x = mixture.sample(run.count, run.seed);
    emit(run, x.as_ref(), out)
}

fn emit(run: &RunArgs, x: faer::MatRef<'_, f64>, out: &mut impl Write) -> Result<(), CliError> {
    if !run.write_samples(x)? {
        out.write_all(&samples_csv(x)?)?;
        out.flush()?;
    }
    Ok(())
}
