//! diffusers scheduler configurations (`scheduler_config.json`): a typed reader with typed errors, and
//! the timestep and σ tables that diffusers' `set_timesteps(n)` builds from them (issue 16, phase 1).
//!
//! [`SchedulerConfig::from_json`] reads the class name (`_class_name`) and the fields that decide a
//! scheduler's law; every field it does not model is named in [`Parsed::warnings`], never silently
//! dropped. Missing fields take diffusers' default **for that class** (the defaults of each class's
//! `__init__` in diffusers 0.42.1, `diffusers/schedulers/scheduling_*.py`).
//!
//! The tables reproduce diffusers' arithmetic, including its dtypes: diffusers builds `betas` with
//! `torch.linspace(…, dtype=float32)`, `alphas_cumprod = torch.cumprod(1 − betas)` in float32, and the
//! σ table `sqrt((1 − ᾱ)/ᾱ)` in float32; the timesteps come from numpy in float64 (`np.linspace`,
//! `np.arange`, `round` = ties to even). The fixtures of `tests/peer/fixtures/schedulers/` (diffusers'
//! own tables, `tests/peer/make_scheduler_fixtures.py`) are the reference.
//!
//! Status: phase 1 (the tables, not yet the laws). Every class has its tables except with
//! `use_beta_sigmas` (scipy's beta quantile), which returns [`ConfigError::TablesNotImplemented`].
//! Agreement with diffusers 0.42.1 / torch 2.15.0 (`crates/solvers/tests/diffusers_tables.rs`, 438
//! tables): timesteps exact (DDPM, DDIM, PNDM, the multistep solvers, and the k-diffusion-style
//! classes on their timestep grids); σ within 2 float32 ulps (torch's float32 `sqrt` is not
//! correctly rounded; gmdiff's is); with Karras/exponential σ the fractional timesteps within 7
//! float32 ulps; KDPM2's and DPM-Solver SDE's interpolated timesteps within 1.3e-4 training steps;
//! 4e-6 relative in σ after `rescale_betas_zero_snr`.

use serde_json::{Map, Value};
use thiserror::Error;

mod plan;
pub use plan::{Anomaly, AnomalyKind, Plan, SampleScale};

/// A scheduler class of diffusers, by its `_class_name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum SchedulerClass {
    Ddpm,
    Ddim,
    EulerDiscrete,
    EulerAncestralDiscrete,
    HeunDiscrete,
    Kdpm2Discrete,
    Kdpm2AncestralDiscrete,
    LmsDiscrete,
    Pndm,
    DpmSolverMultistep,
    DpmSolverSinglestep,
    DpmSolverSde,
    UniPcMultistep,
    DeisMultistep,
    EdmEuler,
    EdmDpmSolverMultistep,
}

impl SchedulerClass {
    /// Every supported class.
    pub const ALL: [SchedulerClass; 16] = [
        SchedulerClass::Ddpm,
        SchedulerClass::Ddim,
        SchedulerClass::EulerDiscrete,
        SchedulerClass::EulerAncestralDiscrete,
        SchedulerClass::HeunDiscrete,
        SchedulerClass::Kdpm2Discrete,
        SchedulerClass::Kdpm2AncestralDiscrete,
        SchedulerClass::LmsDiscrete,
        SchedulerClass::Pndm,
        SchedulerClass::DpmSolverMultistep,
        SchedulerClass::DpmSolverSinglestep,
        SchedulerClass::DpmSolverSde,
        SchedulerClass::UniPcMultistep,
        SchedulerClass::DeisMultistep,
        SchedulerClass::EdmEuler,
        SchedulerClass::EdmDpmSolverMultistep,
    ];

    /// diffusers' class name, as written in `_class_name`.
    pub fn name(self) -> &'static str {
        match self {
            SchedulerClass::Ddpm => "DDPMScheduler",
            SchedulerClass::Ddim => "DDIMScheduler",
            SchedulerClass::EulerDiscrete => "EulerDiscreteScheduler",
            SchedulerClass::EulerAncestralDiscrete => "EulerAncestralDiscreteScheduler",
            SchedulerClass::HeunDiscrete => "HeunDiscreteScheduler",
            SchedulerClass::Kdpm2Discrete => "KDPM2DiscreteScheduler",
            SchedulerClass::Kdpm2AncestralDiscrete => "KDPM2AncestralDiscreteScheduler",
            SchedulerClass::LmsDiscrete => "LMSDiscreteScheduler",
            SchedulerClass::Pndm => "PNDMScheduler",
            SchedulerClass::DpmSolverMultistep => "DPMSolverMultistepScheduler",
            SchedulerClass::DpmSolverSinglestep => "DPMSolverSinglestepScheduler",
            SchedulerClass::DpmSolverSde => "DPMSolverSDEScheduler",
            SchedulerClass::UniPcMultistep => "UniPCMultistepScheduler",
            SchedulerClass::DeisMultistep => "DEISMultistepScheduler",
            SchedulerClass::EdmEuler => "EDMEulerScheduler",
            SchedulerClass::EdmDpmSolverMultistep => "EDMDPMSolverMultistepScheduler",
        }
    }

    /// The class of a `_class_name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The EDM classes (σ grids of their own, no β schedule).
    pub fn is_edm(self) -> bool {
        matches!(self, SchedulerClass::EdmEuler | SchedulerClass::EdmDpmSolverMultistep)
    }

    /// Fields this class's `__init__` accepts (diffusers 0.42.1), beyond the common β schedule.
    fn accepts(self, field: &str) -> bool {
        use SchedulerClass::*;
        let beta =
            matches!(field, "num_train_timesteps" | "beta_start" | "beta_end" | "beta_schedule" | "trained_betas" | "prediction_type");
        if self.is_edm() {
            return matches!(
                field,
                "sigma_min"
                    | "sigma_max"
                    | "sigma_data"
                    | "sigma_schedule"
                    | "num_train_timesteps"
                    | "prediction_type"
                    | "rho"
                    | "final_sigmas_type"
            ) || (self == EdmDpmSolverMultistep
                && matches!(field, "solver_order" | "thresholding" | "algorithm_type" | "solver_type" | "lower_order_final"));
        }
        if beta {
            return true;
        }
        let k_sigmas = matches!(field, "use_karras_sigmas" | "use_exponential_sigmas" | "use_beta_sigmas");
        let solver = matches!(field, "solver_order" | "solver_type" | "lower_order_final" | "thresholding");
        match self {
            Ddpm => matches!(
                field,
                "variance_type" | "clip_sample" | "thresholding" | "timestep_spacing" | "steps_offset" | "rescale_betas_zero_snr"
            ),
            Ddim => matches!(
                field,
                "clip_sample" | "set_alpha_to_one" | "steps_offset" | "thresholding" | "timestep_spacing" | "rescale_betas_zero_snr"
            ),
            EulerDiscrete => {
                k_sigmas
                    || matches!(
                        field,
                        "timestep_spacing" | "steps_offset" | "rescale_betas_zero_snr" | "final_sigmas_type" | "sigma_min" | "sigma_max"
                    )
            }
            EulerAncestralDiscrete => matches!(field, "timestep_spacing" | "steps_offset" | "rescale_betas_zero_snr"),
            HeunDiscrete => k_sigmas || matches!(field, "clip_sample" | "timestep_spacing" | "steps_offset"),
            Kdpm2Discrete | Kdpm2AncestralDiscrete | LmsDiscrete | DpmSolverSde => {
                k_sigmas || matches!(field, "timestep_spacing" | "steps_offset")
            }
            Pndm => matches!(field, "set_alpha_to_one" | "timestep_spacing" | "steps_offset" | "skip_prk_steps"),
            DpmSolverMultistep => {
                k_sigmas
                    || solver
                    || matches!(
                        field,
                        "algorithm_type"
                            | "final_sigmas_type"
                            | "variance_type"
                            | "timestep_spacing"
                            | "steps_offset"
                            | "rescale_betas_zero_snr"
                    )
            }
            DpmSolverSinglestep => k_sigmas || solver || matches!(field, "algorithm_type" | "final_sigmas_type" | "variance_type"),
            UniPcMultistep => {
                k_sigmas
                    || solver
                    || matches!(
                        field,
                        "timestep_spacing" | "steps_offset" | "final_sigmas_type" | "rescale_betas_zero_snr" | "sigma_min" | "sigma_max"
                    )
            }
            DeisMultistep => k_sigmas || solver || matches!(field, "algorithm_type" | "timestep_spacing" | "steps_offset"),
            EdmEuler | EdmDpmSolverMultistep => false,
        }
    }
}

/// diffusers' `beta_schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BetaSchedule {
    /// `"linear"`: `β` evenly spaced from `beta_start` to `beta_end`.
    Linear,
    /// `"scaled_linear"`: `sqrt β` evenly spaced, squared.
    ScaledLinear,
    /// `"squaredcos_cap_v2"`: Nichol–Dhariwal's cosine schedule, capped at 0.999.
    SquaredcosCapV2,
}

/// diffusers' `timestep_spacing` (Lin et al. 2024, Table 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    /// `"linspace"`.
    Linspace,
    /// `"leading"`.
    Leading,
    /// `"trailing"`.
    Trailing,
}

/// How the σ table is redistributed after it is read off the training schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigmaGrid {
    /// The σ at the selected timesteps (no option set).
    Timesteps,
    /// `use_karras_sigmas` (EDM `sigma_schedule = "karras"`).
    Karras,
    /// `use_exponential_sigmas` (EDM `sigma_schedule = "exponential"`).
    Exponential,
    /// `use_beta_sigmas`.
    Beta,
}

/// diffusers' `final_sigmas_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalSigma {
    /// `"zero"`: the table ends with σ = 0.
    Zero,
    /// `"sigma_min"`: the table ends with the smallest training σ.
    SigmaMin,
}

/// diffusers' `prediction_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PredictionType {
    /// `"epsilon"`.
    Epsilon,
    /// `"sample"`.
    Sample,
    /// `"v_prediction"`.
    VPrediction,
}

/// DDPM's `variance_type` among the linear ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarianceType {
    /// `"fixed_small"`: the posterior variance `β̃_t`.
    FixedSmall,
    /// `"fixed_large"`: `β_t`.
    FixedLarge,
}

/// A typed diffusers scheduler configuration (see the module docs for the defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerConfig {
    /// The class (`_class_name`).
    pub class: SchedulerClass,
    /// `num_train_timesteps` `N` (default 1000).
    pub num_train_timesteps: usize,
    /// `beta_start` (default 1e-4; 0.00085 for Heun, KDPM2, KDPM2Ancestral, DPMSolverSDE).
    pub beta_start: f64,
    /// `beta_end` (default 0.02; 0.012 for Heun, KDPM2, KDPM2Ancestral, DPMSolverSDE).
    pub beta_end: f64,
    /// `beta_schedule` (default linear).
    pub beta_schedule: BetaSchedule,
    /// `trained_betas` (overrides the schedule when present).
    pub trained_betas: Option<Vec<f64>>,
    /// `timestep_spacing` (default leading for DDPM, DDIM, PNDM; linspace otherwise).
    pub timestep_spacing: Spacing,
    /// `steps_offset` (default 0).
    pub steps_offset: usize,
    /// `set_alpha_to_one` (DDIM default true, PNDM false).
    pub set_alpha_to_one: bool,
    /// `prediction_type` (default epsilon).
    pub prediction_type: PredictionType,
    /// The σ redistribution (`use_karras_sigmas`, `use_exponential_sigmas`, `use_beta_sigmas`, or
    /// EDM's `sigma_schedule`; default none / EDM karras).
    pub sigma_grid: SigmaGrid,
    /// `final_sigmas_type` (default zero).
    pub final_sigmas_type: FinalSigma,
    /// `solver_order` (default 2).
    pub solver_order: usize,
    /// `algorithm_type` (DPM-Solver default `dpmsolver++`, DEIS `deis`).
    pub algorithm_type: Option<String>,
    /// `solver_type` (DPM-Solver default `midpoint`, UniPC `bh2`, DEIS `logrho`).
    pub solver_type: Option<String>,
    /// `lower_order_final` (default true; DPMSolverSinglestep false).
    pub lower_order_final: bool,
    /// `variance_type` (DDPM default fixed_small; `None` where the class has none).
    pub variance_type: Option<VarianceType>,
    /// `rescale_betas_zero_snr` (default false).
    pub rescale_betas_zero_snr: bool,
    /// EDM `sigma_min` (default 0.002).
    pub sigma_min: f64,
    /// EDM `sigma_max` (default 80).
    pub sigma_max: f64,
    /// EDM `sigma_data` (default 0.5).
    pub sigma_data: f64,
    /// EDM `rho` (default 7).
    pub rho: f64,
    /// Euler's and UniPC's `sigma_min` (default none: the smallest training σ), the lower end of
    /// their Karras/exponential/beta σ grids.
    pub grid_sigma_min: Option<f64>,
    /// Euler's and UniPC's `sigma_max` (default none: the largest training σ).
    pub grid_sigma_max: Option<f64>,
    /// PNDM's `skip_prk_steps` (default false: three Runge–Kutta (PRK) warm-up steps).
    pub skip_prk_steps: bool,
}

/// A parsed configuration and the fields it did not model.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The typed configuration.
    pub config: SchedulerConfig,
    /// One line per field present in the file but not modelled (unknown to gmdiff, or not a
    /// parameter of this class in diffusers 0.42.1).
    pub warnings: Vec<String>,
}

/// Everything that can be wrong with a diffusers scheduler configuration.
#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    /// The text is not a JSON object.
    #[error("scheduler config is not a JSON object: {0}")]
    Json(String),
    /// A required field is absent.
    #[error("scheduler config lacks the required field `{0}`")]
    MissingField(&'static str),
    /// `_class_name` names no supported class.
    #[error(
        "unknown scheduler class `{0}` (supported: DDPMScheduler, DDIMScheduler, EulerDiscreteScheduler, EulerAncestralDiscreteScheduler, HeunDiscreteScheduler, KDPM2DiscreteScheduler, KDPM2AncestralDiscreteScheduler, LMSDiscreteScheduler, PNDMScheduler, DPMSolverMultistepScheduler, DPMSolverSinglestepScheduler, DPMSolverSDEScheduler, UniPCMultistepScheduler, DEISMultistepScheduler, EDMEulerScheduler, EDMDPMSolverMultistepScheduler)"
    )]
    UnknownClass(String),
    /// A field has the wrong JSON type.
    #[error("field `{field}` must be {expected}, got {found}")]
    WrongType {
        /// The field.
        field: String,
        /// The expected JSON type.
        expected: &'static str,
        /// The value found.
        found: String,
    },
    /// A field has a value outside its admissible set or range.
    #[error("field `{field}` = {value}: {reason}")]
    BadValue {
        /// The field.
        field: String,
        /// The value found.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// `steps_offset` is negative.
    #[error("steps_offset = {0} is negative: diffusers would index alphas_cumprod before timestep 0")]
    NegativeStepsOffset(i64),
    /// Zero inference steps.
    #[error("num_inference_steps = 0: a scheduler needs at least one step")]
    NoSteps,
    /// More inference steps than training steps.
    #[error("num_inference_steps = {steps} exceeds num_train_timesteps = {train}: diffusers refuses it (set_timesteps)")]
    TooManySteps {
        /// The inference steps asked.
        steps: usize,
        /// `num_train_timesteps`.
        train: usize,
    },
    /// An option that makes the step nonlinear in the data.
    #[error("`{option}` makes the step nonlinear in the sample, so no exact Gaussian law exists: {why}")]
    Nonlinear {
        /// The option.
        option: &'static str,
        /// Why it is nonlinear.
        why: &'static str,
    },
    /// The exact law of this class (or option) is not modelled yet.
    #[error("the exact law of {class} with this configuration is not modelled: {what}")]
    LawNotModelled {
        /// The class name.
        class: &'static str,
        /// What is missing.
        what: String,
    },
    /// The tables of this class (or option) are not implemented yet.
    #[error("the timestep/σ tables of {class} with this configuration are not implemented yet ({what})")]
    TablesNotImplemented {
        /// The class name.
        class: &'static str,
        /// What is missing.
        what: &'static str,
    },
}

/// Fields that only parameterise an option that is off (or that are metadata): accepted silently.
const INERT: [&str; 5] = ["_class_name", "_diffusers_version", "dynamic_thresholding_ratio", "sample_max_value", "clip_sample_range"];

fn type_name(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

struct Fields<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn get(&self, k: &str) -> Option<&'a Value> {
        self.map.get(k).filter(|v| !v.is_null())
    }
    fn wrong(k: &str, expected: &'static str, v: &Value) -> ConfigError {
        ConfigError::WrongType { field: k.into(), expected, found: type_name(v) }
    }
    fn f64(&self, k: &str, default: f64) -> Result<f64, ConfigError> {
        match self.get(k) {
            None => Ok(default),
            Some(v) => number(v).ok_or_else(|| Self::wrong(k, "a number", v)),
        }
    }
    fn bool(&self, k: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(k) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| Self::wrong(k, "a boolean", v)),
        }
    }
    fn int(&self, k: &str, default: i64) -> Result<i64, ConfigError> {
        match self.get(k) {
            None => Ok(default),
            Some(v) => v.as_i64().ok_or_else(|| Self::wrong(k, "an integer", v)),
        }
    }
    fn str(&self, k: &str) -> Result<Option<&'a str>, ConfigError> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => v.as_str().map(Some).ok_or_else(|| Self::wrong(k, "a string", v)),
        }
    }
    fn choice<T: Copy>(&self, k: &str, default: T, options: &[(&str, T)]) -> Result<T, ConfigError> {
        match self.str(k)? {
            None => Ok(default),
            Some(s) => options.iter().find(|(n, _)| *n == s).map(|(_, t)| *t).ok_or_else(|| ConfigError::BadValue {
                field: k.into(),
                value: format!("{s:?}"),
                reason: format!("must be one of {}", options.iter().map(|(n, _)| format!("{n:?}")).collect::<Vec<_>>().join(", ")),
            }),
        }
    }
}

/// A JSON number, or one of the non-finite tokens Python's `json` writes (`NaN`, `Infinity`,
/// `-Infinity`), which [`parse_python_json`] turns into marker strings.
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            NAN_MARK => Some(f64::NAN),
            INF_MARK => Some(f64::INFINITY),
            NEG_INF_MARK => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

const NAN_MARK: &str = "\u{1}NaN";
const INF_MARK: &str = "\u{1}Infinity";
const NEG_INF_MARK: &str = "\u{1}-Infinity";

/// Parses JSON as Python's `json` module writes it: diffusers saves `float("-inf")` (for example
/// DPMSolverMultistep's `lambda_min_clipped`) as the bare token `-Infinity`, and NaN as `NaN`, which
/// strict JSON lacks. Outside string literals those three tokens are replaced by marker strings
/// that [`number`] reads back as the non-finite values; everything else is strict JSON.
///
/// Errors: [`ConfigError::Json`] when the text is not JSON even so.
pub fn parse_python_json(text: &str) -> Result<Value, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut in_string = false;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            if c == '\\' {
                if let Some(e) = rest.chars().next() {
                    out.push(e);
                    rest = &rest[e.len_utf8()..];
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        let token = [("-Infinity", NEG_INF_MARK), ("Infinity", INF_MARK), ("NaN", NAN_MARK)].into_iter().find(|(t, _)| rest.starts_with(t));
        if let Some((t, mark)) = token {
            out.push_str(&serde_json::to_string(mark).map_err(|e| ConfigError::Json(e.to_string()))?);
            rest = &rest[t.len()..];
            continue;
        }
        in_string = c == '"';
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    serde_json::from_str(&out).map_err(|e| ConfigError::Json(e.to_string()))
}

fn bad(field: &str, value: impl std::fmt::Display, reason: impl Into<String>) -> ConfigError {
    ConfigError::BadValue { field: field.into(), value: value.to_string(), reason: reason.into() }
}

impl SchedulerConfig {
    /// Parses the text of a `scheduler_config.json`.
    ///
    /// Errors: [`ConfigError`] for text that is not a JSON object, a missing `_class_name`, an
    /// unknown class, a field of the wrong type or value, a negative `steps_offset`, non-finite or
    /// out-of-range betas, and the nonlinear options (`clip_sample`, `thresholding`, learned variances).
    pub fn from_json(text: &str) -> Result<Parsed, ConfigError> {
        Self::from_value(&parse_python_json(text)?)
    }

    /// [`SchedulerConfig::from_json`] on a parsed JSON value.
    pub fn from_value(value: &Value) -> Result<Parsed, ConfigError> {
        use SchedulerClass::*;
        let map = value.as_object().ok_or_else(|| ConfigError::Json(format!("expected an object, got {}", type_name(value))))?;
        let f = Fields { map };
        let name = f.str("_class_name")?.ok_or(ConfigError::MissingField("_class_name"))?;
        let class = SchedulerClass::from_name(name).ok_or_else(|| ConfigError::UnknownClass(name.into()))?;

        // Nonlinear options first: they decide whether a law exists at all.
        if class.accepts("clip_sample") && f.bool("clip_sample", matches!(class, Ddpm | Ddim))? {
            return Err(ConfigError::Nonlinear {
                option: "clip_sample",
                why: "the predicted x0 is clipped to [-clip_sample_range, clip_sample_range], a nonlinear map (set \"clip_sample\": false)",
            });
        }
        if class.accepts("thresholding") && f.bool("thresholding", false)? {
            return Err(ConfigError::Nonlinear {
                option: "thresholding",
                why: "dynamic thresholding rescales x0 by a per-sample quantile of |x0| (Saharia et al. 2022), a nonlinear map",
            });
        }
        let variance_type = if class.accepts("variance_type") {
            match f.str("variance_type")? {
                Some("learned") | Some("learned_range") => {
                    return Err(ConfigError::Nonlinear {
                        option: "variance_type",
                        why: "a learned variance is an output of the network, not a function of the schedule (only fixed_small and fixed_large have an exact law)",
                    });
                }
                Some("fixed_small") => Some(VarianceType::FixedSmall),
                Some("fixed_large") => Some(VarianceType::FixedLarge),
                None if class == Ddpm => Some(VarianceType::FixedSmall),
                None => None,
                Some(other) => {
                    return Err(bad("variance_type", format!("{other:?}"), "must be fixed_small, fixed_large, learned or learned_range"));
                }
            }
        } else {
            None
        };

        let heun_like = matches!(class, HeunDiscrete | Kdpm2Discrete | Kdpm2AncestralDiscrete | DpmSolverSde);
        let n_train = f.int("num_train_timesteps", 1000)?;
        if n_train < 1 {
            return Err(bad("num_train_timesteps", n_train, "must be at least 1"));
        }
        let beta_start = f.f64("beta_start", if heun_like { 0.00085 } else { 1e-4 })?;
        let beta_end = f.f64("beta_end", if heun_like { 0.012 } else { 0.02 })?;
        for (k, b) in [("beta_start", beta_start), ("beta_end", beta_end)] {
            if !(b.is_finite() && b > 0.0 && b < 1.0) {
                return Err(bad(k, b, "must be finite and in (0, 1)"));
            }
        }
        let beta_schedule = f.choice(
            "beta_schedule",
            BetaSchedule::Linear,
            &[
                ("linear", BetaSchedule::Linear),
                ("scaled_linear", BetaSchedule::ScaledLinear),
                ("squaredcos_cap_v2", BetaSchedule::SquaredcosCapV2),
            ],
        )?;
        let trained_betas = match f.get("trained_betas") {
            None => None,
            Some(Value::Array(a)) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, v) in a.iter().enumerate() {
                    let b = number(v).ok_or_else(|| Fields::wrong("trained_betas", "an array of numbers", v))?;
                    if !(b.is_finite() && b > 0.0 && b < 1.0) {
                        return Err(bad(&format!("trained_betas[{i}]"), b, "every β must be finite and in (0, 1)"));
                    }
                    out.push(b);
                }
                if out.len() as i64 != n_train {
                    return Err(bad(
                        "trained_betas",
                        format!("{} values", out.len()),
                        format!("needs num_train_timesteps = {n_train} values"),
                    ));
                }
                Some(out)
            }
            Some(v) => return Err(Fields::wrong("trained_betas", "an array of numbers", v)),
        };
        let default_spacing = if matches!(class, Ddpm | Ddim | Pndm) { Spacing::Leading } else { Spacing::Linspace };
        let timestep_spacing = f.choice(
            "timestep_spacing",
            default_spacing,
            &[("linspace", Spacing::Linspace), ("leading", Spacing::Leading), ("trailing", Spacing::Trailing)],
        )?;
        let offset = f.int("steps_offset", 0)?;
        if offset < 0 {
            return Err(ConfigError::NegativeStepsOffset(offset));
        }
        let prediction_type = f.choice(
            "prediction_type",
            PredictionType::Epsilon,
            &[("epsilon", PredictionType::Epsilon), ("sample", PredictionType::Sample), ("v_prediction", PredictionType::VPrediction)],
        )?;
        let sigma_grid = if class.is_edm() {
            f.choice("sigma_schedule", SigmaGrid::Karras, &[("karras", SigmaGrid::Karras), ("exponential", SigmaGrid::Exponential)])?
        } else {
            let flags = [
                (f.bool("use_karras_sigmas", false)?, SigmaGrid::Karras),
                (f.bool("use_exponential_sigmas", false)?, SigmaGrid::Exponential),
                (f.bool("use_beta_sigmas", false)?, SigmaGrid::Beta),
            ];
            match flags.iter().filter(|(on, _)| *on).count() {
                0 => SigmaGrid::Timesteps,
                1 => flags.iter().find(|(on, _)| *on).map(|(_, g)| *g).unwrap_or(SigmaGrid::Timesteps),
                _ => {
                    return Err(bad(
                        "use_karras_sigmas/use_exponential_sigmas/use_beta_sigmas",
                        "several true",
                        "at most one may be set (diffusers raises ValueError)",
                    ));
                }
            }
        };
        let final_sigmas_type =
            f.choice("final_sigmas_type", FinalSigma::Zero, &[("zero", FinalSigma::Zero), ("sigma_min", FinalSigma::SigmaMin)])?;
        let solver_order = f.int("solver_order", 2)?;
        if !(1..=3).contains(&solver_order) {
            return Err(bad("solver_order", solver_order, "must be 1, 2 or 3"));
        }
        let (alg_default, solver_default) = match class {
            DpmSolverMultistep | DpmSolverSinglestep | EdmDpmSolverMultistep => (Some("dpmsolver++"), Some("midpoint")),
            UniPcMultistep => (None, Some("bh2")),
            DeisMultistep => (Some("deis"), Some("logrho")),
            _ => (None, None),
        };
        let algorithm_type =
            if class.accepts("algorithm_type") { f.str("algorithm_type")?.or(alg_default).map(String::from) } else { None };
        let solver_type = if class.accepts("solver_type") { f.str("solver_type")?.or(solver_default).map(String::from) } else { None };
        let lower_order_final = f.bool("lower_order_final", class != DpmSolverSinglestep)?;
        let rescale_betas_zero_snr = f.bool("rescale_betas_zero_snr", false)?;
        let set_alpha_to_one = f.bool("set_alpha_to_one", class == Ddim)?;
        let sigma_min = f.f64("sigma_min", 0.002)?;
        let sigma_max = f.f64("sigma_max", 80.0)?;
        let sigma_data = f.f64("sigma_data", 0.5)?;
        let rho = f.f64("rho", 7.0)?;
        if class.is_edm() {
            for (k, v) in [("sigma_min", sigma_min), ("sigma_max", sigma_max), ("sigma_data", sigma_data), ("rho", rho)] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(bad(k, v, "must be finite and positive"));
                }
            }
            if sigma_min >= sigma_max {
                return Err(bad("sigma_min", sigma_min, format!("must be below sigma_max = {sigma_max}")));
            }
        }

        let (mut grid_sigma_min, mut grid_sigma_max) = (None, None);
        if !class.is_edm() && class.accepts("sigma_min") {
            for (k, slot) in [("sigma_min", &mut grid_sigma_min), ("sigma_max", &mut grid_sigma_max)] {
                if f.get(k).is_some() {
                    let v = f.f64(k, 0.0)?;
                    if !(v.is_finite() && v > 0.0) {
                        return Err(bad(k, v, "must be finite and positive"));
                    }
                    *slot = Some(v);
                }
            }
        }
        let mut warnings = Vec::new();
        for (k, v) in map {
            if INERT.contains(&k.as_str()) {
                continue;
            }
            let modelled = class.accepts(k) || (class.is_edm() && k == "sigma_schedule");
            let nullish = v.is_null() || matches!(v, Value::Array(a) if a.is_empty());
            if !modelled && !nullish {
                warnings.push(format!("field `{k}` = {v} is not modelled for {}: ignored", class.name()));
            } else if !modelled {
                warnings.push(format!("field `{k}` ({}) is not modelled for {}: ignored", type_name(v), class.name()));
            }
        }
        let config = SchedulerConfig {
            class,
            num_train_timesteps: n_train as usize,
            beta_start,
            beta_end,
            beta_schedule,
            trained_betas,
            timestep_spacing,
            steps_offset: offset as usize,
            set_alpha_to_one,
            prediction_type,
            sigma_grid,
            final_sigmas_type,
            solver_order: solver_order as usize,
            algorithm_type,
            solver_type,
            lower_order_final,
            variance_type,
            rescale_betas_zero_snr,
            sigma_min,
            sigma_max,
            sigma_data,
            rho,
            grid_sigma_min,
            grid_sigma_max,
            skip_prk_steps: f.bool("skip_prk_steps", false)?,
        };
        Ok(Parsed { config, warnings })
    }
}

/// `torch.linspace(start, end, n, dtype=torch.float32)` on the CPU, value for value: `start` and
/// `end` rounded to float32, `step = (end − start)/(n − 1)` in float32, and each point one fused
/// multiply–add, `start + step·i` for `i < n/2` and `end − step·(n − 1 − i)` above (ATen's
/// `linspace_kernel`; checked against torch 2.15.0 on every point of the fixtures' schedules, whose
/// `alphas_cumprod` first/last values the tests compare).
fn torch_linspace_f32(start: f64, end: f64, n: usize) -> Vec<f32> {
    let (a, b) = (start as f32, end as f32);
    if n == 1 {
        return vec![a];
    }
    let step = (b - a) / (n - 1) as f32;
    let half = n / 2;
    (0..n).map(|i| if i < half { step.mul_add(i as f32, a) } else { (-step).mul_add((n - 1 - i) as f32, b) }).collect()
}

/// `torch.linspace(start, end, n, dtype=torch.float64)` on the CPU: the same fused
/// `start + step·i` / `end − step·(n − 1 − i)` as [`torch_linspace_f32`], in float64.
fn torch_linspace_f64(start: f64, end: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let step = (end - start) / (n - 1) as f64;
    let half = n / 2;
    (0..n).map(|i| if i < half { step.mul_add(i as f64, start) } else { (-step).mul_add((n - 1 - i) as f64, end) }).collect()
}

/// `torch.cumprod` of a float32 tensor on the CPU: the running product is accumulated in float64
/// and each partial product rounded to float32 (ATen's `cumprod` uses `acc_type<float> = double`).
fn torch_cumprod_f32(x: &[f32]) -> Vec<f32> {
    let mut acc = 1.0f64;
    x.iter()
        .map(|&v| {
            acc *= v as f64;
            acc as f32
        })
        .collect()
}

/// numpy's `interp(x, arange(len(fp)), fp)` in float64 on a unit-spaced grid: `fp[j] + (fp[j+1] −
/// fp[j])·(x − j)` with `j = ⌊x⌋`, `fp[last]` at the right end (numpy's `slope·(x − xp[j]) + fp[j]`).
fn np_interp_unit(x: f64, fp: &[f64]) -> f64 {
    let last = fp.len() - 1;
    if x <= 0.0 {
        return fp[0];
    }
    if x >= last as f64 {
        return fp[last];
    }
    let j = x.floor() as usize;
    let slope = fp[j + 1] - fp[j];
    slope * (x - j as f64) + fp[j]
}

/// numpy's `linspace(start, stop, num)` in float64: `i·step + start`, `step = (stop − start)/(num − 1)`,
/// the last point set to `stop` (`numpy/_core/function_base.py`).
fn np_linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 1 {
        return vec![start];
    }
    let step = (stop - start) / (num - 1) as f64;
    (0..num).map(|i| if i == num - 1 { stop } else { i as f64 * step + start }).collect()
}

/// diffusers' `_sigma_to_t(σ, log_sigmas)`: the fractional training timestep of `σ` by linear
/// interpolation in `log σ` between the bracketing entries of the float32 table `log_sigmas`
/// (ascending), the weight clipped to [0, 1]. `low − high` is a float32 difference (numpy float32
/// scalars), the rest float64.
fn sigma_to_t(sigma: f64, log_sigmas: &[f32]) -> f64 {
    let log_sigma = sigma.max(1e-10).ln();
    let last_ge = log_sigmas.iter().rposition(|&l| log_sigma - l as f64 >= 0.0).unwrap_or(0);
    let low_idx = last_ge.min(log_sigmas.len() - 2);
    let (low, high) = (log_sigmas[low_idx], log_sigmas[low_idx + 1]);
    let w = ((low as f64 - log_sigma) / (low - high) as f64).clamp(0.0, 1.0);
    (1.0 - w) * low_idx as f64 + w * (low_idx + 1) as f64
}

/// [`sigma_to_t`] as diffusers' KDPM2 schedulers run it on a float32 torch σ and a float32 torch
/// table: every operation in float32 (`np.clip` of a torch tensor returns a torch tensor, so even
/// `(1 − w)·lo + w·hi` stays in float32). NaN σ give NaN.
fn sigma_to_t_f32(sigma: f32, log_sigmas: &[f32]) -> f64 {
    let log_sigma = sigma.max(1e-10).ln();
    let last_ge = log_sigmas.iter().rposition(|&l| log_sigma - l >= 0.0).unwrap_or(0);
    let low_idx = last_ge.min(log_sigmas.len() - 2);
    let (low, high) = (log_sigmas[low_idx], log_sigmas[low_idx + 1]);
    let w = ((low - log_sigma) / (low - high)).clamp(0.0, 1.0);
    ((1.0 - w) * low_idx as f32 + w * (low_idx + 1) as f32) as f64
}

impl SchedulerConfig {
    /// Whether [`SchedulerConfig::timesteps`] and [`SchedulerConfig::sigmas`] are implemented for
    /// this configuration: every class, except with `use_beta_sigmas`.
    pub fn tables_supported(&self) -> bool {
        // Every class; `use_beta_sigmas` (scipy's beta quantile) is not reproduced yet.
        self.sigma_grid != SigmaGrid::Beta
    }

    /// The k-diffusion-style classes (Euler, Euler ancestral, LMS, Heun) before their class-specific
    /// tails: the timesteps as float32 values, and the σ at them in float64 (before the float32
    /// rounding and the final σ).
    fn k_tables(&self, n: usize) -> Result<(Vec<f64>, Vec<f64>), ConfigError> {
        let big_n = self.num_train_timesteps;
        let mut t: Vec<f64> = match self.timestep_spacing {
            // DPM-Solver SDE keeps its linspace in float64 (`dtype=float`); the others in float32.
            Spacing::Linspace if self.class == SchedulerClass::DpmSolverSde => {
                np_linspace(0.0, (big_n - 1) as f64, n).into_iter().rev().collect()
            }
            Spacing::Linspace => np_linspace(0.0, (big_n - 1) as f64, n).into_iter().rev().map(|v| v as f32 as f64).collect(),
            Spacing::Leading => {
                let ratio = big_n / n;
                (0..n).rev().map(|j| ((j * ratio) as f32 + self.steps_offset as f32) as f64).collect()
            }
            Spacing::Trailing => self.chain_timesteps(Spacing::Trailing, big_n, n)?.into_iter().map(|v| v as f64).collect(),
        };
        let table32 = self.train_sigmas()?;
        let table: Vec<f64> = table32.iter().map(|&v| v as f64).collect();
        let mut sigmas: Vec<f64> = t.iter().map(|&x| np_interp_unit(x, &table)).collect();
        if matches!(self.sigma_grid, SigmaGrid::Karras | SigmaGrid::Exponential) {
            sigmas = self.redistributed(n, sigmas[n - 1], sigmas[0]);
            let log_sigmas: Vec<f32> = table32.iter().map(|v| v.ln()).collect();
            // float64 here; the classes round or cast to float32 themselves.
            t = sigmas.iter().map(|&s| sigma_to_t(s, &log_sigmas)).collect();
        }
        Ok((t, sigmas))
    }

    /// diffusers' `_convert_to_karras` (ρ = 7, ramp = numpy `linspace(0, 1, n)`) or
    /// `_convert_to_exponential` (`exp(linspace(log σ_max, log σ_min, n))`) in float64, between
    /// `sigma_min`/`sigma_max` of the config when set (Euler, UniPC), else `lo`/`hi`.
    fn redistributed(&self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        let lo = self.grid_sigma_min.unwrap_or(lo);
        let hi = self.grid_sigma_max.unwrap_or(hi);
        if self.sigma_grid == SigmaGrid::Karras {
            let rho = 7.0f64;
            let (max_inv, min_inv) = (hi.powf(1.0 / rho), lo.powf(1.0 / rho));
            np_linspace(0.0, 1.0, n).into_iter().map(|r| (max_inv + r * (min_inv - max_inv)).powf(rho)).collect()
        } else {
            np_linspace(hi.ln(), lo.ln(), n).into_iter().map(f64::exp).collect()
        }
    }

    fn not_yet(&self, what: &'static str) -> ConfigError {
        ConfigError::TablesNotImplemented { class: self.class.name(), what }
    }

    /// diffusers' `betas` (float32): `trained_betas`, or `beta_schedule` through `torch.linspace` in
    /// float32 (`scaled_linear` squares the float32 roots in float32), or the cosine schedule of
    /// [`gmdiff_process::DiscreteChain::squaredcos_cap_v2`] rounded to float32; then the zero-terminal-SNR
    /// rescale in float32 when `rescale_betas_zero_snr` (Lin et al. 2024, Algorithm 1, as diffusers'
    /// `rescale_zero_terminal_snr` runs it on float32 tensors).
    ///
    /// Errors: [`ConfigError::TablesNotImplemented`] for the EDM classes (no β schedule);
    /// [`ConfigError::BadValue`] if the cosine chain cannot be built.
    pub fn betas(&self) -> Result<Vec<f32>, ConfigError> {
        if self.class.is_edm() {
            return Err(self.not_yet("EDM classes have no β schedule"));
        }
        let n = self.num_train_timesteps;
        let mut betas: Vec<f32> = match (&self.trained_betas, self.beta_schedule) {
            (Some(b), _) => b.iter().map(|&v| v as f32).collect(),
            (None, BetaSchedule::Linear) => torch_linspace_f32(self.beta_start, self.beta_end, n),
            (None, BetaSchedule::ScaledLinear) => {
                torch_linspace_f32(self.beta_start.sqrt(), self.beta_end.sqrt(), n).into_iter().map(|r| r * r).collect()
            }
            (None, BetaSchedule::SquaredcosCapV2) => gmdiff_process::DiscreteChain::squaredcos_cap_v2(n)
                .map_err(|e| bad("beta_schedule", "squaredcos_cap_v2", e.to_string()))?
                .betas()
                .iter()
                .map(|&b| b as f32)
                .collect(),
        };
        if self.rescale_betas_zero_snr && self.class.accepts("rescale_betas_zero_snr") {
            let alphas: Vec<f32> = betas.iter().map(|&b| 1.0 - b).collect();
            let mut root: Vec<f32> = torch_cumprod_f32(&alphas).into_iter().map(f32::sqrt).collect();
            let (first, last) = (root[0], root[root.len() - 1]);
            let scale = first / (first - last);
            root.iter_mut().for_each(|r| *r = (*r - last) * scale);
            let bars: Vec<f32> = root.iter().map(|r| r * r).collect();
            betas = (0..bars.len()).map(|k| 1.0 - if k == 0 { bars[0] } else { bars[k] / bars[k - 1] }).collect();
        }
        Ok(betas)
    }

    /// diffusers' `alphas_cumprod` (float32): `torch.cumprod(1 − betas)`, with the last value set to
    /// `2^−24` by the classes that do so under `rescale_betas_zero_snr` (Euler, Euler ancestral,
    /// DPM-Solver multistep, UniPC), so that their last σ is finite.
    ///
    /// Errors: those of [`SchedulerConfig::betas`].
    pub fn alphas_cumprod(&self) -> Result<Vec<f32>, ConfigError> {
        use SchedulerClass::*;
        let alphas: Vec<f32> = self.betas()?.into_iter().map(|b| 1.0 - b).collect();
        let mut bars = torch_cumprod_f32(&alphas);
        if self.rescale_betas_zero_snr && matches!(self.class, EulerDiscrete | EulerAncestralDiscrete | DpmSolverMultistep | UniPcMultistep)
        {
            let last = bars.len() - 1;
            bars[last] = 2f32.powi(-24);
        }
        Ok(bars)
    }

    /// The training σ table `sqrt((1 − ᾱ_τ)/ᾱ_τ)`, τ = 0..N, in float32 as diffusers computes it.
    fn train_sigmas(&self) -> Result<Vec<f32>, ConfigError> {
        Ok(self.alphas_cumprod()?.into_iter().map(|a| ((1.0 - a) / a).sqrt()).collect())
    }

    fn check_steps(&self, n: usize) -> Result<(), ConfigError> {
        if n == 0 {
            return Err(ConfigError::NoSteps);
        }
        if n > self.num_train_timesteps {
            return Err(ConfigError::TooManySteps { steps: n, train: self.num_train_timesteps });
        }
        Ok(())
    }

    fn chain_timesteps(&self, spacing: Spacing, train: usize, n: usize) -> Result<Vec<usize>, ConfigError> {
        use gmdiff_process::TimestepSpacing as T;
        let s = match spacing {
            Spacing::Linspace => T::Linspace,
            Spacing::Leading => T::Leading { steps_offset: self.steps_offset },
            Spacing::Trailing => T::Trailing,
        };
        gmdiff_process::timesteps(s, train, n).map_err(|e| bad("timestep_spacing", format!("{spacing:?}"), e.to_string()))
    }

    /// `scheduler.timesteps` after diffusers' `set_timesteps(n)`, as float64 (diffusers stores int64
    /// for DDPM, DDIM and the multistep solvers, float32 for the k-diffusion-style classes; both are
    /// exact in float64).
    ///
    /// * DDPM, DDIM: [`gmdiff_process::timesteps`] with the configured spacing (`steps_offset` in
    ///   leading spacing only).
    /// * Euler, Euler ancestral, LMS, Heun: `linspace` keeps the unrounded float32 points
    ///   `f32(j (N − 1)/(n − 1))`; `leading` and `trailing` are the integer spacings; with Karras or
    ///   exponential σ, the fractional timestep of each σ (diffusers' `_sigma_to_t`, log-linear
    ///   interpolation in the training table). Heun repeats every timestep after the first.
    /// * DPM-Solver multistep and single-step (always `linspace`), UniPC, DEIS: `n + 1` points (`linspace`, `leading`) with the last
    ///   (timestep 0) dropped; `trailing` as above.
    ///
    /// Errors: [`ConfigError::NoSteps`] for `n = 0`, [`ConfigError::TooManySteps`] for `n > N`; [`ConfigError::TablesNotImplemented`]
    /// where [`SchedulerConfig::tables_supported`] is false.
    pub fn timesteps(&self, n: usize) -> Result<Vec<f64>, ConfigError> {
        Ok(self.tables(n)?.0)
    }

    /// `scheduler.sigmas` after `set_timesteps(n)`, as float64 (diffusers stores float32), or `None`
    /// for the classes without σ (DDPM, DDIM, PNDM): the training σ table in float32, linearly
    /// interpolated in float64 at the timesteps (numpy `interp`) or redistributed (Karras with ρ = 7,
    /// exponential), rounded to float32, followed by the final σ (`0`, or
    /// `σ_0 = sqrt((1 − ᾱ_0)/ᾱ_0)` for `final_sigmas_type = "sigma_min"` and always for DEIS). Heun
    /// repeats every σ but the first and the last.
    ///
    /// The square roots are correctly rounded; torch's CPU float32 `sqrt` is not (1 ulp off for some
    /// arguments, torch 2.15.0), so diffusers' σ can differ from these by a float32 ulp, and by a few
    /// ppm after `rescale_betas_zero_snr`, whose subtraction amplifies the ulps of its square roots.
    ///
    /// Errors: those of [`SchedulerConfig::timesteps`].
    pub fn sigmas(&self, n: usize) -> Result<Option<Vec<f64>>, ConfigError> {
        Ok(self.tables(n)?.1)
    }

    /// Both tables (see [`SchedulerConfig::timesteps`] and [`SchedulerConfig::sigmas`]).
    fn tables(&self, n: usize) -> Result<(Vec<f64>, Option<Vec<f64>>), ConfigError> {
        use SchedulerClass::*;
        self.check_steps(n)?;
        if !self.tables_supported() {
            return Err(self.not_yet("use_beta_sigmas (scipy beta quantiles) is not reproduced yet"));
        }
        let big_n = self.num_train_timesteps;
        let as_f64 = |v: Vec<usize>| v.into_iter().map(|t| t as f64).collect::<Vec<f64>>();
        let f32s = |v: Vec<f64>| v.into_iter().map(|x| x as f32 as f64).collect::<Vec<f64>>();
        match self.class {
            Ddpm | Ddim => Ok((as_f64(self.chain_timesteps(self.timestep_spacing, big_n, n)?), None)),
            Pndm => {
                // diffusers' PNDMScheduler.set_timesteps on the ascending base timesteps τ.
                let mut base = self.chain_timesteps(self.timestep_spacing, big_n, n)?;
                base.reverse();
                let m = base.len();
                let t: Vec<usize> = if self.skip_prk_steps {
                    // concat(τ[:−1], τ[−2:−1], τ[−1:]), reversed: the second-largest repeated.
                    let mut v: Vec<usize> = base[..m - 1].to_vec();
                    v.extend_from_slice(&base[m.saturating_sub(2)..m - 1]);
                    v.push(base[m - 1]);
                    v.reverse();
                    v
                } else {
                    if m < 4 {
                        return Err(self.not_yet("PNDM with PRK warm-up needs at least 4 steps"));
                    }
                    // PRK: the 4 largest τ, each followed by τ + ⌊⌊N/n⌋/2⌋; drop the last, repeat
                    // each twice, drop the first and last, reverse; then PLMS on τ[:−3], reversed.
                    let half = big_n / n / 2;
                    let prk: Vec<usize> = base[m - 4..].iter().flat_map(|&v| [v, v + half]).collect();
                    let mut rep: Vec<usize> = prk[..prk.len() - 1].iter().flat_map(|&v| [v, v]).collect();
                    rep = rep[1..rep.len() - 1].to_vec();
                    rep.reverse();
                    rep.extend(base[..m - 3].iter().rev());
                    rep
                };
                Ok((as_f64(t), None))
            }
            EulerDiscrete | EulerAncestralDiscrete | LmsDiscrete | HeunDiscrete => {
                let (t, sigmas) = self.k_tables(n)?;
                let t = f32s(t);
                let mut sigmas = f32s(sigmas);
                let last = if self.class == EulerDiscrete && self.final_sigmas_type == FinalSigma::SigmaMin {
                    self.train_sigmas()?[0] as f64
                } else {
                    0.0
                };
                sigmas.push(last);
                if self.class != HeunDiscrete {
                    return Ok((t, Some(sigmas)));
                }
                // Heun: cat([σ_0], repeat_interleave(σ_1..σ_{n−1}, 2), [σ_n]); cat([t_0], repeat_interleave(t_1.., 2)).
                let mut hs = vec![sigmas[0]];
                hs.extend(sigmas[1..n].iter().flat_map(|&v| [v, v]));
                hs.push(sigmas[n]);
                let mut ht = vec![t[0]];
                ht.extend(t[1..].iter().flat_map(|&v| [v, v]));
                Ok((ht, Some(hs)))
            }
            DpmSolverSde => {
                // Heun's interleaving, in float64, with the odd timesteps replaced by the
                // midpoints in −log σ: σ_mid = exp(−(t_i + (t_{i+1} − t_i)/2)), t = −log σ, mapped
                // to timesteps by `_sigma_to_t` (diffusers `_second_order_timesteps`).
                let (t, sigmas) = self.k_tables(n)?;
                let log_sigmas: Vec<f32> = self.train_sigmas()?.iter().map(|v| v.ln()).collect();
                let lt: Vec<f64> = sigmas.iter().map(|s| -s.ln()).collect();
                let second: Vec<f64> = (0..n - 1).map(|i| sigma_to_t((-(lt[i] + (lt[i + 1] - lt[i]) * 0.5)).exp(), &log_sigmas)).collect();
                let mut s32: Vec<f64> = f32s(sigmas);
                s32.push(0.0);
                let mut out_s = vec![s32[0]];
                out_s.extend(s32[1..n].iter().flat_map(|&v| [v, v]));
                out_s.push(s32[n]);
                let mut out_t = vec![t[0]];
                out_t.extend(t[1..].iter().zip(&second).flat_map(|(&main, &mid)| [mid, main]));
                Ok((out_t, Some(out_s)))
            }
            Kdpm2Discrete | Kdpm2AncestralDiscrete => {
                let (t, sigmas) = self.k_tables(n)?;
                // Timesteps: float32 on the spacing grid; float64 with Karras (rounded) or exponential σ.
                let t: Vec<f64> = match self.sigma_grid {
                    SigmaGrid::Karras => t.into_iter().map(f64::round_ties_even).collect(),
                    SigmaGrid::Exponential => t,
                    _ => f32s(t),
                };
                let mut s: Vec<f32> = sigmas.iter().map(|&v| v as f32).collect();
                s.push(0.0);
                let m = s.len(); // n + 1
                // σ_interpol = exp(lerp(log σ, log σ_other, ½)) in float32: KDPM2 pairs σ_i with
                // σ_{i−1} (torch roll(1), so σ_0 with the final 0), the ancestral variant with
                // σ_down,i = sqrt(σ_{i+1}² − σ_up,i²), σ_up,i = sqrt(σ_{i+1}² (σ_i² − σ_{i+1}²)/σ_i²),
                // its last two set to 0.
                let lerp_half = |a: f32, b: f32| b - (b - a) * 0.5f32;
                let interpol: Vec<f32> = if self.class == Kdpm2Discrete {
                    (0..m).map(|i| lerp_half(s[i].ln(), s[(i + m - 1) % m].ln()).exp()).collect()
                } else {
                    (0..m)
                        .map(|i| {
                            if i + 2 >= m {
                                return 0.0;
                            }
                            let (sg, nx) = (s[i], s[i + 1]);
                            let up = (nx * nx * (sg * sg - nx * nx) / (sg * sg)).sqrt();
                            let down = (nx * nx - up * up).sqrt();
                            lerp_half(sg.ln(), down.ln()).exp()
                        })
                        .collect()
                };
                let log_sigmas: Vec<f32> = self.train_sigmas()?.iter().map(|v| v.ln()).collect();
                let t_int: Vec<f64> = interpol.iter().map(|&v| sigma_to_t_f32(v, &log_sigmas)).collect();
                let mut out_t = vec![t[0]];
                let firsts: &[f64] = if self.class == Kdpm2Discrete { &t_int[1..m - 1] } else { &t_int[..m - 2] };
                out_t.extend(firsts.iter().zip(&t[1..]).flat_map(|(&a, &b)| [a, b]));
                let mut out_s: Vec<f64> = vec![s[0] as f64];
                out_s.extend(s[1..].iter().flat_map(|&v| [v as f64, v as f64]));
                out_s.push(s[m - 1] as f64);
                Ok((out_t, Some(out_s)))
            }
            DpmSolverMultistep | DpmSolverSinglestep | UniPcMultistep | DeisMultistep => {
                // DPM-Solver single-step has no `timestep_spacing`: always linspace.
                let spacing = if self.class == DpmSolverSinglestep { Spacing::Linspace } else { self.timestep_spacing };
                let t = match spacing {
                    Spacing::Trailing => as_f64(self.chain_timesteps(Spacing::Trailing, big_n, n)?),
                    spacing => {
                        if n + 1 > big_n {
                            return Err(ConfigError::TooManySteps { steps: n + 1, train: big_n });
                        }
                        let mut t = self.chain_timesteps(spacing, big_n, n + 1)?;
                        t.pop();
                        as_f64(t)
                    }
                };
                let table32 = self.train_sigmas()?;
                let table: Vec<f64> = table32.iter().map(|&v| v as f64).collect();
                if matches!(self.sigma_grid, SigmaGrid::Karras | SigmaGrid::Exponential) {
                    // σ redistributed between the ends of the whole training table; timesteps by
                    // `_sigma_to_t`, rounded for Karras (DPM-Solver: not on the cosine schedule),
                    // truncated by the int64 cast for exponential σ.
                    let grid = self.redistributed(n, table[0], table[big_n - 1]);
                    let log_sigmas: Vec<f32> = table32.iter().map(|v| v.ln()).collect();
                    let round = self.sigma_grid == SigmaGrid::Karras
                        && !(self.class == DpmSolverMultistep
                            && self.beta_schedule == BetaSchedule::SquaredcosCapV2
                            && self.trained_betas.is_none());
                    let t: Vec<f64> = grid
                        .iter()
                        .map(|&s| {
                            let t = sigma_to_t(s, &log_sigmas);
                            if round { t.round_ties_even() } else { t.trunc() }
                        })
                        .collect();
                    let last = match (self.class, self.final_sigmas_type) {
                        (DeisMultistep, _) | (UniPcMultistep, FinalSigma::SigmaMin) => grid[n - 1],
                        (DpmSolverMultistep | DpmSolverSinglestep, FinalSigma::SigmaMin) => table[0],
                        _ => 0.0,
                    };
                    let mut sigmas: Vec<f64> = grid.into_iter().map(|v| v as f32 as f64).collect();
                    sigmas.push(last as f32 as f64);
                    return Ok((t, Some(sigmas)));
                }
                let mut sigmas: Vec<f64> = t.iter().map(|&x| np_interp_unit(x, &table) as f32 as f64).collect();
                // DEIS has no `final_sigmas_type`: it always ends at σ_0 (scheduling_deis_multistep.py).
                let last = match (self.class, self.final_sigmas_type) {
                    (DeisMultistep, _) | (_, FinalSigma::SigmaMin) => table[0],
                    _ => 0.0,
                };
                sigmas.push(last);
                Ok((t, Some(sigmas)))
            }
            EdmEuler | EdmDpmSolverMultistep => {
                let sigmas = self.edm_sigmas(n);
                // precondition_noise: c_noise = 0.25 · log σ, on the float32 σ.
                let t: Vec<f64> = sigmas.iter().map(|&v| (0.25f32 * v.ln()) as f64).collect();
                let mut out: Vec<f64> = sigmas.iter().map(|&v| v as f64).collect();
                out.push(if self.final_sigmas_type == FinalSigma::SigmaMin {
                    // EDMEuler repeats its last σ; EDMDPMSolver appends config.sigma_min in float32.
                    if self.class == EdmEuler { sigmas[n - 1] as f64 } else { self.sigma_min as f32 as f64 }
                } else {
                    0.0
                });
                Ok((t, Some(out)))
            }
        }
    }

    /// The EDM classes' float32 σ (before the final one). Karras (ρ = `rho`): EDMEuler evaluates
    /// `(σ_max^{1/ρ} + r (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ` on a float64 ramp `r = torch.linspace(0, 1, n)`
    /// and rounds to float32; EDMDPMSolver on a float32 ramp in float32. Exponential (both):
    /// `exp(torch.linspace(log σ_min, log σ_max, n))` in float32, reversed.
    fn edm_sigmas(&self, n: usize) -> Vec<f32> {
        let (lo, hi, rho) = (self.sigma_min, self.sigma_max, self.rho);
        let (min_inv, max_inv) = (lo.powf(1.0 / rho), hi.powf(1.0 / rho));
        match (self.sigma_grid, self.class) {
            (SigmaGrid::Exponential, _) => torch_linspace_f32(lo.ln(), hi.ln(), n).into_iter().rev().map(f32::exp).collect(),
            (_, SchedulerClass::EdmEuler) => {
                torch_linspace_f64(0.0, 1.0, n).into_iter().map(|r| (max_inv + r * (min_inv - max_inv)).powf(rho) as f32).collect()
            }
            _ => {
                let (d, m, rho32) = ((min_inv - max_inv) as f32, max_inv as f32, rho as f32);
                torch_linspace_f32(0.0, 1.0, n).into_iter().map(|r| (m + r * d).powf(rho32)).collect()
            }
        }
    }

    /// `scheduler.init_noise_sigma` after `set_timesteps(n)`: 1 for DDPM, DDIM, PNDM and the
    /// multistep solvers; for Euler, Euler ancestral, LMS and Heun the largest σ for `linspace` and
    /// `trailing` spacing, `sqrt(σ_max² + 1)` (in float32) for `leading`.
    ///
    /// Errors: those of [`SchedulerConfig::sigmas`].
    pub fn init_noise_sigma(&self, n: usize) -> Result<f64, ConfigError> {
        use SchedulerClass::*;
        let sigmas = self.sigmas(n)?;
        match (self.class, sigmas) {
            (EdmEuler | EdmDpmSolverMultistep, _) => Ok((self.sigma_max * self.sigma_max + 1.0).sqrt()),
            (
                EulerDiscrete | EulerAncestralDiscrete | LmsDiscrete | HeunDiscrete | Kdpm2Discrete | Kdpm2AncestralDiscrete | DpmSolverSde,
                Some(s),
            ) => {
                let max = s.iter().fold(0.0f64, |m, &v| m.max(v)) as f32;
                Ok(if self.timestep_spacing == Spacing::Leading { (max * max + 1.0).sqrt() as f64 } else { max as f64 })
            }
            _ => Ok(1.0),
        }
    }
}
