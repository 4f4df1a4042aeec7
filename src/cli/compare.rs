//! `gmdiff mixture-metric` and `gmdiff gaussian-metric`: the library's distances between two
//! given laws (gmdiff-metrics), as one JSON object that states the method.
//!
//! * Mixtures (JSON files): `kl` = KL(p ‖ q), `tv`, `entropy` = h(p) by Monte Carlo with the exact
//!   log-densities (`kl_mixtures_mc`, `tv_mixtures_mc`, `mixture_entropy_mc`: value, standard
//!   error, samples, seed); `mw2` = the mixture Wasserstein distance of Delon–Desolneux, exact
//!   discrete OT between the components with Bures costs (`mixture_w2`, an upper bound on W2).
//! * Gaussians (mean and covariance CSV files): `bures` = W2 (`bures_w2`), `kl` = KL(N_1 ‖ N_2)
//!   (`kl_gaussian`), `entropy` = h(N_1) (`gaussian_entropy`), all closed forms.

use super::args::{CliError, at_most_one_stdin, json_number};
use clap::{Args, ValueEnum};
use gmdiff::io::{read_mixture_json, read_points};
use gmdiff::metrics;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A metric between two mixtures.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MixtureMetric {
    /// KL(p ‖ q), Monte Carlo with exact log-densities.
    Kl,
    /// Total variation, stratified Monte Carlo with exact log-densities.
    Tv,
    /// Differential entropy h(p) in nats, Monte Carlo (Q is not read).
    Entropy,
    /// Mixture Wasserstein MW2 (exact; an upper bound on W2).
    Mw2,
}

#[derive(Args, Debug)]
pub struct MixtureMetricArgs {
    /// Which metric.
    #[arg(long, value_enum)]
    metric: MixtureMetric,
    /// Mixture p (JSON); - for standard input.
    p: PathBuf,
    /// Mixture q (JSON); not used by --metric entropy.
    q: Option<PathBuf>,
    /// Monte Carlo samples (kl, tv, entropy).
    #[arg(long, default_value_t = 100_000)]
    samples: usize,
    /// Seed of the Monte Carlo samples: p draws sample i from the random stream (seed, i).
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Prints one JSON object: `metric`, `value`, `method`, and for Monte Carlo `std_error`,
/// `samples`, `seed`; for `mw2` also `squared`.
pub fn mixture(args: &MixtureMetricArgs, out: &mut impl Write) -> Result<(), CliError> {
    let mc = |what: &str, e: metrics::McEstimate| {
        format!(
            "{{\"metric\": \"{what}\", \"value\": {}, \"std_error\": {}, \"method\": \"monte-carlo\", \"samples\": {}, \"seed\": {}}}",
            json_number(e.estimate),
            json_number(e.std_error),
            e.samples,
            args.seed
        )
    };
    let q_path = || args.q.as_deref().ok_or_else(|| CliError::Usage("this metric compares two mixtures: give P and Q".into()));
    if matches!(args.metric, MixtureMetric::Kl | MixtureMetric::Tv | MixtureMetric::Entropy) && args.samples < 4 {
        return Err(CliError::Usage(format!("--samples must be at least 4, got {}", args.samples)));
    }
    let line = match args.metric {
        MixtureMetric::Entropy => {
            if args.q.is_some() {
                return Err(CliError::Usage("--metric entropy takes one mixture, P".into()));
            }
            let p = read_mixture_json(&args.p)?;
            mc("entropy", metrics::mixture_entropy_mc(&p, args.samples, args.seed)?)
        }
        metric => {
            let q = q_path()?;
            at_most_one_stdin(&[&args.p, q])?;
            let (p, q) = (read_mixture_json(&args.p)?, read_mixture_json(q)?);
            if p.dim() != q.dim() {
                return Err(CliError::Usage(format!("P has dimension {} but Q has dimension {}", p.dim(), q.dim())));
            }
            match metric {
                MixtureMetric::Kl => mc("kl", metrics::kl_mixtures_mc(&p, &q, args.samples, args.seed)?),
                MixtureMetric::Tv => mc("tv", metrics::tv_mixtures_mc(&p, &q, args.samples, args.seed)?),
                _ => {
                    let m = metrics::mixture_w2(&p, &q)?;
                    format!(
                        "{{\"metric\": \"mw2\", \"value\": {}, \"squared\": {}, \"method\": \"exact: discrete optimal transport between the \
                         components with Bures-W2 squared costs (Delon-Desolneux 2020); an upper bound on W2\"}}",
                        json_number(m.distance),
                        json_number(m.squared)
                    )
                }
            }
        }
    };
    writeln!(out, "{line}")?;
    Ok(out.flush()?)
}

/// A closed-form metric between two Gaussians.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GaussianMetric {
    /// Bures–Wasserstein W2(N_1, N_2).
    Bures,
    /// KL(N_1 ‖ N_2) (∞ when N_1 is not absolutely continuous w.r.t. N_2).
    Kl,
    /// Differential entropy h(N_1) in nats (−∞ for a singular covariance); --mean2/--cov2 are not read.
    Entropy,
}

#[derive(Args, Debug)]
pub struct GaussianMetricArgs {
    /// Which metric.
    #[arg(long, value_enum)]
    metric: GaussianMetric,
    /// Mean of N_1: CSV (one row or one column) or .npy; - for standard input.
    #[arg(long)]
    mean1: Option<PathBuf>,
    /// Covariance of N_1: CSV or .npy, d rows of d values.
    #[arg(long)]
    cov1: PathBuf,
    /// Mean of N_2.
    #[arg(long)]
    mean2: Option<PathBuf>,
    /// Covariance of N_2.
    #[arg(long)]
    cov2: Option<PathBuf>,
}

/// A mean vector from a one-row or one-column file.
fn read_mean(path: &Path) -> Result<Vec<f64>, CliError> {
    let m = read_points(path)?;
    if m.nrows() == 1 {
        Ok((0..m.ncols()).map(|j| m[(0, j)]).collect())
    } else if m.ncols() == 1 {
        Ok((0..m.nrows()).map(|i| m[(i, 0)]).collect())
    } else {
        Err(CliError::Usage(format!("{}: the mean must be one row or one column", path.display())))
    }
}

/// Prints `{"metric": …, "value": …, "method": "closed form"}`.
pub fn gaussian(args: &GaussianMetricArgs, out: &mut impl Write) -> Result<(), CliError> {
    let mut inputs: Vec<&Path> = vec![&args.cov1];
    inputs.extend(args.mean1.as_deref());
    inputs.extend(args.mean2.as_deref());
    inputs.extend(args.cov2.as_deref());
    at_most_one_stdin(&inputs)?;
    let cov1 = read_points(&args.cov1)?;
    let (value, name) = match args.metric {
        GaussianMetric::Entropy => {
            if args.mean1.is_some() || args.mean2.is_some() || args.cov2.is_some() {
                return Err(CliError::Usage("--metric entropy reads only --cov1 (the entropy does not depend on the mean)".into()));
            }
            (metrics::gaussian_entropy(cov1.as_ref())?, "entropy")
        }
        metric => {
            let need = |p: &Option<PathBuf>, flag: &str| {
                p.clone().ok_or_else(|| CliError::Usage(format!("{flag} is required for --metric bures and kl")))
            };
            let (m1, m2, c2) = (need(&args.mean1, "--mean1")?, need(&args.mean2, "--mean2")?, need(&args.cov2, "--cov2")?);
            let (m1, m2, cov2) = (read_mean(&m1)?, read_mean(&m2)?, read_points(&c2)?);
            match metric {
                GaussianMetric::Bures => (metrics::bures_w2(&m1, cov1.as_ref(), &m2, cov2.as_ref())?, "bures"),
                _ => (metrics::kl_gaussian(&m1, cov1.as_ref(), &m2, cov2.as_ref())?, "kl"),
            }
        }
    };
    writeln!(out, "{{\"metric\": \"{name}\", \"value\": {}, \"method\": \"closed form\"}}", json_number(value))?;
    Ok(out.flush()?)
}
