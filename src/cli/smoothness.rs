//! `gmdiff smoothness`: the score's Lipschitz constant (estimate and rigorous bound) and the second
//! moment of the diffused mixture `p_t` (Liang et al., THEORY §1; `docs/smoothness.md`).

use super::args::{CliError, MixtureAtTime};
use clap::Args;
use gmdiff::io::format_f64;
use gmdiff::mixture::{SearchOptions, SmoothnessError, smoothness};
use std::io::Write;

#[derive(Args, Debug)]
pub struct SmoothnessArgs {
    #[command(flatten)]
    target: MixtureAtTime,
    /// Radius R of the ball ‖x‖ ≤ R searched and bounded; absent: all of R^d (the bound then
    /// needs equal component precisions at time t).
    #[arg(long, allow_negative_numbers = true)]
    radius: Option<f64>,
    /// Exact samples of p_t used as search starts.
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Seed of the search.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Prints `{"lipschitz_estimate": …, "lipschitz_bound": …, "second_moment": …}` on one line.
pub fn run(args: &SmoothnessArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (mixture, c) = args.target.load()?;
    let opts = SearchOptions { radius: args.radius, samples: args.samples, seed: args.seed, ..SearchOptions::default() };
    let s = smoothness(&mixture, c.a, c.b, &opts).map_err(|e| match e {
        SmoothnessError::Mixture(m) => CliError::Mixture(m),
        SmoothnessError::NeedsRadius => CliError::Usage(format!("{e}: pass --radius")),
        other => CliError::Usage(other.to_string()),
    })?;
    writeln!(
        out,
        "{{\"lipschitz_estimate\": {}, \"lipschitz_bound\": {}, \"second_moment\": {}}}",
        format_f64(s.lipschitz_estimate),
        format_f64(s.lipschitz_bound.value),
        format_f64(s.second_moment)
    )?;
    Ok(out.flush()?)
}
