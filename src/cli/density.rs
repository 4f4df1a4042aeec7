//! `gmdiff logpdf` and `gmdiff score`: the exact diffused mixture at time t.

use super::args::{CliError, MixtureAtTime};
use clap::Args;
use gmdiff::io::{read_points_csv, write_matrix_csv};
use gmdiff::mixture::MixtureDensity;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DensityArgs {
    #[command(flatten)]
    target: MixtureAtTime,
    /// Points CSV: one point per row, comma separated, no header.
    #[arg(long)]
    points: PathBuf,
}

/// The factorised `p_t` and the points.
fn load(args: &DensityArgs) -> Result<(MixtureDensity, faer::Mat<f64>), CliError> {
    let (mixture, c) = args.target.load()?;
    let x = read_points_csv(&args.points)?;
    if x.ncols() != mixture.dim() {
        return Err(CliError::Usage(format!(
            "{}: points have {} columns but the mixture has dimension {}",
            args.points.display(),
            x.ncols(),
            mixture.dim()
        )));
    }
    Ok((mixture.diffused(c.a, c.b)?.density()?, x))
}

pub fn logpdf(args: &DensityArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (p, x) = load(args)?;
    let lp = p.logpdf_batch(x.as_ref())?;
    write_matrix_csv(out, faer::MatRef::from_column_major_slice(&lp, lp.len(), 1))?;
    Ok(out.flush()?)
}

pub fn score(args: &DensityArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (p, x) = load(args)?;
    let s = p.score_batch(x.as_ref())?;
    write_matrix_csv(out, s.as_ref())?;
    Ok(out.flush()?)
}
