//! The support rule of the KL (issue 14, fault 3; `docs/gaussian.md`): DDIM and DPM-Solver++(2M)
//! at `ε = 0` send the null directions of `Σ` exactly to the data's point mass, so
//! `KL(output ‖ p_0)` is finite (over the support) for every step count, and the spectral and dense
//! routes agree.
//!
//! Expected values come from per-eigenvalue scalar recurrences written here from the samplers'
//! published formulas (not from the library): with the exact score of a centred coordinate of
//! variance `λ`, `s_t(x) = −x/(a_t² λ + b_t²)`, the data prediction is `x̂₀ = a_t λ x/(a_t² λ + b_t²)`
//! and the noise prediction `ε̂ = b_t x/(a_t² λ + b_t²)`;
//!
//! * DDIM (Song et al. 2021, eq. 12): `x_s = a_s x̂₀ + sqrt(b_s² − σ²) ε̂ + σ ξ`,
//!   `σ = η sqrt(b_s²/b_t² (1 − a_t²/a_s²))`, so the variance obeys `v ← m² v + σ²` with
//!   `m = (a_s a_t λ + sqrt(b_s² − σ²) b_t)/(a_t² λ + b_t²)`;
//! * DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2, `λ = log(a/b)`, `h = λ_s − λ_t`):
//!   `x_s = (b_s/b_t) x − a_s (e^{−h} − 1) D`, `D = x̂₀(t)` on the first step and
//!   `D = (1 + 1/(2r)) x̂₀(t) − 1/(2r) x̂₀(t_prev)`, `r = (λ_t − λ_prev)/h`, after it; a last step to
//!   `b_s = 0` is first order, `x_s = a_s x̂₀(t)` (gmdiff's documented convention). The run is
//!   linear in the start `x_0 ~ N(0, 1)`, so the output variance is the squared coefficient.
//!
//! The VP process (`β(t) = 0.1 + 19.9 t`, `B(t) = 0.1 t + 9.95 t²`, `a = e^{−B/2}`,
//! `b = sqrt(1 − a²)`) and the uniform grid `t_k = 1 − k (1 − ε)/S` are written out here too. The
//! KL over the support is `Σ_{λ > 0} ½ (v/λ − 1 − ln(v/λ))`.

use gmdiff_gaussian::{DenseProblem, Init, SpectralProblem, SpectralScore, read_spectrum};
use gmdiff_solvers::{Builtin, Ddim, Diag, DpmSolver2M, Landing, LawStart, Op, SamplerInfo, Schedule, SpectralGaussian, output_law};
use proptest::prelude::*;

/// `(a_t, b_t)` of the default VP process, written independently of gmdiff-process.
fn vp(t: f64) -> (f64, f64) {
    let big_b = 0.1 * t + 0.5 * (20.0 - 0.1) * t * t;
    ((-0.5 * big_b).exp(), (-(-big_b).exp_m1()).sqrt())
}

fn grid(steps: usize, eps: f64) -> Vec<f64> {
    (0..=steps).map(|k| if k == steps { eps } else { 1.0 - (1.0 - eps) * k as f64 / steps as f64 }).collect()
}

/// Output variance of DDIM(η) for one eigenvalue, from `N(0, 1)` (module docs).
fn ddim_variance(lam: f64, steps: usize, eps: f64, eta: f64) -> f64 {
    let t = grid(steps, eps);
    let mut v = 1.0;
    for k in 0..steps {
        let ((at, bt), (as_, bs)) = (vp(t[k]), vp(t[k + 1]));
        let sigma = eta * (bs * bs / (bt * bt) * (1.0 - at * at / (as_ * as_))).sqrt();
        let keep = (bs * bs - sigma * sigma).max(0.0).sqrt();
        let m = (as_ * at * lam + keep * bt) / (at * at * lam + bt * bt);
        v = m * m * v + sigma * sigma;
    }
    v
}

/// Output variance of DPM-Solver++(2M) for one eigenvalue, from `N(0, 1)` (module docs).
fn dpmpp2m_variance(lam: f64, steps: usize, eps: f64) -> f64 {
    let t = grid(steps, eps);
    let log_snr = |(a, b): (f64, f64)| (a / b).ln();
    let x0_hat = |(a, b): (f64, f64)| a * lam / (a * a * lam + b * b);
    // Coefficients of x_k and of the previous data prediction, per unit of the start x_0.
    let (mut x, mut d_prev) = (1.0, 0.0);
    for k in 0..steps {
        let (ct, cs) = (vp(t[k]), vp(t[k + 1]));
        let d = x0_hat(ct) * x;
        x = if cs.1 == 0.0 {
            cs.0 * d
        } else {
            let h = log_snr(cs) - log_snr(ct);
            let big_d = if k == 0 {
                d
            } else {
                let r = (log_snr(ct) - log_snr(vp(t[k - 1]))) / h;
                (1.0 + 0.5 / r) * d - 0.5 / r * d_prev
            };
            cs.1 / ct.1 * x - cs.0 * (-h).exp_m1() * big_d
        };
        d_prev = d;
    }
    x * x
}

fn kl_over_support(spectrum: &[f64], variance: impl Fn(f64) -> f64) -> f64 {
    spectrum
        .iter()
        .filter(|&&lam| lam > 0.0)
        .map(|&lam| {
            let r = variance(lam) / lam;
            0.5 * (r - 1.0 - r.ln())
        })
        .sum()
}

fn dense_diag(spectrum: &[f64]) -> DenseProblem {
    let d = spectrum.len();
    DenseProblem::new(vec![0.0; d], faer::Mat::from_fn(d, d, |i, j| if i == j { spectrum[i] } else { 0.0 })).unwrap()
}

fn kls(spectrum: &[f64], sampler: &Builtin, steps: usize) -> (f64, f64) {
    let sched = Schedule::uniform_vp(steps, 0.0).unwrap();
    let spectral = SpectralProblem::centred(spectrum.to_vec()).unwrap();
    let s = spectral.scheme(sampler, &sched, Init::Standard, &SpectralScore::Exact, false).unwrap();
    let dense = dense_diag(spectrum);
    // A copy of the target, so that the dense engine runs (the target itself takes the eigenbasis
    // route, which is the spectral route).
    let d = dense.scheme(sampler, &sched, Init::Standard, &dense.target().clone(), false).unwrap();
    (s.kl, d.kl)
}

/// How far two f64 computations of one Gaussian KL can drift apart, `d` coordinates.
///
/// Both sides run the same ≤ 100 steps with different rounding (diagonal vs matrix products, the
/// per-lane KL vs `kl_gaussian`'s eigendecompositions, or the oracle's own order), so each output
/// variance carries a relative error δ ≲ 3e-13 (measured: DPM-Solver++(2M) at 87 steps implies
/// ≈ 2.4e-13); take δ = 1e-11. Per coordinate, `∂KL_i/∂(ln v_i) = ½ (r_i − 1)`, `r_i = v_i/u_i`, and
/// `|r_i − 1| ≤ 2 KL_i + 2 sqrt(KL_i)`, so the variance part moves by `≤ δ (KL + sqrt(d KL))`. The mean
/// part `(m_i − ν_i)²/(2 u_i)` moves by `≤ δ M sqrt(2 KL_i/u_i)` for a mean error `δ M`; with
/// `M = |m| ≤ 2` and `u ≥ 0.05` that is `≤ 13 δ sqrt(KL_i)`. `kl_gaussian` forms `tr − d + ln det`,
/// whose cancellation costs a few ulps per coordinate: `1e-14 d`.
fn kl_tolerance(kl: f64, d: usize) -> f64 {
    let d = d as f64;
    1e-11 * (kl + 14.0 * (d * kl).sqrt()) + 1e-14 * d
}

fn close(x: f64, truth: f64, d: usize) -> bool {
    (x - truth).abs() <= kl_tolerance(truth, d)
}

#[test]
fn the_0_1_2_spectrum_at_every_step_count() {
    // The input: DDIM, 50 steps, ε = 0 printed "kl": "inf". The truth at 50 steps, from the
    // DDIM recurrence above in 50-digit arithmetic (mpmath, same formulas):
    // 0.0023711636997279504112763689550015047724224697270539.
    let spectrum = [0.0, 1.0, 2.0];
    let truth50 = kl_over_support(&spectrum, |l| ddim_variance(l, 50, 0.0, 0.0));
    assert!((truth50 - 0.0023711636997279504).abs() <= 1e-12 * truth50, "the f64 oracle itself: {truth50}");
    for steps in 1..=100 {
        for (sampler, truth) in [
            (Builtin::Ddim(Ddim { eta: 0.0 }), kl_over_support(&spectrum, |l| ddim_variance(l, steps, 0.0, 0.0))),
            (Builtin::Ddim(Ddim { eta: 0.5 }), kl_over_support(&spectrum, |l| ddim_variance(l, steps, 0.0, 0.5))),
            (Builtin::DpmSolver2M(DpmSolver2M::default()), kl_over_support(&spectrum, |l| dpmpp2m_variance(l, steps, 0.0))),
        ] {
            let (s, d) = kls(&spectrum, &sampler, steps);
            assert!(close(s, truth, 3), "{sampler:?}, {steps} steps: spectral {s} vs truth {truth}");
            assert!(close(d, truth, 3), "{sampler:?}, {steps} steps: dense {d} vs truth {truth}");
        }
    }
}

#[test]
fn cifar10_at_49_and_50_steps() {
    // Issue 14: 49 steps gave 2282, 50 steps gave ∞. Both are finite; the truth is the recurrence.
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/cifar10_cov_eigenvalues.npy"));
    let spectrum = read_spectrum(path).unwrap();
    assert_eq!(spectrum.iter().filter(|&&l| l == 0.0).count(), 9);
    let p = SpectralProblem::centred(spectrum.clone()).unwrap();
    for steps in [49, 50] {
        let sched = Schedule::uniform_vp(steps, 0.0).unwrap();
        for (sampler, truth) in [
            (Builtin::Ddim(Ddim { eta: 0.0 }), kl_over_support(&spectrum, |l| ddim_variance(l, steps, 0.0, 0.0))),
            (Builtin::DpmSolver2M(DpmSolver2M::default()), kl_over_support(&spectrum, |l| dpmpp2m_variance(l, steps, 0.0))),
        ] {
            let kl = p.scheme(&sampler, &sched, Init::Standard, &SpectralScore::Exact, false).unwrap().kl;
            println!("CIFAR-10 {sampler:?} {steps} steps: KL {kl} (recurrence {truth})");
            assert!(close(kl, truth, spectrum.len()), "{sampler:?}, {steps} steps: {kl} vs {truth}");
        }
    }
}

#[test]
fn the_rule_matches_the_step_code() {
    // The rule's premise, against the samplers' own step code run on the unsettled law engine: at
    // ε = 0 the samplers that claim a landing (`SamplerInfo::landing`) leave only rounding in a null
    // lane (`Denoiser`: DDIM, the DPM-Solver++ family, UniPC, DEIS, the σ-form samplers, v ≤ 1e-24;
    // `Integration`: LMS, |v| ≤ 1e-12), while every other sampler leaves a genuine variance there
    // (v ≥ 1e-6), so "KL = ∞" is not a rounding artefact and a wrong claim either way fails here.
    // (Heun and RK4 evaluate the score at t = 0: SingularScore.)
    assert_eq!(Builtin::from_name("ddim").unwrap().landing(), Landing::Denoiser);
    assert_eq!(Builtin::from_name("lms").unwrap().landing(), Landing::Integration);
    let target = SpectralGaussian::centred(vec![0.0, 1.0]).unwrap();
    for steps in [1, 2, 7, 10, 49, 50, 100] {
        let sched = Schedule::uniform_vp(steps, 0.0).unwrap();
        for name in Builtin::NAMES {
            let sampler = Builtin::from_name(name).unwrap();
            let v = match output_law(&sampler, &sched, &target, LawStart::<Diag>::Standard, |_, _| Ok(())) {
                Ok(out) => match out.law.cov {
                    Op::Full(Diag(v)) => v[0],
                    Op::Scalar(v) => v,
                },
                Err(_) => continue,
            };
            if sampler.landing() == Landing::Denoiser {
                assert!(v.abs() <= 1e-24, "{name}, {steps} steps: null-lane variance {v}");
            } else if sampler.landing() == Landing::Integration {
                // LMS lands by cancellation among its stored d's (support.rs), not through a zero
                // coefficient: its null-lane variance is the rounding of a quadratic form of the
                // joint state law with O(1) entries, measured 1e-27 to 1.4e-16 (of either sign).
                assert!(v.abs() <= 1e-12, "{name}, {steps} steps: null-lane variance {v}");
            } else {
                assert!(v >= 1e-6, "{name}, {steps} steps: null-lane variance {v}");
            }
        }
    }
}

#[test]
fn a_score_error_on_the_null_space_keeps_the_kl_infinite() {
    // (1 + δ) s has the data prediction −δ x/a_t on a null lane: the output is not on the support.
    let p = SpectralProblem::centred(vec![0.0, 1.0, 2.0]).unwrap();
    let sched = Schedule::uniform_vp(50, 0.0).unwrap();
    let r = p.scheme(&Ddim { eta: 0.0 }, &sched, Init::Standard, &SpectralScore::Scaled(0.01), false).unwrap();
    assert_eq!(r.kl, f64::INFINITY);
    // A precision error that vanishes on the null lane keeps the rule; one that does not, breaks it.
    let q = SpectralProblem::new(vec![0.0, 1.0, 2.0], vec![0.5, 0.0, -1.0]).unwrap();
    let on_range =
        q.scheme(&DpmSolver2M::default(), &sched, Init::Standard, &SpectralScore::Precision(vec![0.0, 0.1, 0.1]), false).unwrap();
    assert!(on_range.kl.is_finite());
    let on_null = q.scheme(&DpmSolver2M::default(), &sched, Init::Standard, &SpectralScore::Precision(vec![0.1, 0.1, 0.1]), false).unwrap();
    assert_eq!(on_null.kl, f64::INFINITY);
    // ε > 0: no landing, p_0 singular: ∞.
    let eps = Schedule::uniform_vp(50, 1e-3).unwrap();
    assert_eq!(p.scheme(&Ddim { eta: 0.0 }, &eps, Init::Standard, &SpectralScore::Exact, false).unwrap().kl, f64::INFINITY);
}

/// Every sampler of the CLI plus DDIM with η = 0.5.
fn samplers() -> Vec<Builtin> {
    let mut v: Vec<Builtin> = Builtin::NAMES.iter().map(|n| Builtin::from_name(n).unwrap()).collect();
    v.push(Builtin::Ddim(Ddim { eta: 0.5 }));
    v
}

/// The spectral route (compressed lanes, `SpectralProblem`) and the dense route (`DenseProblem` on
/// a permuted diagonal covariance, so its eigenvalues are the spectrum exactly) of one problem:
/// both error, or both give ∞, or both are finite and within `tol`.
///
/// Tolerance: [`kl_tolerance`] (the spectra here are 0 or ≥ 0.05, the means ≤ 2 in size).
fn routes_agree(spectrum: &[f64], mean: Option<&[f64]>, perm: &[usize], eps: f64, init: Init) -> Result<(), TestCaseError> {
    let d = spectrum.len();
    let spectral = match mean {
        Some(m) => SpectralProblem::new(spectrum.to_vec(), m.to_vec()).unwrap(),
        None => SpectralProblem::centred(spectrum.to_vec()).unwrap(),
    };
    // Coordinate perm[i] of the dense problem is eigen-coordinate i.
    let mut cov = faer::Mat::zeros(d, d);
    let mut mu = vec![0.0; d];
    for i in 0..d {
        cov[(perm[i], perm[i])] = spectrum[i];
        mu[perm[i]] = mean.map_or(0.0, |m| m[i]);
    }
    let dense = DenseProblem::new(mu, cov).unwrap();
    let zeros = |v: &[f64]| v.iter().filter(|&&l| l == 0.0).count();
    prop_assert_eq!(zeros(dense.target().eigen().0), zeros(spectrum), "the dense route must see the exact zeros");
    let exact_copy = dense.target().clone();
    for steps in 1..=100 {
        let sched = Schedule::uniform_vp(steps, eps).unwrap();
        for sampler in samplers() {
            let s = spectral.scheme(&sampler, &sched, init, &SpectralScore::Exact, false);
            // A copy of the target: the dense engine (the target itself takes the spectral route).
            let dd = dense.scheme(&sampler, &sched, init, &exact_copy, false);
            match (s, dd) {
                (Err(_), Err(_)) => {}
                (Ok(s), Ok(dd)) => {
                    prop_assert_eq!(
                        s.kl.is_finite(),
                        dd.kl.is_finite(),
                        "{:?}, {} steps: spectral {} vs dense {}",
                        sampler,
                        steps,
                        s.kl,
                        dd.kl
                    );
                    if s.kl.is_finite() {
                        let tol = kl_tolerance(s.kl, d);
                        prop_assert!(
                            (s.kl - dd.kl).abs() <= tol,
                            "{:?}, {} steps: spectral {} vs dense {} (tol {})",
                            sampler,
                            steps,
                            s.kl,
                            dd.kl,
                            tol
                        );
                    }
                }
                (s, dd) => {
                    prop_assert!(false, "{:?}, {} steps: spectral {:?} vs dense {:?}", sampler, steps, s.map(|r| r.kl), dd.map(|r| r.kl))
                }
            }
        }
    }
    Ok(())
}

fn spectrum_and_perm(singular: bool) -> impl Strategy<Value = (Vec<f64>, Vec<usize>)> {
    let lam = if singular { prop_oneof![Just(0.0), 0.05..5.0f64].boxed() } else { (0.05..5.0f64).boxed() };
    prop::collection::vec(lam, 2..6).prop_flat_map(move |mut s| {
        if singular {
            s[0] = 0.0;
        }
        let d = s.len();
        (Just(s), Just((0..d).collect::<Vec<usize>>()).prop_shuffle())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]
    /// Singular spectra (at least one zero): for every sampler and every step count 1..=100 the two
    /// routes agree on whether the KL is finite, and on its value (tolerance in `routes_agree`).
    #[test]
    fn spectral_and_dense_kl_agree_on_singular_spectra(
        (spectrum, perm) in spectrum_and_perm(true),
        mean in prop::collection::vec(-2.0..2.0f64, 6),
        centred in any::<bool>(),
        exact_start in any::<bool>(),
        eps in prop_oneof![3 => Just(0.0), 1 => Just(1e-3)],
    ) {
        let mean = (!centred).then(|| mean[..spectrum.len()].to_vec());
        let init = if exact_start { Init::Exact } else { Init::Standard };
        routes_agree(&spectrum, mean.as_deref(), &perm, eps, init)?;
    }

    /// Regular spectra: every sampler's KL is finite at ε = 0 (Heun and RK4 included), in both routes.
    #[test]
    fn spectral_and_dense_kl_agree_on_regular_spectra(
        (spectrum, perm) in spectrum_and_perm(false),
        mean in prop::collection::vec(-2.0..2.0f64, 6),
        exact_start in any::<bool>(),
    ) {
        let init = if exact_start { Init::Exact } else { Init::Standard };
        routes_agree(&spectrum, Some(&mean[..spectrum.len()]), &perm, 0.0, init)?;
    }
}
