//! Arguments shared by several subcommands, and the CLI error.

use clap::{Args, ValueEnum};
use faer::MatRef;
use gmdiff::io::{read_mixture_json, write_atomic, write_matrix_csv};
use gmdiff::mixture::GaussianMixture;
use gmdiff::process::{Coefficients, ForwardProcess, Ou, Process, ProcessError, VpCosine, VpLinear};
use std::path::PathBuf;

/// Any error of a subcommand; printed as one `error:` line, exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file could not be read, parsed or written.
    #[error(transparent)]
    Io(#[from] gmdiff::io::IoError),
    /// Bad process parameters or time.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// A mixture error at evaluation time.
    #[error(transparent)]
    Mixture(#[from] gmdiff::mixture::MixtureError),
    /// Invalid clouds or metric parameters.
    #[error(transparent)]
    Metrics(#[from] gmdiff::metrics::MetricsError),
    /// Writing to standard output failed.
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
    /// Any other invalid usage.
    #[error("{0}")]
    Usage(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProcessKind {
    /// VP with linear β from --beta-min to --beta-max.
    Vp,
    /// VP with the Nichol–Dhariwal cosine schedule (s = 0.008, t ≤ 0.9946).
    VpCosine,
    /// Ornstein–Uhlenbeck, β ≡ 2.
    Ou,
}

/// The forward process: `--process`, `--beta-min`, `--beta-max`, `--horizon`.
///
/// Every field is optional so that a subcommand can choose its default process and horizon, and
/// so that a parameter given to a process it does not belong to is refused rather than ignored.
#[derive(Args, Debug, Clone)]
pub struct ProcessArgs {
    /// Forward process [default: vp; for `guide`: ou].
    #[arg(long, value_enum)]
    pub process: Option<ProcessKind>,
    /// β_min of the linear VP process [default: 0.1].
    #[arg(long, allow_negative_numbers = true)]
    pub beta_min: Option<f64>,
    /// β_max of the linear VP process [default: 20].
    #[arg(long, allow_negative_numbers = true)]
    pub beta_max: Option<f64>,
    /// Horizon T of vp and ou [default: 1; for `guide`: 5].
    #[arg(long, allow_negative_numbers = true)]
    pub horizon: Option<f64>,
}

impl ProcessArgs {
    /// The validated process, VP linear with `T = 1` unless told otherwise.
    pub fn process(&self) -> Result<Process, CliError> {
        self.process_or(ProcessKind::Vp, 1.0)
    }

    /// The validated process, with the subcommand's default kind and horizon.
    pub fn process_or(&self, kind: ProcessKind, horizon: f64) -> Result<Process, CliError> {
        let kind = self.process.unwrap_or(kind);
        let horizon = self.horizon.unwrap_or(horizon);
        if kind != ProcessKind::Vp && (self.beta_min.is_some() || self.beta_max.is_some()) {
            return Err(CliError::Usage(format!("--beta-min/--beta-max apply only to --process vp, not {}", kind.name())));
        }
        if kind == ProcessKind::VpCosine && self.horizon.is_some() {
            return Err(CliError::Usage("--horizon does not apply to --process vp-cosine (its horizon is fixed, T = 0.9946)".into()));
        }
        Ok(match kind {
            ProcessKind::Vp => Process::Vp(VpLinear::new(self.beta_min.unwrap_or(0.1), self.beta_max.unwrap_or(20.0), horizon)?),
            ProcessKind::VpCosine => Process::VpCosine(VpCosine::default()),
            ProcessKind::Ou => Process::Ou(Ou::new(horizon)?),
        })
    }
}

impl ProcessKind {
    fn name(self) -> &'static str {
        match self {
            ProcessKind::Vp => "vp",
            ProcessKind::VpCosine => "vp-cosine",
            ProcessKind::Ou => "ou",
        }
    }
}

/// The diffused target `p_t`: `--mixture`, `--time` and the forward process.
#[derive(Args, Debug)]
pub struct MixtureAtTime {
    /// Mixture JSON: {"weights": [...], "means": [[...]], "covariances": [[[...]]]}.
    #[arg(long)]
    pub mixture: PathBuf,
    /// Forward time t in [0, T].
    #[arg(long, allow_negative_numbers = true)]
    pub time: f64,
    #[command(flatten)]
    pub process: ProcessArgs,
}

impl MixtureAtTime {
    /// The mixture `p_0` and the coefficients `(a_t, b_t)` of `x_t = a_t x_0 + b_t z`.
    pub fn load(&self) -> Result<(GaussianMixture, Coefficients), CliError> {
        let c = self.process.process()?.at(self.time)?;
        Ok((read_mixture_json(&self.mixture)?, c))
    }
}

/// A sampling run: `--mixture`, `--steps`, `--count`, `--seed`, `--eps`, `--out`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Mixture JSON: {"weights": [...], "means": [[...]], "covariances": [[[...]]]}.
    #[arg(long)]
    pub mixture: PathBuf,
    /// Number of steps S (S + 1 grid points).
    #[arg(long)]
    pub steps: usize,
    /// Number of samples N.
    #[arg(long)]
    pub count: usize,
    /// Seed: particle i draws from ChaCha8(seed, stream i).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Early stop ε: the grid ends at forward time ε.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    pub eps: f64,
    /// Output CSV of the samples, written atomically (`sample` prints them when it is absent).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl RunArgs {
    /// Writes the samples as CSV to `--out` (atomically), if given; returns whether it did.
    pub fn write_samples(&self, samples: MatRef<'_, f64>) -> Result<bool, CliError> {
        let Some(path) = &self.out else { return Ok(false) };
        write_atomic(path, &samples_csv(samples)?)?;
        Ok(true)
    }
}

/// The rows of `samples` as CSV bytes.
pub fn samples_csv(samples: MatRef<'_, f64>) -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::with_capacity(samples.nrows() * samples.ncols() * 20);
    write_matrix_csv(&mut bytes, samples)?;
    Ok(bytes)
}

/// A JSON number with round-trip precision; a non-finite value becomes a string (`"inf"`,
/// `"-inf"`, `"NaN"`), since JSON has no literal for it.
pub fn json_number(v: f64) -> String {
    let text = gmdiff::io::format_f64(v);
    if v.is_finite() { text } else { format!("\"{text}\"") }
}
