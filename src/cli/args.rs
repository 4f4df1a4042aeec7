//! Arguments shared by several subcommands, and the CLI error.

use clap::{Args, ValueEnum};
use gmdiff::process::{Ou, Process, ProcessError, VpCosine, VpLinear};

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

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ProcessKind {
    /// VP with linear β from --beta-min to --beta-max.
    Vp,
    /// VP with the Nichol–Dhariwal cosine schedule (s = 0.008, t ≤ 0.9946).
    VpCosine,
    /// Ornstein–Uhlenbeck, β ≡ 2.
    Ou,
}

/// The forward process: `--process`, `--beta-min`, `--beta-max`, `--horizon`.
#[derive(Args, Debug, Clone)]
pub struct ProcessArgs {
    /// Forward process.
    #[arg(long, value_enum, default_value = "vp")]
    pub process: ProcessKind,
    /// β_min of the linear VP process.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub beta_min: f64,
    /// β_max of the linear VP process.
    #[arg(long, default_value_t = 20.0, allow_negative_numbers = true)]
    pub beta_max: f64,
    /// Horizon T (vp and ou; default 1).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub horizon: f64,
}

impl ProcessArgs {
    /// The validated process.
    pub fn process(&self) -> Result<Process, CliError> {
        let p = match self.process {
            ProcessKind::Vp => Process::Vp(VpLinear::new(self.beta_min, self.beta_max, self.horizon)?),
            ProcessKind::VpCosine => Process::VpCosine(VpCosine::default()),
            ProcessKind::Ou => Process::Ou(Ou::new(self.horizon)?),
        };
        if !matches!(self.process, ProcessKind::Vp) && (self.beta_min != 0.1 || self.beta_max != 20.0) {
            return Err(CliError::Usage("--beta-min/--beta-max apply only to --process vp".into()));
        }
        Ok(p)
    }
}

/// A JSON number with round-trip precision; a non-finite value becomes a string (`"inf"`,
/// `"-inf"`, `"NaN"`), since JSON has no literal for it.
pub fn json_number(v: f64) -> String {
    let text = gmdiff::io::format_f64(v);
    if v.is_finite() { text } else { format!("\"{text}\"") }
}
