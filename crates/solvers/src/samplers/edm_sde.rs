//! EDM's stochastic sampler (Karras et al. 2022, Algorithm 2).

use super::edm_heun::{heun_in_sigma, need_finite_sigma};
use super::need_signal;
use crate::algebra::Algebra;
use crate::error::{SolverError, check};
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};

/// EDM's stochastic sampler: "churn" (raise the noise level by adding fresh noise), then a step of
/// [`crate::EdmHeun`] from the raised level.
///
/// On `x̃ = x/a` at `σ = b/a` (`docs/solvers.md`, σ-form), step `k` of `S` from `σ_t` to `σ_s`:
///
/// * `γ = min(S_churn/S, √2 − 1)` if `S_tmin ≤ σ_t ≤ S_tmax`, else `γ = 0`;
/// * `σ̂ = σ_t (1 + γ)` and, when `γ > 0`, `x̃̂ = x̃ + S_noise sqrt(σ̂² − σ_t²) ξ`;
/// * Heun's method in `σ` from `σ̂` to `σ_s` ([`crate::EdmHeun`]; Euler when `σ_s = 0`).
///
/// On any path the churned state is `X̂ = (â/a_t) X + S_noise (â b_t/a_t) sqrt(e^{2(λ_t − λ̂)} − 1) ξ`,
/// with `â`, `λ̂` the path's coefficients at `σ̂` ([`StepInfo::at_sigma`]; above `σ(T)` on the
/// first steps, so the path must be defined there: EDM and VP linear are, VE, sub-VP and flow are
/// not and are refused unless `S_tmax` keeps `σ̂ ≤ σ(T)`). With `S_noise = 1` the churn maps the
/// marginal at `σ_t` exactly onto the marginal at `σ̂`, so the sampler is consistent for any
/// `S_churn` (exact score, `S → ∞`).
///
/// Source: Karras, Aittala, Aila & Laine (NeurIPS 2022), Algorithm 2; k-diffusion `sample_heun`
/// (with `s_churn`); NVlabs `edm/generate.py`, `edm_sampler`. Both anchors draw `ξ` on every step
/// and discard it when `γ = 0`; here `ξ` is drawn only when it is used (`γ > 0`, `S_noise > 0`).
/// `S` is the number of steps of the schedule (k-diffusion's `len(sigmas) − 1`, EDM's `num_steps`).
/// Score evaluations as [`crate::EdmHeun`]: `2S − 1` ending at `σ = 0`, else `2S`. One slot.
///
/// Parameters and defaults: `s_churn ≥ 0` (default **40**, the setting of EDM's documented
/// stochastic run, `generate.py --S_churn=40` for ImageNet-64; the anchors' code default 0 would
/// make this sampler [`crate::EdmHeun`]), `s_tmin ≥ 0` (default 0), `s_tmax ≥ s_tmin` (default ∞),
/// `s_noise ≥ 0` (default 1; EDM's ImageNet run used `S_tmin = 0.05`, `S_tmax = 50`,
/// `S_noise = 1.003`, tuned to one network: `S_noise ≠ 1` is not consistent with the exact score).
/// Refuses `a_T = 0` (flow at `T = 1`), and a chain or a path not defined at `σ̂` when some step
/// churns.
///
/// ```
/// use gmdiff_process::{Edm, Process, TimeGrid};
/// use gmdiff_solvers::{EdmSde, Schedule, is_stochastic, score_evals};
/// let edm = Edm::default();
/// let s = Schedule::grid(Process::Edm(edm), TimeGrid::karras(&edm, 17, 0.002, 7.0).unwrap().with_final_zero());
/// assert_eq!(score_evals(&EdmSde::default(), &s).unwrap(), 35);
/// assert!(is_stochastic(&EdmSde::default(), &s).unwrap());
/// assert!(!is_stochastic(&EdmSde { s_churn: 0.0, ..EdmSde::default() }, &s).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdmSde {
    /// `S_churn ≥ 0`: the total churn; `γ = min(S_churn/S, √2 − 1)`.
    pub s_churn: f64,
    /// `S_tmin ≥ 0`: churn only where `σ_t ≥ S_tmin`.
    pub s_tmin: f64,
    /// `S_tmax ≥ S_tmin` (may be `∞`): churn only where `σ_t ≤ S_tmax`.
    pub s_tmax: f64,
    /// `S_noise ≥ 0`: the factor on the churn noise.
    pub s_noise: f64,
}

impl Default for EdmSde {
    /// `S_churn = 40` (EDM's documented stochastic setting), `S_tmin = 0`, `S_tmax = ∞`, `S_noise = 1`.
    fn default() -> Self {
        Self { s_churn: 40.0, s_tmin: 0.0, s_tmax: f64::INFINITY, s_noise: 1.0 }
    }
}

impl EdmSde {
    /// The CLI name.
    pub const NAME: &'static str = "edm-sde";

    /// The churn `γ` of a step: `min(S_churn/S, √2 − 1)` where `S_tmin ≤ σ_t ≤ S_tmax`, else 0.
    pub fn gamma(&self, info: &StepInfo) -> f64 {
        let sigma = info.from.sigma();
        if self.s_tmin <= sigma && sigma <= self.s_tmax { (self.s_churn / info.steps as f64).min(std::f64::consts::SQRT_2 - 1.0) } else { 0.0 }
    }
}

impl SamplerInfo for EdmSde {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A last step to `σ = 0` is Euler's `x̃ ← D`, with `D` at the churned `σ̂ ≥ σ_{S−1}` when churn applies there (the support rule's premise, a denoiser exact on the null space, must then hold at `σ̂`; it does for the exact score).
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
    fn validate(&self, schedule: &Schedule) -> Result<(), SolverError> {
        check("s_churn", self.s_churn, |c| c >= 0.0, "must be finite and ≥ 0")?;
        check("s_tmin", self.s_tmin, |c| c >= 0.0, "must be finite and ≥ 0")?;
        if self.s_tmax.is_nan() || self.s_tmax < self.s_tmin {
            return Err(SolverError::InvalidParameter { name: "s_tmax", value: self.s_tmax, reason: "must be ≥ s_tmin (∞ allowed)" });
        }
        check("s_noise", self.s_noise, |c| c >= 0.0, "must be finite and ≥ 0")?;
        need_signal(self.name(), schedule)?;
        // Every churned level must lie where the path is defined (not on a chain).
        for k in 0..schedule.steps() {
            let info = schedule.step(k)?;
            let gamma = self.gamma(&info);
            if gamma > 0.0 {
                info.at_sigma(self.name(), info.from.sigma() * (1.0 + gamma)).map_err(|e| match e {
                    SolverError::Process(_) => SolverError::Unsupported {
                        sampler: Self::NAME,
                        schedule: "a path not defined at the churned noise level σ̂ = σ_t (1 + γ) > σ(T): use the EDM or VP path, s_churn = 0, or s_tmax ≤ σ(T)/√2",
                    },
                    other => other,
                })?;
            }
        }
        Ok(())
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for EdmSde {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let t = &info.from;
        need_finite_sigma(self.name(), t)?;
        let gamma = self.gamma(info);
        if gamma == 0.0 {
            state[0] = heun_in_sigma(alg, t, &info.to, &state[0])?;
            return Ok(state);
        }
        let hat = info.at_sigma(self.name(), t.sigma() * (1.0 + gamma))?;
        // â x̃̂ = (â/a_t) X + S_noise â sqrt(σ̂² − σ_t²) ξ, â σ_t sqrt(σ̂²/σ_t² − 1) = (â b_t/a_t) sqrt(expm1(2(λ_t − λ̂))).
        let c_noise = self.s_noise * (hat.a * t.b / t.a) * (2.0 * (t.lambda - hat.lambda)).exp_m1().sqrt();
        let x = &state[0];
        let x_hat = if c_noise > 0.0 {
            let xi = alg.noise();
            alg.lin(&[(hat.a / t.a, x), (c_noise, &xi)])
        } else {
            alg.lin(&[(hat.a / t.a, x)])
        };
        state[0] = heun_in_sigma(alg, &hat, &info.to, &x_hat)?;
        Ok(state)
    }
}
