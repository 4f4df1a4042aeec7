//! The `gmdiff` command line: one module per subcommand.

mod compare;
mod conformance;
mod density;
mod gaussian_error;
mod guide;
mod kernel;
mod metrics;
mod sample;
mod smoothness;

// The shared options live in the library (`gmdiff::cli_args`), where the Python bindings reach them.
use gmdiff::cli_args as args;

pub use args::CliError;
use clap::{Parser, Subcommand};

/// Exact scores, samplers and errors for diffusion models on Gaussian mixtures.
#[derive(Parser)]
#[command(name = "gmdiff", version, about, max_term_width = 100, arg_required_else_help = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// log p_t(x) of the diffused mixture at each point: one CSV column.
    Logpdf(density::DensityArgs),
    /// ∇ log p_t(x) of the diffused mixture at each point: d CSV columns.
    Score(density::DensityArgs),
    /// ∇² log p_t(x) of the diffused mixture at each point: d² CSV columns (row-major).
    Hessian(density::DensityArgs),
    /// W2 between two point clouds, .csv or .npy (exact, sliced or Bures): {"w2": …}.
    W2(metrics::W2Args),
    /// MMD² (unbiased and biased) with a Gaussian kernel and permutation p-values: {"mmd2": …, "p_value": …, …}.
    Mmd(kernel::MmdArgs),
    /// Energy distance between two point clouds, optionally with a permutation p-value: {"energy_distance": …, …}.
    Energy(kernel::EnergyArgs),
    /// Samples from a reverse-time sampler with the exact mixture score, or exact draws of the
    /// target (--sampler exact): N × d rows, CSV (or --out x.csv / x.npy).
    Sample(sample::SampleArgs),
    /// KL, TV or entropy (Monte Carlo, with standard error) or MW2 (exact) between two mixture JSON files.
    MixtureMetric(compare::MixtureMetricArgs),
    /// Bures-W2, KL or entropy between two given Gaussians (mean and covariance files), closed form.
    GaussianMetric(compare::GaussianMetricArgs),
    /// Guided sampling toward a class (classifier / classifier-free guidance): confidence and entropy as JSON.
    Guide(guide::GuideArgs),
    /// Lipschitz constant of the score of p_t (estimate, bounds, certified enclosure) and E‖x_t‖²: one JSON line.
    Smoothness(smoothness::SmoothnessArgs),
    /// Exact W2/KL error of a sampler on Gaussian data (Pierret–Galerne): one JSON object.
    GaussianError(gaussian_error::GaussianErrorArgs),
    /// A diffusers scheduler_config.json run exactly as configured on Gaussian data: its timestep
    /// and σ tables, exact W2/KL, anomalies and the W2 cost of each (docs/conformance.md).
    Conformance(conformance::ConformanceArgs),
}

/// Runs the parsed command, writing its result to standard output.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match cli.command {
        Command::Logpdf(a) => density::logpdf(&a, &mut out),
        Command::Score(a) => density::score(&a, &mut out),
        Command::Hessian(a) => density::hessian(&a, &mut out),
        Command::MixtureMetric(a) => compare::mixture(&a, &mut out),
        Command::GaussianMetric(a) => compare::gaussian(&a, &mut out),
        Command::W2(a) => metrics::w2(&a, &mut out),
        Command::Mmd(a) => kernel::mmd(&a, &mut out),
        Command::Energy(a) => kernel::energy(&a, &mut out),
        Command::Sample(a) => sample::run(&a, &mut out),
        Command::Guide(a) => guide::run(&a, &mut out),
        Command::Smoothness(a) => smoothness::run(&a, &mut out),
        Command::GaussianError(a) => gaussian_error::run(&a, &mut out),
        Command::Conformance(a) => conformance::run(&a, &mut out),
    }
}
