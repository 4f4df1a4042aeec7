//! `gmdiff logpdf`, `gmdiff score` and `gmdiff hessian`: the exact diffused mixture at time t.

use super::args::{CliError, MixtureAtTime, at_most_one_stdin};
use clap::Args;
use gmdiff::io::{read_points, write_matrix_csv};
use gmdiff::mixture::MixtureDensity;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DensityArgs {
    #[command(flatten)]
    target: MixtureAtTime,
    /// Points: .csv (one point per row, comma separated, no header) or .npy (n × d); - for standard input.
    #[arg(long)]
    points: PathBuf,
}

/// The factorised `p_t` and the points.
fn load(args: &DensityArgs) -> Result<(MixtureDensity, faer::Mat<f64>), CliError> {
    at_most_one_stdin(&[&args.target.mixture, &args.points])?;
    let (mixture, c) = args.target.load()?;
    let x = read_points(&args.points)?;
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

/// One CSV column of `log p_t(x)`; a value below `−f64::MAX` prints as `-inf`, with a `note:` on
/// standard error saying why (the score there is still finite: `gmdiff score`).
pub fn logpdf(args: &DensityArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (p, x) = load(args)?;
    let lp = p.logpdf_batch(x.as_ref())?;
    write_matrix_csv(out, faer::MatRef::from_column_major_slice(&lp, lp.len(), 1))?;
    let below: Vec<usize> = lp.iter().enumerate().filter(|(_, v)| **v == f64::NEG_INFINITY).map(|(i, _)| i + 1).collect();
    if let Some(first) = below.first() {
        eprintln!(
            "note: log p_t(x) is below -1.8e308 (the f64 range) at {} point(s), first at row {first}: printed as -inf \
             (the point is too far from every component; its score is finite)",
            below.len()
        );
    }
    Ok(out.flush()?)
}

/// `d` CSV columns of `∇ log p_t(x)`.
pub fn score(args: &DensityArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (p, x) = load(args)?;
    let s = p.score_batch(x.as_ref())?;
    write_matrix_csv(out, s.as_ref())?;
    Ok(out.flush()?)
}

/// `d²` CSV columns of `∇² log p_t(x)`, row-major (`H_11, H_12, …, H_dd`).
pub fn hessian(args: &DensityArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (p, x) = load(args)?;
    let d = x.ncols();
    let h = p.hessian_batch(x.as_ref())?;
    let flat = faer::Mat::from_fn(h.len(), d * d, |r, k| h[r][(k / d, k % d)]);
    write_matrix_csv(out, flat.as_ref())?;
    Ok(out.flush()?)
}
