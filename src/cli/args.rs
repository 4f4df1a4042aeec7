//! Arguments shared by several subcommands, and the CLI error.

use clap::{Args, ValueEnum};
use faer::MatRef;
use gmdiff::io::{is_stdin, read_mixture_json, write_matrix_csv, write_points};
use gmdiff::mixture::GaussianMixture;
use gmdiff::process::{Coefficients, Edm, Flow, GaussianPath, Ou, Process, ProcessError, SubVp, TimeGrid, Ve, VpCosine, VpLinear};
use gmdiff::solvers::{
    Builtin, Ddim, Ddpm, Deis, Dpm2Ancestral, DpmSolver2M, DpmSolver2MSde, DpmSolver2SAncestral, DpmSolver3M, DpmSolver3MSde, DpmSolverSde,
    DpmSolverSinglestep, DpmSolverType, Dpom, Dpum, EdmSde, EulerAncestral, Lms, Pndm, Schedule, UniPc, UniPcVariant,
};
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
    /// σ_min of ve [default: 0.01] (the σ_min of edm's grid is --eps).
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
                "--eps {value} must satisfy 0 ≤ ε < T = {} (0 < ε for the karras, log-snr, exponential and polyexponential grids): {fix}",
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
    /// Early stop ε: the grid ends at forward time ε [default: 1e-3; for --process edm: 0.002,
    /// EDM's σ_min].
    #[arg(long, allow_negative_numbers = true)]
    pub eps: Option<f64>,
    /// Output file of the samples, .csv or .npy by its extension, written atomically (`sample`
    /// prints CSV when it is absent).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl RunArgs {
    /// `--eps`, or its default for `process` ([`default_eps`] with 1e-3).
    pub fn eps(&self, process: &Process) -> f64 {
        self.eps.unwrap_or_else(|| default_eps(process, 1e-3))
    }
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

/// EDM's σ_min = 0.002 (Karras et al. 2022, Table 1): the default `--eps` of `--process edm`.
pub const EDM_SIGMA_MIN: f64 = 0.002;

/// The default early stop of a subcommand on `process`: σ_min = [`EDM_SIGMA_MIN`] on the EDM path
/// (the end of its σ grid, before the final step to σ = 0), else the subcommand's `fallback`.
pub fn default_eps(process: &Process, fallback: f64) -> f64 {
    if matches!(process, Process::Edm(_)) { EDM_SIGMA_MIN } else { fallback }
}

/// The start law of a reverse-time run (`--init`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitKind {
    /// The path's standard start N(0, s² I): s = 1 for vp, vp-cosine, ou, sub-vp and flow; s = σ_max
    /// for ve and edm.
    Standard,
    /// The exact diffused target p_T.
    Exact,
}

/// The time grid of a sampler (`--grid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GridKind {
    /// Equal steps in t from T down to ε.
    Uniform,
    /// Karras et al. (2022, eq. 5): equal steps in σ^{1/ρ}, σ = b/a; needs ε > 0.
    Karras,
    /// Equal steps in λ = log(a/b) (DPM-Solver's logSNR); needs ε > 0.
    LogSnr,
    /// Equal steps in sqrt(t) (DPM-Solver's time_quadratic).
    Quadratic,
    /// Equal steps in log σ (k-diffusion's get_sigmas_exponential); needs ε > 0.
    Exponential,
    /// log σ a degree-ρ polynomial of k/S (k-diffusion's get_sigmas_polyexponential); needs ε > 0.
    Polyexponential,
}

impl GridKind {
    fn name(self) -> &'static str {
        match self {
            GridKind::Uniform => "uniform",
            GridKind::Karras => "karras",
            GridKind::LogSnr => "log-snr",
            GridKind::Quadratic => "quadratic",
            GridKind::Exponential => "exponential",
            GridKind::Polyexponential => "polyexponential",
        }
    }
    /// The default ρ of the grids that take one: 7 for karras (EDM), 1 for polyexponential (k-diffusion).
    fn default_rho(self) -> Option<f64> {
        match self {
            GridKind::Karras => Some(7.0),
            GridKind::Polyexponential => Some(1.0),
            _ => None,
        }
    }
    /// True for the grids built in σ = b/a or λ = log(a/b), which need σ(T) finite and ε > 0.
    fn in_sigma(self) -> bool {
        !matches!(self, GridKind::Uniform | GridKind::Quadratic)
    }
}

/// The sampler options shared by `sample` and `gaussian-error`: the sampler, its parameters and the
/// time grid. A parameter given to a sampler or grid it does not belong to is refused.
#[derive(Args, Debug, Clone)]
pub struct SamplerArgs {
    /// Sampler (docs/solvers.md): em, ei, ddpm, ddim, euler, heun, rk4, ode-ei, dpmpp2m, dpom, dpum,
    /// euler-a, edm-heun, edm-sde, dpm2, dpm2-a, dpmpp2s-a, dpmpp-sde, dpmpp3m, dpmpp2m-sde,
    /// dpmpp3m-sde, unipc, deis, lms; `sample` also takes exact (i.i.d. draws of the target p_0, no
    /// steps), `gaussian-error` also sde and ode (the exact continuous dynamics). `--scheme` is an
    /// alias.
    #[arg(long, visible_alias = "scheme")]
    pub sampler: String,
    /// η, the stochasticity: ddim (0 ≤ η ≤ 1, 0 = deterministic) [default: 0]; the ancestral and SDE
    /// samplers (k-diffusion's `eta`, ≥ 0) [default: 1].
    #[arg(long, allow_negative_numbers = true)]
    pub eta: Option<f64>,
    /// k-diffusion's `s_noise`: the scale of the fresh noise of the ancestral and SDE samplers and of
    /// edm-sde's churn (1 keeps the law exact) [default: 1].
    #[arg(long, allow_negative_numbers = true)]
    pub s_noise: Option<f64>,
    /// edm-sde: S_churn of Karras et al. (2022, Algorithm 2), γ = min(S_churn/S, √2 − 1) [default: 40].
    #[arg(long, allow_negative_numbers = true)]
    pub s_churn: Option<f64>,
    /// edm-sde: churn only where σ ≥ S_tmin [default: 0].
    #[arg(long, allow_negative_numbers = true)]
    pub s_tmin: Option<f64>,
    /// edm-sde: churn only where σ ≤ S_tmax [default: ∞].
    #[arg(long, allow_negative_numbers = true)]
    pub s_tmax: Option<f64>,
    /// dpmpp-sde: the stage `r ∈ (0, 1]` of the step in λ [default: 0.5].
    #[arg(long, allow_negative_numbers = true)]
    pub r: Option<f64>,
    /// dpmpp2m-sde and dpmpp-single: `midpoint` or `heun` [default: midpoint]; unipc: `bh1` or `bh2`
    /// [default: bh2].
    #[arg(long)]
    pub solver_type: Option<String>,
    /// dpmpp2m, dpmpp3m, unipc, deis, dpmpp-single: lower the order of the last steps (true or false;
    /// diffusers' rule: below 15 steps for dpmpp2m, dpmpp3m and deis, always for unipc, its
    /// `get_order_list` for dpmpp-single) [default: false for dpmpp2m, true for the others].
    #[arg(long, value_name = "BOOL")]
    pub lower_order_final: Option<bool>,
    /// unipc, deis and dpmpp-single: the order 1–3 [default: 2]; lms: 1–4 [default: 4].
    #[arg(long)]
    pub order: Option<usize>,
    /// pndm: skip the pseudo Runge–Kutta warm-up, starting with a pseudo improved Euler step (true or
    /// false; diffusers' `skip_prk_steps`) [default: false].
    #[arg(long, value_name = "BOOL")]
    pub skip_prk_steps: Option<bool>,
    /// ddpm: draw noise in the last step too (true or false; false is Ho et al.'s Algorithm 2)
    /// [default: true].
    #[arg(long, value_name = "BOOL")]
    pub last_step_noise: Option<bool>,
    /// unipc: use the corrector UniC (true or false) [default: true].
    #[arg(long, value_name = "BOOL")]
    pub use_corrector: Option<bool>,
    /// dpom and dpum: run the corrector after every N-th predictor step, never after the last
    /// [default: 1].
    #[arg(long)]
    pub corrector_every: Option<usize>,
    /// dpom and dpum: corrector iterations per correction [default: 1].
    #[arg(long)]
    pub corrector_iterations: Option<usize>,
    /// dpom: Langevin step h = scale · b_t² [default: 0.05]; dpum: BAOAB step h = scale · b_t
    /// [default: 0.2].
    #[arg(long, allow_negative_numbers = true)]
    pub corrector_step_scale: Option<f64>,
    /// dpum: friction γ of the underdamped corrector, in units of 1/b_t [default: 2].
    #[arg(long, allow_negative_numbers = true)]
    pub friction: Option<f64>,
    /// Time grid [default: uniform; for --process edm: karras]. On --process edm, --steps N is EDM's
    /// num_steps: N σ values from σ_max down to σ_min = --eps, then a last step to σ = 0 (N ≥ 2).
    #[arg(long, value_enum)]
    pub grid: Option<GridKind>,
    /// ρ of --grid karras [default: 7] and polyexponential [default: 1]; refused for other grids.
    #[arg(long, allow_negative_numbers = true)]
    pub rho: Option<f64>,
}

impl SamplerArgs {
    /// The built-in sampler named by `--sampler`, with `--eta` and the corrector settings applied;
    /// `extra` lists the subcommand's other sampler names for the error message.
    pub fn builtin(&self, extra: &str) -> Result<Builtin, CliError> {
        let name = self.sampler.as_str();
        let mut sampler = Builtin::from_name(name)
            .ok_or_else(|| CliError::Usage(format!("unknown sampler `{name}`: expected one of {}, {extra}", Builtin::NAMES.join(", "))))?;
        self.refuse_foreign(name)?;
        fn set<T: Copy>(field: &mut T, given: Option<T>) {
            if let Some(v) = given {
                *field = v;
            }
        }
        match &mut sampler {
            Builtin::Ddim(Ddim { eta }) => set(eta, self.eta),
            Builtin::Dpom(Dpom(c)) => {
                set(&mut c.every, self.corrector_every);
                set(&mut c.iterations, self.corrector_iterations);
                set(&mut c.step_scale, self.corrector_step_scale);
            }
            Builtin::Dpum(Dpum(c)) => {
                set(&mut c.every, self.corrector_every);
                set(&mut c.iterations, self.corrector_iterations);
                set(&mut c.step_scale, self.corrector_step_scale);
                set(&mut c.friction, self.friction);
            }
            Builtin::EulerAncestral(EulerAncestral { eta, s_noise }) | Builtin::Dpm2Ancestral(Dpm2Ancestral { eta, s_noise }) => {
                set(eta, self.eta);
                set(s_noise, self.s_noise);
            }
            Builtin::DpmSolver2SAncestral(DpmSolver2SAncestral { eta, s_noise })
            | Builtin::DpmSolver3MSde(DpmSolver3MSde { eta, s_noise }) => {
                set(eta, self.eta);
                set(s_noise, self.s_noise);
            }
            Builtin::DpmSolverSde(DpmSolverSde { eta, s_noise, r }) => {
                set(eta, self.eta);
                set(s_noise, self.s_noise);
                set(r, self.r);
            }
            Builtin::DpmSolver2MSde(DpmSolver2MSde { eta, s_noise, solver_type }) => {
                set(eta, self.eta);
                set(s_noise, self.s_noise);
                if let Some(name) = &self.solver_type {
                    *solver_type = DpmSolverType::from_name(name).ok_or_else(|| {
                        CliError::Usage(format!("--solver-type {name}: dpmpp2m-sde takes {}", DpmSolverType::NAMES.join(" or ")))
                    })?;
                }
            }
            Builtin::DpmSolver2M(DpmSolver2M { lower_order_final }) | Builtin::DpmSolver3M(DpmSolver3M { lower_order_final }) => {
                set(lower_order_final, self.lower_order_final);
            }
            Builtin::UniPc(UniPc { variant, order, use_corrector, lower_order_final }) => {
                if let Some(name) = &self.solver_type {
                    *variant = UniPcVariant::from_name(name).ok_or_else(|| {
                        CliError::Usage(format!("--solver-type {name}: unipc takes {}", UniPcVariant::NAMES.join(" or ")))
                    })?;
                }
                set(order, self.order);
                set(use_corrector, self.use_corrector);
                set(lower_order_final, self.lower_order_final);
            }
            Builtin::Deis(Deis { order, lower_order_final }) => {
                set(order, self.order);
                set(lower_order_final, self.lower_order_final);
            }
            Builtin::Lms(Lms { order }) => set(order, self.order),
            Builtin::DpmSolverSinglestep(DpmSolverSinglestep { order, lower_order_final, solver_type }) => {
                set(order, self.order);
                set(lower_order_final, self.lower_order_final);
                if let Some(name) = &self.solver_type {
                    *solver_type = DpmSolverType::from_name(name).ok_or_else(|| {
                        CliError::Usage(format!("--solver-type {name}: dpmpp-single takes {}", DpmSolverType::NAMES.join(" or ")))
                    })?;
                }
            }
            Builtin::Pndm(Pndm { prk }) => {
                if let Some(skip) = self.skip_prk_steps {
                    *prk = !skip;
                }
            }
            Builtin::Ddpm(Ddpm { last_step_noise }) => set(last_step_noise, self.last_step_noise),
            Builtin::EdmSde(EdmSde { s_churn, s_tmin, s_tmax, s_noise }) => {
                set(s_churn, self.s_churn);
                set(s_tmin, self.s_tmin);
                set(s_tmax, self.s_tmax);
                set(s_noise, self.s_noise);
            }
            _ => {}
        }
        Ok(sampler)
    }

    /// Refuses the sampler parameters that the sampler `name` does not take (all of them for a
    /// name that is not a built-in sampler: `exact`, `sde`, `ode`).
    pub fn refuse_foreign(&self, name: &str) -> Result<(), CliError> {
        const ETA: &[&str] = &[
            Ddim::NAME,
            EulerAncestral::NAME,
            Dpm2Ancestral::NAME,
            DpmSolver2SAncestral::NAME,
            DpmSolverSde::NAME,
            DpmSolver2MSde::NAME,
            DpmSolver3MSde::NAME,
        ];
        const NOISE_SCALE: &[&str] = &[
            EulerAncestral::NAME,
            Dpm2Ancestral::NAME,
            EdmSde::NAME,
            DpmSolver2SAncestral::NAME,
            DpmSolverSde::NAME,
            DpmSolver2MSde::NAME,
            DpmSolver3MSde::NAME,
        ];
        const SOLVER_TYPE: &[&str] = &[DpmSolver2MSde::NAME, UniPc::NAME, DpmSolverSinglestep::NAME];
        const LOWER_ORDER_FINAL: &[&str] = &[DpmSolver2M::NAME, DpmSolver3M::NAME, UniPc::NAME, Deis::NAME, DpmSolverSinglestep::NAME];
        const ORDER: &[&str] = &[UniPc::NAME, Deis::NAME, Lms::NAME, DpmSolverSinglestep::NAME];
        const CORRECTORS: &[&str] = &[Dpom::NAME, Dpum::NAME];
        // (flag, given, the samplers that take it, what they are)
        let table: [(&str, bool, &[&str], &str); 16] = [
            ("--skip-prk-steps", self.skip_prk_steps.is_some(), &[Pndm::NAME], "PNDM's warm-up"),
            ("--last-step-noise", self.last_step_noise.is_some(), &[Ddpm::NAME], "DDPM's last step"),
            ("--order", self.order.is_some(), ORDER, "the multistep samplers of a chosen order"),
            ("--use-corrector", self.use_corrector.is_some(), &[UniPc::NAME], "UniPC's corrector"),
            ("--eta", self.eta.is_some(), ETA, "the samplers with a stochasticity η"),
            ("--r", self.r.is_some(), &[DpmSolverSde::NAME], "DPM-Solver++ SDE's stage in λ"),
            ("--solver-type", self.solver_type.is_some(), SOLVER_TYPE, "the samplers with a solver type"),
            ("--lower-order-final", self.lower_order_final.is_some(), LOWER_ORDER_FINAL, "the multistep samplers"),
            ("--s-noise", self.s_noise.is_some(), NOISE_SCALE, "the samplers that draw noise with k-diffusion's s_noise"),
            ("--s-churn", self.s_churn.is_some(), &[EdmSde::NAME], "EDM's stochastic sampler"),
            ("--s-tmin", self.s_tmin.is_some(), &[EdmSde::NAME], "EDM's stochastic sampler"),
            ("--s-tmax", self.s_tmax.is_some(), &[EdmSde::NAME], "EDM's stochastic sampler"),
            ("--corrector-every", self.corrector_every.is_some(), CORRECTORS, "the corrector samplers"),
            ("--corrector-iterations", self.corrector_iterations.is_some(), CORRECTORS, "the corrector samplers"),
            ("--corrector-step-scale", self.corrector_step_scale.is_some(), CORRECTORS, "the corrector samplers"),
            ("--friction", self.friction.is_some(), &[Dpum::NAME], "the underdamped corrector"),
        ];
        for (flag, given, owners, what) in table {
            if given && !owners.contains(&name) {
                let list = match owners.split_last() {
                    Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                    _ => owners.join(""),
                };
                return Err(CliError::Usage(format!("{flag} applies only to --sampler {list} ({what}), not {name}")));
            }
        }
        Ok(())
    }

    /// Refuses `--grid` and `--rho` where no grid is built (`sample --sampler exact`).
    pub fn refuse_grid(&self, why: &str) -> Result<(), CliError> {
        if self.grid.is_some() || self.rho.is_some() {
            return Err(CliError::Usage(format!("--grid and --rho do not apply: {why}")));
        }
        Ok(())
    }

    /// The grid kind: `--grid`, else karras on the EDM path and uniform on the others.
    pub fn grid_kind(&self, process: &Process) -> GridKind {
        self.grid.unwrap_or(if matches!(process, Process::Edm(_)) { GridKind::Karras } else { GridKind::Uniform })
    }

    /// The time grid of `steps` steps on `process`, ending at the early stop `eps`.
    ///
    /// On the EDM path `--steps N` is EDM's `num_steps` (Karras et al. 2022, Algorithm 1): the
    /// chosen grid of `N − 1` steps from σ_max down to σ_min = ε, then one last step to σ = 0
    /// ([`TimeGrid::with_final_zero`]), `N ≥ 2`; with ε = 0 (uniform and quadratic grids only) the
    /// grid of `N` steps already ends at σ = 0. Every EDM run has `N` steps and ends at σ = 0.
    pub fn grid(&self, process: &Process, steps: usize, eps: f64) -> Result<TimeGrid, CliError> {
        let kind = self.grid_kind(process);
        let rho = match (kind.default_rho(), self.rho) {
            (None, Some(_)) => {
                return Err(CliError::Usage(format!("--rho applies only to --grid karras and polyexponential, not {}", kind.name())));
            }
            (default, given) => given.or(default).unwrap_or(f64::NAN),
        };
        if kind.in_sigma() && process.sigma_at(process.horizon()).is_infinite() {
            return Err(CliError::Usage(format!(
                "--grid {} needs σ(T) = b_T/a_T finite, but a_T = 0 at the horizon T = {} of flow: pass --horizon below 1 or use --grid uniform or quadratic",
                kind.name(),
                process.horizon()
            )));
        }
        let edm = matches!(process, Process::Edm(_));
        let (steps, eps) = if edm {
            if steps < 2 {
                return Err(CliError::Usage(format!(
                    "--steps {steps} with --process edm: --steps N is EDM's num_steps (N σ values from σ_max down to σ_min = --eps, then σ = 0) and needs N ≥ 2"
                )));
            }
            if eps == 0.0 && kind.in_sigma() {
                return Err(CliError::Usage(format!(
                    "--eps 0 with --process edm and --grid {}: this grid needs σ_min = ε > 0 (its σ values end at σ_min, then σ = 0 follows anyway): omit --eps (σ_min = 0.002) or use --grid uniform or quadratic",
                    kind.name()
                )));
            }
            if eps == 0.0 { (steps, eps) } else { (steps - 1, eps) }
        } else {
            (steps, eps)
        };
        let grid = match kind {
            GridKind::Uniform => TimeGrid::uniform(process, steps, eps),
            GridKind::Karras => TimeGrid::karras(process, steps, eps, rho),
            GridKind::LogSnr => TimeGrid::log_snr_uniform(process, steps, eps),
            GridKind::Quadratic => TimeGrid::quadratic(process, steps, eps),
            GridKind::Exponential => TimeGrid::exponential(process, steps, eps),
            GridKind::Polyexponential => TimeGrid::polyexponential(process, steps, eps, rho),
        }
        .map_err(|e| time_error(e, process, "--eps"))?;
        Ok(if edm { grid.with_final_zero() } else { grid })
    }

    /// The sampler of `--sampler` and its schedule on `process` ([`SamplerArgs::builtin`],
    /// [`SamplerArgs::grid`]).
    pub fn build(&self, process: Process, steps: usize, eps: f64, extra: &str) -> Result<(Builtin, Schedule), CliError> {
        let sampler = self.builtin(extra)?;
        let grid = self.grid(&process, steps, eps)?;
        Ok((sampler, Schedule::grid(process, grid)))
    }
}
