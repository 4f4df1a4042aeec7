//! Scheduler conformance (issue 16): a diffusers scheduler configuration in, its exact errors on a
//! Gaussian target and the W2 cost of each of its anomalies out.
//!
//! [`conformance`] maps the configuration to a gmdiff sampler on the scheduler's own tables
//! ([`SchedulerConfig::plan`]), computes the exact output law and its W2 (Bures) and KL to the
//! data, then repeats the computation with each anomaly's fix ([`SchedulerConfig::anomalies`]) and
//! with all fixes together (the "ideal" run of the same sampler at the same number of steps; a fix
//! whose configuration has no exact law is reported with its reason and left out of it).

use crate::{DenseProblem, GaussianError, Init, Report, SpectralProblem, SpectralScore};
use gmdiff_solvers::diffusers::{Anomaly, Plan, SchedulerConfig};

/// A Gaussian target whose exact errors a [`Plan`] can be measured on: dense
/// ([`DenseProblem`]) or in a spectral basis ([`SpectralProblem`]).
pub trait ExactTarget {
    /// The exact W2 and KL of the plan's output law to the data (started from the plan's
    /// `N(0, init_noise_sigma² I)`, with the exact score).
    fn errors(&self, plan: &Plan) -> Result<Report, GaussianError>;
}

impl ExactTarget for DenseProblem {
    fn errors(&self, plan: &Plan) -> Result<Report, GaussianError> {
        self.scheme(&plan.sampler, &plan.schedule, Init::Standard, self.target(), false)
    }
}

impl ExactTarget for SpectralProblem {
    fn errors(&self, plan: &Plan) -> Result<Report, GaussianError> {
        self.scheme(&plan.sampler, &plan.schedule, Init::Standard, &SpectralScore::Exact, false)
    }
}

/// An anomaly and what its fix would give.
#[derive(Debug, Clone)]
pub struct AnomalyCost {
    /// The anomaly.
    pub anomaly: Anomaly,
    /// W2 and KL with the fix alone (`None` when no field change removes it, or when the fixed
    /// configuration has no exact law: then `fix_error` says why).
    pub fixed: Option<(f64, f64)>,
    /// Why the fixed configuration could not be measured.
    pub fix_error: Option<String>,
}

/// The run with every fix applied.
#[derive(Debug, Clone)]
pub struct IdealRun {
    /// The field changes, in order.
    pub fixes: Vec<String>,
    /// W2 to the data.
    pub w2: f64,
    /// KL to the data.
    pub kl: f64,
}

/// The conformance report of one configuration at `n` steps.
#[derive(Debug, Clone)]
pub struct Conformance {
    /// The mapping onto a gmdiff sampler and schedule, with the tables.
    pub plan: Plan,
    /// The exact W2 and KL of the scheduler's output to the data (`note` says why a value is ∞).
    pub error: Report,
    /// The same sampler with every fix that has an exact law applied together (`None` when there is
    /// none, or when the fixes together have no exact law).
    pub ideal: Option<IdealRun>,
    /// Each anomaly with its cost.
    pub anomalies: Vec<AnomalyCost>,
}

/// Why the KL is ∞ when the score is finite everywhere: the support rule of `docs/gaussian.md`.
pub const KL_INFINITE: &str = "KL = ∞: the output law is not absolutely continuous with respect to the data (the data covariance is singular and the output is not carried by its support; docs/gaussian.md, the support rule)";

/// The conformance report of `config` at `n` inference steps on `target` (module docs).
///
/// Errors: [`GaussianError::Config`] when the configuration has no tables or no exact law
/// ([`SchedulerConfig::plan`]); the errors of the exact-law computation.
pub fn conformance(config: &SchedulerConfig, n: usize, target: &dyn ExactTarget) -> Result<Conformance, GaussianError> {
    let plan = config.plan(n)?;
    let mut error = target.errors(&plan)?;
    if error.kl == f64::INFINITY && error.note.is_none() {
        error.note = Some(KL_INFINITE.to_string());
    }
    let anomalies = config.anomalies_of(&plan)?;
    let measure = |c: &SchedulerConfig| -> Result<(f64, f64), GaussianError> {
        let r = target.errors(&c.plan(n)?)?;
        Ok((r.w2, r.kl))
    };
    let mut costs = Vec::with_capacity(anomalies.len());
    let mut ideal_config = config.clone();
    let mut fixes: Vec<String> = Vec::new();
    for a in anomalies {
        let (fixed, fix_error) = match &a.fix {
            Some((what, c)) => match measure(c) {
                Ok(v) => {
                    // The ideal run takes every fix that has an exact law of its own.
                    if !fixes.contains(what) {
                        fixes.push(what.clone());
                        apply(&mut ideal_config, c, config);
                    }
                    (Some(v), None)
                }
                Err(e) => (None, Some(e.to_string())),
            },
            None => (None, None),
        };
        costs.push(AnomalyCost { anomaly: a, fixed, fix_error });
    }
    // `None` also when the fixes together have no exact law (each alone had one).
    let ideal = if fixes.is_empty() { None } else { measure(&ideal_config).ok().map(|(w2, kl)| IdealRun { fixes, w2, kl }) };
    Ok(Conformance { plan, error, ideal, anomalies: costs })
}

/// Copies into `ideal` every field in which `fixed` differs from `original`.
fn apply(ideal: &mut SchedulerConfig, fixed: &SchedulerConfig, original: &SchedulerConfig) {
    if fixed.timestep_spacing != original.timestep_spacing {
        ideal.timestep_spacing = fixed.timestep_spacing;
    }
    if fixed.set_alpha_to_one != original.set_alpha_to_one {
        ideal.set_alpha_to_one = fixed.set_alpha_to_one;
    }
    if fixed.final_sigmas_type != original.final_sigmas_type {
        ideal.final_sigmas_type = fixed.final_sigmas_type;
    }
    if fixed.rescale_betas_zero_snr != original.rescale_betas_zero_snr {
        ideal.rescale_betas_zero_snr = fixed.rescale_betas_zero_snr;
    }
    if fixed.prediction_type != original.prediction_type {
        ideal.prediction_type = fixed.prediction_type;
    }
}
