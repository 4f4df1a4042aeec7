//! DDPM ancestral sampling.

use crate::algebra::Algebra;
use crate::error::SolverError;
use crate::sampler::{Sampler, SamplerInfo};
use crate::schedule::StepInfo;

/// DDPM ancestral sampling: `X ← (X + β_k s_t(X)) / sqrt(1 − β_k) + sqrt(β_k) ξ`, with
/// `β_k = h β(t)` on a grid (THEORY §3) or the chain's `β_k` on a discrete chain (Ho et al.;
/// Li–Cai–Wei's `Y_{t−1} = (Y_t + (1 − α_t) s_t(Y_t))/sqrt(α_t) + sqrt(1 − α_t) Z_t`, THEORY §2).
/// A rate `β_k ∉ (0, 1)` is refused ([`SolverError::DdpmRate`]). On any path the step acts on the
/// VP-normalised `y = x/c` with rate `β_k = h g²(t)/c²(t)` (module docs):
/// `X ← (c_s/c_t) (X + c_t² β_k s_t(X))/sqrt(1 − β_k) + c_s sqrt(β_k) ξ` (derived; `c = 1` on VP and
/// chains). Refuses a start with `a_T = 0`.
///
/// `last_step_noise = false` draws no noise in the last step (Ho et al. 2020, Algorithm 2:
/// `z = 0` at `t = 1`; diffusers' `DDPMScheduler` with `variance_type = "fixed_large"` when its last
/// timestep is 0). The default `true` is the form above at every step. (No landing is claimed either
/// way: on a grid the rate `h g²/c²` of a last step to `b = 0` is not `1 − a_t²`, so its mean is not
/// `x̂₀`.)
///
/// One score evaluation per step, one slot. Runs on grids and chains.
///
/// ```
/// use gmdiff_solvers::{Ddpm, Schedule, score_evals};
/// assert_eq!(score_evals(&Ddpm::default(), &Schedule::uniform_vp(100, 1e-3).unwrap()).unwrap(), 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ddpm {
    /// Draw noise in the last step too (default `true`).
    pub last_step_noise: bool,
}

impl Default for Ddpm {
    fn default() -> Self {
        Self { last_step_noise: true }
    }
}

impl Ddpm {
    /// The CLI name.
    pub const NAME: &'static str = "ddpm";
}

impl SamplerInfo for Ddpm {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn validate(&self, schedule: &crate::Schedule) -> Result<(), SolverError> {
        super::need_signal(self.name(), schedule)
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for Ddpm {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let t = &info.from;
        let x = &state[0];
        let beta = info.ddpm_beta;
        if !(beta > 0.0 && beta < 1.0) {
            return Err(SolverError::DdpmRate { step: info.index, beta, t: t.t });
        }
        let (ct, cs) = (t.c2.sqrt(), info.to.c2.sqrt());
        let r = 1.0 / (1.0 - beta).sqrt();
        let sc = alg.score(t, x)?;
        state[0] = if self.last_step_noise || info.index + 1 < info.steps {
            let xi = alg.noise();
            alg.lin(&[((cs / ct) * r, x), (cs * ct * (beta * r), &sc), (cs * beta.sqrt(), &xi)])
        } else {
            alg.lin(&[((cs / ct) * r, x), (cs * ct * (beta * r), &sc)])
        };
        Ok(state)
    }
}
