//! Arguments shared by several subcommands, and the CLI error.

use clap::{Args, ValueEnum};
use faer::MatRef;
use gmdiff::io::{is_stdin, read_mixture_json, write_matrix_csv, write_points};
use gmdiff::mixture::GaussianMixture;
use gmdiff::process::{Coefficients, Edm, Flow, GaussianPath, Ou, Process, ProcessError, SubVp, Ve, VpCosine, VpLinear};
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
    /// Sub-VP of Song et al. (2021) on the linear β of --beta-min/--beta-max: b = 1 − a².
    SubVp,
    /// Variance exploding, σ(t) = σ_min (σ_max/σ_min)^t, b² = σ(t)² − σ_min², t ∈ [0, 1].
    Ve,
    /// EDM (Karras et al. 2022): a = 1, b = σ = t, t ∈ [0, σ_max].
    Edm,
    /// Flow matching / rectified flow: a = 1 − t, b = t, t ∈ [0, T], T ≤ 1.
    Flow,
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
    /// Horizon T of vp, ou, sub-vp and flow [default: 1; for `guide`: 5].
    #[arg(long, allow_negative_numbers = true)]
    pub horizon: Option<f64>,
    /// σ_min of ve [default: 0.01].
    #[arg(long, allow_negative_numbers = true)]
    pub sigma_min: Option<f64>,
    /// σ_max of ve [default: 50] and edm [default: 80; its horizon T = σ_max].
    #[arg(long, allow_negative_numbers = true)]
    pub sigma_max: Option<f64>,
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
        let linear_beta = matches!(kind, ProcessKind::Vp | ProcessKind::SubVp);
        if !linear_beta && (self.beta_min.is_some() || self.beta_max.is_some()) {
            return Err(CliError::Usage(format!("--beta-min/--beta-max apply only to --process vp and sub-vp, not {}", kind.name())));
        }
        if kind != ProcessKind::Ve && self.sigma_min.is_some() {
            return Err(CliError::Usage(format!("--sigma-min applies only to --process ve, not {}", kind.name())));
        }
        if !matches!(kind, ProcessKind::Ve | ProcessKind::Edm) && self.sigma_max.is_some() {
            return Err(CliError::Usage(format!("--sigma-max applies only to --process ve and edm, not {}", kind.name())));
        }
        if self.horizon.is_some() {
            let fixed = match kind {
                ProcessKind::VpCosine => Some("its horizon is fixed, T = 0.9946"),
                ProcessKind::Ve => Some("its horizon is fixed, T = 1"),
                ProcessKind::Edm => Some("its horizon is T = σ_max: use --sigma-max"),
                _ => None,
            };
            if let Some(why) = fixed {
                return Err(CliError::Usage(format!("--horizon does not apply to --process {} ({why})", kind.name())));
            }
        }
        let linear = || VpLinear::new(self.beta_min.unwrap_or(0.1), self.beta_max.unwrap_or(20.0), horizon);
        Ok(match kind {
            ProcessKind::Vp => Process::Vp(linear()?),
            ProcessKind::VpCosine => Process::VpCosine(VpCosine::default()),
            ProcessKind::Ou => Process::Ou(Ou::new(horizon)?),
            ProcessKind::SubVp => Process::SubVp(SubVp::new(linear()?)),
            ProcessKind::Ve => Process::Ve(Ve::new(self.sigma_min.unwrap_or(0.01), self.sigma_max.unwrap_or(50.0))?),
            ProcessKind::Edm => Process::Edm(Edm::new(self.sigma_max.unwrap_or(80.0))?),
            ProcessKind::Flow => Process::Flow(Flow::new(if self.horizon.is_some() { horizon } else { 1.0 })?),
        })
    }
}

impl ProcessKind {
    fn name(self) -> &'static str {
        match self {
            ProcessKind::Vp => "vp",
            ProcessKind::VpCosine => "vp-cosine",
            ProcessKind::Ou => "ou",
            ProcessKind::SubVp => "sub-vp",
            ProcessKind::Ve => "ve",
            ProcessKind::Edm => "edm",
            ProcessKind::Flow => "flow",
        }
    }
}

/// The diffused target `p_t`: `--mixture`, `--time` and the forward process.
#[derive(Args, Debug)]
pub struct MixtureAtTime {
    /// Mixture JSON: {"weights": [...], "means": [[...]], "covariances": [[[...]]]}; - for standard input.
    #[arg(long)]
    pub mixture: PathBuf,
    /// Forward time t ≥ 0: any t for vp (β continued linearly past T) and ou; t ≤ 0.9946 for vp-cosine.
    /// A query of p_t needs no --horizon.
    #[arg(long, allow_negative_numbers = true)]
    pub time: f64,
    #[command(flatten)]
    pub process: ProcessArgs,
}

impl MixtureAtTime {
    /// The mixture `p_0` and the coefficients `(a_t, b_t)` of `x_t = a_t x_0 + b_t z`, for any `t`
    /// where the process is defined ([`GaussianPath::coefficients`]: queries need no horizon).
    pub fn load(&self) -> Result<(GaussianMixture, Coefficients), CliError> {
        let process = self.process.process()?;
        let c = process.coefficients(self.time).map_err(|e| time_error(e, &process, "--time"))?;
        Ok((read_mixture_json(&self.mixture)?, c))
    }
}

/// A time or early-stop error with the fix spelled out.
pub fn time_error(e: ProcessError, process: &Process, flag: &str) -> CliError {
    match e {
        ProcessError::TimeOutOfRange { t, horizon } => {
            let fix = if !(t.is_finite() && t >= 0.0) {
                format!("{flag} must be a finite time ≥ 0")
            } else if matches!(process, Process::VpCosine(_)) {
                "the vp-cosine schedule is used on [0, 0.9946] only (its β blows up at t = 1); use --process vp or ou for later times"
                    .into()
            } else {
                format!("pass --horizon {t} or more")
            };
            CliError::Usage(format!("{flag} {t} is outside [0, {horizon}]: {fix}"))
        }
        ProcessError::InvalidParameter { name: "eps", value, .. } => {
            let fix = if matches!(process, Process::VpCosine(_)) { "lower --eps" } else { "lower --eps or raise --horizon" };
            CliError::Usage(format!(
                "--eps {value} must satisfy 0 ≤ ε < T = {} (0 < ε for the karras and log-snr grids): {fix}",
                process.horizon()
            ))
        }
        other => CliError::Process(other),
    }
}

/// Refuses more than one `-` (standard input) among `paths`.
pub fn at_most_one_stdin(paths: &[&std::path::Path]) -> Result<(), CliError> {
    if paths.iter().filter(|p| is_stdin(p)).count() > 1 {
        return Err(CliError::Usage("only one input may be - (standard input)".into()));
    }
    Ok(())
}

/// A sampling run: `--mixture`, `--steps`, `--count`, `--seed`, `--eps`, `--out`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Mixture JSON: {"weights": [...], "means": [[...]], "covariances": [[[...]]]}; - for standard input.
    #[arg(long)]
    pub mixture: PathBuf,
    /// Number of steps S (S + 1 grid points); required except for `sample --sampler exact`.
    #[arg(long)]
    pub steps: Option<usize>,
    /// Number of samples N.
    #[arg(long)]
    pub count: usize,
    /// Seed: particle i draws from ChaCha8(seed, stream i).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Early stop ε: the grid ends at forward time ε.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    pub eps: f64,
    /// Output file of the samples, .csv or .npy by its extension, written atomically (`sample`
    /// prints CSV when it is absent).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl RunArgs {
    /// `--steps`, which every sampler but `exact` needs.
    pub fn steps(&self) -> Result<usize, CliError> {
        self.steps.ok_or_else(|| CliError::Usage("--steps is required (the number of sampler steps)".into()))
    }
    /// Refuses an `--out` whose extension is neither .csv nor .npy, before any work is done.
    pub fn check_out(&self) -> Result<(), CliError> {
        if let Some(path) = &self.out {
            gmdiff::io::PointsFormat::of(path)?;
        }
        Ok(())
    }
    /// Writes the samples to `--out` (atomically; .csv or .npy by extension), if given; returns whether it did.
    pub fn write_samples(&self, samples: MatRef<'_, f64>) -> Result<bool, CliError> {
        let Some(path) = &self.out else { return Ok(false) };
        write_points(path, samples)?;
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

/// A progress bar on standard error (drawn only when it is a terminal, so pipes and tests see
/// nothing): `what`, elapsed time, bar, position and the estimated time left.
pub fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(len), indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template("{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} (eta {eta})")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

/// A spinner on standard error for work without a step count (drawn only on a terminal).
pub fn spinner(what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}]")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
