//! Properties of the spectral path: never NaN, bit-identical across thread counts, and W2 = 0 when
//! the scheme is exact (the exact start with the exact continuous dynamics).

use gmdiff_gaussian::{Dynamics, Init, SpectralProblem, SpectralScore};
use gmdiff_process::Process;
use gmdiff_solvers::{Builtin, Rk4, Schedule};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]
    /// Any scheme, any small grid, any ε (including 0), spectra with zeros: W2 and KL are never NaN,
    /// and W2 is ∞ exactly when the run reports an infinite score.
    #[test]
    fn never_nan(
        spectrum in prop::collection::vec(prop_oneof![Just(0.0), 1e-6..50.0f64], 1..12),
        scheme in prop::sample::select(Builtin::NAMES.to_vec()),
        steps in 40usize..90,
        eps in prop_oneof![Just(0.0), 1e-5..0.1f64],
        exact in any::<bool>(),
        delta in -0.2..0.2f64,
    ) {
        let p = SpectralProblem::centred(spectrum).unwrap();
        let init = if exact { Init::Exact } else { Init::Standard };
        let r = p.scheme(&Builtin::from_name(scheme).unwrap(), &Schedule::uniform_vp(steps, eps).unwrap(), init, &SpectralScore::Scaled(delta), true).unwrap();
        prop_assert!(!r.w2.is_nan() && !r.kl.is_nan());
        prop_assert!(r.trajectory.unwrap().iter().all(|v| !v.is_nan()));
        prop_assert_eq!(r.w2.is_infinite(), r.note.is_some());
    }
}

#[test]
fn spectral_results_do_not_depend_on_the_thread_count() {
    let spectrum: Vec<f64> = (0..9000).map(|i| 3.0 / (1.0 + i as f64).powf(0.9)).collect();
    let p = SpectralProblem::centred(spectrum).unwrap();
    let sched = Schedule::uniform_vp(100, 1e-3).unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| p.scheme(&Rk4, &sched, Init::Standard, &SpectralScore::Exact, true).unwrap())
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.w2.to_bits(), b.w2.to_bits());
    assert_eq!(a.trajectory, b.trajectory);
}

#[test]
fn exact_dynamics_from_the_exact_start_have_zero_error() {
    let p = SpectralProblem::new(vec![0.5, 2.0, 0.0], vec![1.0, -1.0, 0.3]).unwrap();
    let vp = Process::default();
    for d in [Dynamics::Sde, Dynamics::Ode] {
        let r = p.continuous(d, &vp, 1e-3, Init::Exact, None).unwrap();
        assert!((r.w2 - p.truncation(&vp, 1e-3).unwrap()).abs() < 1e-14, "{d:?}: {} ", r.w2);
    }
}
