//! Euler ancestral (k-diffusion `sample_euler_ancestral`).

use super::{ancestral_split, check_noise};
use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};

/// Euler ancestral with stochasticity `η` and noise scale `s_noise`, in the σ-form of k-diffusion.
///
/// On `x̃ = x/a` at `σ = b/a` (`docs/solvers.md`, σ-form), step `σ_t → σ_s` with the data
/// prediction `D = x̂₀(x_t)` and `d = (x̃ − D)/σ_t = ε̂ = (x − a_t D)/b_t`:
///
/// * the ancestral split (`get_ancestral_step`): `σ_up = min(σ_s, η sqrt(σ_s² (σ_t² − σ_s²)/σ_t²))`,
///   `σ_down = sqrt(σ_s² − σ_up²)`;
/// * `x̃_s = x̃ + d (σ_down − σ_t) + s_noise σ_up ξ` (the noise only when `σ_s > 0`), i.e.
///   `x̃_s = D + σ_down ε̂ + s_noise σ_up ξ`.
///
/// With the ratios `ρ = σ_up/σ_s = min(1, η sqrt(1 − e^{2(λ_t − λ_s)}))` and
/// `κ = σ_down/σ_s = sqrt(1 − ρ²)` this is, on any path,
/// `X ← a_s D + κ b_s ε̂ + s_noise ρ b_s ξ`. Written through `D` and `ε̂`, every coefficient is finite
/// where `a_t = 0` (σ_t = ∞: `ε̂ = X/b_t`, `ρ = min(1, η)`), so it runs on flow matching at `T = 1`.
/// A last step to `σ_s = 0` is `X ← a_s D` (no noise). For `η ≤ 1` and `s_noise = 1` the step is
/// DDIM(η) ([`crate::Ddim`]); `η > 1` is clipped at `σ_up = σ_s` as in k-diffusion.
///
/// Source: Crowson, k-diffusion `k_diffusion/sampling.py`, `sample_euler_ancestral` and
/// `get_ancestral_step` (transcribed to any path through the σ-form). One score evaluation per step,
/// one slot; one noise draw per step with `σ_s > 0` and `η s_noise > 0`. Runs on grids and chains
/// (only the grid points' coefficients are used). Parameters: `η ≥ 0` (default 1), `s_noise ≥ 0`
/// (default 1).
///
/// ```
/// use gmdiff_solvers::{EulerAncestral, Schedule, is_stochastic, score_evals};
/// let s = Schedule::uniform_vp(10, 1e-3).unwrap();
/// assert_eq!(score_evals(&EulerAncestral::default(), &s).unwrap(), 10);
/// assert!(!is_stochastic(&EulerAncestral { eta: 0.0, s_noise: 1.0 }, &s).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EulerAncestral {
    /// `η ≥ 0`: 0 is the deterministic Euler step in σ, 1 the ancestral (DDPM-like) step.
    pub eta: f64,
    /// `s_noise ≥ 0`: the factor on the added noise (1 is the sampler's law).
    pub s_noise: f64,
}

impl Default for EulerAncestral {
    /// k-diffusion's defaults: `η = 1`, `s_noise = 1`.
    fn default() -> Self {
        Self { eta: 1.0, s_noise: 1.0 }
    }
}

impl EulerAncestral {
    /// The CLI name.
    pub const NAME: &'static str = "euler-a";
}

impl SamplerInfo for EulerAncestral {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    /// A last step to `σ_s = 0` has `σ_up = σ_down = 0`: `X_S = a_S D`.
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
    fn validate(&self, _: &Schedule) -> Result<(), SolverError> {
        check_noise(self.eta, self.s_noise)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for EulerAncestral {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s) = (&info.from, &info.to);
        let x = &state[0];
        let d = alg.denoise(t, x)?;
        if s.b == 0.0 {
            // σ_s = 0: x̃_s = x̃ − σ_t d = D, and k-diffusion adds no noise.
            state[0] = alg.lin(&[(s.a, &d)]);
            return Ok(state);
        }
        let (rho, kappa_sq) = ancestral_split(s.lambda - t.lambda, self.eta);
        let kappa = kappa_sq.sqrt();
        // a_s D + κ b_s (X − a_t D)/b_t = (κ b_s/b_t) X + a_s (1 − κ e) D, e = σ_s/σ_t = e^{λ_t − λ_s};
        // 1 − κ e = (1 − e) + e (1 − κ), 1 − κ = ρ²/(1 + κ), without cancellation.
        let e = (t.lambda - s.lambda).exp();
        let one_minus = -(t.lambda - s.lambda).exp_m1() + e * rho * rho / (1.0 + kappa);
        let (c_x, c_d) = (kappa * s.b / t.b, s.a * one_minus);
        let c_noise = self.s_noise * rho * s.b;
        state[0] = if c_noise > 0.0 {
            let xi = alg.noise();
            alg.lin(&[(c_x, x), (c_d, &d), (c_noise, &xi)])
        } else {
            alg.lin(&[(c_x, x), (c_d, &d)])
        };
        Ok(state)
    }
}
