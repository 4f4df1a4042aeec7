//! `gmdiff w2` and `gmdiff mmd`: distances between two point clouds (gmdiff-metrics).

use super::args::{CliError, json_number};
use clap::{Args, ValueEnum};
use gmdiff::io::read_points_csv;
use gmdiff::metrics::{self, Bandwidth, TwoSampleStatistic};
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
    /// First cloud: CSV, one point per row, no header.
    x: PathBuf,
    /// Second cloud, same dimension.
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
}

#[derive(Args, Debug)]
pub struct MmdArgs {
    /// First cloud: CSV, one point per row, no header.
    x: PathBuf,
    /// Second cloud, same dimension.
    y: PathBuf,
    /// Gaussian-kernel bandwidth h in exp(−‖x − y‖² / (2h²)); default: the median heuristic.
    #[arg(long, allow_negative_numbers = true)]
    bandwidth: Option<f64>,
    /// Number of permutations of the test.
    #[arg(long, default_value_t = 200)]
    permutations: usize,
    /// Seed of the permutations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn clouds(x: &Path, y: &Path) -> Result<(faer::Mat<f64>, faer::Mat<f64>), CliError> {
    let (a, b) = (read_points_csv(x)?, read_points_csv(y)?);
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
        W2Method::Exact => metrics::w2_exact(x.as_ref(), y.as_ref()),
        W2Method::Sliced => metrics::w2_sliced(x.as_ref(), y.as_ref(), args.projections, args.seed),
        W2Method::Bures => metrics::bures_w2_fitted(x.as_ref(), y.as_ref()),
    }?;
    writeln!(out, "{{\"w2\": {}}}", json_number(value))?;
    Ok(out.flush()?)
}

/// Prints `{"mmd2": …, "p_value": …}`.
pub fn mmd(args: &MmdArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (x, y) = clouds(&args.x, &args.y)?;
    let bandwidth = match args.bandwidth {
        Some(h) => Bandwidth::Fixed(h),
        None => Bandwidth::Median,
    };
    let test = metrics::permutation_test(x.as_ref(), y.as_ref(), TwoSampleStatistic::Mmd2(bandwidth), args.permutations, args.seed)?;
    writeln!(out, "{{\"mmd2\": {}, \"p_value\": {}}}", json_number(test.statistic), json_number(test.p_value))?;
    Ok(out.flush()?)
}
