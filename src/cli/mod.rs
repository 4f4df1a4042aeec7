//! The `gmdiff` command line: one module per subcommand.

mod args;
mod density;
mod gaussian_error;
mod guide;
mod metrics;
mod sample;
mod smoothness;

pub use args::CliError;
use clap::{Parser, Subcommand};

/// Exact scores, samplers and errors for diffusion models on Gaussian mixtures.
#[derive(Parser)]
#[command(name = "gmdiff", version, about, max_term_width = 100)]
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
    /// W2 between two point clouds (exact, sliced or Bures): {"w2": …}.
    W2(metrics::W2Args),
    /// Unbiased MMD² with a Gaussian kernel and its permutation p-value: {"mmd2": …, "p_value": …}.
    Mmd(metrics::MmdArgs),
    /// Samples from a reverse-time sampler with the exact mixture score: N × d CSV rows.
    Sample(sample::SampleArgs),
    /// Guided sampling toward a class (classifier / classifier-free guidance): confidence and entropy as JSON.
    Guide(guide::GuideArgs),
    /// Lipschitz constant of the score of p_t (estimate, bounds, certified enclosure) and E‖x_t‖²: one JSON line.
    Smoothness(smoothness::SmoothnessArgs),
    /// Exact W2/KL error of a sampler on Gaussian data (Pierret–Galerne): one JSON object.
    GaussianError(gaussian_error::GaussianErrorArgs),
}

/// Runs the parsed command, writing its result to standard output.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match cli.command {
        Command::Logpdf(a) => density::logpdf(&a, &mut out),
        Command::Score(a) => density::score(&a, &mut out),
        Command::W2(a) => metrics::w2(&a, &mut out),
        Command::Mmd(a) => metrics::mmd(&a, &mut out),
        Command::Sample(a) => sample::run(&a, &mut out),
        Command::Guide(a) => guide::run(&a, &mut out),
        Command::Smoothness(a) => smoothness::run(&a, &mut out),
        Command::GaussianError(a) => gaussian_error::run(&a, &mut out),
    }
}
