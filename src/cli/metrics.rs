//! `gmdiff w2`: distances between two point clouds (gmdiff-metrics). `gmdiff mmd` lives in `kernel.rs`.

use super::args::{CliError, json_number};
use clap::{Args, ValueEnum};
use gmdiff::io::read_points_csv;
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

pub(super) fn clouds(x: &Path, y: &Path) -> Result<(faer::Mat<f64>, faer::Mat<f64>), CliError> {
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
