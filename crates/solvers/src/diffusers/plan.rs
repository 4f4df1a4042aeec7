//! A diffusers scheduler as one of gmdiff's samplers on an explicit schedule: its exact output law on
//! a Gaussian target (issue 16, phase 2).
//!
//! Every class supported here is linear in the sample, so its output on Gaussian data is Gaussian.
//! [`SchedulerConfig::plan`] maps a configuration and a number of inference steps to
//! * a **sampler** of [`crate::samplers`] with the scheduler's options as parameters (no step is
//!   written twice: a scheduler option is a sampler parameter);
//! * a **schedule** that reproduces the scheduler's own tables: the σ table as a grid of the EDM path
//!   `x = x₀ + σ z` for the σ-based classes, or, for DDPM and DDIM, the scheduler's own pairs
//!   `ᾱ_t → ᾱ_prev` ([`crate::Schedule::Pairs`]), where DDIM steps to `t − ⌊N/n⌋` whatever the next
//!   timestep is;
//! * the **start** `N(0, init_noise_sigma² I)` (the pipelines' `latents · init_noise_sigma`), which is
//!   the schedule's standard start: the EDM path runs up to `σ_max = init_noise_sigma` (the
//!   k-diffusion-style and EDM classes keep `x = x₀ + σ ε`), and the DPM-Solver family, UniPC and DEIS
//!   keep the variance-preserving sample, so their σ table is placed on a VP path (each σ at the time
//!   where `b/a = σ`) whose standard start is `N(0, I)`.
//!
//! The model is the exact one at the scheduler's own noise level: the σ of its table at every stage
//! (diffusers passes the model the timestep of that σ, and an exactly trained model reads the same
//! σ back). Where diffusers rounds that timestep to an integer (the DPM-Solver family with Karras or
//! exponential σ), the model's σ differs from the solver's; the plan reports it in
//! [`Plan::notes`] and uses the solver's σ.

use super::{ConfigError, FinalSigma, SchedulerClass, SchedulerConfig, VarianceType};
use crate::law::{Coef, LinearScore, Marginal, output_law};
use crate::samplers as smp;
use crate::samplers::{
    Builtin, Dpm2, Dpm2Ancestral, DpmSolver2M, DpmSolver2MSde, DpmSolver3M, DpmSolver3MSde, DpmSolverType, EdmHeun, Euler, EulerAncestral,
    Lms, UniPc, UniPcVariant,
};
use crate::schedule::{Schedule, StepPairs};
use crate::{LawStart, SolverError};
use gmdiff_process::{Edm, GaussianPath, Process, TimeGrid, VpLinear};

/// Which variable the scheduler's sample is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleScale {
    /// `x_t = sqrt(ᾱ) x₀ + sqrt(1 − ᾱ) ε` (DDPM, DDIM, PNDM, the DPM-Solver family, UniPC, DEIS).
    VariancePreserving,
    /// `x = x₀ + σ ε` (the k-diffusion-style classes and the EDM classes).
    VarianceExploding,
}

/// A scheduler configuration at `n` inference steps, as a gmdiff sampler on a schedule
/// ([`SchedulerConfig::plan`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The class.
    pub class: SchedulerClass,
    /// The number of inference steps `n` (`set_timesteps(n)`).
    pub steps: usize,
    /// `scheduler.timesteps` (see [`SchedulerConfig::timesteps`]).
    pub timesteps: Vec<f64>,
    /// `scheduler.sigmas`, where the class has them.
    pub sigmas: Option<Vec<f64>>,
    /// The sampler with the scheduler's options.
    pub sampler: Builtin,
    /// The schedule the sampler runs on.
    pub schedule: Schedule,
    /// The sample's variable.
    pub scale: SampleScale,
    /// `init_noise_sigma`: the start is `N(0, init_noise_sigma² I)` in the scheduler's sample.
    pub init_noise_sigma: f64,
    /// How the configuration was mapped, one line each (the sampler and its parameters, the
    /// schedule, anything the exact law does not reproduce).
    pub notes: Vec<String>,
}

/// `(t, ᾱ_t)` for each timestep on the training table `bars`, and `(t, final_bar)` below 0 (diffusers'
/// `alphas_cumprod[t] if t >= 0 else final_alpha_cumprod`).
fn vp_points(bars: &[f32], final_bar: f64, timesteps: impl Iterator<Item = f64>) -> Vec<(f64, f64)> {
    timesteps.map(|t| (t, if t >= 0.0 { bars[t as usize] as f64 } else { final_bar })).collect()
}

fn not_modelled(class: SchedulerClass, what: impl Into<String>) -> ConfigError {
    ConfigError::LawNotModelled { class: class.name(), what: what.into() }
}

impl SchedulerConfig {
    /// The scheduler at `n` inference steps as a gmdiff sampler on a schedule, with its start and its
    /// scale ([`Plan`]; the module docs give the mapping).
    ///
    /// | class | sampler | schedule |
    /// |---|---|---|
    /// | DDIM | `ddim` (η = 0) | pairs `ᾱ_t → ᾱ_{t − ⌊N/n⌋}` (`final_alpha_cumprod` below 0) |
    /// | DDPM, `fixed_small` | `ddim` with η = 1 (the posterior variance `β̃`) | pairs `ᾱ_t → ᾱ_{next timestep}` (1 after the last) |
    /// | DDPM, `fixed_large` | `ddpm` (variance `β = 1 − ᾱ_t/ᾱ_prev`; no noise in a last step from t = 0) | the same pairs |
    /// | PNDM | `pndm` (`prk = !skip_prk_steps`) | pairs `ᾱ_t → ᾱ_{t − ⌊N/n⌋}` (`final_alpha_cumprod` below 0), midpoints `t − ⌊⌊N/n⌋/2⌋` |
    /// | DPM-Solver single-step | `dpmpp-single` (order, `solver_type`, `lower_order_final` as diffusers' `set_timesteps` sets it) | σ grid |
    /// | Euler, EDM Euler | `euler` | σ grid |
    /// | Euler ancestral | `euler-a` (η = 1) | σ grid |
    /// | Heun | `edm-heun` | σ grid (repeats removed) |
    /// | KDPM2, KDPM2 ancestral | `dpm2`, `dpm2-a` (η = 1) | σ grid (repeats removed) |
    /// | LMS | `lms` (order 4, `step`'s default) | σ grid |
    /// | DPM-Solver SDE | `dpmpp-sde` (η = 1, r = ½) | σ grid (repeats removed) |
    /// | DPM-Solver multistep, EDM DPM-Solver | `ddim` (order 1; η = 1 for `sde-dpmsolver++`), `dpmpp2m`, `dpmpp2m-sde`, `dpmpp3m`, `dpmpp3m-sde` | σ grid |
    /// | UniPC | `unipc` (`solver_type` = bh1/bh2, order, `lower_order_final`) | σ grid |
    /// | DEIS | `deis` (order, `lower_order_final`) | σ grid |
    ///
    /// Errors: those of [`SchedulerConfig::timesteps`]; [`ConfigError::LawNotModelled`] for PNDM on
    /// timesteps its stride does not meet (`linspace`) or with a v- or x₀-prediction, the noise-prediction DPM-Solver
    /// (`algorithm_type = "dpmsolver"`, `"sde-dpmsolver"`), `solver_type = "heun"` with a third-order
    /// solver, and a σ table that repeats a value (a zero-length step).
    pub fn plan(&self, n: usize) -> Result<Plan, ConfigError> {
        use SchedulerClass::*;
        let (timesteps, sigmas) = self.tables(n)?;
        let class = self.class;
        let init_noise_sigma = self.init_noise_sigma(n)?;
        let mut notes = Vec::new();
        let (sampler, schedule, scale): (Builtin, Schedule, SampleScale) = match class {
            Ddim | Ddpm => {
                let bars = self.alphas_cumprod()?;
                // DDPM's `one` after its last step; DDIM's `final_alpha_cumprod`.
                let final_bar = if class == Ddim { self.final_alpha_cumprod(&bars) } else { 1.0 };
                let from = vp_points(&bars, final_bar, timesteps.iter().copied());
                let to = if class == Ddim {
                    let stride = (self.num_train_timesteps / n) as f64;
                    vp_points(&bars, final_bar, timesteps.iter().map(|&t| t - stride))
                } else {
                    vp_points(&bars, final_bar, timesteps.iter().skip(1).copied().chain([-1.0]))
                };
                let sampler: Builtin = match (class, self.variance_type) {
                    (Ddim, _) => smp::Ddim { eta: 0.0 }.into(),
                    // The posterior mean with variance β_t = 1 − ᾱ_t/ᾱ_prev; diffusers adds noise
                    // only where t > 0.
                    (_, Some(VarianceType::FixedLarge)) => smp::Ddpm { last_step_noise: timesteps[n - 1] > 0.0 }.into(),
                    _ => smp::Ddim { eta: 1.0 }.into(),
                };
                notes.push(match (class, self.variance_type) {
                    (Ddim, _) => "DDIM (η = 0, diffusers' step default) from ᾱ_t to ᾱ_{t − ⌊N/n⌋}".to_string(),
                    (_, Some(VarianceType::FixedLarge)) => {
                        "DDPM fixed_large = ddpm on each pair: the posterior mean and variance β = 1 − ᾱ_t/ᾱ_prev, no noise after t = 0"
                            .to_string()
                    }
                    _ => "DDPM fixed_small = DDIM with η = 1: the posterior mean and variance β̃ of each pair".to_string(),
                });
                let pairs = StepPairs::vp(&from, &to).map_err(|e| not_modelled(class, e.to_string()))?;
                (sampler, Schedule::Pairs(pairs), SampleScale::VariancePreserving)
            }
            Pndm => {
                if self.prediction_type != super::PredictionType::Epsilon {
                    return Err(not_modelled(
                        class,
                        "PNDM with a v- or x₀-prediction combines the model outputs before converting them to ε with the current sample, a multistep method on v that `pndm` (on ε) is not",
                    ));
                }
                let bars = self.alphas_cumprod()?;
                let base: Vec<f64> =
                    self.chain_timesteps(self.timestep_spacing, self.num_train_timesteps, n)?.into_iter().map(|t| t as f64).collect();
                let stride = (self.num_train_timesteps / n) as f64;
                let final_bar = self.final_alpha_cumprod(&bars);
                let from = vp_points(&bars, final_bar, base.iter().copied());
                let to = vp_points(&bars, final_bar, base.iter().map(|&t| t - stride));
                // diffusers' PLMS steps from t to t − ⌊N/n⌋ and, on its second call, from the next
                // timestep + ⌊N/n⌋: a law of its own only where these meet the timesteps.
                if let Some(k) = (0..n).find(|&k| if k + 1 < n { to[k].0 != from[k + 1].0 } else { to[k].0 >= 0.0 }) {
                    return Err(not_modelled(
                        class,
                        format!(
                            "PNDM's stride ⌊N/n⌋ = {stride} does not meet its timesteps (step {k} ends at {} but the next starts at {}): PLMS then mixes levels the exact law does not follow (use leading or trailing spacing)",
                            to[k].0,
                            from.get(k + 1).map_or(-1.0, |f| f.0)
                        ),
                    ));
                }
                let prk = !self.skip_prk_steps;
                // The Runge–Kutta warm-up's half steps t − ⌊⌊N/n⌋/2⌋.
                let half = (self.num_train_timesteps / n / 2) as f64;
                let mid = vp_points(&bars, final_bar, base.iter().map(|&t| t - half));
                notes.push(format!(
                    "PNDM = pndm (PLMS after a {} warm-up)",
                    if prk { "pseudo Runge–Kutta" } else { "pseudo improved Euler" }
                ));
                let pairs = StepPairs::vp(&from, &to).and_then(|p| p.with_mid(&mid)).map_err(|e| not_modelled(class, e.to_string()))?;
                (smp::Pndm { prk }.into(), Schedule::Pairs(pairs), SampleScale::VariancePreserving)
            }
            _ => {
                let mut grid = sigmas.clone().ok_or_else(|| not_modelled(class, "no σ table"))?;
                let interleaved = matches!(class, HeunDiscrete | Kdpm2Discrete | Kdpm2AncestralDiscrete | DpmSolverSde);
                if interleaved {
                    grid.dedup();
                }
                // A final σ equal to the one before (`final_sigmas_type = "sigma_min"` on a grid
                // that already ends at σ_min): a zero-length last step, the identity for every
                // sampler (dt = 0, no noise); dropped, and reported by `anomalies`.
                if grid.len() > 2 && grid[grid.len() - 1] == grid[grid.len() - 2] {
                    grid.pop();
                    notes.push(format!(
                        "the last σ ({}) repeats: its zero-length step is the identity and is dropped",
                        grid[grid.len() - 1]
                    ));
                }
                if let Some(w) = grid.windows(2).find(|w| w[1] >= w[0]) {
                    return Err(not_modelled(
                        class,
                        format!("the σ table does not decrease strictly ({} then {}): a zero-length step", w[0], w[1]),
                    ));
                }
                let sampler = self.sigma_sampler(n, &mut notes)?;
                let scale = if matches!(class, DpmSolverMultistep | DpmSolverSinglestep | UniPcMultistep | DeisMultistep) {
                    SampleScale::VariancePreserving
                } else {
                    SampleScale::VarianceExploding
                };
                let (process, times) = match scale {
                    // x = x₀ + σ z up to σ_max = init_noise_sigma, so that the standard start is
                    // the scheduler's N(0, init_noise_sigma² I).
                    SampleScale::VarianceExploding => {
                        if init_noise_sigma < grid[0] {
                            return Err(not_modelled(
                                class,
                                format!("init_noise_sigma = {init_noise_sigma} below the first σ = {}", grid[0]),
                            ));
                        }
                        let edm = Edm::new(init_noise_sigma).map_err(|e| not_modelled(class, e.to_string()))?;
                        (Process::Edm(edm), grid)
                    }
                    // The VP sample: a VP path long enough to reach the largest σ (B(1) = log(1 + σ²)
                    // with room), each σ at its own time; the standard start N(0, I).
                    SampleScale::VariancePreserving => {
                        if init_noise_sigma != 1.0 {
                            return Err(not_modelled(
                                class,
                                format!("init_noise_sigma = {init_noise_sigma} on a variance-preserving sample"),
                            ));
                        }
                        let b_one = 2.0 * (grid[0] * grid[0]).ln_1p() + 2.0;
                        let vp = VpLinear::new(0.1, 2.0 * b_one, 1.0).map_err(|e| not_modelled(class, e.to_string()))?;
                        let times = grid.iter().map(|&sg| vp.time_of_sigma(sg)).collect();
                        (Process::Vp(vp), times)
                    }
                };
                let grid = TimeGrid::from_times(&process, times).map_err(|e| not_modelled(class, e.to_string()))?;
                notes.push(match scale {
                    SampleScale::VarianceExploding => {
                        "the sample is x = x₀ + σ ε: the σ table as a grid of the EDM path up to σ_max = init_noise_sigma".into()
                    }
                    SampleScale::VariancePreserving => {
                        "the sample is sqrt(ᾱ) x₀ + sqrt(1 − ᾱ) ε: each σ of the table at its time on a VP path".into()
                    }
                });
                (sampler, Schedule::grid(process, grid), scale)
            }
        };
        Ok(Plan { class, steps: n, timesteps, sigmas, sampler, schedule, scale, init_noise_sigma, notes })
    }

    /// DDIM's and PNDM's `final_alpha_cumprod`: 1 with `set_alpha_to_one`, else `ᾱ_0`.
    fn final_alpha_cumprod(&self, bars: &[f32]) -> f64 {
        if self.set_alpha_to_one { 1.0 } else { bars[0] as f64 }
    }

    /// The sampler of a σ-based class, with the configuration's options.
    fn sigma_sampler(&self, n: usize, notes: &mut Vec<String>) -> Result<Builtin, ConfigError> {
        use SchedulerClass::*;
        let class = self.class;
        let order = self.solver_order;
        let lof = self.lower_order_final;
        Ok(match class {
            EulerDiscrete | EdmEuler => Euler.into(),
            EulerAncestralDiscrete => EulerAncestral { eta: 1.0, s_noise: 1.0 }.into(),
            HeunDiscrete => EdmHeun.into(),
            Kdpm2Discrete => Dpm2.into(),
            Kdpm2AncestralDiscrete => Dpm2Ancestral { eta: 1.0, s_noise: 1.0 }.into(),
            LmsDiscrete => Lms { order: 4 }.into(),
            DpmSolverSde => smp::DpmSolverSde { eta: 1.0, s_noise: 1.0, r: 0.5 }.into(),
            UniPcMultistep => {
                let variant = match self.solver_type.as_deref().unwrap_or("bh2") {
                    "bh1" => UniPcVariant::Bh1,
                    "bh2" => UniPcVariant::Bh2,
                    other => return Err(not_modelled(class, format!("solver_type {other}"))),
                };
                UniPc { variant, order, use_corrector: true, lower_order_final: lof }.into()
            }
            DeisMultistep => crate::samplers::Deis { order, lower_order_final: lof }.into(),
            DpmSolverSinglestep => {
                let algorithm = self.algorithm_type.as_deref().unwrap_or("dpmsolver++");
                if algorithm != "dpmsolver++" {
                    return Err(not_modelled(
                        class,
                        format!("algorithm_type {algorithm} (only dpmsolver++ is a gmdiff single-step sampler)"),
                    ));
                }
                let solver_type = match self.solver_type.as_deref().unwrap_or("midpoint") {
                    "midpoint" => DpmSolverType::Midpoint,
                    "heun" => DpmSolverType::Heun,
                    other => return Err(not_modelled(class, format!("solver_type {other}"))),
                };
                // diffusers' set_timesteps turns lower_order_final on when the steps are not a
                // multiple of the order or the last σ is 0.
                let lof = lof || !n.is_multiple_of(order.max(1)) || self.final_sigmas_type == FinalSigma::Zero;
                if !lof {
                    notes.push("lower_order_final stays off: the orders are [1, …, order] repeated".into());
                }
                smp::DpmSolverSinglestep { order, lower_order_final: lof, solver_type }.into()
            }
            DpmSolverMultistep | EdmDpmSolverMultistep => {
                let algorithm = self.algorithm_type.as_deref().unwrap_or("dpmsolver++");
                let solver_type = match self.solver_type.as_deref().unwrap_or("midpoint") {
                    "midpoint" => DpmSolverType::Midpoint,
                    "heun" => DpmSolverType::Heun,
                    other => return Err(not_modelled(class, format!("solver_type {other}"))),
                };
                let sde = match algorithm {
                    "dpmsolver++" => false,
                    "sde-dpmsolver++" => true,
                    other => {
                        return Err(not_modelled(
                            class,
                            format!("algorithm_type {other} (the noise-prediction DPM-Solver is not a gmdiff sampler)"),
                        ));
                    }
                };
                let final_sigma_positive = self.final_sigmas_type == FinalSigma::SigmaMin;
                match (order, sde) {
                    (1, false) => smp::Ddim { eta: 0.0 }.into(),
                    (1, true) => smp::Ddim { eta: 1.0 }.into(),
                    (2, false) if solver_type == DpmSolverType::Midpoint => DpmSolver2M { lower_order_final: lof }.into(),
                    (2, _) => {
                        if lof && final_sigma_positive {
                            return Err(not_modelled(
                                class,
                                "lower_order_final with a final σ > 0 and solver_type heun or the SDE variant",
                            ));
                        }
                        DpmSolver2MSde { eta: if sde { 1.0 } else { 0.0 }, s_noise: 1.0, solver_type }.into()
                    }
                    (3, _) if solver_type == DpmSolverType::Heun => {
                        return Err(not_modelled(class, "solver_order 3 with solver_type heun (the second-order warm-up step uses heun)"));
                    }
                    (3, false) => DpmSolver3M { lower_order_final: lof }.into(),
                    (3, true) => {
                        if lof && final_sigma_positive {
                            return Err(not_modelled(class, "lower_order_final with a final σ > 0 and the third-order SDE variant"));
                        }
                        DpmSolver3MSde { eta: 1.0, s_noise: 1.0 }.into()
                    }
                    _ => return Err(not_modelled(class, format!("solver_order {order}"))),
                }
            }
            Ddpm | Ddim | Pndm => return Err(not_modelled(class, "not a σ-based class")),
        })
        .inspect(|s: &Builtin| notes.push(format!("{} on the scheduler's σ table", s.name())))
    }
}

impl Plan {
    /// The exact law of the scheduler's output sample on a Gaussian target (the target's affine
    /// score at the scheduler's noise levels), started from `N(0, init_noise_sigma² I)`, which is the
    /// schedule's standard start ([`crate::LawStart::Standard`]).
    ///
    /// Errors: those of [`crate::output_law`] (a singular score, a non-finite law).
    pub fn output_law<C: Coef, T: LinearScore<C> + ?Sized>(&self, target: &T) -> Result<Marginal<C>, SolverError> {
        Ok(output_law(&self.sampler, &self.schedule, target, LawStart::Standard, |_, _| Ok(()))?.law)
    }
}

/// A property of a scheduler's tables that departs from the ideal run (issue 16): each one is
/// measurable in W2 by [`Anomaly::fix`], the same configuration with that one choice changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    /// What kind.
    pub kind: AnomalyKind,
    /// One sentence with the numbers.
    pub message: String,
    /// The configuration field change that removes it (`field = value`) and the configuration with
    /// it, when one exists.
    pub fix: Option<(String, SchedulerConfig)>,
}

/// The kinds of [`Anomaly`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyKind {
    /// The first step starts below the top of the training schedule (timestep `< N − 1`, or
    /// `σ_0` below the largest training σ).
    StartBelowTop,
    /// The last step ends above `t = 0`: a final `ᾱ < 1` or a final `σ > 0`.
    EndAboveZero,
    /// A step ends where the next one does not start (DDIM's and DDPM's `t − ⌊N/n⌋` against the next
    /// timestep: huggingface/diffusers issues 12633 and 11347).
    StepMismatch,
    /// A timestep is repeated (outside the interleaved stages of Heun, KDPM2 and DPM-Solver SDE).
    RepeatedTimesteps,
    /// The stride `⌊N/n⌋` does not divide `N`: the top `N mod n` training steps are never visited.
    StrideNotDividing,
    /// The training schedule's terminal SNR `ᾱ_{N−1}/(1 − ᾱ_{N−1})` is not 0, so `N(0, I)` is not
    /// `p_T` (Lin et al. 2024).
    TerminalSnrNonZero,
}

impl AnomalyKind {
    /// A short name (the report's and the JSON's).
    pub fn name(self) -> &'static str {
        match self {
            AnomalyKind::StartBelowTop => "start_below_top",
            AnomalyKind::EndAboveZero => "end_above_zero",
            AnomalyKind::StepMismatch => "step_mismatch",
            AnomalyKind::RepeatedTimesteps => "repeated_timesteps",
            AnomalyKind::StrideNotDividing => "stride_not_dividing",
            AnomalyKind::TerminalSnrNonZero => "terminal_snr_nonzero",
        }
    }
}

impl SchedulerConfig {
    /// The anomalies of this configuration at `n` inference steps ([`Anomaly`]), each with the
    /// field change that removes it where the class has that field: `timestep_spacing = trailing`
    /// (start below the top, step mismatch), `set_alpha_to_one = true` or `final_sigmas_type = zero`
    /// (end above zero), `rescale_betas_zero_snr = true` with trailing spacing (terminal SNR).
    ///
    /// Errors: those of [`SchedulerConfig::plan`].
    pub fn anomalies(&self, n: usize) -> Result<Vec<Anomaly>, ConfigError> {
        self.anomalies_of(&self.plan(n)?)
    }

    /// [`SchedulerConfig::anomalies`] of a plan already made from this configuration
    /// ([`SchedulerConfig::plan`]), without planning again.
    ///
    /// Errors: [`ConfigError`] when the training table cannot be built.
    pub fn anomalies_of(&self, plan: &Plan) -> Result<Vec<Anomaly>, ConfigError> {
        use SchedulerClass::*;
        let n = plan.steps;
        let class = self.class;
        let big_n = self.num_train_timesteps;
        let mut out = Vec::new();
        let trailing = (self.class.accepts("timestep_spacing") && self.timestep_spacing != super::Spacing::Trailing).then(|| {
            let mut c = self.clone();
            c.timestep_spacing = super::Spacing::Trailing;
            ("timestep_spacing = trailing".to_string(), c)
        });
        let edm = class.is_edm();
        // The training schedule's top.
        if !edm {
            let bars = self.alphas_cumprod()?;
            let top_sigma = {
                let a = bars[big_n - 1] as f64;
                ((1.0 - a) / a).sqrt()
            };
            let first = plan.schedule.point(0).map_err(|e| not_modelled(class, e.to_string()))?;
            let (first_t, first_sigma) = (plan.timesteps[0], first.sigma());
            if first_t < (big_n - 1) as f64 && first_sigma < top_sigma * (1.0 - 1e-6) {
                out.push(Anomaly {
                    kind: AnomalyKind::StartBelowTop,
                    message: format!(
                        "the first step starts at timestep {first_t} (σ = {first_sigma:.6}), below the top of the training schedule (timestep {}, σ = {top_sigma:.6})",
                        big_n - 1
                    ),
                    fix: trailing.clone(),
                });
            }
            if bars[big_n - 1] > 0.0 && !(self.rescale_betas_zero_snr && self.class.accepts("rescale_betas_zero_snr")) {
                let a = bars[big_n - 1] as f64;
                let fix = self.class.accepts("rescale_betas_zero_snr").then(|| {
                    let mut c = self.clone();
                    c.rescale_betas_zero_snr = true;
                    let mut what = "rescale_betas_zero_snr = true".to_string();
                    if c.class.accepts("timestep_spacing") {
                        c.timestep_spacing = super::Spacing::Trailing;
                        what.push_str(", timestep_spacing = trailing");
                    }
                    if c.prediction_type == super::PredictionType::Epsilon {
                        // At ᾱ = 0 an ε-prediction does not determine x₀ (diffusers divides by
                        // sqrt(ᾱ) = 0), so the fix includes v-prediction (Lin et al. 2024, §3.2).
                        c.prediction_type = super::PredictionType::VPrediction;
                        what.push_str(", prediction_type = v_prediction (an ε-prediction says nothing about x₀ at ᾱ = 0)");
                    }
                    (what, c)
                });
                out.push(Anomaly {
                    kind: AnomalyKind::TerminalSnrNonZero,
                    message: format!(
                        "the terminal SNR ᾱ/(1 − ᾱ) at timestep {} is {:.3e}, not 0: N(0, I) is not p_T",
                        big_n - 1,
                        a / (1.0 - a)
                    ),
                    fix,
                });
            }
        }
        let last = plan.schedule.point(plan.schedule.steps()).map_err(|e| not_modelled(class, e.to_string()))?;
        if last.b > 0.0 {
            let fix = if class == Ddim || class == Pndm {
                let mut c = self.clone();
                c.set_alpha_to_one = true;
                Some(("set_alpha_to_one = true".to_string(), c))
            } else if class.accepts("final_sigmas_type") {
                let mut c = self.clone();
                c.final_sigmas_type = FinalSigma::Zero;
                Some(("final_sigmas_type = zero".to_string(), c))
            } else {
                None
            };
            out.push(Anomaly {
                kind: AnomalyKind::EndAboveZero,
                message: format!("the last step ends at σ = {:.6} (ᾱ = {:.6}), not at the data", last.sigma(), last.a * last.a),
                fix,
            });
        }
        if let Schedule::Pairs(p) = &plan.schedule {
            let bad: Vec<(f64, f64)> = p
                .to_points()
                .iter()
                .zip(&p.from_points()[1..])
                .filter(|(to, from)| to.t != from.t)
                .map(|(to, from)| (to.t, from.t))
                .collect();
            if let Some(&(end, next)) = bad.first() {
                out.push(Anomaly {
                    kind: AnomalyKind::StepMismatch,
                    message: format!(
                        "{} of {} steps end where the next does not start (first: a step ends at timestep {end}, the next starts at {next}; the stride is ⌊N/n⌋ = {})",
                        bad.len(),
                        n - 1,
                        big_n / n
                    ),
                    fix: trailing.clone(),
                });
            }
        }
        let interleaved = matches!(class, HeunDiscrete | Kdpm2Discrete | Kdpm2AncestralDiscrete | DpmSolverSde | Pndm);
        if let (false, Some(sig)) = (interleaved, plan.sigmas.as_ref())
            && sig.len() > 2
            && sig[sig.len() - 1] == sig[sig.len() - 2]
        {
            let fix = class.accepts("final_sigmas_type").then(|| {
                let mut c = self.clone();
                c.final_sigmas_type = FinalSigma::Zero;
                ("final_sigmas_type = zero".to_string(), c)
            });
            out.push(Anomaly {
                kind: AnomalyKind::RepeatedTimesteps,
                message: format!(
                    "the σ table repeats its last value {}: the last step has length zero and spends a model evaluation for nothing (the pattern of diffusers PR 6477)",
                    sig[sig.len() - 1]
                ),
                fix,
            });
        }
        if !interleaved {
            let repeats = plan.timesteps.windows(2).filter(|w| w[0] == w[1]).count();
            if repeats > 0 {
                out.push(Anomaly {
                    kind: AnomalyKind::RepeatedTimesteps,
                    message: format!("{repeats} timesteps repeat the one before (a zero-length step)"),
                    fix: None,
                });
            }
        }
        if !edm && self.class.accepts("timestep_spacing") && self.timestep_spacing == super::Spacing::Leading && !big_n.is_multiple_of(n) {
            out.push(Anomaly {
                kind: AnomalyKind::StrideNotDividing,
                message: format!(
                    "the stride ⌊N/n⌋ = {} does not divide N = {big_n}: the top {} training steps are never visited",
                    big_n / n,
                    big_n % n
                ),
                fix: trailing,
            });
        }
        Ok(out)
    }
}
