//! `gmdiff mmd` and `gmdiff energy`: kernel two-sample statistics between two point clouds and
//! their permutation tests, streamed over the pooled kernel matrix in blocks
//! (gmdiff-metrics `mmd_test` and `energy_test`; memory O((n + m) d), never (n + m)²).

use super::args::{CliError, json_number};
use super::metrics::clouds;
use clap::Args;
use gmdiff::metrics::{self, Bandwidth, PermutationOptions};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct MmdArgs {
    /// First cloud: CSV, one point per row, no header.
    x: PathBuf,
    /// Second cloud, same dimension.
    y: PathBuf,
    /// Gaussian-kernel bandwidth h in exp(−‖x − y‖² / (2h²)); default: the median heuristic (the
    /// median distance between pooled points, over all pairs up to 2^21 of them, else over 2^21
    /// pairs drawn with a fixed seed).
    #[arg(long, allow_negative_numbers = true)]
    bandwidth: Option<f64>,
    /// Number of permutations of the test; 0 prints the statistics alone.
    #[arg(long, default_value_t = 200)]
    permutations: usize,
    /// Seed of the permutations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Args, Debug)]
pub struct EnergyArgs {
    /// First cloud: CSV, one point per row, no header.
    x: PathBuf,
    /// Second cloud, same dimension.
    y: PathBuf,
    /// Number of permutations of the test; 0 (the default) prints the distance alone.
    #[arg(long, default_value_t = 0)]
    permutations: usize,
    /// Seed of the permutations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// A progress bar on stderr for runs of more than about 10⁸ kernel values (counting each
/// permutation as 1/16 of a pass); hidden when stderr is not a terminal or `CI` is set.
fn progress_bar(points: usize, permutations: usize, what: &'static str) -> ProgressBar {
    let work = (points as f64).powi(2) / 2.0 * (1.0 + permutations as f64 / 16.0);
    if work < 1e8 || !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {percent:>3}% {elapsed} (eta {eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::new(1).with_style(style).with_message(what)
}

/// Runs `f` with a progress callback feeding `bar`, then clears the bar.
fn with_progress<T>(bar: &ProgressBar, f: impl FnOnce(&PermutationOptions<'_>) -> T, permutations: usize, seed: u64) -> T {
    let tick = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let progress: Option<&(dyn Fn(u64, u64) + Sync)> = if bar.is_hidden() { None } else { Some(&tick) };
    let out = f(&PermutationOptions { permutations, seed, progress });
    bar.finish_and_clear();
    out
}

fn optional(p: Option<f64>) -> String {
    p.map_or_else(|| "null".to_string(), json_number)
}

/// Prints `{"mmd2": …, "mmd2_biased": …, "bandwidth": …, …, "p_value": …, "p_value_biased": …}`.
pub fn mmd(args: &MmdArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (x, y) = clouds(&args.x, &args.y)?;
    let (bandwidth, rule) = match args.bandwidth {
        Some(h) => (Bandwidth::Fixed(h), "fixed"),
        None => (Bandwidth::Median, "median"),
    };
    let bar = progress_bar(x.nrows() + y.nrows(), args.permutations, "mmd");
    let t = with_progress(&bar, |o| metrics::mmd_test(x.as_ref(), y.as_ref(), bandwidth, o), args.permutations, args.seed)?;
    writeln!(
        out,
        "{{\"mmd2\": {}, \"mmd2_biased\": {}, \"bandwidth\": {}, \"bandwidth_rule\": \"{rule}\", \"n\": {}, \"m\": {}, \"d\": {}, \
         \"permutations\": {}, \"seed\": {}, \"p_value\": {}, \"p_value_biased\": {}}}",
        json_number(t.mmd2),
        json_number(t.mmd2_biased),
        json_number(t.bandwidth),
        x.nrows(),
        y.nrows(),
        x.ncols(),
        t.permutations,
        args.seed,
        optional(t.p_value),
        optional(t.p_value_biased),
    )?;
    Ok(out.flush()?)
}

/// Prints `{"energy_distance": …, "energy_distance_sq": …, …, "p_value": …}`.
pub fn energy(args: &EnergyArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (x, y) = clouds(&args.x, &args.y)?;
    let bar = progress_bar(x.nrows() + y.nrows(), args.permutations, "energy");
    let t = with_progress(&bar, |o| metrics::energy_test(x.as_ref(), y.as_ref(), o), args.permutations, args.seed)?;
    writeln!(
        out,
        "{{\"energy_distance\": {}, \"energy_distance_sq\": {}, \"n\": {}, \"m\": {}, \"d\": {}, \"permutations\": {}, \"seed\": {}, \
         \"p_value\": {}}}",
        json_number(t.distance),
        json_number(t.distance_sq),
        x.nrows(),
        y.nrows(),
        x.ncols(),
        t.permutations,
        args.seed,
        optional(t.p_value),
    )?;
    Ok(out.flush()?)
}
