//! `gmdiff w2`: distances between two point clouds (gmdiff-metrics). `gmdiff mmd` lives in `kernel.rs`.

use super::args::{CliError, at_most_one_stdin, json_number, spinner};
use clap::{Args, ValueEnum};
use gmdiff::io::read_points;
use gmdiff::metrics;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum W2Method {
    /// Exact optimal transport, squared Euclidean cost, uniform weights (POT's emd2, then sqrt).
    Exact,
    /// Sliced W2 over random directions (POT's sliced_wasserstein_distance, p = 2).
    Sliced,
    /// Bures–W2 between the fitted Gaussians (unbiased covariance, as numpy's np.cov).
    Bures,
}

#[derive(Args, Debug)]
pub struct W2Args {
    /// First cloud: .csv (one point per row, no header) or .npy (n × d); - for standard input.
    x: PathBuf,
    /// Second cloud, same dimension (.csv, .npy or -).
    y: PathBuf,
    /// Which W2.
    #[arg(long, value_enum, default_value = "exact")]
    method: W2Method,
    /// Number of random directions (sliced).
    #[arg(long, default_value_t = 200)]
    projections: usize,
    /// Seed of the directions (sliced).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Run --method exact even when its estimated time exceeds the cap (the memory cap still applies).
    #[arg(long)]
    force: bool,
}

pub(super) fn clouds(x: &Path, y: &Path) -> Result<(faer::Mat<f64>, faer::Mat<f64>), CliError> {
    at_most_one_stdin(&[x, y])?;
    let (a, b) = (read_points(x)?, read_points(y)?);
    if a.ncols() != b.ncols() {
        return Err(CliError::Usage(format!(
            "{} has dimension {} but {} has dimension {}",
            x.display(),
            a.ncols(),
            y.display(),
            b.ncols()
        )));
    }
    Ok((a, b))
}

/// Prints `{"w2": …}`.
pub fn w2(args: &W2Args, out: &mut impl Write) -> Result<(), CliError> {
    let (x, y) = clouds(&args.x, &args.y)?;
    let value = match args.method {
        W2Method::Exact => {
            exact_budget(x.nrows(), y.nrows(), x.ncols(), args.force)?;
            let bar = spinner(&format!("exact W2, {} × {} points", x.nrows(), y.nrows()));
            let v = metrics::w2_exact(x.as_ref(), y.as_ref());
            bar.finish_and_clear();
            v
        }
        W2Method::Sliced => metrics::w2_sliced(x.as_ref(), y.as_ref(), args.projections, args.seed),
        W2Method::Bures => metrics::bures_w2_fitted(x.as_ref(), y.as_ref()),
    }?;
    writeln!(out, "{{\"w2\": {}}}", json_number(value))?;
    Ok(out.flush()?)
}

/// The exact solver's time model `EXACT_SECONDS_PER_PAIR · (d + 1) · (n m)^EXACT_PAIR_EXPONENT`
/// seconds, fitted (and rounded up) to runs of the network simplex of gmdiff-metrics on standard
/// normal clouds on the development machine (optimised build, 2 shared cores): d = 2, n = m = 1000 …
/// 16 000 (0.08 s … 12.3 s) and d = 8, n = m = 2000, 4000 (0.61 s, 2.69 s). An order of magnitude,
/// not a promise: 10⁶ × 10⁶ points in d = 2 come out at about 2 days.
pub const EXACT_SECONDS_PER_PAIR: f64 = 4e-9;
/// Exponent of `n·m` in the exact solver's time model (measured growth ≈ 1.07, rounded up).
pub const EXACT_PAIR_EXPONENT: f64 = 1.1;
/// Longest estimated run `--method exact` starts without `--force`: 10 minutes.
pub const EXACT_TIME_CAP_SECONDS: f64 = 600.0;

/// Refuses an exact W2 whose estimated memory exceeds the available RAM (`MemAvailable` of
/// /proc/meminfo; 8 GiB where it cannot be read), or whose estimated time exceeds
/// [`EXACT_TIME_CAP_SECONDS`] unless `force`; both errors name `--method sliced`.
fn exact_budget(n: usize, m: usize, d: usize, force: bool) -> Result<(), CliError> {
    let (nf, mf) = (n as f64, m as f64);
    // The dense cost matrix (d ≥ 6, n·m ≤ 2^27 entries) plus the points and the simplex's O(n + m) state.
    let dense = if d >= 6 && nf * mf <= (1u64 << 27) as f64 { 8.0 * nf * mf } else { 0.0 };
    let bytes = dense + (nf + mf) * (16.0 * d as f64 + 200.0);
    let limit = available_memory();
    if bytes > limit {
        return Err(CliError::Usage(format!(
            "exact W2 on {n} × {m} points needs about {} of memory, more than the {} available; use --method sliced",
            human_bytes(bytes),
            human_bytes(limit)
        )));
    }
    let seconds = EXACT_SECONDS_PER_PAIR * (d as f64 + 1.0) * (nf * mf).powf(EXACT_PAIR_EXPONENT);
    if seconds > EXACT_TIME_CAP_SECONDS && !force {
        return Err(CliError::Usage(format!(
            "exact W2 on {n} × {m} points would take about {} (cap {}); use --method sliced, or --force to run it anyway",
            human_seconds(seconds),
            human_seconds(EXACT_TIME_CAP_SECONDS)
        )));
    }
    Ok(())
}

/// `MemAvailable` from /proc/meminfo, or 8 GiB.
fn available_memory() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().find(|l| l.starts_with("MemAvailable:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map_or(8.0 * (1u64 << 30) as f64, |kib| kib * 1024.0)
}

fn human_bytes(b: f64) -> String {
    if b >= (1u64 << 30) as f64 {
        format!("{:.1} GiB", b / (1u64 << 30) as f64)
    } else {
        format!("{:.0} MiB", (b / (1u64 << 20) as f64).ceil())
    }
}

fn human_seconds(s: f64) -> String {
    match s {
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7200.0 => format!("{:.0} min", s / 60.0),
        s if s < 172_800.0 => format!("{:.0} h", s / 3600.0),
        s => format!("{:.0} days", s / 86400.0),
    }
}
