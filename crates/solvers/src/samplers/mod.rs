//! The built-in samplers, one file each, and their registration.
//!
//! Notation (every file): the path is `x_t = a_t x₀ + b_t z` with `f = d log a/dt`,
//! `g² = d(b²)/dt − 2 f b²`, `λ = log(a/b)` and `c² = a² + b²` ([`gmdiff_process::Coefficients`]);
//! on the VP paths `f = −β/2`, `g² = β`, `c = 1`. Step `k` goes from forward time `t = t_k` to
//! `s = t_{k+1}`, `h = t − s`; `ξ ~ N(0, I)` is fresh noise; the score is evaluated at the start of
//! each step unless stated otherwise. The VP-derived steps (EI, ODE-EI, DDPM) act on `y = x/c`, which
//! is a VP process with rate `g²/c²` on every path, so `δ = log(ã_s/ã_t)`, `ã = a/c` (on VP
//! `δ = (B(t) − B(s))/2`). Each file's docs give the update, its source, the
//! score evaluations per step and the state slots; [`crate::score_evals`], [`crate::is_stochastic`]
//! and [`crate::slots`] derive the same numbers from the step code.
//!
//! # Adding a built-in sampler
//!
//! 1. Write `samplers/<file>.rs`: a `pub struct` with `Debug, Clone, Copy, PartialEq, Default`
//!    (the default is what [`Builtin::from_name`] returns), an inherent `pub const NAME: &'static str`
//!    (the CLI name), `impl SamplerInfo` (`name` returns `Self::NAME`; `validate` checks the
//!    parameters and, for a continuous-time step, calls [`crate::refuse_chain`]) and
//!    `impl<A: Algebra + ?Sized> Sampler<A>` (the step, over any algebra).
//! 2. Add one line `<file> => <Struct>,` to the `builtin!` invocation below. It declares the module,
//!    re-exports its public items, adds the variant `Builtin::<Struct>`, its name to
//!    [`Builtin::NAMES`] and [`Builtin::from_name`], and the delegation of [`crate::SamplerInfo`] and
//!    [`crate::Sampler`]. The CLI, the experiments and the tests that loop over `Builtin::NAMES`
//!    pick it up.
//!
//! A sampler outside this crate needs no registration: implement the two traits in your crate and
//! pass `&YourSampler` to [`crate::sample`], [`crate::output_law`], [`crate::run`] (see
//! `docs/adding-a-sampler.md`).

use crate::algebra::Algebra;
use crate::error::SolverError;
use gmdiff_process::Coefficients;

/// Declares the built-in sampler modules and generates [`Builtin`] (see the module docs).
macro_rules! builtin {
    ($($file:ident => $ty:ident),+ $(,)?) => {
        $(mod $file; pub use $file::*;)+

        /// A built-in sampler, chosen at run time by name (the CLI, the experiments). Each variant
        /// holds the sampler's struct; [`crate::SamplerInfo`] and [`crate::Sampler`] delegate to it
        /// (one dispatch per step).
        ///
        /// ```
        /// use gmdiff_solvers::{Builtin, Ddim, Schedule, score_evals};
        /// assert_eq!(Builtin::from_name("ddim"), Some(Builtin::Ddim(Ddim { eta: 0.0 })));
        /// let rk4 = Builtin::from_name("rk4").unwrap();
        /// assert_eq!(score_evals(&rk4, &Schedule::uniform_vp(10, 1e-3).unwrap()).unwrap(), 40);
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum Builtin {
            $(#[doc = concat!("[`", stringify!($ty), "`]")] $ty($ty),)+
        }

        impl Builtin {
            /// Every built-in sampler name (the CLI's `--sampler` values), in registration order.
            pub const NAMES: [&'static str; <[&str]>::len(&[$(stringify!($file)),+])] = [$($ty::NAME),+];

            /// The name ([`crate::SamplerInfo::name`], callable without importing the trait).
            pub fn name(&self) -> &'static str {
                crate::SamplerInfo::name(self)
            }

            /// The sampler of a name, with default parameters (`ddim` is `η = 0`, the correctors
            /// of `dpom` and `dpum` their defaults).
            pub fn from_name(name: &str) -> Option<Self> {
                $(if name == $ty::NAME {
                    return Some(Builtin::$ty($ty::default()));
                })+
                None
            }
        }

        impl crate::SamplerInfo for Builtin {
            fn name(&self) -> &'static str {
                match self {
                    $(Builtin::$ty(s) => s.name(),)+
                }
            }
            fn validate(&self, schedule: &crate::Schedule) -> Result<(), SolverError> {
                match self {
                    $(Builtin::$ty(s) => s.validate(schedule),)+
                }
            }
            fn landing(&self) -> crate::Landing {
                match self {
                    $(Builtin::$ty(s) => s.landing(),)+
                }
            }
        }

        impl<A: Algebra + ?Sized> crate::Sampler<A> for Builtin {
            fn init(&self, alg: &mut A, x: A::Value) -> Vec<A::Value> {
                match self {
                    $(Builtin::$ty(s) => s.init(alg, x),)+
                }
            }
            fn step(&self, alg: &mut A, info: &crate::StepInfo, state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
                match self {
                    $(Builtin::$ty(s) => s.step(alg, info, state),)+
                }
            }
        }

        $(impl From<$ty> for Builtin {
            fn from(s: $ty) -> Self {
                Builtin::$ty(s)
            }
        })+
    };
}

builtin! {
    em => EulerMaruyama,
    ei => ExponentialIntegrator,
    ddpm => Ddpm,
    ddim => Ddim,
    euler => Euler,
    heun => Heun,
    rk4 => Rk4,
    ode_ei => OdeExponential,
    dpmpp2m => DpmSolver2M,
    dpom => Dpom,
    dpum => Dpum,
    euler_a => EulerAncestral,
    edm_heun => EdmHeun,
    edm_sde => EdmSde,
    dpm2 => Dpm2,
    dpm2_a => Dpm2Ancestral,
    dpmpp2s_a => DpmSolver2SAncestral,
    dpmpp_sde => DpmSolverSde,
    dpmpp3m => DpmSolver3M,
    dpmpp2m_sde => DpmSolver2MSde,
    dpmpp3m_sde => DpmSolver3MSde,
    unipc => UniPc,
    deis => Deis,
    lms => Lms,
    dpmpp_single => DpmSolverSinglestep,
    pndm => Pndm,
}

/// The probability-flow ODE drift in reverse time, `−dx/dt = −f x + ½ g² s_t(x)` (one score
/// evaluation; VP: `β/2 (x + s)`). Where `a_t = 0` (flow matching's start), `f` and `g²` are
/// infinite and the same velocity is written through the `x₀` prediction:
/// `dx/dt = (db/b) x + (da − a db/b) x̂₀`, so `−dx/dt = −(db/b) x − da x̂₀` there.
pub(crate) fn drift<A: Algebra + ?Sized>(alg: &mut A, at: &Coefficients, x: &A::Value) -> Result<A::Value, SolverError> {
    let (c_x, c_p, p) = drift_parts(alg, at, x)?;
    Ok(alg.lin(&[(c_x, x), (c_p, &p)]))
}

/// [`drift`] as `k = c_x x + c_p p`, with `p` the score (`a_t > 0`) or `x̂₀` (`a_t = 0`), so that a
/// step `X + h k` is one linear combination.
pub(crate) fn drift_parts<A: Algebra + ?Sized>(alg: &mut A, at: &Coefficients, x: &A::Value) -> Result<(f64, f64, A::Value), SolverError> {
    if at.a > 0.0 { Ok((-at.f, 0.5 * at.g2, alg.score(at, x)?)) } else { Ok((-at.db / at.b, -at.da, alg.denoise(at, x)?)) }
}

/// Refuses a step on a discrete chain at run time (the step needs continuous time).
pub(crate) fn need_grid(sampler: &'static str, info: &crate::StepInfo) -> Result<(), SolverError> {
    if info.continuous { Ok(()) } else { Err(SolverError::Unsupported { sampler, schedule: "a discrete chain" }) }
}

/// Refuses a schedule that starts where `a_T = 0` (flow matching at `T = 1`): the reverse SDE's
/// `f = d log a/dt` and `g²`, and the scaled score of the VP-derived steps, are infinite there.
pub(crate) fn need_signal(sampler: &'static str, schedule: &crate::Schedule) -> Result<(), SolverError> {
    if schedule.point(0)?.a > 0.0 {
        Ok(())
    } else {
        Err(SolverError::Unsupported {
            sampler,
            schedule: "a start with a_T = 0 (flow matching at T = 1), where f = d log a/dt and g² are infinite: use a horizon T < 1, or an ODE sampler (euler, heun, rk4, ddim, dpmpp2m)",
        })
    }
}

/// The step's VP-normalised scales `(c_t, c_s)`, `c = sqrt(a² + b²)` (exactly 1 on VP paths and
/// chains), and `δ = log(ã_s/ã_t)` with `ã = a/c`: the half log-ratio `(B(t) − B(s))/2` of the VP
/// process `x/c`, whose rate is `g²/c²` (THEORY §0; on VP `δ = (B(t) − B(s))/2` exactly).
pub(crate) fn vp_normalised(info: &crate::StepInfo) -> (f64, f64, f64) {
    let (t, s) = (&info.from, &info.to);
    let delta = (s.log_a - 0.5 * s.c2.ln()) - (t.log_a - 0.5 * t.c2.ln());
    (t.c2.sqrt(), s.c2.sqrt(), delta)
}

/// The flow-ODE exponential-integrator step on the VP-normalised variable `y = x/c`:
/// `y ← e^δ y + (e^δ − 1) s_y(y)`, i.e. `X ← (c_s/c_t) e^δ X + c_s c_t (e^δ − 1) s_t(X)` (VP:
/// `e^δ X + (e^δ − 1) s_t(X)`), shared by [`OdeExponential`] and the predictors of [`Dpom`] and
/// [`Dpum`].
pub(crate) fn ode_exponential<A: Algebra + ?Sized>(
    alg: &mut A,
    name: &'static str,
    info: &crate::StepInfo,
    x: &A::Value,
) -> Result<A::Value, SolverError> {
    need_grid(name, info)?;
    let (ct, cs, delta) = vp_normalised(info);
    let sc = alg.score(&info.from, x)?;
    Ok(alg.lin(&[((cs / ct) * delta.exp(), x), (cs * ct * delta.exp_m1(), &sc)]))
}

/// True when a corrector that runs after every `every`-th predictor step (never after the last)
/// runs after step `info.index`.
pub(crate) fn correct_now(info: &crate::StepInfo, every: usize) -> bool {
    (info.index + 1) < info.steps && (info.index + 1).is_multiple_of(every)
}

/// Checks the noise parameters of the ancestral and SDE samplers: `η` and `s_noise` finite and `≥ 0`
/// (k-diffusion clips the ancestral `σ_up` at `σ_s`, so `η > 1` is meaningful).
pub(crate) fn check_noise(eta: f64, s_noise: f64) -> Result<(), SolverError> {
    crate::error::check("eta", eta, |e| e >= 0.0, "must be finite and ≥ 0")?;
    crate::error::check("s_noise", s_noise, |s| s >= 0.0, "must be finite and ≥ 0")?;
    Ok(())
}

/// k-diffusion's `get_ancestral_step(σ_from, σ_to, η)` over a step `h = λ_to − λ_from ≥ 0`, as ratios
/// to `σ_to`: `(u, v)` with `u = σ_up/σ_to = min(1, η sqrt(1 − e^{−2h}))` and
/// `v = (σ_down/σ_to)² = max(0, (1 − η²) + η² e^{−2h})` (`= 1 − u²`, formed without cancellation for
/// `η ≤ 1`); `(0, 1)` at `η = 0`, as k-diffusion returns `(σ_to, 0)` there. Finite for `σ_from = ∞`
/// (`a = 0`, `h = ∞`).
pub(crate) fn ancestral_split(h: f64, eta: f64) -> (f64, f64) {
    if eta == 0.0 {
        return (0.0, 1.0);
    }
    let v = ((1.0 - eta * eta) + eta * eta * (-2.0 * h).exp()).max(0.0);
    let u = if v == 0.0 { 1.0 } else { (eta * (-(-2.0 * h).exp_m1()).sqrt()).min(1.0) };
    (u, v)
}
