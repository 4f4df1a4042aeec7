//! DDIM with stochasticity `η`.

use crate::algebra::Algebra;
use crate::error::{SolverError, check};
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::{Schedule, StepInfo};

/// DDIM(η): with the data prediction `x̂₀ = (X + b_t² s)/a_t` and the noise prediction
/// `ε̂ = −b_t s` (`s = s_t(X)`), `σ = η sqrt(b_s²/b_t² (1 − a_t²/a_s²))` and
/// `X ← a_s x̂₀ + sqrt(b_s² − σ²) ε̂ + σ ξ` (no noise drawn when `σ = 0`).
///
/// Source: Song, Meng & Ermon, *Denoising Diffusion Implicit Models* (2021), written with the score
/// (derived). One score evaluation per step, one slot. Runs on grids and chains. `η ∈ [0, 1]`: 0 is the deterministic DDIM, 1 is DDPM-like.
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
}

impl<A: Algebra + ?Sized> Sampler<A> for Ddim {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, s) = (&info.from, &info.to);
        let x = &state[0];
        let ratio = -(-(t.integrated_beta - s.integrated_beta)).exp_m1(); // 1 − a_t²/a_s²
        let sigma = self.eta * (s.b * s.b / (t.b * t.b) * ratio).sqrt();
        let keep = (s.b * s.b - sigma * sigma).max(0.0).sqrt();
        let sc = alg.score(t, x)?;
        let c_x = s.a / t.a;
        let c_s = s.a * t.b * t.b / t.a - keep * t.b;
        state[0] = if sigma > 0.0 {
            let xi = alg.noise();
            alg.lin(&[(c_x, x), (c_s, &sc), (sigma, &xi)])
        } else {
            alg.lin(&[(c_x, x), (c_s, &sc)])
        };
        Ok(state)
    }
}
