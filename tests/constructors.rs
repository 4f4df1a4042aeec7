//! Table of bad inputs for every public constructor, fallible builder, parser and parameter check
//! of the library crates and of `gmdiff::io`: each must return the expected typed error, whose
//! message says what is wrong — never accept the input, never panic, never answer NaN.
//!
//! A few entries are numerical edge cases rather than bad inputs: a singular covariance is fine
//! until a density or score is needed at `t = 0` (then it is a clear error), and a point extremely
//! far from every component gives a finite value or a typed error, never NaN. Those entries, and
//! the positive controls next to them, accept a finite answer.
//!
//! Every case runs under `catch_unwind`, and all failures are reported together.

use faer::{Mat, mat};
use gmdiff::gaussian::{
    DenseProblem, Dynamics, GaussianError, Init, IsotropicDdpm, PropagationGrid, ScoreError, SpectralProblem, SpectralScore,
    parse_spectrum, read_spectrum,
};
use gmdiff::guidance::{
    ClassConditional, DensityOutput, Estimate, Guidance, GuidanceError, GuidedScore, ScoreJacobian, confidence, flow_log_density,
    knn_entropy, map_log_density, step_coefficients,
};
use gmdiff::io::{IoError, parse_points_csv, read_mixture_json, read_points_csv, write_atomic, write_matrix_csv};
use gmdiff::metrics::{
    Bandwidth, EmdOptions, FittedGaussian, HistogramGrid, MetricsError, TwoSampleStatistic, bures_w2, bures_w2_fitted, bures_w2_squared,
    emd, energy_distance, energy_distance_sq, entropy_knn, gaussian_entropy, histogram_divergence, histogram_divergence_mixture,
    kl_gaussian, kl_mixtures_mc, median_bandwidth, mixture_entropy_mc, mixture_w2, mmd2_unbiased, ot_sq_euclidean, permutation_test,
    tv_gaussian_1d, tv_gaussian_bounds, tv_isotropic_gaussians, tv_mixtures_mc, w2_1d, w2_exact, w2_exact_weighted, w2_sliced,
    w2_sliced_estimate,
};
use gmdiff::mixture::{
    Covariance, Gaussian, GaussianMixture, MixtureError, SearchOptions, SmoothnessError, hessian_norms, lipschitz_bound,
    lipschitz_estimate, smoothness, symmetric_spectral_norm,
};
use gmdiff::process::{Coefficients, DiscreteChain, GaussianPath, Ou, Process, ProcessError, Score, TimeGrid, VpCosine, VpLinear};
use gmdiff::solvers::{
    AffinePerturbation, Builtin, Ddim, Ddpm, DdpmBoundInput, Dense, DenseGaussian, Diag, Dpom, Dpum, Euler, EulerMaruyama, Heun, Langevin,
    LawStart, Marginal, Op, PerturbedPrecision, SamplerInfo, ScaledScore, Schedule, SolverError, SpectralGaussian, Start, Underdamped,
    ddpm_bound, dpom_steps, dpom_tv, dpum_steps, dpum_tv, output_law, sample,
};
use std::fmt::{Debug, Display};
use std::path::PathBuf;

/// What a case saw: `Ok(text)` when it behaved (the expected error's message, or a description of
/// an accepted finite answer), `Err(why)` when it did not.
type Outcome = Result<String, String>;

/// Accepts exactly `Ok(−∞)`: a log-density below `−f64::MAX`, rounded as IEEE rounds it.
fn minus_infinity<E: Debug>(r: Result<f64, E>) -> Outcome {
    match r {
        Ok(v) if v == f64::NEG_INFINITY => Ok("−∞ (below −f64::MAX)".into()),
        other => Err(format!("expected Ok(−∞), got {other:?}")),
    }
}

/// One bad-input case.
struct Case {
    name: &'static str,
    run: fn() -> Outcome,
    /// Fragments, separated by `|`, one of which the message must contain (case-insensitive).
    says: &'static str,
}

fn case(name: &'static str, says: &'static str, run: fn() -> Outcome) -> Case {
    Case { name, run, says }
}

/// The start of a value's `Debug` form, for reports.
fn shown<T: Debug>(v: &T) -> String {
    let s = format!("{v:?}");
    if s.chars().count() > 160 { format!("{}…", s.chars().take(160).collect::<String>()) } else { s }
}

/// An `Err` for which `expected` holds, reported as its message.
fn refuse_with<T: Debug, E: Display + Debug>(r: Result<T, E>, expected: impl Fn(&E) -> bool) -> Outcome {
    match r {
        Err(e) if expected(&e) => Ok(e.to_string()),
        Err(e) => Err(format!("wrong error: {e:?}")),
        Ok(v) => Err(format!("accepted, returned {}", shown(&v))),
    }
}

/// An `Ok` value for which `finite` holds, or an `Err` for which `expected` holds.
fn finite_or<T: Debug, E: Display + Debug>(r: Result<T, E>, finite: impl Fn(&T) -> bool, expected: impl Fn(&E) -> bool) -> Outcome {
    match r {
        Ok(v) if finite(&v) => Ok("finite answer".into()),
        Ok(v) => Err(format!("non-finite answer {}", shown(&v))),
        Err(e) if expected(&e) => Ok(e.to_string()),
        Err(e) => Err(format!("wrong error: {e:?}")),
    }
}

/// A positive control: an `Ok` value for which `check` holds.
fn accept<T: Debug, E: Debug>(r: Result<T, E>, check: impl Fn(&T) -> bool) -> Outcome {
    match r {
        Ok(v) if check(&v) => Ok("accepted".into()),
        Ok(v) => Err(format!("accepted with a wrong value {}", shown(&v))),
        Err(e) => Err(format!("refused a valid input: {e:?}")),
    }
}

/// `refuse!(expr, Pattern)`: the expression must fail with an error matching the pattern.
macro_rules! refuse {
    ($e:expr, $p:pat) => {
        refuse_with($e, |e| matches!(e, $p))
    };
}

// These predicates are passed by name where an `Fn(&Vec<_>) -> bool` is expected.
#[allow(clippy::ptr_arg)]
fn finite_vec(v: &Vec<f64>) -> bool {
    v.iter().all(|x| x.is_finite())
}
fn finite_mat(m: &Mat<f64>) -> bool {
    (0..m.ncols()).all(|j| (0..m.nrows()).all(|i| m[(i, j)].is_finite()))
}
#[allow(clippy::ptr_arg)]
fn finite_mats(v: &Vec<Mat<f64>>) -> bool {
    v.iter().all(finite_mat)
}

const GOOD: &str = r#"{"weights":[0.4,0.6],"means":[[0,0],[1,1]],"covariances":[[[1,0.2],[0.2,1]],[[0.5,0],[0,0.5]]]}"#;
const SINGULAR: &str = r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,1],[1,1]]]}"#;
/// Two components of variance 1e-300 at ±1e-100: at 0, `g_i = ±1e200` and `‖g_i‖²` overflows.
const NEEDLES: &str = r#"{"weights":[0.5,0.5],"means":[[-1e-100],[1e-100]],"covariances":[1e-300,1e-300]}"#;
const THREE: &str = r#"{"weights":[0.5,0.5,0.0],"means":[[2,0],[-1,1.7],[-1,-1.7]],"covariances":[1,1,1]}"#;

fn mixture(json: &str) -> GaussianMixture {
    serde_json::from_str(json).expect("fixture mixture")
}
fn good() -> GaussianMixture {
    mixture(GOOD)
}
fn iso(d: usize, v: f64) -> Covariance {
    Covariance::isotropic(d, v).expect("fixture covariance")
}
fn gauss(mean: Vec<f64>, cov: Covariance) -> Gaussian {
    Gaussian::new(mean, cov).expect("fixture Gaussian")
}
fn vp() -> Process {
    Process::default()
}
fn at(t: f64) -> Coefficients {
    VpLinear::default().at(t).expect("fixture time")
}
fn sched(steps: usize, eps: f64) -> Schedule {
    Schedule::uniform_vp(steps, eps).expect("fixture schedule")
}
fn chain_sched() -> Schedule {
    Schedule::Chain(DiscreteChain::ho_linear(20, 1e-4, 0.02).expect("fixture chain"))
}
fn model() -> ClassConditional {
    ClassConditional::per_component(mixture(THREE))
}
fn cloud() -> Mat<f64> {
    mat![[0.0, 0.0], [1.0, 0.5], [2.0, -1.0], [0.5, 2.0]]
}
fn spectral() -> SpectralProblem {
    SpectralProblem::centred(vec![0.5, 1.0, 2.0]).expect("fixture spectrum")
}
fn dense() -> DenseProblem {
    DenseProblem::new(vec![0.0, 1.0], mat![[1.0, 0.2], [0.2, 0.5]]).expect("fixture dense problem")
}
fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("gmdiff-constructors-{}", std::process::id()))
}
fn scratch(name: &str) -> PathBuf {
    std::fs::create_dir_all(scratch_dir()).expect("scratch directory");
    scratch_dir().join(name)
}
fn written(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch(name);
    std::fs::write(&path, bytes).expect("scratch file");
    path
}

/// The bytes of a version-1 `.npy` file with the given header dictionary and payload.
fn npy(header: &str, payload: &[u8]) -> Vec<u8> {
    let mut h = header.to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(payload);
    out
}
fn f8(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn process_cases() -> Vec<Case> {
    use ProcessError::{Invalid, InvalidParameter, TimeOutOfRange};
    vec![
        // VpLinear::new
        case("VpLinear: NaN beta_min", "beta_min", || {
            refuse!(VpLinear::new(f64::NAN, 20.0, 1.0), InvalidParameter { name: "beta_min", .. })
        }),
        case("VpLinear: negative beta_min", "beta_min", || {
            refuse!(VpLinear::new(-0.1, 20.0, 1.0), InvalidParameter { name: "beta_min", .. })
        }),
        case("VpLinear: +inf beta_max", "beta_max", || {
            refuse!(VpLinear::new(0.1, f64::INFINITY, 1.0), InvalidParameter { name: "beta_max", .. })
        }),
        case("VpLinear: -inf beta_max", "beta_max", || {
            refuse!(VpLinear::new(0.1, f64::NEG_INFINITY, 1.0), InvalidParameter { name: "beta_max", .. })
        }),
        case("VpLinear: zero rates", "> 0", || refuse!(VpLinear::new(0.0, 0.0, 1.0), InvalidParameter { name: "beta_min + beta_max", .. })),
        case("VpLinear: rates whose sum overflows", "inf", || {
            refuse!(VpLinear::new(1e308, 1e308, 1.0), InvalidParameter { name: "beta_min + beta_max", .. })
        }),
        case("VpLinear: zero horizon", "`T`", || refuse!(VpLinear::new(0.1, 20.0, 0.0), InvalidParameter { name: "T", .. })),
        case("VpLinear: NaN horizon", "`T`", || refuse!(VpLinear::new(0.1, 20.0, f64::NAN), InvalidParameter { name: "T", .. })),
        case("VpLinear: infinite horizon", "`T`", || refuse!(VpLinear::new(0.1, 20.0, f64::INFINITY), InvalidParameter { name: "T", .. })),
        // VpCosine::new
        case("VpCosine: NaN offset", "`s`", || refuse!(VpCosine::new(f64::NAN, 1.0, 0.9), InvalidParameter { name: "s", .. })),
        case("VpCosine: zero offset", "`s`", || refuse!(VpCosine::new(0.0, 1.0, 0.9), InvalidParameter { name: "s", .. })),
        case("VpCosine: infinite scale", "`T`", || refuse!(VpCosine::new(0.008, f64::INFINITY, 0.9), InvalidParameter { name: "T", .. })),
        case("VpCosine: negative scale", "`T`", || refuse!(VpCosine::new(0.008, -1.0, 0.9), InvalidParameter { name: "T", .. })),
        case("VpCosine: t_max = T", "t_max < T", || refuse!(VpCosine::new(0.008, 1.0, 1.0), InvalidParameter { name: "t_max", .. })),
        case("VpCosine: negative t_max", "t_max", || refuse!(VpCosine::new(0.008, 1.0, -0.5), InvalidParameter { name: "t_max", .. })),
        case("VpCosine: NaN t_max", "t_max", || refuse!(VpCosine::new(0.008, 1.0, f64::NAN), InvalidParameter { name: "t_max", .. })),
        // Ou::new
        case("Ou: NaN horizon", "`T`", || refuse!(Ou::new(f64::NAN), InvalidParameter { name: "T", .. })),
        case("Ou: zero horizon", "`T`", || refuse!(Ou::new(0.0), InvalidParameter { name: "T", .. })),
        case("Ou: negative horizon", "`T`", || refuse!(Ou::new(-2.0), InvalidParameter { name: "T", .. })),
        case("Ou: infinite horizon", "`T`", || refuse!(Ou::new(f64::INFINITY), InvalidParameter { name: "T", .. })),
        // Processes through serde (the checked constructors run)
        case("Process JSON: negative OU horizon", "`T`", || {
            refuse_with(serde_json::from_str::<Process>(r#"{"kind":"ou","horizon":-1.0}"#), serde_json::Error::is_data)
        }),
        case("Process JSON: negative beta_min", "beta_min", || {
            refuse_with(
                serde_json::from_str::<Process>(r#"{"kind":"vp","beta_min":-1,"beta_max":20,"horizon":1}"#),
                serde_json::Error::is_data,
            )
        }),
        case("Process JSON: cosine t_max beyond T", "t_max", || {
            refuse_with(
                serde_json::from_str::<Process>(r#"{"kind":"vp-cosine","offset":0.008,"scale":1,"t_max":2}"#),
                serde_json::Error::is_data,
            )
        }),
        case("Process JSON: unknown kind", "vq", || {
            refuse_with(serde_json::from_str::<Process>(r#"{"kind":"vq","horizon":1}"#), serde_json::Error::is_data)
        }),
        case("Process JSON: empty input", "EOF", || refuse_with(serde_json::from_str::<Process>(""), serde_json::Error::is_eof)),
        // GaussianPath::at
        case("at: negative t", "outside", || refuse!(VpLinear::default().at(-0.1), TimeOutOfRange { .. })),
        case("at: t > T", "outside", || refuse!(VpLinear::default().at(1.1), TimeOutOfRange { .. })),
        case("at: NaN t", "outside", || refuse!(VpLinear::default().at(f64::NAN), TimeOutOfRange { .. })),
        case("at: +inf t", "outside", || refuse!(Ou::new(2.0).unwrap().at(f64::INFINITY), TimeOutOfRange { .. })),
        case("at: t above the OU horizon", "outside", || refuse!(Ou::new(2.0).unwrap().at(2.5), TimeOutOfRange { .. })),
        case("at: t above the cosine t_max", "outside", || refuse!(VpCosine::default().at(0.995), TimeOutOfRange { .. })),
        case("at: Process enum, negative t", "outside", || refuse!(vp().at(-1e-300), TimeOutOfRange { .. })),
        // DiscreteChain::new / ho_linear / li_yan / at
        case("chain: no steps", "no steps", || refuse!(DiscreteChain::new(vec![]), Invalid { .. })),
        case("chain: NaN beta", "(0, 1)", || refuse!(DiscreteChain::new(vec![0.1, f64::NAN]), InvalidParameter { name: "beta_k", .. })),
        case("chain: beta = 0", "(0, 1)", || refuse!(DiscreteChain::new(vec![0.0]), InvalidParameter { name: "beta_k", .. })),
        case("chain: beta = 1", "(0, 1)", || refuse!(DiscreteChain::new(vec![0.5, 1.0]), InvalidParameter { name: "beta_k", .. })),
        case("chain: negative beta", "(0, 1)", || refuse!(DiscreteChain::new(vec![-0.1]), InvalidParameter { name: "beta_k", .. })),
        case("chain: infinite beta", "(0, 1)", || {
            refuse!(DiscreteChain::new(vec![f64::INFINITY]), InvalidParameter { name: "beta_k", .. })
        }),
        case("ho_linear: steps = 0", "no steps", || refuse!(DiscreteChain::ho_linear(0, 1e-4, 0.02), Invalid { .. })),
        case("ho_linear: beta_1 = 0", "beta_1", || {
            refuse!(DiscreteChain::ho_linear(10, 0.0, 0.02), InvalidParameter { name: "beta_1", .. })
        }),
        case("ho_linear: NaN beta_1", "beta_1", || {
            refuse!(DiscreteChain::ho_linear(10, f64::NAN, 0.02), InvalidParameter { name: "beta_1", .. })
        }),
        case("ho_linear: beta_N = 1", "beta_N", || {
            refuse!(DiscreteChain::ho_linear(10, 1e-4, 1.0), InvalidParameter { name: "beta_N", .. })
        }),
        case("ho_linear: infinite beta_N", "beta_N", || {
            refuse!(DiscreteChain::ho_linear(10, 1e-4, f64::INFINITY), InvalidParameter { name: "beta_N", .. })
        }),
        case("ho_linear: usize::MAX steps", "steps", || refuse!(DiscreteChain::ho_linear(usize::MAX, 1e-4, 0.02), Invalid { .. })),
        case("li_yan: 1 step", "at least 2 steps", || refuse!(DiscreteChain::li_yan(1, 1.0, 1.0), Invalid { .. })),
        case("li_yan: 0 steps", "at least 2 steps", || refuse!(DiscreteChain::li_yan(0, 1.0, 1.0), Invalid { .. })),
        case("li_yan: c1 log N / N >= 1", "must be < 1", || refuse!(DiscreteChain::li_yan(10, 1.0, 10.0), Invalid { .. })),
        case("li_yan: NaN c0", "c0", || refuse!(DiscreteChain::li_yan(100, f64::NAN, 1.0), InvalidParameter { name: "c0", .. })),
        case("li_yan: infinite c0", "c0", || refuse!(DiscreteChain::li_yan(100, f64::INFINITY, 1.0), InvalidParameter { name: "c0", .. })),
        case("li_yan: negative c1", "c1", || refuse!(DiscreteChain::li_yan(100, 1.0, -1.0), InvalidParameter { name: "c1", .. })),
        case("li_yan: huge c0 underflows beta_1 to 0", "(0, 1)", || {
            refuse!(DiscreteChain::li_yan(100, 1e308, 1.0), InvalidParameter { name: "beta_k", .. })
        }),
        case("li_yan: usize::MAX steps", "steps", || refuse!(DiscreteChain::li_yan(usize::MAX, 1.0, 1.0), Invalid { .. })),
        case("chain at: k > N", "outside", || refuse!(DiscreteChain::ho_linear(10, 1e-4, 0.02).unwrap().at(11), TimeOutOfRange { .. })),
        // TimeGrid::from_times / uniform / karras / log_snr_uniform
        case("from_times: empty", "at least 2", || refuse!(TimeGrid::from_times(&vp(), vec![]), Invalid { .. })),
        case("from_times: one point", "at least 2", || refuse!(TimeGrid::from_times(&vp(), vec![1.0]), Invalid { .. })),
        case("from_times: NaN time", "outside", || refuse!(TimeGrid::from_times(&vp(), vec![1.0, f64::NAN, 0.0]), TimeOutOfRange { .. })),
        case("from_times: +inf time", "outside", || refuse!(TimeGrid::from_times(&vp(), vec![f64::INFINITY, 0.0]), TimeOutOfRange { .. })),
        case("from_times: negative time", "outside", || refuse!(TimeGrid::from_times(&vp(), vec![1.0, -0.1]), TimeOutOfRange { .. })),
        case("from_times: time above T", "outside", || refuse!(TimeGrid::from_times(&vp(), vec![1.5, 0.0]), TimeOutOfRange { .. })),
        case("from_times: increasing", "decrease", || refuse!(TimeGrid::from_times(&vp(), vec![0.0, 1.0]), Invalid { .. })),
        case("from_times: repeated time", "decrease", || refuse!(TimeGrid::from_times(&vp(), vec![1.0, 0.5, 0.5]), Invalid { .. })),
        case("uniform: steps = 0", "at least 1 step", || refuse!(TimeGrid::uniform(&vp(), 0, 1e-3), Invalid { .. })),
        case("uniform: negative eps", "eps", || refuse!(TimeGrid::uniform(&vp(), 10, -1e-3), InvalidParameter { name: "eps", .. })),
        case("uniform: NaN eps", "eps", || refuse!(TimeGrid::uniform(&vp(), 10, f64::NAN), InvalidParameter { name: "eps", .. })),
        case("uniform: eps = T", "eps", || refuse!(TimeGrid::uniform(&vp(), 10, 1.0), InvalidParameter { name: "eps", .. })),
        case("uniform: infinite eps", "eps", || refuse!(TimeGrid::uniform(&vp(), 10, f64::INFINITY), InvalidParameter { name: "eps", .. })),
        case("uniform: usize::MAX steps", "steps", || refuse!(TimeGrid::uniform(&vp(), usize::MAX, 1e-3), Invalid { .. })),
        case("karras: eps = 0", "0 < ε", || refuse!(TimeGrid::karras(&vp(), 10, 0.0, 7.0), InvalidParameter { name: "eps", .. })),
        case("karras: steps = 0", "at least 1 step", || refuse!(TimeGrid::karras(&vp(), 0, 1e-3, 7.0), Invalid { .. })),
        case("karras: rho = 0", "rho", || refuse!(TimeGrid::karras(&vp(), 10, 1e-3, 0.0), InvalidParameter { name: "rho", .. })),
        case("karras: NaN rho", "rho", || refuse!(TimeGrid::karras(&vp(), 10, 1e-3, f64::NAN), InvalidParameter { name: "rho", .. })),
        case("karras: infinite rho", "rho", || {
            refuse!(TimeGrid::karras(&vp(), 10, 1e-3, f64::INFINITY), InvalidParameter { name: "rho", .. })
        }),
        case("karras: negative rho", "rho", || refuse!(TimeGrid::karras(&vp(), 10, 1e-3, -7.0), InvalidParameter { name: "rho", .. })),
        case("karras: usize::MAX steps", "steps", || refuse!(TimeGrid::karras(&vp(), usize::MAX, 1e-3, 7.0), Invalid { .. })),
        case("log_snr_uniform: eps = 0", "0 < ε", || {
            refuse!(TimeGrid::log_snr_uniform(&vp(), 10, 0.0), InvalidParameter { name: "eps", .. })
        }),
        case("log_snr_uniform: eps > T", "eps", || {
            refuse!(TimeGrid::log_snr_uniform(&vp(), 10, 2.0), InvalidParameter { name: "eps", .. })
        }),
        case("log_snr_uniform: NaN eps", "eps", || {
            refuse!(TimeGrid::log_snr_uniform(&vp(), 10, f64::NAN), InvalidParameter { name: "eps", .. })
        }),
        case("log_snr_uniform: steps = 0", "at least 1 step", || refuse!(TimeGrid::log_snr_uniform(&vp(), 0, 1e-3), Invalid { .. })),
        case("log_snr_uniform: usize::MAX steps", "steps", || refuse!(TimeGrid::log_snr_uniform(&vp(), usize::MAX, 1e-3), Invalid { .. })),
    ]
}

fn mixture_cases() -> Vec<Case> {
    use MixtureError::*;
    vec![
        // Covariance::isotropic / diagonal / full
        case("isotropic: d = 0", "d = 0", || refuse!(Covariance::isotropic(0, 1.0), ZeroDimension)),
        case("isotropic: NaN variance", "non-finite", || refuse!(Covariance::isotropic(2, f64::NAN), NonFinite { .. })),
        case("isotropic: +inf variance", "non-finite", || refuse!(Covariance::isotropic(2, f64::INFINITY), NonFinite { .. })),
        case("isotropic: negative variance", "semi-definite", || refuse!(Covariance::isotropic(2, -1.0), NotPositiveSemiDefinite { .. })),
        case("diagonal: empty", "d = 0", || refuse!(Covariance::diagonal(vec![]), ZeroDimension)),
        case("diagonal: NaN variance", "non-finite", || refuse!(Covariance::diagonal(vec![1.0, f64::NAN]), NonFinite { .. })),
        case("diagonal: -inf variance", "non-finite", || refuse!(Covariance::diagonal(vec![f64::NEG_INFINITY, 1.0]), NonFinite { .. })),
        case("diagonal: negative variance", "semi-definite", || {
            refuse!(Covariance::diagonal(vec![1.0, -0.5]), NotPositiveSemiDefinite { .. })
        }),
        case("full: 0 × 0", "d = 0", || refuse!(Covariance::full(Mat::zeros(0, 0)), ZeroDimension)),
        case("full: not square", "dimension mismatch", || refuse!(Covariance::full(Mat::zeros(2, 3)), DimensionMismatch { .. })),
        case("full: NaN entry", "non-finite", || refuse!(Covariance::full(mat![[1.0, f64::NAN], [f64::NAN, 1.0]]), NonFinite { .. })),
        case("full: infinite entry", "non-finite", || refuse!(Covariance::full(mat![[f64::INFINITY, 0.0], [0.0, 1.0]]), NonFinite { .. })),
        case("full: non-symmetric", "symmetric", || refuse!(Covariance::full(mat![[1.0, 0.5], [0.1, 1.0]]), NotSymmetric { .. })),
        case("full: non-symmetric at 1e300", "symmetric", || {
            refuse!(Covariance::full(mat![[1e300, 2e299], [1e299, 1e300]]), NotSymmetric { .. })
        }),
        case("full: indefinite", "semi-definite", || {
            refuse!(Covariance::full(mat![[1.0, 3.0], [3.0, 1.0]]), NotPositiveSemiDefinite { .. })
        }),
        case("full: negative definite", "semi-definite", || {
            refuse!(Covariance::full(mat![[-1.0, 0.0], [0.0, -2.0]]), NotPositiveSemiDefinite { .. })
        }),
        case("full: indefinite at scale 1e-20", "semi-definite", || {
            refuse!(Covariance::full(mat![[1e-20, 3e-20], [3e-20, 1e-20]]), NotPositiveSemiDefinite { .. })
        }),
        case("precision: singular covariance", "singular", || refuse!(iso(2, 0.0).precision(), SingularCovariance { .. })),
        case("precision: subnormal variance", "singular", || refuse!(iso(1, 1e-320).precision(), SingularCovariance { .. })),
        // Gaussian::new / standard / diffused / logpdf / score / hessian
        case("Gaussian: empty mean", "d = 0", || refuse!(Gaussian::new(vec![], iso(1, 1.0)), ZeroDimension)),
        case("Gaussian: mean vs covariance", "mean vs covariance", || {
            refuse!(Gaussian::new(vec![0.0, 0.0], iso(3, 1.0)), DimensionMismatch { .. })
        }),
        case("Gaussian: NaN mean", "mean", || refuse!(Gaussian::new(vec![f64::NAN, 0.0], iso(2, 1.0)), NonFinite { .. })),
        case("Gaussian: +inf mean", "mean", || refuse!(Gaussian::new(vec![0.0, f64::INFINITY], iso(2, 1.0)), NonFinite { .. })),
        case("Gaussian: -inf mean", "mean", || refuse!(Gaussian::new(vec![f64::NEG_INFINITY], iso(1, 1.0)), NonFinite { .. })),
        case("Gaussian::standard: d = 0", "d = 0", || refuse!(Gaussian::standard(0), ZeroDimension)),
        case("Gaussian diffused: NaN a", "`a`", || {
            refuse!(gauss(vec![0.0], iso(1, 1.0)).diffused(f64::NAN, 0.5), InvalidArgument { name: "a", .. })
        }),
        case("Gaussian diffused: infinite a", "`a`", || {
            refuse!(gauss(vec![0.0], iso(1, 1.0)).diffused(f64::INFINITY, 0.5), InvalidArgument { name: "a", .. })
        }),
        case("Gaussian diffused: negative b", "`b`", || {
            refuse!(gauss(vec![0.0], iso(1, 1.0)).diffused(0.5, -0.1), InvalidArgument { name: "b", .. })
        }),
        case("Gaussian diffused: NaN b", "`b`", || {
            refuse!(gauss(vec![0.0], iso(1, 1.0)).diffused(0.5, f64::NAN), InvalidArgument { name: "b", .. })
        }),
        case("Gaussian diffused: mean 1e308 overflows", "overflow", || {
            refuse!(gauss(vec![1e308], iso(1, 1.0)).diffused(2.0, 0.0), NonFinite { .. })
        }),
        case("Gaussian diffused: variance 1e308 overflows", "overflow", || {
            refuse!(gauss(vec![0.0], iso(1, 1e308)).diffused(2.0, 0.0), NonFinite { .. })
        }),
        case("Gaussian logpdf: wrong dimension", "dimension mismatch", || {
            refuse!(gauss(vec![0.0, 0.0], iso(2, 1.0)).logpdf(&[0.0]), DimensionMismatch { .. })
        }),
        case("Gaussian logpdf: NaN point", "point", || {
            refuse!(gauss(vec![0.0, 0.0], iso(2, 1.0)).logpdf(&[0.0, f64::NAN]), NonFinite { .. })
        }),
        case("Gaussian score: infinite point", "point", || {
            refuse!(gauss(vec![0.0], iso(1, 1.0)).score(&[f64::INFINITY]), NonFinite { .. })
        }),
        case("Gaussian logpdf: singular covariance", "singular", || {
            refuse!(gauss(vec![0.0, 0.0], iso(2, 0.0)).logpdf(&[0.0, 0.0]), SingularCovariance { .. })
        }),
        case("Gaussian score: singular covariance", "singular", || {
            let g = gauss(vec![0.0, 0.0], Covariance::full(mat![[1.0, 1.0], [1.0, 1.0]]).unwrap());
            refuse!(g.score(&[0.0, 0.0]), SingularCovariance { .. })
        }),
        case("Gaussian hessian: singular covariance", "singular", || {
            refuse!(gauss(vec![0.0], iso(1, 0.0)).hessian(), SingularCovariance { .. })
        }),
        // log N(0; 1e308, 1) = −5e615 − log 2π is below −f64::MAX: −∞, its IEEE rounding (issue 14).
        case("Gaussian logpdf: point 1e308 away", "−∞", || minus_infinity(gauss(vec![1e308, 0.0], iso(2, 1.0)).logpdf(&[0.0, 0.0]))),
        case("Gaussian score: point 2e308 away", "finite|far", || {
            finite_or(gauss(vec![-1e308], iso(1, 1.0)).score(&[1e308]), finite_vec, |e| matches!(e, NonFinite { .. }))
        }),
        // GaussianMixture::new / diffused / density, and the JSON reader
        case("mixture: k = 0", "k = 0", || refuse!(GaussianMixture::new(vec![], vec![]), NoComponents)),
        case("mixture: no weights", "k = 0", || refuse!(GaussianMixture::new(vec![], vec![gauss(vec![0.0], iso(1, 1.0))]), NoComponents)),
        case("mixture: weights vs components", "weights vs components", || {
            refuse!(
                GaussianMixture::new(vec![1.0], vec![gauss(vec![0.0], iso(1, 1.0)), gauss(vec![1.0], iso(1, 1.0))]),
                DimensionMismatch { .. }
            )
        }),
        case("mixture: components of different dimension", "component dimensions", || {
            refuse!(
                GaussianMixture::new(vec![0.5, 0.5], vec![gauss(vec![0.0], iso(1, 1.0)), gauss(vec![1.0, 0.0], iso(2, 1.0))]),
                DimensionMismatch { .. }
            )
        }),
        case("mixture: NaN weight", "non-finite", || {
            refuse!(
                GaussianMixture::new(vec![f64::NAN, 1.0], vec![gauss(vec![0.0], iso(1, 1.0)), gauss(vec![1.0], iso(1, 1.0))]),
                NonFinite { .. }
            )
        }),
        case("mixture: infinite weight", "non-finite", || {
            refuse!(
                GaussianMixture::new(vec![f64::INFINITY, 0.0], vec![gauss(vec![0.0], iso(1, 1.0)), gauss(vec![1.0], iso(1, 1.0))]),
                NonFinite { .. }
            )
        }),
        case("mixture: negative weight", "negative", || {
            refuse!(
                GaussianMixture::new(vec![-0.5, 1.5], vec![gauss(vec![0.0], iso(1, 1.0)), gauss(vec![1.0], iso(1, 1.0))]),
                NegativeWeight { index: 0, .. }
            )
        }),
        case("mixture: weights sum to 1.1", "sum", || {
            refuse!(
                GaussianMixture::new(vec![0.5, 0.6], vec![gauss(vec![0.0], iso(1, 1.0)), gauss(vec![1.0], iso(1, 1.0))]),
                WeightsNotNormalised { .. }
            )
        }),
        case("mixture: weights sum to 1 - 1e-6", "sum", || {
            refuse!(
                GaussianMixture::new(vec![0.5, 0.5 - 1e-6], vec![gauss(vec![0.0], iso(1, 1.0)), gauss(vec![1.0], iso(1, 1.0))]),
                WeightsNotNormalised { .. }
            )
        }),
        case("mixture: weights whose sum overflows", "sum", || {
            refuse!(
                GaussianMixture::new(vec![1e308, 1e308], vec![gauss(vec![0.0], iso(1, 1.0)), gauss(vec![1.0], iso(1, 1.0))]),
                WeightsNotNormalised { .. }
            )
        }),
        case("mixture diffused: NaN a", "`a`", || refuse!(good().diffused(f64::NAN, 0.5), InvalidArgument { name: "a", .. })),
        case("mixture diffused: -inf b", "`b`", || refuse!(good().diffused(0.5, f64::NEG_INFINITY), InvalidArgument { name: "b", .. })),
        case("mixture diffused: a μ overflows", "overflow", || {
            refuse!(mixture(r#"{"weights":[1],"means":[[1e200]],"covariances":[1]}"#).diffused(1e200, 0.0), NonFinite { .. })
        }),
        case("density: singular covariance at t = 0", "singular", || {
            refuse!(mixture(SINGULAR).density(), SingularCovariance { component: 0 })
        }),
        case("density: point mass at t = 0", "singular", || {
            refuse!(
                mixture(r#"{"weights":[0.5,0.5],"means":[[0],[1]],"covariances":[1,0]}"#).density(),
                SingularCovariance { component: 1 }
            )
        }),
        case("density: singular covariance diffused to t > 0 is fine", "accepted", || {
            let c = at(0.5);
            accept(mixture(SINGULAR).diffused(c.a, c.b).and_then(|m| m.density()).and_then(|p| p.score(&[0.3, -0.2])), finite_vec)
        }),
        case("density: singular component of weight 0 is fine", "accepted", || {
            accept(mixture(r#"{"weights":[1,0],"means":[[0],[1]],"covariances":[1,0]}"#).density().and_then(|p| p.logpdf(&[0.5])), |v| {
                v.is_finite()
            })
        }),
        case("Score trait: singular mixture at t = 0", "singular", || {
            let mut out = Mat::zeros(1, 2);
            refuse!(mixture(SINGULAR).score_into(&at(0.0), mat![[0.0, 0.0]].as_ref(), out.as_mut()), SingularCovariance { .. })
        }),
        case("Score trait: singular mixture at t = 0.5 is fine", "accepted", || {
            let mut out = Mat::zeros(1, 2);
            accept(mixture(SINGULAR).score_into(&at(0.5), mat![[0.0, 0.0]].as_ref(), out.as_mut()).map(|()| out), finite_mat)
        }),
        case("density logpdf: wrong dimension", "dimension mismatch", || {
            refuse!(good().density().unwrap().logpdf(&[0.0]), DimensionMismatch { .. })
        }),
        case("density logpdf: NaN point", "non-finite", || refuse!(good().density().unwrap().logpdf(&[f64::NAN, 0.0]), NonFinite { .. })),
        case("density score: infinite point", "non-finite", || {
            refuse!(good().density().unwrap().score(&[0.0, f64::INFINITY]), NonFinite { .. })
        }),
        case("density logpdf_batch: three columns", "dimension mismatch", || {
            refuse!(good().density().unwrap().logpdf_batch(Mat::zeros(2, 3).as_ref()), DimensionMismatch { .. })
        }),
        case("density laplacian: NaN point", "non-finite", || {
            refuse!(good().density().unwrap().laplacian(&[f64::NAN, 0.0]), NonFinite { .. })
        }),
        case("density responsibilities: wrong dimension", "dimension mismatch", || {
            refuse!(good().density().unwrap().responsibilities(&[0.0, 0.0, 0.0]), DimensionMismatch { .. })
        }),
        case("density hessian: -inf point", "non-finite", || {
            refuse!(good().density().unwrap().hessian(&[f64::NEG_INFINITY, 0.0]), NonFinite { .. })
        }),
        case("density evaluate: one column", "dimension mismatch", || {
            refuse!(
                good()
                    .density()
                    .unwrap()
                    .evaluate(Mat::zeros(1, 1).as_ref(), gmdiff::mixture::Request { score: true, ..Default::default() }),
                DimensionMismatch { .. }
            )
        }),
        case("density score_batch: NaN point", "non-finite", || {
            refuse!(good().density().unwrap().score_batch(mat![[0.0, 0.0], [f64::NAN, 1.0]].as_ref()), NonFinite { .. })
        }),
        case("density laplacian_batch: one column", "dimension mismatch", || {
            refuse!(good().density().unwrap().laplacian_batch(Mat::zeros(2, 1).as_ref()), DimensionMismatch { .. })
        }),
        case("density responsibilities_batch: infinite point", "non-finite", || {
            refuse!(good().density().unwrap().responsibilities_batch(mat![[f64::INFINITY, 1.0]].as_ref()), NonFinite { .. })
        }),
        case("density hessian_batch: three columns", "dimension mismatch", || {
            refuse!(good().density().unwrap().hessian_batch(Mat::zeros(1, 3).as_ref()), DimensionMismatch { .. })
        }),
        case("density score_batch_into: wrong output shape", "dimension mismatch", || {
            let mut out = Mat::zeros(3, 2);
            refuse!(good().density().unwrap().score_batch_into(Mat::zeros(2, 2).as_ref(), out.as_mut()), DimensionMismatch { .. })
        }),
        // Far points (issue 14): log p below −f64::MAX is −∞; the score −P(x − μ) = (1e308, 0) is exact.
        case("density: mean 1e308, logpdf at 0", "−∞", || {
            minus_infinity(mixture(r#"{"weights":[1],"means":[[1e308,0]],"covariances":[1]}"#).density().unwrap().logpdf(&[0.0, 0.0]))
        }),
        case("density: mean 1e308, score at 0", "1e308", || {
            match mixture(r#"{"weights":[1],"means":[[1e308,0]],"covariances":[1]}"#).density().unwrap().score(&[0.0, 0.0]) {
                Ok(v) if v == [1e308, 0.0] => Ok("−P (x − μ) = (1e308, 0)".into()),
                other => Err(format!("expected [1e308, 0], got {other:?}")),
            }
        }),
        case("density: mean 1e308 / variance 1e-300, score beyond f64", "overflows f64", || {
            refuse!(
                mixture(r#"{"weights":[1],"means":[[1e308,0]],"covariances":[1e-300]}"#).density().unwrap().score(&[0.0, 0.0]),
                NonFinite { .. }
            )
        }),
        case("density: point 1e300 away", "−∞", || minus_infinity(good().density().unwrap().logpdf(&[1e300, 0.0]))),
        case("density: score 1e150 away", "finite|far", || {
            finite_or(good().density().unwrap().score(&[1e150, -1e150]), finite_vec, |e| matches!(e, NonFinite { .. }))
        }),
        case("density: responsibilities 1e150 away", "finite|far", || {
            finite_or(good().density().unwrap().responsibilities(&[1e150, 0.0]), finite_vec, |e| matches!(e, NonFinite { .. }))
        }),
        case("density: laplacian 1e145 away from a narrow component", "finite|far", || {
            let m = mixture(r#"{"weights":[0.5,0.5],"means":[[0],[1]],"covariances":[1e-10,1]}"#);
            finite_or(m.density().unwrap().laplacian(&[1e145]), |v| v.is_finite(), |e| matches!(e, NonFinite { .. }))
        }),
        case("density: hessian 1e145 away from a narrow component", "finite|far", || {
            let m = mixture(r#"{"weights":[0.5,0.5],"means":[[0],[1]],"covariances":[1e-10,1]}"#);
            finite_or(m.density().unwrap().hessian(&[1e145]), finite_mat, |e| matches!(e, NonFinite { .. }))
        }),
        case("density: score 1e145 away from a narrow component", "finite|far", || {
            let m = mixture(r#"{"weights":[0.5,0.5],"means":[[0],[1]],"covariances":[1e-10,1]}"#);
            finite_or(m.density().unwrap().score(&[1e145]), finite_vec, |e| matches!(e, NonFinite { .. }))
        }),
        case("density: laplacian of two needles, where ‖g‖² overflows", "overflow", || {
            finite_or(mixture(NEEDLES).density().unwrap().laplacian(&[0.0]), |v| v.is_finite(), |e| matches!(e, NonFinite { .. }))
        }),
        case("density: hessian of two needles, where ‖g‖² overflows", "overflow", || {
            finite_or(mixture(NEEDLES).density().unwrap().hessian(&[0.0]), finite_mat, |e| matches!(e, NonFinite { .. }))
        }),
        case("density: score of two needles is fine", "accepted", || accept(mixture(NEEDLES).density().unwrap().score(&[0.0]), finite_vec)),
        case("mixture JSON: empty input", "EOF", || refuse_with(serde_json::from_str::<GaussianMixture>(""), serde_json::Error::is_eof)),
        case("mixture JSON: truncated", "EOF", || {
            refuse_with(serde_json::from_str::<GaussianMixture>(r#"{"weights": [1.0"#), serde_json::Error::is_eof)
        }),
        case("mixture JSON: NaN literal", "expected value", || {
            refuse_with(
                serde_json::from_str::<GaussianMixture>(r#"{"weights":[1],"means":[[NaN]],"covariances":[1]}"#),
                serde_json::Error::is_syntax,
            )
        }),
        case("mixture JSON: 1e400 literal", "out of range", || {
            refuse_with(serde_json::from_str::<GaussianMixture>(r#"{"weights":[1],"means":[[1e400]],"covariances":[1]}"#), |e| !e.is_eof())
        }),
        case("mixture JSON: unknown field", "unknown field", || {
            refuse_with(
                serde_json::from_str::<GaussianMixture>(r#"{"weights":[1],"means":[[0]],"covariances":[1],"extra":0}"#),
                serde_json::Error::is_data,
            )
        }),
        case("mixture JSON: means vs covariances", "means vs covariances", || {
            refuse_with(
                serde_json::from_str::<GaussianMixture>(r#"{"weights":[1],"means":[[0]],"covariances":[1,1]}"#),
                serde_json::Error::is_data,
            )
        }),
        case("mixture JSON: ragged covariance rows", "row length", || {
            refuse_with(
                serde_json::from_str::<GaussianMixture>(r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,0],[0]]]}"#),
                serde_json::Error::is_data,
            )
        }),
        case("mixture JSON: negative weight", "negative", || {
            refuse_with(
                serde_json::from_str::<GaussianMixture>(r#"{"weights":[-0.5,1.5],"means":[[0],[1]],"covariances":[1,1]}"#),
                serde_json::Error::is_data,
            )
        }),
        case("mixture JSON: indefinite covariance names its component", "component 1", || {
            refuse_with(
                serde_json::from_str::<GaussianMixture>(r#"{"weights":[0.5,0.5],"means":[[0,0],[1,1]],"covariances":[1,[[1,3],[3,1]]]}"#),
                serde_json::Error::is_data,
            )
        }),
        case("mixture JSON: d = 0", "d = 0", || {
            refuse_with(
                serde_json::from_str::<GaussianMixture>(r#"{"weights":[1],"means":[[]],"covariances":[1]}"#),
                serde_json::Error::is_data,
            )
        }),
        // Smoothness
        case("lipschitz_bound: NaN radius", "radius", || {
            refuse!(lipschitz_bound(&good(), Some(f64::NAN)), SmoothnessError::InvalidOption { name: "radius", .. })
        }),
        case("lipschitz_bound: negative radius", "radius", || {
            refuse!(lipschitz_bound(&good(), Some(-1.0)), SmoothnessError::InvalidOption { name: "radius", .. })
        }),
        case("lipschitz_bound: infinite radius", "radius", || {
            refuse!(lipschitz_bound(&good(), Some(f64::INFINITY)), SmoothnessError::InvalidOption { name: "radius", .. })
        }),
        case("lipschitz_bound: unequal precisions need a radius", "radius", || {
            refuse!(lipschitz_bound(&good(), None), SmoothnessError::NeedsRadius)
        }),
        case("lipschitz_bound: singular component", "singular", || {
            refuse!(lipschitz_bound(&mixture(SINGULAR), Some(1.0)), SmoothnessError::Mixture(SingularCovariance { .. }))
        }),
        case("lipschitz_estimate: NaN radius", "radius", || {
            refuse!(
                lipschitz_estimate(&good(), &SearchOptions { radius: Some(f64::NAN), ..Default::default() }),
                SmoothnessError::InvalidOption { .. }
            )
        }),
        case("lipschitz_estimate: singular at t = 0", "singular", || {
            refuse!(
                lipschitz_estimate(&mixture(SINGULAR), &SearchOptions { radius: Some(1.0), samples: 10, ..Default::default() }),
                SmoothnessError::Mixture(SingularCovariance { .. })
            )
        }),
        case("smoothness: NaN a", "`a`", || {
            refuse!(
                smoothness(&good(), f64::NAN, 0.5, &SearchOptions { radius: Some(1.0), ..Default::default() }),
                SmoothnessError::Mixture(InvalidArgument { .. })
            )
        }),
        case("smoothness: negative b", "`b`", || {
            refuse!(
                smoothness(&good(), 0.5, -0.5, &SearchOptions { radius: Some(1.0), ..Default::default() }),
                SmoothnessError::Mixture(InvalidArgument { .. })
            )
        }),
        case("hessian_norms: wrong dimension", "dimension mismatch", || {
            refuse!(
                hessian_norms(&good().density().unwrap(), Mat::zeros(1, 3).as_ref()),
                SmoothnessError::Mixture(DimensionMismatch { .. })
            )
        }),
        case("hessian_norms: NaN point", "non-finite", || {
            refuse!(hessian_norms(&good().density().unwrap(), mat![[f64::NAN, 0.0]].as_ref()), SmoothnessError::Mixture(NonFinite { .. }))
        }),
        case("symmetric_spectral_norm: not square", "square", || {
            refuse!(symmetric_spectral_norm(Mat::zeros(2, 3).as_ref()), SmoothnessError::Spectral(_))
        }),
        case("symmetric_spectral_norm: 1 × 1 infinite", "non-finite", || {
            refuse!(symmetric_spectral_norm(mat![[f64::INFINITY]].as_ref()), SmoothnessError::Spectral(_))
        }),
        case("symmetric_spectral_norm: 2 × 2 NaN", "non-finite", || {
            refuse!(symmetric_spectral_norm(mat![[1.0, f64::NAN], [f64::NAN, 1.0]].as_ref()), SmoothnessError::Spectral(_))
        }),
        case("symmetric_spectral_norm: 3 × 3 NaN", "spectral norm", || {
            refuse!(
                symmetric_spectral_norm(mat![[1.0, 0.0, 0.0], [0.0, f64::NAN, 0.0], [0.0, 0.0, 1.0]].as_ref()),
                SmoothnessError::Spectral(_)
            )
        }),
    ]
}

fn metrics_cases() -> Vec<Case> {
    use MetricsError::*;
    vec![
        // HistogramGrid::new / fit, histogram divergences
        case("HistogramGrid: d = 0", "grid dimension", || {
            refuse!(HistogramGrid::new(vec![], vec![], 10), InvalidParameter { name: "grid dimension", .. })
        }),
        case("HistogramGrid: d = 3", "grid dimension", || {
            refuse!(HistogramGrid::new(vec![0.0; 3], vec![1.0; 3], 10), InvalidParameter { name: "grid dimension", .. })
        }),
        case("HistogramGrid: hi of the wrong length", "hi", || {
            refuse!(HistogramGrid::new(vec![0.0, 0.0], vec![1.0], 10), DimensionMismatch { what: "hi", .. })
        }),
        case("HistogramGrid: NaN lo", "finite", || {
            refuse!(HistogramGrid::new(vec![f64::NAN], vec![1.0], 10), InvalidParameter { name: "lo", .. })
        }),
        case("HistogramGrid: infinite hi", "finite", || {
            refuse!(HistogramGrid::new(vec![0.0], vec![f64::INFINITY], 10), InvalidParameter { name: "hi", .. })
        }),
        case("HistogramGrid: hi = lo", "> lo", || {
            refuse!(HistogramGrid::new(vec![0.0], vec![0.0], 10), InvalidParameter { name: "hi", .. })
        }),
        case("HistogramGrid: box width overflows", "hi - lo", || {
            refuse!(HistogramGrid::new(vec![-1e308], vec![1e308], 10), InvalidParameter { name: "hi - lo", .. })
        }),
        case("HistogramGrid: bins = 0", "bin", || {
            refuse!(HistogramGrid::new(vec![0.0], vec![1.0], 0), InvalidParameter { name: "bins", .. })
        }),
        case("HistogramGrid: bins^d overflows", "bins", || {
            refuse!(
                HistogramGrid::new(vec![0.0, 0.0], vec![1.0, 1.0], usize::MAX).map(|g| g.cells()),
                InvalidParameter { name: "bins", .. }
            )
        }),
        case("HistogramGrid::fit: empty sample", "empty", || refuse!(HistogramGrid::fit(Mat::zeros(0, 1).as_ref(), 10, 0.1), Empty { .. })),
        case("HistogramGrid::fit: NaN sample", "non-finite", || {
            refuse!(HistogramGrid::fit(mat![[0.0], [f64::NAN]].as_ref(), 10, 0.1), NonFinite { .. })
        }),
        case("HistogramGrid::fit: NaN pad", "pad", || {
            refuse!(HistogramGrid::fit(mat![[0.0], [1.0]].as_ref(), 10, f64::NAN), InvalidParameter { name: "pad", .. })
        }),
        case("HistogramGrid::fit: negative pad", "pad", || {
            refuse!(HistogramGrid::fit(mat![[0.0], [1.0]].as_ref(), 10, -1.0), InvalidParameter { name: "pad", .. })
        }),
        case("HistogramGrid::fit: pad overflows the box", "hi", || {
            refuse!(HistogramGrid::fit(mat![[0.0], [1.0]].as_ref(), 10, 1e308), InvalidParameter { .. })
        }),
        case("HistogramGrid::fit: 3 columns", "grid dimension", || {
            refuse!(HistogramGrid::fit(Mat::zeros(2, 3).as_ref(), 10, 0.1), InvalidParameter { .. })
        }),
        case("histogram_divergence: columns vs grid", "dimension mismatch", || {
            let g = HistogramGrid::new(vec![0.0], vec![1.0], 4).unwrap();
            refuse!(histogram_divergence(Mat::zeros(3, 2).as_ref(), |p| vec![0.0; p.nrows()], &g), DimensionMismatch { .. })
        }),
        case("histogram_divergence: density returns NaN", "invalid value", || {
            let g = HistogramGrid::new(vec![0.0], vec![1.0], 4).unwrap();
            refuse!(histogram_divergence(mat![[0.5]].as_ref(), |p| vec![f64::NAN; p.nrows()], &g), BadDensity { .. })
        }),
        case("histogram_divergence: density returns +inf", "invalid value", || {
            let g = HistogramGrid::new(vec![0.0], vec![1.0], 4).unwrap();
            refuse!(histogram_divergence(mat![[0.5]].as_ref(), |p| vec![f64::INFINITY; p.nrows()], &g), BadDensity { .. })
        }),
        case("histogram_divergence: density of the wrong length", "log_q output", || {
            let g = HistogramGrid::new(vec![0.0], vec![1.0], 4).unwrap();
            refuse!(histogram_divergence(mat![[0.5]].as_ref(), |_| vec![0.0], &g), DimensionMismatch { .. })
        }),
        case("histogram_divergence: empty sample", "empty", || {
            let g = HistogramGrid::new(vec![0.0], vec![1.0], 4).unwrap();
            refuse!(histogram_divergence(Mat::zeros(0, 1).as_ref(), |p| vec![0.0; p.nrows()], &g), Empty { .. })
        }),
        case("histogram_divergence_mixture: singular mixture", "singular", || {
            let g = HistogramGrid::new(vec![0.0, 0.0], vec![1.0, 1.0], 4).unwrap();
            refuse!(histogram_divergence_mixture(cloud().as_ref(), &mixture(SINGULAR), &g), External { .. })
        }),
        case("histogram_divergence_mixture: dimension", "dimension mismatch", || {
            let g = HistogramGrid::new(vec![0.0], vec![1.0], 4).unwrap();
            refuse!(histogram_divergence_mixture(mat![[0.5]].as_ref(), &good(), &g), DimensionMismatch { .. })
        }),
        // Exact transport
        case("ot_sq_euclidean: empty x", "empty", || {
            refuse!(
                ot_sq_euclidean(Mat::zeros(0, 2).as_ref(), None, cloud().as_ref(), None, EmdOptions::default()),
                Empty { what: "x", .. }
            )
        }),
        case("ot_sq_euclidean: NaN y", "non-finite", || {
            refuse!(
                ot_sq_euclidean(cloud().as_ref(), None, mat![[f64::NAN, 0.0]].as_ref(), None, EmdOptions::default()),
                NonFinite { what: "y", .. }
            )
        }),
        case("ot_sq_euclidean: dimensions", "dimension mismatch", || {
            refuse!(
                ot_sq_euclidean(cloud().as_ref(), None, Mat::zeros(2, 3).as_ref(), None, EmdOptions::default()),
                DimensionMismatch { .. }
            )
        }),
        case("ot_sq_euclidean: negative weight", "negative", || {
            refuse!(
                ot_sq_euclidean(cloud().as_ref(), Some(&[-0.5, 0.5, 0.5, 0.5]), cloud().as_ref(), None, EmdOptions::default()),
                BadWeights { .. }
            )
        }),
        case("ot_sq_euclidean: weights sum to 2", "sum", || {
            refuse!(ot_sq_euclidean(cloud().as_ref(), None, cloud().as_ref(), Some(&[0.5; 4]), EmdOptions::default()), BadWeights { .. })
        }),
        case("ot_sq_euclidean: weights vs points", "dimension mismatch", || {
            refuse!(
                ot_sq_euclidean(cloud().as_ref(), Some(&[0.5, 0.5]), cloud().as_ref(), None, EmdOptions::default()),
                DimensionMismatch { what: "a", .. }
            )
        }),
        case("ot_sq_euclidean: NaN weight", "non-finite", || {
            refuse!(
                ot_sq_euclidean(cloud().as_ref(), Some(&[f64::NAN, 0.5, 0.25, 0.25]), cloud().as_ref(), None, EmdOptions::default()),
                NonFinite { what: "a", .. }
            )
        }),
        case("ot_sq_euclidean: points 1e200", "overflow", || {
            refuse!(
                ot_sq_euclidean(mat![[1e200, 0.0]].as_ref(), None, mat![[-1e200, 0.0]].as_ref(), None, EmdOptions::default()),
                Overflow { .. }
            )
        }),
        case("emd: empty costs", "empty", || refuse!(emd(&[], &[], Mat::zeros(0, 0).as_ref(), EmdOptions::default()), Empty { .. })),
        case("emd: NaN cost", "non-finite", || {
            refuse!(emd(&[0.5, 0.5], &[1.0], mat![[0.0], [f64::NAN]].as_ref(), EmdOptions::default()), NonFinite { .. })
        }),
        case("emd: negative a", "negative", || {
            refuse!(emd(&[1.5, -0.5], &[1.0], mat![[0.0], [1.0]].as_ref(), EmdOptions::default()), BadWeights { .. })
        }),
        case("emd: b of the wrong length", "dimension mismatch", || {
            refuse!(emd(&[0.5, 0.5], &[0.5, 0.5], mat![[0.0], [1.0]].as_ref(), EmdOptions::default()), DimensionMismatch { what: "b", .. })
        }),
        case("emd: zero weights", "sum", || {
            refuse!(emd(&[0.0, 0.0], &[1.0], mat![[0.0], [1.0]].as_ref(), EmdOptions::default()), BadWeights { .. })
        }),
        case("emd: a pivot budget of 0 is not converged, or already optimal", "converge|finite", || {
            finite_or(
                emd(&[0.5, 0.5], &[0.5, 0.5], mat![[1.0, 0.0], [0.0, 1.0]].as_ref(), EmdOptions { max_pivots: 0 }),
                |p| p.cost == 0.0,
                |e| matches!(e, NotConverged { .. }),
            )
        }),
        case("w2_exact: empty y", "empty", || refuse!(w2_exact(cloud().as_ref(), Mat::zeros(0, 2).as_ref()), Empty { what: "y", .. })),
        case("w2_exact: zero columns", "empty", || refuse!(w2_exact(Mat::zeros(3, 0).as_ref(), Mat::zeros(3, 0).as_ref()), Empty { .. })),
        case("w2_exact_weighted: b sums to 2", "sum", || {
            refuse!(w2_exact_weighted(cloud().as_ref(), None, mat![[0.0, 0.0]].as_ref(), Some(&[2.0])), BadWeights { .. })
        }),
        // Gaussians in closed form
        case("bures_w2_squared: d = 0", "empty", || {
            refuse!(bures_w2_squared(&[], Mat::zeros(0, 0).as_ref(), &[], Mat::zeros(0, 0).as_ref()), Empty { .. })
        }),
        case("bures_w2_squared: m2 of the wrong length", "dimension mismatch", || {
            refuse!(
                bures_w2_squared(&[0.0, 0.0], Mat::identity(2, 2).as_ref(), &[0.0], Mat::identity(2, 2).as_ref()),
                DimensionMismatch { what: "m2", .. }
            )
        }),
        case("bures_w2_squared: s1 of the wrong shape", "dimension mismatch", || {
            refuse!(
                bures_w2_squared(&[0.0, 0.0], Mat::identity(3, 3).as_ref(), &[0.0, 0.0], Mat::identity(2, 2).as_ref()),
                DimensionMismatch { what: "s1", .. }
            )
        }),
        case("bures_w2_squared: NaN mean", "non-finite", || {
            refuse!(bures_w2_squared(&[f64::NAN], mat![[1.0]].as_ref(), &[0.0], mat![[1.0]].as_ref()), NonFinite { what: "m1", .. })
        }),
        case("bures_w2_squared: infinite covariance", "non-finite", || {
            refuse!(bures_w2_squared(&[0.0], mat![[f64::INFINITY]].as_ref(), &[0.0], mat![[1.0]].as_ref()), NonFinite { what: "s1", .. })
        }),
        case("bures_w2_squared: non-symmetric", "symmetric", || {
            refuse!(
                bures_w2_squared(&[0.0, 0.0], mat![[1.0, 0.5], [0.1, 1.0]].as_ref(), &[0.0, 0.0], Mat::identity(2, 2).as_ref()),
                NotSymmetric { .. }
            )
        }),
        case("bures_w2_squared: indefinite", "positive semi-definite", || {
            refuse!(
                bures_w2_squared(&[0.0, 0.0], Mat::identity(2, 2).as_ref(), &[0.0, 0.0], mat![[1.0, 3.0], [3.0, 1.0]].as_ref()),
                NotPsd { what: "s2", .. }
            )
        }),
        case("bures_w2_squared: means 1e200 apart", "overflow", || {
            refuse!(bures_w2_squared(&[1e200], mat![[1.0]].as_ref(), &[-1e200], mat![[1.0]].as_ref()), Overflow { .. })
        }),
        case("bures_w2: indefinite", "positive semi-definite", || {
            refuse!(bures_w2(&[0.0, 0.0], mat![[-1.0, 0.0], [0.0, 1.0]].as_ref(), &[0.0, 0.0], Mat::identity(2, 2).as_ref()), NotPsd { .. })
        }),
        case("FittedGaussian: one row", "empty", || refuse!(FittedGaussian::fit(mat![[1.0, 2.0]].as_ref()), Empty { .. })),
        case("FittedGaussian: NaN", "non-finite", || refuse!(FittedGaussian::fit(mat![[1.0], [f64::NAN]].as_ref()), NonFinite { .. })),
        case("FittedGaussian: values 1e308 overflow the mean", "overflow", || {
            refuse!(FittedGaussian::fit(mat![[1e308], [1e308], [1e308]].as_ref()), Overflow { .. })
        }),
        case("FittedGaussian: values ±1e200 overflow the covariance", "overflow", || {
            refuse!(FittedGaussian::fit(mat![[1e200], [-1e200]].as_ref()), Overflow { .. })
        }),
        case("bures_w2_fitted: dimensions", "dimension mismatch", || {
            refuse!(bures_w2_fitted(cloud().as_ref(), Mat::zeros(3, 3).as_ref()), DimensionMismatch { .. })
        }),
        case("bures_w2_fitted: one row", "empty", || refuse!(bures_w2_fitted(cloud().as_ref(), mat![[0.0, 0.0]].as_ref()), Empty { .. })),
        case("bures_w2_fitted: values ±1e200", "overflow", || {
            refuse!(bures_w2_fitted(mat![[1e200], [-1e200]].as_ref(), mat![[0.0], [1.0]].as_ref()), Overflow { .. })
        }),
        case("kl_gaussian: NaN mean", "non-finite", || {
            refuse!(kl_gaussian(&[0.0], mat![[1.0]].as_ref(), &[f64::NAN], mat![[1.0]].as_ref()), NonFinite { what: "m2", .. })
        }),
        case("kl_gaussian: non-symmetric", "symmetric", || {
            refuse!(
                kl_gaussian(&[0.0, 0.0], mat![[1.0, 0.0], [0.3, 1.0]].as_ref(), &[0.0, 0.0], Mat::identity(2, 2).as_ref()),
                NotSymmetric { .. }
            )
        }),
        case("kl_gaussian: indefinite", "positive semi-definite", || {
            refuse!(
                kl_gaussian(&[0.0, 0.0], Mat::identity(2, 2).as_ref(), &[0.0, 0.0], mat![[1.0, 2.0], [2.0, 1.0]].as_ref()),
                NotPsd { .. }
            )
        }),
        case("kl_gaussian: shapes", "dimension mismatch", || {
            refuse!(kl_gaussian(&[0.0], mat![[1.0]].as_ref(), &[0.0, 0.0], mat![[1.0]].as_ref()), DimensionMismatch { .. })
        }),
        case("kl_gaussian: means 1e200 apart (finite KL overflows)", "overflow", || {
            refuse!(kl_gaussian(&[1e200], mat![[1.0]].as_ref(), &[-1e200], mat![[1.0]].as_ref()), Overflow { .. })
        }),
        case("tv_gaussian_1d: NaN m1", "m1", || refuse!(tv_gaussian_1d(f64::NAN, 1.0, 0.0, 1.0), InvalidParameter { name: "m1", .. })),
        case("tv_gaussian_1d: infinite m2", "m2", || {
            refuse!(tv_gaussian_1d(0.0, 1.0, f64::INFINITY, 1.0), InvalidParameter { name: "m2", .. })
        }),
        case("tv_gaussian_1d: negative sd1", "sd1", || refuse!(tv_gaussian_1d(0.0, -1.0, 0.0, 1.0), InvalidParameter { name: "sd1", .. })),
        case("tv_gaussian_1d: infinite sd2", "sd2", || {
            refuse!(tv_gaussian_1d(0.0, 1.0, 0.0, f64::INFINITY), InvalidParameter { name: "sd2", .. })
        }),
        case("tv_gaussian_1d: means ±1e308", "finite|far", || {
            finite_or(tv_gaussian_1d(1e308, 1.0, -1e308, 1.0), |v| *v == 1.0, |_| false)
        }),
        case("tv_gaussian_bounds: NaN covariance", "non-finite", || {
            refuse!(tv_gaussian_bounds(&[0.0], mat![[f64::NAN]].as_ref(), &[0.0], mat![[1.0]].as_ref()), NonFinite { .. })
        }),
        case("tv_gaussian_bounds: indefinite", "positive semi-definite", || {
            refuse!(
                tv_gaussian_bounds(&[0.0, 0.0], mat![[1.0, 2.0], [2.0, 1.0]].as_ref(), &[0.0, 0.0], Mat::identity(2, 2).as_ref()),
                NotPsd { .. }
            )
        }),
        case("tv_gaussian_bounds: d = 0", "empty", || {
            refuse!(tv_gaussian_bounds(&[], Mat::zeros(0, 0).as_ref(), &[], Mat::zeros(0, 0).as_ref()), Empty { .. })
        }),
        case("tv_gaussian_bounds: means 1e200 apart give TV 1", "finite|far", || {
            finite_or(
                tv_gaussian_bounds(&[1e200, 0.0], Mat::identity(2, 2).as_ref(), &[-1e200, 0.0], mat![[2.0, 0.0], [0.0, 1.0]].as_ref()),
                |b| b.lower == 1.0 && b.upper == 1.0,
                |_| false,
            )
        }),
        case("gaussian_entropy: 0 × 0", "empty", || refuse!(gaussian_entropy(Mat::zeros(0, 0).as_ref()), Empty { .. })),
        case("gaussian_entropy: not square", "dimension mismatch", || {
            refuse!(gaussian_entropy(Mat::zeros(2, 3).as_ref()), DimensionMismatch { .. })
        }),
        case("gaussian_entropy: NaN", "non-finite", || refuse!(gaussian_entropy(mat![[f64::NAN]].as_ref()), NonFinite { .. })),
        case("gaussian_entropy: indefinite", "positive semi-definite", || {
            refuse!(gaussian_entropy(mat![[1.0, 3.0], [3.0, 1.0]].as_ref()), NotPsd { .. })
        }),
        // Kernel statistics
        case("median_bandwidth: empty x", "empty", || refuse!(median_bandwidth(Mat::zeros(0, 2).as_ref(), cloud().as_ref()), Empty { .. })),
        case("median_bandwidth: all points equal", "bandwidth", || {
            refuse!(median_bandwidth(Mat::zeros(3, 2).as_ref(), Mat::zeros(2, 2).as_ref()), InvalidParameter { name: "bandwidth", .. })
        }),
        case("median_bandwidth: points ±1e200", "overflow", || {
            refuse!(median_bandwidth(mat![[1e200], [-1e200]].as_ref(), mat![[1e200], [-1e200]].as_ref()), Overflow { .. })
        }),
        case("mmd2_unbiased: one row", "empty", || {
            refuse!(mmd2_unbiased(mat![[0.0, 0.0]].as_ref(), cloud().as_ref(), Bandwidth::Median), Empty { .. })
        }),
        case("mmd2_unbiased: zero bandwidth", "bandwidth", || {
            refuse!(mmd2_unbiased(cloud().as_ref(), cloud().as_ref(), Bandwidth::Fixed(0.0)), InvalidParameter { name: "bandwidth", .. })
        }),
        case("mmd2_unbiased: NaN bandwidth", "bandwidth", || {
            refuse!(
                mmd2_unbiased(cloud().as_ref(), cloud().as_ref(), Bandwidth::Fixed(f64::NAN)),
                InvalidParameter { name: "bandwidth", .. }
            )
        }),
        case("mmd2_unbiased: negative bandwidth", "bandwidth", || {
            refuse!(mmd2_unbiased(cloud().as_ref(), cloud().as_ref(), Bandwidth::Fixed(-1.0)), InvalidParameter { name: "bandwidth", .. })
        }),
        case("mmd2_unbiased: infinite bandwidth", "bandwidth", || {
            refuse!(
                mmd2_unbiased(cloud().as_ref(), cloud().as_ref(), Bandwidth::Fixed(f64::INFINITY)),
                InvalidParameter { name: "bandwidth", .. }
            )
        }),
        case("mmd2_unbiased: bandwidth 1e-300 with duplicates", "finite|overflow", || {
            finite_or(
                mmd2_unbiased(Mat::zeros(3, 2).as_ref(), Mat::zeros(3, 2).as_ref(), Bandwidth::Fixed(1e-300)),
                |v| v.0.is_finite(),
                |e| matches!(e, Overflow { .. }),
            )
        }),
        case("mmd2_unbiased: dimensions", "dimension mismatch", || {
            refuse!(mmd2_unbiased(cloud().as_ref(), Mat::zeros(3, 3).as_ref(), Bandwidth::Fixed(1.0)), DimensionMismatch { .. })
        }),
        case("energy_distance_sq: NaN", "non-finite", || {
            refuse!(energy_distance_sq(cloud().as_ref(), mat![[0.0, f64::NAN]].as_ref()), NonFinite { .. })
        }),
        case("energy_distance_sq: points ±1e200", "overflow", || {
            refuse!(energy_distance_sq(mat![[1e200], [-1e200]].as_ref(), mat![[0.0]].as_ref()), Overflow { .. })
        }),
        case("energy_distance: dimensions", "dimension mismatch", || {
            refuse!(energy_distance(cloud().as_ref(), Mat::zeros(2, 1).as_ref()), DimensionMismatch { .. })
        }),
        case("permutation_test: zero permutations", "permutations", || {
            refuse!(
                permutation_test(cloud().as_ref(), cloud().as_ref(), TwoSampleStatistic::Energy, 0, 1),
                InvalidParameter { name: "permutations", .. }
            )
        }),
        case("permutation_test: negative bandwidth", "bandwidth", || {
            refuse!(
                permutation_test(cloud().as_ref(), cloud().as_ref(), TwoSampleStatistic::Mmd2(Bandwidth::Fixed(-1.0)), 10, 1),
                InvalidParameter { name: "bandwidth", .. }
            )
        }),
        case("permutation_test: one row", "empty", || {
            refuse!(permutation_test(mat![[0.0, 0.0]].as_ref(), cloud().as_ref(), TwoSampleStatistic::Energy, 10, 1), Empty { .. })
        }),
        case("entropy_knn: k = 0", "k", || refuse!(entropy_knn(cloud().as_ref(), 0), InvalidParameter { name: "k", .. })),
        case("entropy_knn: k >= N", "k < N", || refuse!(entropy_knn(cloud().as_ref(), 4), InvalidParameter { name: "k", .. })),
        case("entropy_knn: duplicates", "duplicates", || {
            refuse!(entropy_knn(Mat::zeros(4, 2).as_ref(), 1), InvalidParameter { name: "x", .. })
        }),
        case("entropy_knn: one row", "empty", || refuse!(entropy_knn(mat![[0.0]].as_ref(), 1), Empty { .. })),
        case("entropy_knn: infinite point", "non-finite", || {
            refuse!(entropy_knn(mat![[0.0], [f64::INFINITY], [1.0]].as_ref(), 1), NonFinite { .. })
        }),
        // One-dimensional and sliced W2
        case("w2_1d: empty x", "empty", || refuse!(w2_1d(&[], None, &[1.0], None), Empty { what: "x", .. })),
        case("w2_1d: NaN y", "non-finite", || refuse!(w2_1d(&[0.0], None, &[f64::NAN], None), NonFinite { what: "y", .. })),
        case("w2_1d: a of the wrong length", "dimension mismatch", || {
            refuse!(w2_1d(&[0.0, 1.0], Some(&[1.0]), &[0.0], None), DimensionMismatch { what: "a", .. })
        }),
        case("w2_1d: negative b", "negative", || refuse!(w2_1d(&[0.0], None, &[0.0, 1.0], Some(&[1.5, -0.5])), BadWeights { .. })),
        case("w2_1d: b sums to 0.5", "sum", || refuse!(w2_1d(&[0.0], None, &[0.0, 1.0], Some(&[0.25, 0.25])), BadWeights { .. })),
        case("w2_1d: values ±1e200", "overflow", || refuse!(w2_1d(&[1e200], None, &[-1e200], None), Overflow { .. })),
        case("w2_sliced: zero projections", "projections", || {
            refuse!(w2_sliced(cloud().as_ref(), cloud().as_ref(), 0, 1), InvalidParameter { name: "projections", .. })
        }),
        case("w2_sliced: dimensions", "dimension mismatch", || {
            refuse!(w2_sliced(cloud().as_ref(), Mat::zeros(2, 3).as_ref(), 10, 1), DimensionMismatch { .. })
        }),
        case("w2_sliced_estimate: negative a", "negative", || {
            refuse!(w2_sliced_estimate(cloud().as_ref(), Some(&[1.5, -0.5, 0.0, 0.0]), cloud().as_ref(), None, 10, 1), BadWeights { .. })
        }),
        case("w2_sliced_estimate: NaN x", "non-finite", || {
            refuse!(w2_sliced_estimate(mat![[f64::NAN, 0.0]].as_ref(), None, cloud().as_ref(), None, 10, 1), NonFinite { .. })
        }),
        case("w2_sliced_estimate: points ±1e200", "overflow", || {
            refuse!(w2_sliced_estimate(mat![[1e200, 1e200]].as_ref(), None, mat![[-1e200, -1e200]].as_ref(), None, 10, 1), Overflow { .. })
        }),
        // The isotropic DDPM TV
        case("IsotropicDdpm: no weights", "dimension mismatch", || {
            refuse!(IsotropicDdpm::new(vec![], vec![], vec![0.1]), DimensionMismatch { .. })
        }),
        case("IsotropicDdpm: weights vs means", "dimension mismatch", || {
            refuse!(IsotropicDdpm::new(vec![1.0], vec![vec![0.0], vec![1.0]], vec![0.1]), DimensionMismatch { .. })
        }),
        case("IsotropicDdpm: negative weight", "weights", || {
            refuse!(IsotropicDdpm::new(vec![1.5, -0.5], vec![vec![0.0], vec![1.0]], vec![0.1]), InvalidParameter { name: "weights", .. })
        }),
        case("IsotropicDdpm: NaN weight", "weights", || {
            refuse!(IsotropicDdpm::new(vec![f64::NAN, 1.0], vec![vec![0.0], vec![1.0]], vec![0.1]), InvalidParameter { .. })
        }),
        case("IsotropicDdpm: weights sum to 1.2", "sum of weights", || {
            refuse!(
                IsotropicDdpm::new(vec![0.6, 0.6], vec![vec![0.0], vec![1.0]], vec![0.1]),
                InvalidParameter { name: "sum of weights", .. }
            )
        }),
        case("IsotropicDdpm: d = 0", "dimension 0", || refuse!(IsotropicDdpm::new(vec![1.0], vec![vec![]], vec![0.1]), Empty { .. })),
        case("IsotropicDdpm: ragged means", "dimension mismatch", || {
            refuse!(IsotropicDdpm::new(vec![0.5, 0.5], vec![vec![0.0, 1.0], vec![1.0]], vec![0.1]), DimensionMismatch { what: "means", .. })
        }),
        case("IsotropicDdpm: infinite mean", "non-finite", || {
            refuse!(IsotropicDdpm::new(vec![0.5, 0.5], vec![vec![0.0], vec![f64::INFINITY]], vec![0.1]), NonFinite { .. })
        }),
        case("IsotropicDdpm: means ±1e200 (norm overflows)", "overflow", || {
            refuse!(IsotropicDdpm::new(vec![0.5, 0.5], vec![vec![1e200], vec![-1e200]], vec![0.1]), Overflow { .. })
        }),
        case("IsotropicDdpm: no steps", "no steps", || {
            refuse!(IsotropicDdpm::new(vec![1.0], vec![vec![1.0]], vec![]), Empty { what: "betas", .. })
        }),
        case("IsotropicDdpm: beta = 1", "betas", || {
            refuse!(IsotropicDdpm::new(vec![1.0], vec![vec![1.0]], vec![0.1, 1.0]), InvalidParameter { name: "betas", .. })
        }),
        case("IsotropicDdpm: NaN beta", "betas", || {
            refuse!(IsotropicDdpm::new(vec![1.0], vec![vec![1.0]], vec![f64::NAN]), InvalidParameter { name: "betas", .. })
        }),
        case("IsotropicDdpm: means not collinear", "collinear", || {
            refuse!(
                IsotropicDdpm::new(vec![0.5, 0.5], vec![vec![1.0, 0.0], vec![0.0, 1.0]], vec![0.1]),
                InvalidParameter { name: "means", .. }
            )
        }),
        case("in_span_law: zero spacing", "spacing", || {
            let p = IsotropicDdpm::new(vec![1.0], vec![vec![1.0]], vec![0.1]).unwrap();
            refuse!(
                p.in_span_law(ScoreError::default(), PropagationGrid { spacing: 0.0, margin: 12.0 }),
                InvalidParameter { name: "spacing", .. }
            )
        }),
        case("in_span_law: spacing so fine the grid is too large", "5e7", || {
            let p = IsotropicDdpm::new(vec![1.0], vec![vec![1.0]], vec![0.1]).unwrap();
            refuse!(
                p.in_span_law(ScoreError::default(), PropagationGrid { spacing: 1e-12, margin: 12.0 }),
                InvalidParameter { name: "spacing", .. }
            )
        }),
        case("in_span_law: infinite margin", "margin", || {
            let p = IsotropicDdpm::new(vec![1.0], vec![vec![1.0]], vec![0.1]).unwrap();
            refuse!(
                p.in_span_law(ScoreError::default(), PropagationGrid { spacing: 0.01, margin: f64::INFINITY }),
                InvalidParameter { name: "margin", .. }
            )
        }),
        case("tv: NaN shift", "shift", || {
            let p = IsotropicDdpm::new(vec![1.0], vec![vec![1.0]], vec![0.1]).unwrap();
            refuse!(p.tv(ScoreError { shift: f64::NAN, scale: 0.0 }, PropagationGrid::default()), InvalidParameter { name: "shift", .. })
        }),
        case("tv: |scale| = 1", "|δ| < 1", || {
            let p = IsotropicDdpm::new(vec![1.0], vec![vec![1.0]], vec![0.1]).unwrap();
            refuse!(p.tv(ScoreError { shift: 0.0, scale: -1.0 }, PropagationGrid::default()), InvalidParameter { name: "scale", .. })
        }),
        case("tv_isotropic_gaussians: zero variance", "variance", || {
            refuse!(tv_isotropic_gaussians(3, 0.0), InvalidParameter { name: "variance", .. })
        }),
        case("tv_isotropic_gaussians: NaN variance", "variance", || {
            refuse!(tv_isotropic_gaussians(3, f64::NAN), InvalidParameter { name: "variance", .. })
        }),
        case("tv_isotropic_gaussians: infinite variance", "variance", || {
            refuse!(tv_isotropic_gaussians(3, f64::INFINITY), InvalidParameter { name: "variance", .. })
        }),
        // Mixtures
        case("kl_mixtures_mc: one sample", "samples", || {
            refuse!(kl_mixtures_mc(&good(), &good(), 1, 0), InvalidParameter { name: "samples", .. })
        }),
        case("kl_mixtures_mc: dimensions", "dimension mismatch", || {
            refuse!(
                kl_mixtures_mc(&good(), &mixture(r#"{"weights":[1],"means":[[0]],"covariances":[1]}"#), 100, 0),
                DimensionMismatch { .. }
            )
        }),
        case("kl_mixtures_mc: singular q", "singular", || refuse!(kl_mixtures_mc(&good(), &mixture(SINGULAR), 100, 0), External { .. })),
        case("kl_mixtures_mc: q 1e200 away", "too far|finite|invalid value", || {
            let far = mixture(r#"{"weights":[1],"means":[[1e200,0]],"covariances":[1]}"#);
            finite_or(
                kl_mixtures_mc(&good(), &far, 100, 0),
                |e| e.estimate.is_finite(),
                |e| matches!(e, External { .. } | BadDensity { .. }),
            )
        }),
        case("tv_mixtures_mc: three samples", "samples", || {
            refuse!(tv_mixtures_mc(&good(), &good(), 3, 0), InvalidParameter { name: "samples", .. })
        }),
        case("tv_mixtures_mc: singular p", "singular", || refuse!(tv_mixtures_mc(&mixture(SINGULAR), &good(), 100, 0), External { .. })),
        case("mixture_entropy_mc: zero samples", "samples", || {
            refuse!(mixture_entropy_mc(&good(), 0, 0), InvalidParameter { name: "samples", .. })
        }),
        case("mixture_entropy_mc: singular", "singular", || refuse!(mixture_entropy_mc(&mixture(SINGULAR), 100, 0), External { .. })),
        case("mixture_w2: dimensions", "dimension mismatch", || {
            refuse!(mixture_w2(&good(), &mixture(r#"{"weights":[1],"means":[[0]],"covariances":[1]}"#)), DimensionMismatch { .. })
        }),
        case("mixture_w2: means 1e200 apart", "overflow", || {
            let far = |m: f64| mixture(&format!(r#"{{"weights":[1],"means":[[{m:e},0]],"covariances":[1]}}"#));
            refuse!(mixture_w2(&far(1e200), &far(-1e200)), Overflow { .. })
        }),
    ]
}

fn solver_cases() -> Vec<Case> {
    use SolverError as S;
    vec![
        // SamplerInfo::validate (the parameters of the samplers)
        case("Ddim: NaN eta", "eta", || {
            refuse!(Builtin::Ddim(Ddim { eta: f64::NAN }).validate(&sched(10, 1e-3)), S::InvalidParameter { name: "eta", .. })
        }),
        case("Ddim: eta < 0", "eta", || {
            refuse!(Builtin::Ddim(Ddim { eta: -0.1 }).validate(&sched(10, 1e-3)), S::InvalidParameter { name: "eta", .. })
        }),
        case("Ddim: eta > 1", "eta", || {
            refuse!(Builtin::Ddim(Ddim { eta: 1.5 }).validate(&sched(10, 1e-3)), S::InvalidParameter { name: "eta", .. })
        }),
        case("Ddim: infinite eta", "eta", || {
            refuse!(Builtin::Ddim(Ddim { eta: f64::INFINITY }).validate(&sched(10, 1e-3)), S::InvalidParameter { name: "eta", .. })
        }),
        case("Dpom: zero step scale", "step_scale", || {
            refuse!(
                Builtin::Dpom(Dpom(Langevin { step_scale: 0.0, ..Default::default() })).validate(&sched(10, 1e-3)),
                S::InvalidParameter { name: "step_scale", .. }
            )
        }),
        case("Dpom: NaN step scale", "step_scale", || {
            refuse!(
                Builtin::Dpom(Dpom(Langevin { step_scale: f64::NAN, ..Default::default() })).validate(&sched(10, 1e-3)),
                S::InvalidParameter { name: "step_scale", .. }
            )
        }),
        case("Dpom: infinite step scale", "step_scale", || {
            refuse!(
                Builtin::Dpom(Dpom(Langevin { step_scale: f64::INFINITY, ..Default::default() })).validate(&sched(10, 1e-3)),
                S::InvalidParameter { name: "step_scale", .. }
            )
        }),
        case("Dpom: every = 0", "every", || {
            refuse!(
                Builtin::Dpom(Dpom(Langevin { every: 0, ..Default::default() })).validate(&sched(10, 1e-3)),
                S::InvalidParameter { name: "every", .. }
            )
        }),
        case("Dpum: zero friction", "friction", || {
            refuse!(
                Builtin::Dpum(Dpum(Underdamped { friction: 0.0, ..Default::default() })).validate(&sched(10, 1e-3)),
                S::InvalidParameter { name: "friction", .. }
            )
        }),
        case("Dpum: NaN friction", "friction", || {
            refuse!(
                Builtin::Dpum(Dpum(Underdamped { friction: f64::NAN, ..Default::default() })).validate(&sched(10, 1e-3)),
                S::InvalidParameter { name: "friction", .. }
            )
        }),
        case("Dpum: negative step scale", "step_scale", || {
            refuse!(
                Builtin::Dpum(Dpum(Underdamped { step_scale: -0.2, ..Default::default() })).validate(&sched(10, 1e-3)),
                S::InvalidParameter { name: "step_scale", .. }
            )
        }),
        case("Dpum: every = 0", "every", || {
            refuse!(
                Builtin::Dpum(Dpum(Underdamped { every: 0, ..Default::default() })).validate(&sched(10, 1e-3)),
                S::InvalidParameter { name: "every", .. }
            )
        }),
        case("EM on a discrete chain", "discrete chain", || {
            refuse!(Builtin::EulerMaruyama(EulerMaruyama).validate(&chain_sched()), S::Unsupported { .. })
        }),
        case("Heun on a discrete chain", "discrete chain", || refuse!(Builtin::Heun(Heun).validate(&chain_sched()), S::Unsupported { .. })),
        case("Dpum on a discrete chain", "discrete chain", || {
            refuse!(Builtin::Dpum(Dpum(Underdamped::default())).validate(&chain_sched()), S::Unsupported { .. })
        }),
        case("Builtin::from_name: unknown name", "accepted", || accept(Ok::<_, ()>(Builtin::from_name("ddpn")), Option::is_none)),
        // Schedule
        case("uniform_vp: steps = 0", "at least 1 step", || {
            refuse!(Schedule::uniform_vp(0, 1e-3), S::Process(ProcessError::Invalid { .. }))
        }),
        case("uniform_vp: NaN eps", "eps", || {
            refuse!(Schedule::uniform_vp(10, f64::NAN), S::Process(ProcessError::InvalidParameter { name: "eps", .. }))
        }),
        case("uniform_vp: eps = T", "eps", || {
            refuse!(Schedule::uniform_vp(10, 1.0), S::Process(ProcessError::InvalidParameter { name: "eps", .. }))
        }),
        case("Schedule::point: k > S", "outside", || refuse!(sched(10, 1e-3).point(11), S::InvalidParameter { .. })),
        case("Schedule::point: k > N on a chain", "outside", || refuse!(chain_sched().point(21), S::InvalidParameter { .. })),
        case("Schedule::step: k = S", "outside", || refuse!(sched(10, 1e-3).step(10), S::InvalidParameter { .. })),
        case("Schedule::step: k = N on a chain", "outside", || refuse!(chain_sched().step(20), S::InvalidParameter { .. })),
        case("Schedule::step: k = usize::MAX", "outside", || refuse!(sched(10, 1e-3).step(usize::MAX), S::InvalidParameter { .. })),
        // DDPM rates and the runs
        case("DDPM: one step of β = 20 is refused", "rate", || {
            refuse!(sample(&Ddpm::default(), &sched(1, 0.0), &good(), Start::Standard, 5, 1), S::DdpmRate { .. })
        }),
        case("DDPM: 20 steps of β = 1 are refused", "rate", || {
            refuse!(sample(&Ddpm::default(), &sched(20, 0.0), &good(), Start::Standard, 5, 1), S::DdpmRate { step: 0, .. })
        }),
        case("DDPM exact law: β ≥ 1 is refused", "rate", || {
            refuse!(
                output_law(
                    &Builtin::Ddpm(Ddpm::default()),
                    &sched(5, 1e-3),
                    &SpectralGaussian::centred(vec![1.0]).unwrap(),
                    LawStart::<Diag>::Standard,
                    |_, _| Ok(())
                ),
                S::DdpmRate { .. }
            )
        }),
        case("sample: start points of the wrong shape", "start points", || {
            refuse!(sample(&Euler, &sched(10, 1e-3), &good(), Start::Points(Mat::zeros(4, 3).as_ref()), 4, 1), S::Dimension { .. })
        }),
        case("sample: exact start of the wrong dimension", "start mixture", || {
            let other = mixture(r#"{"weights":[1],"means":[[0]],"covariances":[1]}"#);
            refuse!(sample(&Euler, &sched(10, 1e-3), &good(), Start::Exact(&other), 4, 1), S::Dimension { .. })
        }),
        case("sample: NaN start points", "non-finite|diverged", || {
            refuse!(
                sample(&Euler, &sched(10, 1e-3), &good(), Start::Points(mat![[f64::NAN, 0.0]].as_ref()), 1, 1),
                S::NonFinite { .. } | S::Score { .. }
            )
        }),
        case("sample: start points 1e300 away", "too far|finite", || {
            finite_or(
                sample(&Euler, &sched(10, 1e-3), &good(), Start::Points(mat![[1e300, 0.0]].as_ref()), 1, 1),
                |o| finite_mat(&o.samples),
                |e| matches!(e, S::Score { .. } | S::NonFinite { .. }),
            )
        }),
        case("sample: invalid sampler parameters", "eta", || {
            refuse!(sample(&Ddim { eta: 2.0 }, &sched(10, 1e-3), &good(), Start::Standard, 4, 1), S::InvalidParameter { .. })
        }),
        case("sample: Heun at ε = 0 on singular data", "singular", || {
            refuse!(sample(&Heun, &sched(10, 0.0), &mixture(SINGULAR), Start::Standard, 4, 1), S::Score { .. })
        }),
        case("sample: DDPM down to ε = 0 on singular data is fine", "accepted", || {
            accept(sample(&Ddpm::default(), &sched(100, 0.0), &mixture(SINGULAR), Start::Standard, 4, 1), |o| finite_mat(&o.samples))
        }),
        case("sample: NaN score scale", "diverged", || {
            refuse!(
                sample(
                    &Builtin::Euler(Euler),
                    &sched(10, 1e-3),
                    &ScaledScore::new(DenseGaussian::new(vec![0.0], mat![[1.0]]).unwrap(), f64::NAN),
                    Start::Standard,
                    4,
                    1
                ),
                S::NonFinite { .. }
            )
        }),
        case("AffinePerturbation: shift of the wrong dimension (particles)", "shift", || {
            let p = AffinePerturbation::new(
                DenseGaussian::new(vec![0.0, 0.0], mat![[1.0, 0.0], [0.0, 1.0]]).unwrap(),
                None::<Dense>,
                Some(vec![0.1]),
            );
            refuse!(sample(&Euler, &sched(10, 1e-3), &p, Start::Standard, 4, 1), S::Score { .. })
        }),
        case("AffinePerturbation: matrix of the wrong dimension (exact law)", "matrix", || {
            let p = AffinePerturbation::new(SpectralGaussian::centred(vec![1.0, 2.0]).unwrap(), Some(Diag(vec![0.1])), None);
            refuse!(output_law(&Euler, &sched(10, 1e-3), &p, LawStart::<Diag>::Exact, |_, _| Ok(())), S::Dimension { .. })
        }),
        case("PerturbedPrecision: E of the wrong dimension (particles)", "matrix", || {
            let p = PerturbedPrecision::new(DenseGaussian::new(vec![0.0, 0.0], mat![[1.0, 0.0], [0.0, 1.0]]).unwrap(), Dense(mat![[0.1]]));
            refuse!(sample(&Euler, &sched(10, 1e-3), &p, Start::Standard, 4, 1), S::Score { .. })
        }),
        case("PerturbedPrecision: E of the wrong dimension (exact law)", "matrix", || {
            let p = PerturbedPrecision::new(SpectralGaussian::centred(vec![1.0, 2.0]).unwrap(), Diag(vec![0.1, 0.2, 0.3]));
            refuse!(output_law(&Euler, &sched(10, 1e-3), &p, LawStart::<Diag>::Exact, |_, _| Ok(())), S::Dimension { .. })
        }),
        case("output_law: NaN start law", "non-finite", || {
            let start = Marginal { mean: Some(vec![f64::NAN]), cov: Op::Scalar(1.0) };
            refuse!(
                output_law(
                    &Builtin::Euler(Euler),
                    &sched(10, 1e-3),
                    &SpectralGaussian::centred(vec![1.0]).unwrap(),
                    LawStart::<Diag>::Law(start),
                    |_, _| Ok(())
                ),
                S::NonFinite { .. }
            )
        }),
        // On the exact-law route an overflowing variance is reported as ∞ (docs/gaussian.md), never NaN.
        case("output_law: eigenvalue and mean 1e308 give no NaN", "finite|diverged", || {
            let g = SpectralGaussian::new(vec![1e308], Some(vec![1e308])).unwrap();
            finite_or(
                output_law(&Ddpm::default(), &sched(100, 1e-3), &g, LawStart::<Diag>::Exact, |_, _| Ok(())),
                |o| {
                    let Op::Full(Diag(v)) = &o.law.cov else { return false };
                    v.iter().all(|x| !x.is_nan()) && o.law.mean.as_ref().is_some_and(|m| m.iter().all(|x| !x.is_nan()))
                },
                |e| matches!(e, S::NonFinite { .. }),
            )
        }),
        // SpectralGaussian / DenseGaussian
        case("SpectralGaussian: empty spectrum", "spectrum", || {
            refuse!(SpectralGaussian::centred(vec![]), S::Dimension { what: "spectrum", .. })
        }),
        case("SpectralGaussian: NaN eigenvalue", "eigenvalue", || {
            refuse!(SpectralGaussian::centred(vec![1.0, f64::NAN]), S::InvalidParameter { name: "eigenvalue", .. })
        }),
        case("SpectralGaussian: negative eigenvalue", "eigenvalue", || {
            refuse!(SpectralGaussian::centred(vec![-1.0]), S::InvalidParameter { name: "eigenvalue", .. })
        }),
        case("SpectralGaussian: infinite eigenvalue", "eigenvalue", || {
            refuse!(SpectralGaussian::centred(vec![f64::INFINITY]), S::InvalidParameter { name: "eigenvalue", .. })
        }),
        case("SpectralGaussian: mean of the wrong length", "mean coordinates", || {
            refuse!(SpectralGaussian::new(vec![1.0, 2.0], Some(vec![0.0])), S::Dimension { .. })
        }),
        case("SpectralGaussian: NaN mean", "mean", || {
            refuse!(SpectralGaussian::new(vec![1.0], Some(vec![f64::NAN])), S::InvalidParameter { name: "mean", .. })
        }),
        case("SpectralGaussian: zero eigenvalue at t = 0", "singular", || {
            use gmdiff::solvers::LinearScore;
            refuse!(SpectralGaussian::centred(vec![0.0, 1.0]).unwrap().affine(&at(0.0)).map(|_| ()), S::SingularScore { .. })
        }),
        case("DenseGaussian: d = 0", "dimension mismatch", || refuse!(DenseGaussian::new(vec![], Mat::zeros(0, 0)), S::Dimension { .. })),
        case("DenseGaussian: mean vs covariance", "dimension mismatch", || {
            refuse!(DenseGaussian::new(vec![0.0, 0.0], Mat::identity(3, 3)), S::Dimension { .. })
        }),
        case("DenseGaussian: not square", "dimension mismatch", || {
            refuse!(DenseGaussian::new(vec![0.0, 0.0], Mat::zeros(2, 3)), S::Dimension { .. })
        }),
        case("DenseGaussian: NaN covariance", "finite", || {
            refuse!(DenseGaussian::new(vec![0.0, 0.0], mat![[1.0, f64::NAN], [f64::NAN, 1.0]]), S::InvalidParameter { .. })
        }),
        case("DenseGaussian: infinite covariance", "finite", || {
            refuse!(DenseGaussian::new(vec![0.0], mat![[f64::INFINITY]]), S::InvalidParameter { .. })
        }),
        case("DenseGaussian: non-symmetric", "symmetric", || {
            refuse!(DenseGaussian::new(vec![0.0, 0.0], mat![[1.0, 0.5], [0.1, 1.0]]), S::InvalidParameter { .. })
        }),
        case("DenseGaussian: indefinite", "semi-definite", || {
            refuse!(DenseGaussian::new(vec![0.0, 0.0], mat![[1.0, 3.0], [3.0, 1.0]]), S::InvalidParameter { .. })
        }),
        case("DenseGaussian: indefinite at scale 1e-13", "semi-definite", || {
            refuse!(DenseGaussian::new(vec![0.0, 0.0], mat![[1e-13, 3e-13], [3e-13, 1e-13]]), S::InvalidParameter { .. })
        }),
        case("DenseGaussian: NaN mean", "mean", || {
            refuse!(DenseGaussian::new(vec![f64::NAN, 0.0], Mat::identity(2, 2)), S::InvalidParameter { name: "mean", .. })
        }),
        case("DenseGaussian: singular score at t = 0", "singular", || {
            let g = DenseGaussian::new(vec![0.0, 0.0], mat![[1.0, 0.0], [0.0, 0.0]]).unwrap();
            let mut out = Mat::zeros(1, 2);
            refuse!(g.score_into(&at(0.0), mat![[0.0, 0.0]].as_ref(), out.as_mut()), S::SingularScore { .. })
        }),
        case("DenseGaussian: singular data at t = 0.5 is fine", "accepted", || {
            let g = DenseGaussian::new(vec![0.0, 0.0], mat![[1.0, 0.0], [0.0, 0.0]]).unwrap();
            let mut out = Mat::zeros(1, 2);
            accept(g.score_into(&at(0.5), mat![[3.0, -1.0]].as_ref(), out.as_mut()).map(|()| out), finite_mat)
        }),
        // Bounds
        case("ddpm_bound: zero Lipschitz constant", "lipschitz", || {
            refuse!(ddpm_bound(&bound_input(|b| b.lipschitz = 0.0)), S::InvalidParameter { name: "lipschitz", .. })
        }),
        case("ddpm_bound: NaN second moment", "second_moment", || {
            refuse!(ddpm_bound(&bound_input(|b| b.second_moment = f64::NAN)), S::InvalidParameter { name: "second_moment", .. })
        }),
        case("ddpm_bound: infinite horizon", "horizon", || {
            refuse!(ddpm_bound(&bound_input(|b| b.horizon = f64::INFINITY)), S::InvalidParameter { name: "horizon", .. })
        }),
        case("ddpm_bound: negative eps_score", "eps_score", || {
            refuse!(ddpm_bound(&bound_input(|b| b.eps_score = -0.1)), S::InvalidParameter { name: "eps_score", .. })
        }),
        case("ddpm_bound: negative KL", "kl_to_gaussian", || {
            refuse!(ddpm_bound(&bound_input(|b| b.kl_to_gaussian = -1.0)), S::InvalidParameter { name: "kl_to_gaussian", .. })
        }),
        case("ddpm_bound: d = 0", "dim", || refuse!(ddpm_bound(&bound_input(|b| b.dim = 0)), S::InvalidParameter { name: "dim", .. })),
        case("ddpm_bound: steps = 0", "steps", || {
            refuse!(ddpm_bound(&bound_input(|b| b.steps = 0)), S::InvalidParameter { name: "steps", .. })
        }),
        case("ddpm_bound: overflow", "overflow", || {
            refuse!(
                ddpm_bound(&bound_input(|b| {
                    b.lipschitz = 1e300;
                    b.second_moment = 1e300;
                })),
                S::InvalidParameter { name: "bound", .. }
            )
        }),
        case("dpom_steps: NaN Lipschitz constant", "lipschitz", || {
            refuse!(dpom_steps(f64::NAN, 2, 0.1), S::InvalidParameter { name: "lipschitz", .. })
        }),
        case("dpom_steps: d = 0", "dim", || refuse!(dpom_steps(1.0, 0, 0.1), S::InvalidParameter { name: "dim", .. })),
        case("dpom_steps: eps = 0", "eps", || refuse!(dpom_steps(1.0, 2, 0.0), S::InvalidParameter { name: "eps or steps", .. })),
        case("dpom_steps: overflow", "overflow", || refuse!(dpom_steps(1e200, 2, 1e-200), S::InvalidParameter { .. })),
        case("dpum_steps: infinite eps", "eps", || {
            refuse!(dpum_steps(1.0, 2, f64::INFINITY), S::InvalidParameter { name: "eps or steps", .. })
        }),
        case("dpum_steps: overflow", "overflow", || refuse!(dpum_steps(1e200, 2, 1e-200), S::InvalidParameter { .. })),
        case("dpom_tv: negative steps", "steps", || refuse!(dpom_tv(1.0, 2, -10.0), S::InvalidParameter { name: "eps or steps", .. })),
        case("dpom_tv: overflow", "overflow", || refuse!(dpom_tv(1e200, 2, 1e-300), S::InvalidParameter { .. })),
        case("dpum_tv: negative Lipschitz constant", "lipschitz", || {
            refuse!(dpum_tv(-1.0, 2, 10.0), S::InvalidParameter { name: "lipschitz", .. })
        }),
        case("dpum_tv: overflow", "overflow", || refuse!(dpum_tv(1e200, 2, 1e-200), S::InvalidParameter { .. })),
    ]
}

/// A valid DDPM bound input with one change.
fn bound_input(change: fn(&mut DdpmBoundInput)) -> DdpmBoundInput {
    let mut b =
        DdpmBoundInput { lipschitz: 1.0, second_moment: 2.0, dim: 2, horizon: 3.0, steps: 100, eps_score: 0.1, kl_to_gaussian: 0.5 };
    change(&mut b);
    b
}

fn gaussian_cases() -> Vec<Case> {
    use GaussianError::{Invalid, Process as P, Solver, Spectrum};
    vec![
        // SpectralProblem::centred / new
        case("SpectralProblem: empty spectrum", "spectrum", || {
            refuse!(SpectralProblem::centred(vec![]), Solver(SolverError::Dimension { .. }))
        }),
        case("SpectralProblem: NaN eigenvalue", "eigenvalue", || {
            refuse!(SpectralProblem::centred(vec![1.0, f64::NAN]), Solver(SolverError::InvalidParameter { .. }))
        }),
        case("SpectralProblem: negative eigenvalue", "eigenvalue", || {
            refuse!(SpectralProblem::centred(vec![-0.5]), Solver(SolverError::InvalidParameter { .. }))
        }),
        case("SpectralProblem: +inf eigenvalue", "eigenvalue", || {
            refuse!(SpectralProblem::centred(vec![f64::INFINITY]), Solver(SolverError::InvalidParameter { .. }))
        }),
        case("SpectralProblem::new: mean of the wrong length", "mean coordinates", || {
            refuse!(SpectralProblem::new(vec![1.0, 2.0], vec![0.0]), Solver(SolverError::Dimension { .. }))
        }),
        case("SpectralProblem::new: infinite mean", "mean", || {
            refuse!(SpectralProblem::new(vec![1.0], vec![f64::INFINITY]), Solver(SolverError::InvalidParameter { .. }))
        }),
        // scheme / scheme_law
        case("scheme: DDPM with β ≥ 1", "rate", || {
            refuse!(
                spectral().scheme(&Ddpm::default(), &sched(5, 1e-3), Init::Standard, &SpectralScore::Exact, false),
                Solver(SolverError::DdpmRate { .. })
            )
        }),
        case("scheme: eta outside [0, 1]", "eta", || {
            refuse!(
                spectral().scheme(&Ddim { eta: -1.0 }, &sched(10, 1e-3), Init::Standard, &SpectralScore::Exact, false),
                Solver(SolverError::InvalidParameter { .. })
            )
        }),
        case("scheme: EM on a chain", "discrete chain", || {
            refuse!(
                spectral().scheme(&EulerMaruyama, &chain_sched(), Init::Exact, &SpectralScore::Exact, true),
                Solver(SolverError::Unsupported { .. })
            )
        }),
        case("scheme: precision perturbation of the wrong length", "entries", || {
            refuse!(spectral().scheme(&Euler, &sched(10, 1e-3), Init::Standard, &SpectralScore::Precision(vec![0.1]), false), Invalid(_))
        }),
        case("scheme: per-coordinate perturbation on a compressed spectrum", "uncompressed", || {
            let p = SpectralProblem::centred(vec![1.0, 1.0]).unwrap();
            refuse!(p.scheme(&Euler, &sched(10, 1e-3), Init::Standard, &SpectralScore::Precision(vec![0.1, 0.2]), false), Invalid(_))
        }),
        case("scheme: NaN score scale", "non-finite", || {
            refuse!(
                spectral().scheme(&Euler, &sched(10, 1e-3), Init::Standard, &SpectralScore::Scaled(f64::NAN), false),
                Solver(SolverError::NonFinite { .. })
            )
        }),
        case("scheme: NaN precision perturbation", "non-finite", || {
            refuse!(
                spectral().scheme(&Euler, &sched(10, 1e-3), Init::Standard, &SpectralScore::Precision(vec![f64::NAN; 3]), false),
                Solver(SolverError::NonFinite { .. })
            )
        }),
        case("scheme: eigenvalue and mean 1e308 give no NaN", "finite|diverged", || {
            let p = SpectralProblem::new(vec![1e308], vec![1e308]).unwrap();
            finite_or(
                p.scheme(&Euler, &sched(50, 1e-3), Init::Exact, &SpectralScore::Exact, true),
                |r| !r.w2.is_nan() && !r.kl.is_nan(),
                |e| matches!(e, Solver(SolverError::NonFinite { .. })),
            )
        }),
        case("scheme_law: DDPM with β ≥ 1", "rate", || {
            refuse!(
                spectral().scheme_law(&Ddpm::default(), &sched(5, 1e-3), Init::Exact, &SpectralScore::Exact),
                Solver(SolverError::DdpmRate { .. })
            )
        }),
        // continuous / truncation / decompose / continuous_against_eps
        case("continuous: NaN eps", "outside", || {
            refuse!(spectral().continuous(Dynamics::Sde, &vp(), f64::NAN, Init::Standard, None), P(ProcessError::TimeOutOfRange { .. }))
        }),
        case("continuous: negative eps", "outside", || {
            refuse!(spectral().continuous(Dynamics::Ode, &vp(), -0.1, Init::Exact, None), P(ProcessError::TimeOutOfRange { .. }))
        }),
        case("continuous: eps > T", "outside", || {
            refuse!(spectral().continuous(Dynamics::Ode, &vp(), 1.5, Init::Exact, None), P(ProcessError::TimeOutOfRange { .. }))
        }),
        case("continuous: NaN grid time", "outside", || {
            refuse!(
                spectral().continuous(Dynamics::Sde, &vp(), 1e-3, Init::Standard, Some(&[1.0, f64::NAN, 1e-3])),
                P(ProcessError::TimeOutOfRange { .. })
            )
        }),
        case("continuous: eigenvalue and mean 1e308 give no NaN", "finite", || {
            let p = SpectralProblem::new(vec![1e308], vec![1e308]).unwrap();
            finite_or(p.continuous(Dynamics::Sde, &vp(), 1e-3, Init::Standard, None), |r| !r.w2.is_nan() && !r.kl.is_nan(), |_| false)
        }),
        case("truncation: eps = +inf", "outside", || {
            refuse!(spectral().truncation(&vp(), f64::INFINITY), P(ProcessError::TimeOutOfRange { .. }))
        }),
        case("decompose: steps = 0", "at least 1 step", || {
            refuse!(spectral().decompose(&Euler, &vp(), 0, 1e-3, Init::Standard, &SpectralScore::Exact), P(ProcessError::Invalid { .. }))
        }),
        case("decompose: NaN eps", "eps", || {
            refuse!(
                spectral().decompose(&Euler, &vp(), 10, f64::NAN, Init::Standard, &SpectralScore::Exact),
                P(ProcessError::InvalidParameter { .. })
            )
        }),
        case("continuous_against_eps: negative eps", "outside", || {
            refuse!(spectral().continuous_against_eps(Dynamics::Sde, &vp(), -1.0, Init::Standard), P(ProcessError::TimeOutOfRange { .. }))
        }),
        // DenseProblem
        case("DenseProblem: mean vs covariance", "dimension mismatch", || {
            refuse!(DenseProblem::new(vec![0.0], Mat::identity(2, 2)), Solver(SolverError::Dimension { .. }))
        }),
        case("DenseProblem: NaN covariance", "finite", || {
            refuse!(DenseProblem::new(vec![0.0], mat![[f64::NAN]]), Solver(SolverError::InvalidParameter { .. }))
        }),
        case("DenseProblem: non-symmetric", "symmetric", || {
            refuse!(DenseProblem::new(vec![0.0, 0.0], mat![[1.0, 0.0], [0.5, 1.0]]), Solver(SolverError::InvalidParameter { .. }))
        }),
        case("DenseProblem: indefinite", "semi-definite", || {
            refuse!(DenseProblem::new(vec![0.0, 0.0], mat![[1.0, 2.0], [2.0, 1.0]]), Solver(SolverError::InvalidParameter { .. }))
        }),
        case("DenseProblem::scheme: DDPM with β ≥ 1", "rate", || {
            let d = dense();
            refuse!(d.scheme(&Ddpm::default(), &sched(5, 1e-3), Init::Standard, d.target(), false), Solver(SolverError::DdpmRate { .. }))
        }),
        case("DenseProblem::scheme: score of a smaller dimension", "dimension", || {
            let score = DenseGaussian::new(vec![0.0], mat![[1.0]]).unwrap();
            refuse!(dense().scheme(&Euler, &sched(10, 1e-3), Init::Standard, &score, true), Solver(SolverError::Dimension { .. }))
        }),
        case("DenseProblem::scheme: score of a larger dimension", "dimension", || {
            let score = DenseGaussian::new(vec![0.0; 3], Mat::identity(3, 3)).unwrap();
            refuse!(dense().scheme(&Euler, &sched(10, 1e-3), Init::Exact, &score, false), Solver(SolverError::Dimension { .. }))
        }),
        case("DenseProblem::decompose: score of a smaller dimension", "dimension", || {
            let score = DenseGaussian::new(vec![0.0], mat![[1.0]]).unwrap();
            refuse!(dense().decompose(&Euler, &vp(), 10, 1e-3, Init::Standard, &score), Solver(SolverError::Dimension { .. }))
        }),
        case("DenseProblem::decompose: steps = 0", "at least 1 step", || {
            let d = dense();
            refuse!(d.decompose(&Euler, &vp(), 0, 1e-3, Init::Standard, d.target()), P(ProcessError::Invalid { .. }))
        }),
        case("DenseProblem::continuous: eps > T", "outside", || {
            refuse!(dense().continuous(Dynamics::Ode, &vp(), 2.0, Init::Standard, None), P(ProcessError::TimeOutOfRange { .. }))
        }),
        case("DenseProblem::scheme: Heun at ε = 0 on singular data is infinite, not NaN", "finite|singular", || {
            let d = DenseProblem::new(vec![0.0, 0.0], mat![[1.0, 0.0], [0.0, 0.0]]).unwrap();
            finite_or(
                d.scheme(&Heun, &sched(10, 0.0), Init::Standard, d.target(), false),
                |r| r.w2 == f64::INFINITY && r.note.is_some(),
                |_| false,
            )
        }),
        // Spectrum parsing
        case("parse_spectrum: empty input", "empty", || refuse!(parse_spectrum(b""), Spectrum { .. })),
        case("parse_spectrum: only a comment", "empty", || refuse!(parse_spectrum(b"  # nothing\n\n"), Spectrum { .. })),
        case("parse_spectrum: negative value", "finite and ≥ 0", || refuse!(parse_spectrum(b"1 -1"), Spectrum { .. })),
        case("parse_spectrum: nan", "finite", || refuse!(parse_spectrum(b"1, nan"), Spectrum { .. })),
        case("parse_spectrum: inf", "finite", || refuse!(parse_spectrum(b"inf"), Spectrum { .. })),
        case("parse_spectrum: 1e400", "finite", || refuse!(parse_spectrum(b"1e400"), Spectrum { .. })),
        case("parse_spectrum: text", "not a number", || refuse!(parse_spectrum(b"1\nabc\n"), Spectrum { .. })),
        case("parse_spectrum: invalid UTF-8", "neither", || refuse!(parse_spectrum(b"\xff\xfe1"), Spectrum { .. })),
        case("parse_spectrum: npy magic only", "truncated", || refuse!(parse_spectrum(b"\x93NUMPY"), Spectrum { .. })),
        case("parse_spectrum: npy unknown version", "version", || refuse!(parse_spectrum(b"\x93NUMPY\x09\x00\x10\x00"), Spectrum { .. })),
        case("parse_spectrum: npy truncated header", "truncated", || {
            let mut b = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", &f8(&[1.0, 2.0]));
            b.truncate(30);
            refuse!(parse_spectrum(&b), Spectrum { .. })
        }),
        case("parse_spectrum: npy truncated data", "npy|data|fill|eof", || {
            refuse!(parse_spectrum(&npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", &f8(&[1.0]))), Spectrum { .. })
        }),
        case("parse_spectrum: npy int32", "dtype", || {
            refuse!(
                parse_spectrum(&npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", &[1, 0, 0, 0, 2, 0, 0, 0])),
                Spectrum { .. }
            )
        }),
        case("parse_spectrum: npy complex", "dtype", || {
            refuse!(parse_spectrum(&npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", &[0; 16])), Spectrum { .. })
        }),
        case("parse_spectrum: npy structured dtype", "structured", || {
            refuse!(
                parse_spectrum(&npy("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", &f8(&[1.0]))),
                Spectrum { .. }
            )
        }),
        case("parse_spectrum: npy garbage header", "npy", || {
            refuse!(parse_spectrum(&npy("not a dict at all", &f8(&[1.0]))), Spectrum { .. })
        }),
        case("parse_spectrum: npy NaN", "finite", || {
            refuse!(
                parse_spectrum(&npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", &f8(&[1.0, f64::NAN]))),
                Spectrum { .. }
            )
        }),
        case("parse_spectrum: npy negative float32", "finite and ≥ 0", || {
            let data: Vec<u8> = (-2.0f32).to_le_bytes().to_vec();
            refuse!(parse_spectrum(&npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", &data)), Spectrum { .. })
        }),
        case("parse_spectrum: npy empty array", "empty", || {
            refuse!(parse_spectrum(&npy("{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }", &[])), Spectrum { .. })
        }),
        case("read_spectrum: missing file", "no-such-spectrum", || {
            refuse!(read_spectrum(&scratch("no-such-spectrum.npy")), Spectrum { .. })
        }),
        case("read_spectrum: empty file names it", "empty-spectrum.txt", || {
            refuse!(read_spectrum(&written("empty-spectrum.txt", b"")), Spectrum { .. })
        }),
    ]
}

fn guidance_cases() -> Vec<Case> {
    use GuidanceError as G;
    vec![
        // ClassConditional
        case("ClassConditional: no class", "no class given", || {
            refuse!(ClassConditional::new(mixture(THREE), vec![]), G::InvalidClasses { .. })
        }),
        case("ClassConditional: empty class", "no component", || {
            refuse!(ClassConditional::new(mixture(THREE), vec![vec![0, 1, 2], vec![]]), G::InvalidClasses { .. })
        }),
        case("ClassConditional: component out of range", "names component 3", || {
            refuse!(ClassConditional::new(mixture(THREE), vec![vec![0, 1], vec![2, 3]]), G::InvalidClasses { .. })
        }),
        case("ClassConditional: component in two classes", "classes 0 and 1", || {
            refuse!(ClassConditional::new(mixture(THREE), vec![vec![0, 1], vec![1, 2]]), G::InvalidClasses { .. })
        }),
        case("ClassConditional: component twice in one class", "classes 0 and 0", || {
            refuse!(ClassConditional::new(mixture(THREE), vec![vec![0, 0, 1, 2]]), G::InvalidClasses { .. })
        }),
        case("ClassConditional: component in no class", "in no class", || {
            refuse!(ClassConditional::new(mixture(THREE), vec![vec![0], vec![1]]), G::InvalidClasses { .. })
        }),
        case("ClassConditional: class of weight 0", "π_y = 0", || {
            refuse!(ClassConditional::new(mixture(THREE), vec![vec![0, 1], vec![2]]), G::ZeroClassWeight { class: 1 })
        }),
        case("check_class: out of range", "out of range", || refuse!(model().check_class(3), G::ClassOutOfRange { class: 3, classes: 3 })),
        case("conditional: out of range", "out of range", || refuse!(model().conditional(7), G::ClassOutOfRange { .. })),
        case("conditional: class of weight 0", "π_y = 0", || refuse!(model().conditional(2), G::ZeroClassWeight { class: 2 })),
        case("classifier: NaN a", "`a`", || {
            let c = Coefficients { a: f64::NAN, ..at(0.5) };
            refuse!(model().classifier(&c), G::Mixture(MixtureError::InvalidArgument { .. }))
        }),
        case("classifier: negative b", "`b`", || {
            let c = Coefficients { b: -0.5, ..at(0.5) };
            refuse!(model().classifier(&c), G::Mixture(MixtureError::InvalidArgument { .. }))
        }),
        case("data_classifier: singular covariance", "singular", || {
            refuse!(
                ClassConditional::per_component(mixture(SINGULAR)).data_classifier(),
                G::Mixture(MixtureError::SingularCovariance { .. })
            )
        }),
        case("classifier: singular data at t = 0.5 is fine", "accepted", || {
            let m = ClassConditional::per_component(mixture(SINGULAR));
            accept(m.classifier(&at(0.5)).and_then(|c| c.gradient_batch(mat![[0.5, -0.5]].as_ref(), 0)), finite_mat)
        }),
        // NoisyClassifier evaluations
        case("log_posterior: class out of range", "out of range", || {
            refuse!(model().classifier(&at(0.5)).unwrap().log_posterior_batch(Mat::zeros(1, 2).as_ref(), 3), G::ClassOutOfRange { .. })
        }),
        case("posterior: wrong dimension", "dimension mismatch", || {
            refuse!(
                model().classifier(&at(0.5)).unwrap().posterior_batch(Mat::zeros(1, 3).as_ref()),
                G::Mixture(MixtureError::DimensionMismatch { .. })
            )
        }),
        case("gradient: NaN point", "non-finite", || {
            refuse!(model().classifier(&at(0.5)).unwrap().gradient_batch(mat![[f64::NAN, 0.0]].as_ref(), 0), G::NonFinite { .. })
        }),
        case("jacobian: point 1e300 away", "too far|finite", || {
            finite_or(model().classifier(&at(0.5)).unwrap().jacobian_batch(mat![[1e300, 0.0]].as_ref(), 0), finite_mats, |e| {
                matches!(e, G::NonFinite { .. })
            })
        }),
        case("jacobian trace: point 1e150 away", "too far|finite", || {
            finite_or(model().classifier(&at(0.5)).unwrap().jacobian_trace_batch(mat![[1e150, 1e150]].as_ref(), 0), finite_vec, |e| {
                matches!(e, G::NonFinite { .. })
            })
        }),
        case("gradient: class of weight 0", "π_y = 0", || {
            refuse!(model().classifier(&at(0.5)).unwrap().gradient_batch(mat![[0.0, 0.0]].as_ref(), 2), G::ZeroClassWeight { class: 2 })
        }),
        case("jacobian trace: class of weight 0", "π_y = 0", || {
            refuse!(
                model().classifier(&at(0.5)).unwrap().jacobian_trace_batch(mat![[0.0, 0.0]].as_ref(), 2),
                G::ZeroClassWeight { class: 2 }
            )
        }),
        case("jacobian: class of weight 0", "π_y = 0", || {
            refuse!(model().classifier(&at(0.5)).unwrap().jacobian_batch(mat![[0.0, 0.0]].as_ref(), 2), G::ZeroClassWeight { class: 2 })
        }),
        // GuidedScore
        case("GuidedScore: negative strength", "strength", || {
            refuse!(GuidedScore::new(model(), 0, -1.0, Guidance::Classifier), G::InvalidParameter { name: "strength", .. })
        }),
        case("GuidedScore: NaN strength", "strength", || {
            refuse!(GuidedScore::new(model(), 0, f64::NAN, Guidance::ClassifierFree), G::InvalidParameter { name: "strength", .. })
        }),
        case("GuidedScore: infinite strength", "strength", || {
            refuse!(GuidedScore::new(model(), 0, f64::INFINITY, Guidance::Classifier), G::InvalidParameter { name: "strength", .. })
        }),
        case("GuidedScore: class out of range", "out of range", || {
            refuse!(GuidedScore::new(model(), 3, 1.0, Guidance::Classifier), G::ClassOutOfRange { .. })
        }),
        case("GuidedScore: class of weight 0", "π_y = 0", || {
            refuse!(GuidedScore::new(model(), 2, 1.0, Guidance::ClassifierFree), G::ZeroClassWeight { .. })
        }),
        case("GuidedScore: output of the wrong shape", "dimension mismatch", || {
            let s = GuidedScore::new(model(), 0, 1.0, Guidance::Classifier).unwrap();
            let mut out = Mat::zeros(2, 2);
            refuse!(s.score_into(&at(0.5), Mat::zeros(1, 2).as_ref(), out.as_mut()), G::Mixture(MixtureError::DimensionMismatch { .. }))
        }),
        case("GuidedScore: point 1e300 away", "too far|finite", || {
            let s = GuidedScore::new(model(), 0, 2.0, Guidance::Classifier).unwrap();
            let mut out = Mat::zeros(1, 2);
            finite_or(s.score_into(&at(0.5), mat![[1e300, 0.0]].as_ref(), out.as_mut()).map(|()| out), finite_mat, |e| {
                matches!(e, G::NonFinite { .. } | G::Mixture(MixtureError::NonFinite { .. }))
            })
        }),
        case("GuidedScore: divergence 1e300 away", "too far|finite", || {
            let s = GuidedScore::new(model(), 0, 2.0, Guidance::ClassifierFree).unwrap();
            let mut out = Mat::zeros(1, 2);
            let mut div = vec![0.0];
            finite_or(
                s.score_divergence_into(&at(0.5), mat![[0.0, 1e300]].as_ref(), out.as_mut(), &mut div).map(|()| div),
                finite_vec,
                |e| matches!(e, G::NonFinite { .. } | G::Mixture(MixtureError::NonFinite { .. })),
            )
        }),
        case("GuidedScore: divergence output of the wrong length", "divergence output", || {
            let s = GuidedScore::new(model(), 0, 2.0, Guidance::Classifier).unwrap();
            let mut out = Mat::zeros(1, 2);
            refuse!(
                s.score_divergence_into(&at(0.5), Mat::zeros(1, 2).as_ref(), out.as_mut(), &mut [0.0, 0.0]),
                G::Mixture(MixtureError::DimensionMismatch { .. })
            )
        }),
        case("GuidedScore: singular data at t = 0", "singular", || {
            let s = GuidedScore::new(ClassConditional::per_component(mixture(SINGULAR)), 0, 1.0, Guidance::Classifier).unwrap();
            let mut out = Mat::zeros(1, 2);
            refuse!(s.score_into(&at(0.0), Mat::zeros(1, 2).as_ref(), out.as_mut()), G::Mixture(MixtureError::SingularCovariance { .. }))
        }),
        case("GuidedScore: Jacobian of singular data at t = 0", "singular", || {
            let s = GuidedScore::new(ClassConditional::per_component(mixture(SINGULAR)), 0, 1.0, Guidance::ClassifierFree).unwrap();
            refuse!(s.jacobian_batch(&at(0.0), Mat::zeros(1, 2).as_ref()), G::Mixture(MixtureError::SingularCovariance { .. }))
        }),
        // Measurements
        case("Estimate: no values", "at least 2", || refuse!(Estimate::from_values(&[]), G::TooFewValues { found: 0 })),
        case("Estimate: one value", "at least 2", || refuse!(Estimate::from_values(&[1.0]), G::TooFewValues { found: 1 })),
        case("Estimate: NaN value", "non-finite", || refuse!(Estimate::from_values(&[1.0, f64::NAN]), G::NonFinite { .. })),
        case("Estimate: infinite value", "non-finite", || refuse!(Estimate::from_values(&[f64::INFINITY, 1.0]), G::NonFinite { .. })),
        case("DensityOutput::entropy: one sample", "at least 2", || {
            let out = DensityOutput { samples: Mat::zeros(1, 1), log_density: vec![0.0], score_evals: 0 };
            refuse!(out.entropy(), G::TooFewValues { .. })
        }),
        case("confidence: class out of range", "out of range", || {
            refuse!(confidence(&model(), 5, cloud().as_ref()), G::ClassOutOfRange { .. })
        }),
        case("confidence: no samples", "at least 2", || {
            refuse!(confidence(&model(), 0, Mat::zeros(0, 2).as_ref()), G::TooFewValues { found: 0 })
        }),
        case("confidence: NaN sample", "non-finite", || {
            refuse!(confidence(&model(), 0, mat![[0.0, 0.0], [f64::NAN, 0.0]].as_ref()), G::NonFinite { .. })
        }),
        case("confidence: wrong dimension", "dimension mismatch", || {
            refuse!(confidence(&model(), 0, Mat::zeros(2, 3).as_ref()), G::Mixture(MixtureError::DimensionMismatch { .. }))
        }),
        case("flow_log_density: DDPM is not a flow", "unsupported", || {
            let s = GuidedScore::new(model(), 0, 1.0, Guidance::Classifier).unwrap();
            refuse!(flow_log_density(&Ddpm::default(), &sched(50, 1e-3), &s, 4, 1), G::Unsupported { .. })
        }),
        case("flow_log_density: Euler on a chain", "discrete chain", || {
            let s = GuidedScore::new(model(), 0, 1.0, Guidance::Classifier).unwrap();
            refuse!(flow_log_density(&Euler, &chain_sched(), &s, 4, 1), G::Solver(SolverError::Unsupported { .. }))
        }),
        case("flow_log_density: Heun at ε = 0 on singular data", "singular", || {
            let s = GuidedScore::new(ClassConditional::per_component(mixture(SINGULAR)), 0, 1.0, Guidance::Classifier).unwrap();
            refuse!(flow_log_density(&Heun, &sched(10, 0.0), &s, 4, 1), G::Solver(SolverError::Score { .. }))
        }),
        case("map_log_density: DDPM", "unsupported", || {
            let s = GuidedScore::new(model(), 0, 1.0, Guidance::Classifier).unwrap();
            refuse!(map_log_density(&Ddpm::default(), &sched(50, 1e-3), &s, 4, 1), G::Unsupported { .. })
        }),
        case("map_log_density: Heun", "unsupported", || {
            let s = GuidedScore::new(model(), 0, 1.0, Guidance::Classifier).unwrap();
            refuse!(map_log_density(&Heun, &sched(50, 1e-3), &s, 4, 1), G::Unsupported { .. })
        }),
        case("map_log_density: eta outside [0, 1]", "eta", || {
            let s = GuidedScore::new(model(), 0, 1.0, Guidance::Classifier).unwrap();
            refuse!(map_log_density(&Ddim { eta: 2.0 }, &sched(50, 1e-3), &s, 4, 1), G::Solver(SolverError::InvalidParameter { .. }))
        }),
        case("step_coefficients: DDPM", "unsupported", || {
            refuse!(step_coefficients(&Ddpm::default(), &sched(50, 1e-3).step(0).unwrap()), G::Unsupported { .. })
        }),
        case("step_coefficients: stochastic DDIM", "unsupported", || {
            refuse!(step_coefficients(&Ddim { eta: 0.5 }, &sched(50, 1e-3).step(0).unwrap()), G::Unsupported { .. })
        }),
        case("knn_entropy: k = 0", "`k`", || refuse!(knn_entropy(cloud().as_ref(), 0), G::Metrics(MetricsError::InvalidParameter { .. }))),
        case("knn_entropy: NaN sample", "non-finite", || {
            refuse!(knn_entropy(mat![[0.0], [f64::NAN], [1.0]].as_ref(), 1), G::Metrics(MetricsError::NonFinite { .. }))
        }),
    ]
}

fn io_cases() -> Vec<Case> {
    vec![
        case("parse_points_csv: empty", "empty", || refuse!(parse_points_csv(b""), IoError::Csv { .. })),
        case("parse_points_csv: blank lines only", "empty", || refuse!(parse_points_csv(b"\n\n  \n"), IoError::Csv { .. })),
        case("parse_points_csv: ragged", "expected 2", || refuse!(parse_points_csv(b"0,1\n2\n"), IoError::Csv { .. })),
        case("parse_points_csv: ragged, longer row", "expected 2", || refuse!(parse_points_csv(b"0,1\n2,3,4\n"), IoError::Csv { .. })),
        case("parse_points_csv: text", "not a number", || refuse!(parse_points_csv(b"0,abc\n"), IoError::Csv { .. })),
        case("parse_points_csv: NaN", "not finite", || refuse!(parse_points_csv(b"0,NaN\n"), IoError::Csv { .. })),
        case("parse_points_csv: inf", "not finite", || refuse!(parse_points_csv(b"inf,0\n"), IoError::Csv { .. })),
        case("parse_points_csv: -inf", "not finite", || refuse!(parse_points_csv(b"0,-inf\n"), IoError::Csv { .. })),
        case("parse_points_csv: 1e400 overflows", "not finite", || refuse!(parse_points_csv(b"1e400,0\n"), IoError::Csv { .. })),
        case("parse_points_csv: invalid UTF-8", "malformed", || refuse!(parse_points_csv(b"0,\xff\n"), IoError::Csv { .. })),
        case("parse_points_csv: header row", "not a number", || refuse!(parse_points_csv(b"x,y\n0,1\n"), IoError::Csv { .. })),
        case("read_points_csv: missing file", "no-such-points.csv", || {
            refuse!(read_points_csv(&scratch("no-such-points.csv")), IoError::File { .. })
        }),
        case("read_points_csv: ragged file", "ragged.csv", || {
            refuse!(read_points_csv(&written("ragged.csv", b"0,1\n2\n")), IoError::Csv { .. })
        }),
        case("read_points_csv: empty file", "empty", || refuse!(read_points_csv(&written("empty.csv", b"")), IoError::Csv { .. })),
        case("read_mixture_json: missing file", "no-such-mixture.json", || {
            refuse!(read_mixture_json(&scratch("no-such-mixture.json")), IoError::File { .. })
        }),
        case("read_mixture_json: empty file", "EOF", || refuse!(read_mixture_json(&written("empty.json", b"")), IoError::Json { .. })),
        case("read_mixture_json: truncated", "EOF", || {
            refuse!(read_mixture_json(&written("truncated.json", br#"{"weights": [1.0"#)), IoError::Json { .. })
        }),
        case("read_mixture_json: negative weight", "negative", || {
            refuse!(
                read_mixture_json(&written("negative.json", br#"{"weights":[-0.5,1.5],"means":[[0],[1]],"covariances":[1,1]}"#)),
                IoError::Json { .. }
            )
        }),
        case("read_mixture_json: weights not normalised", "sum", || {
            refuse!(
                read_mixture_json(&written("sum.json", br#"{"weights":[0.5,0.6],"means":[[0],[1]],"covariances":[1,1]}"#)),
                IoError::Json { .. }
            )
        }),
        case("read_mixture_json: non-symmetric", "symmetric", || {
            refuse!(
                read_mixture_json(&written("asym.json", br#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,0.5],[0.1,1]]]}"#)),
                IoError::Json { .. }
            )
        }),
        case("read_mixture_json: k = 0", "k = 0", || {
            refuse!(read_mixture_json(&written("k0.json", br#"{"weights":[],"means":[],"covariances":[]}"#)), IoError::Json { .. })
        }),
        case("read_mixture_json: NaN", "nan.json", || {
            refuse!(read_mixture_json(&written("nan.json", br#"{"weights":[1],"means":[[NaN]],"covariances":[1]}"#)), IoError::Json { .. })
        }),
        case("read_mixture_json: invalid UTF-8", "utf-8", || {
            refuse!(read_mixture_json(&written("bytes.json", b"\xff\xfe{}")), IoError::File { .. })
        }),
        case("write_matrix_csv: failing writer", "disk full", || {
            struct Full;
            impl std::io::Write for Full {
                fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                    Err(std::io::Error::other("disk full"))
                }
                fn flush(&mut self) -> std::io::Result<()> {
                    Ok(())
                }
            }
            refuse!(write_matrix_csv(&mut Full, mat![[1.0, 2.0]].as_ref()), _)
        }),
        case("write_atomic: missing directory", "no-such-dir", || {
            refuse!(write_atomic(&scratch("no-such-dir").join("out.csv"), b"1\n"), IoError::File { .. })
        }),
    ]
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string payload)".into()
    }
}

fn all_cases() -> Vec<Case> {
    [process_cases(), mixture_cases(), metrics_cases(), solver_cases(), gaussian_cases(), guidance_cases(), io_cases()]
        .into_iter()
        .flatten()
        .collect()
}

#[test]
fn every_bad_input_is_a_typed_error() {
    let cases = all_cases();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    for case in &cases {
        let verdict = match std::panic::catch_unwind(case.run) {
            Err(payload) => Err(format!("panicked: {}", panic_text(payload.as_ref()))),
            Ok(Err(why)) => Err(why),
            Ok(Ok(message)) => {
                let lower = message.to_lowercase();
                if case.says.split('|').any(|s| lower.contains(&s.to_lowercase())) {
                    Ok(())
                } else {
                    Err(format!("the message {message:?} does not say {:?}", case.says))
                }
            }
        };
        if let Err(why) = verdict {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    std::panic::set_hook(previous);
    std::fs::remove_dir_all(scratch_dir()).ok();
    println!("{} constructor cases, {} misbehaved", cases.len(), failures.len());
    assert!(failures.is_empty(), "{} of {} constructor cases misbehaved:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn case_names_are_unique() {
    let cases = all_cases();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let repeated: Vec<&&str> = names.windows(2).filter(|w| w[0] == w[1]).map(|w| &w[0]).collect();
    assert!(repeated.is_empty(), "repeated case names: {repeated:?}");
}
