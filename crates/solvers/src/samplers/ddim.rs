//! DDIM with stochasticity `η`.

use crate::algebra::Algebra;
use crate::error::{SolverError, check};
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};

/// DDIM(η): with the data prediction `x̂₀ = E[x₀ | x_t = X]` and the noise prediction
/// `ε̂ = (X − a_t x̂₀)/b_t`, `σ = η b_s sqrt(1 − e^{2(λ_t − λ_s)})` (the standard deviation of
/// `q(x_s | x_t, x₀)`; on VP `η sqrt(b_s²/b_t² (1 − a_t²/a_s²))`) and
/// `X ← a_s x̂₀ + sqrt(b_s² − σ²) ε̂ + σ ξ` (no noise drawn when `σ = 0`). Written through `x̂₀`, it is
/// finite where `a_t = 0` (flow matching's start); on `a = 1` paths (VE, EDM) at `η = 0` it is the
/// Euler step in `σ` of Karras et al. (2022, Alg. 1).
///
/// Source: Song, Meng & Ermon, *Denoising Diffusion Implicit Models* (2021, eq. 12 and 16), for any
/// path `(a, b)` (derived). One score evaluation per step, one slot. Runs on grids and chains. `η ∈ [0, 1]`: 0 is the deterministic DDIM, 1 is DDPM-like.
///
/// ```
/// use gmdiff_solvers::{Ddim, Schedule, is_stochastic};
/// let s = Schedule::uniform_vp(10, 1e-3).unwrap();
/// assert!(!is_stochastic(&Ddim { eta: 0.0 }, &s).unwrap());
/// assert!(is_stochastic(&Ddim { eta: 1.0 }, &s).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ddim {
    /// `η`: 0 is the deterministic DDIM, 1 is DDPM-like.
    pub eta: f64,
}

impl Ddim {
    /// The CLI name.
    pub const NAME: &'static str = "ddim";
}

impl SamplerInfo for Ddim {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, _: &Schedule) -> Result<(), SolverError> {
        check("eta", self.eta, |e| (0.0..=1.0).contains(&e), "must lie in [0, 1]")?;
        Ok(())
    }
    /// `b_S = 0`: `σ ≤ b_S = 0` and `sqrt(b_S² − σ²) = 0`, so `X_S = a_S x̂₀`.
    fn landing(&self) -> crate::Landing {
        crate::Landing::Denoiser
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for Ddim {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s) = (&info.from, &info.to);
        let x = &state[0];
        // σ² = η² b_s² (1 − e^{2(λ_t − λ_s)}): the variance of q(x_s | x_t, x₀).
        let sigma = self.eta * s.b * (-(2.0 * (t.lambda - s.lambda)).exp_m1()).sqrt();
        let keep = (s.b * s.b - sigma * sigma).max(0.0).sqrt();
        // a_s x̂₀ + keep ε̂: through the score (x̂₀ = (X + b_t² s)/a_t, ε̂ = −b_t s) where a_t > 0,
        // through x̂₀ (ε̂ = X/b_t) where a_t = 0.
        let (c_x, c_p, p) = if t.a > 0.0 {
            (s.a / t.a, s.a * t.b * t.b / t.a - keep * t.b, alg.score(t, x)?)
        } else {
            (keep / t.b, s.a, alg.denoise(t, x)?)
        };
        state[0] = if sigma > 0.0 {
            let xi = alg.noise();
            alg.lin(&[(c_x, x), (c_p, &p), (sigma, &xi)])
        } else {
            alg.lin(&[(c_x, x), (c_p, &p)])
        };
        Ok(state)
    }
}
