//! `gmdiff sample`: run a reverse-time sampler on a mixture target with its exact score, or draw
//! exact samples of the target itself (`--sampler exact`).

use super::args::{CliError, InitKind, ProcessArgs, RunArgs, SamplerArgs, progress_bar, samples_csv};
use clap::Args;
use gmdiff::io::read_mixture_json;
use gmdiff::solvers::{Start, sample_observed};
use std::io::Write;

#[derive(Args, Debug)]
pub struct SampleArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    sampler: SamplerArgs,
    /// Start law.
    #[arg(long, value_enum, default_value = "standard")]
    init: InitKind,
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
    if args.sampler.sampler == "exact" {
        return exact(args, out);
    }
    let process = args.process.process()?;
    let steps = run.steps()?;
    let (sampler, schedule) = args.sampler.build(process, steps, run.eps(&process), "exact")?;
    let mixture = read_mixture_json(&run.mixture)?;
    let start = match args.init {
        InitKind::Standard => Start::Standard,
        InitKind::Exact => Start::Exact(&mixture),
    };
    let bar = progress_bar(schedule.steps() as u64, &format!("{} × {}", sampler.name(), run.count));
    let result = sample_observed(&sampler, &schedule, &mixture, start, run.count, run.seed, |k| bar.set_position(k as u64));
    bar.finish_and_clear();
    let result = result.map_err(|e| CliError::Usage(e.to_string()))?;
    emit(run, result.samples.as_ref(), out)
}

/// `--sampler exact`: `count` exact draws of the target `p_0` (no sampler, no grid).
fn exact(args: &SampleArgs, out: &mut impl Write) -> Result<(), CliError> {
    let run = &args.run;
    let p = &args.process;
    let process_given = [p.beta_min, p.beta_max, p.horizon, p.sigma_min, p.sigma_max].iter().any(Option::is_some);
    if run.steps.is_some() || run.eps.is_some() || p.process.is_some() || process_given || args.init != InitKind::Standard {
        return Err(CliError::Usage(
            "--sampler exact draws the target p_0 itself: --steps, --eps, --init and the process options do not apply".into(),
        ));
    }
    args.sampler.refuse_foreign("exact")?;
    args.sampler.refuse_grid("--sampler exact draws the target p_0 itself")?;
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
