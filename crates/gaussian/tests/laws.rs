//! The gaussian crate against independent oracles: the THEORY §3 per-eigenvalue recurrences
//! (held-out configurations, 1e-9 relative), continuous laws for non-centred data, the dense and
//! spectral paths against each other, spectra I/O, and ∞ (never NaN).

use gmdiff_gaussian::{DenseProblem, Dynamics, Init, SpectralProblem, SpectralScore, continuous_coordinate, read_spectrum};
use gmdiff_process::{ForwardProcess, GaussianPath, Process, VpLinear};
use gmdiff_solvers::{Builtin, EulerMaruyama, Schedule};

fn big_bt(t: f64) -> f64 {
    0.5 * VpLinear::default().integrated_beta(t)
}
fn bt(t: f64) -> f64 {
    0.5 * VpLinear::default().beta(t)
}
fn lam_t(lam: f64, t: f64) -> f64 {
    let e = (-2.0 * big_bt(t)).exp();
    e * lam + 1.0 - e
}

/// THEORY §3, written out independently of the library: output variance of one eigenvalue.
fn recurrence(scheme: &str, lam: f64, points: usize, eps: f64, exact: bool) -> f64 {
    let tr: Vec<f64> = (0..points).map(|k| (1.0 - eps) * k as f64 / (points - 1) as f64).collect();
    let delta = tr[1] - tr[0];
    let a = |s: f64| bt(s) * (1.0 - 1.0 / lam_t(lam, s));
    let mut v = if exact { lam_t(lam, 1.0) } else { 1.0 };
    for k in 0..points - 1 {
        let (tk, tk1) = (1.0 - tr[k], 1.0 - tr[k + 1]);
        let (l, b) = (lam_t(lam, tk), bt(tk));
        v = match scheme {
            "em" => (1.0 + delta * b * (1.0 - 2.0 / l)).powi(2) * v + 2.0 * delta * b,
            "ei" => {
                let db = big_bt(tk) - big_bt(tk1);
                (1.0 + (db.exp() - 1.0) * (1.0 - 2.0 / l)).powi(2) * v + ((2.0 * db).exp() - 1.0)
            }
            "ddpm" => {
                let bk = 2.0 * delta * b;
                (1.0 - bk / l).powi(2) / (1.0 - bk) * v + bk
            }
            "euler" => (1.0 + delta * a(tk)).powi(2) * v,
            "heun" => (1.0 + delta / 2.0 * a(tk) + delta / 2.0 * a(tk1) * (1.0 + delta * a(tk))).powi(2) * v,
            "rk4" => {
                let c1 = a(tk);
                let c2 = a(tk - delta / 2.0) * (1.0 + delta / 2.0 * c1);
                let c3 = a(tk - delta / 2.0) * (1.0 + delta / 2.0 * c2);
                let c4 = a(tk1) * (1.0 + delta * c3);
                (1.0 + delta / 6.0 * (c1 + 2.0 * c2 + 2.0 * c3 + c4)).powi(2) * v
            }
            _ => unreachable!(),
        };
    }
    v
}

fn spectrum() -> Vec<f64> {
    // A power law with repeats and zeros (exercises the compression), plus a few extremes.
    let mut s: Vec<f64> = (1..=300).map(|i| 5.0 * (i as f64).powf(-1.3)).collect();
    s.extend([0.0, 0.0, 0.0, 2.0, 2.0, 1e-9, 40.0]);
    s
}

#[test]
fn w2_matches_the_recurrence_oracle_on_held_out_configurations() {
    let s = spectrum();
    let p = SpectralProblem::centred(s.clone()).unwrap();
    for scheme in ["em", "ei", "ddpm", "euler", "heun", "rk4"] {
        for (points, eps) in [(77usize, 2e-3), (301, 1e-4), (64, 5e-2)] {
            for (init, exact) in [(Init::Standard, false), (Init::Exact, true)] {
                let got = p
                    .scheme(
                        &Builtin::from_name(scheme).unwrap(),
                        &Schedule::uniform_vp(points - 1, eps).unwrap(),
                        init,
                        &SpectralScore::Exact,
                        false,
                    )
                    .unwrap()
                    .w2;
                let want: f64 =
                    s.iter().map(|&l| (recurrence(scheme, l, points, eps, exact).sqrt() - l.sqrt()).powi(2)).sum::<f64>().sqrt();
                assert!((got - want).abs() <= 1e-9 * want, "{scheme} N = {points} ε = {eps} {init:?}: {got} vs {want}");
            }
        }
    }
}

#[test]
fn zero_eigenvalue_at_eps_zero_gives_infinity_not_nan() {
    let p = SpectralProblem::centred(spectrum()).unwrap();
    for scheme in ["heun", "rk4"] {
        let r = p
            .scheme(
                &Builtin::from_name(scheme).unwrap(),
                &Schedule::uniform_vp(30, 0.0).unwrap(),
                Init::Standard,
                &SpectralScore::Exact,
                true,
            )
            .unwrap();
        assert_eq!(r.w2, f64::INFINITY);
        assert_eq!(r.kl, f64::INFINITY);
        assert!(r.note.is_some());
        let t = r.trajectory.unwrap();
        assert!(t.iter().all(|v| !v.is_nan()));
        assert_eq!(t[0], f64::INFINITY);
        assert!(t[30].is_finite(), "the start N(0, I) is finite");
    }
}

#[test]
fn non_centred_sampler_laws_converge_to_the_continuous_laws() {
    // EM → exact SDE and Euler → exact ODE, from N(0, I), non-centred data, as steps grow:
    // the gap shrinks like 1/S (so the derived mean shift e^{−B̃_t}·ρ is right).
    let lam = vec![0.3, 1.0, 2.5];
    let mean = vec![1.0, -2.0, 0.5];
    let p = SpectralProblem::new(lam.clone(), mean.clone()).unwrap();
    let vp = Process::default();
    let eps = 1e-2;
    let (top, at_eps) = (vp.at(1.0).unwrap(), vp.at(eps).unwrap());
    for (scheme, dynamics) in [("em", Dynamics::Sde), ("euler", Dynamics::Ode), ("ei", Dynamics::Sde), ("rk4", Dynamics::Ode)] {
        let exact: Vec<(f64, f64)> =
            lam.iter().zip(&mean).map(|(&l, &m)| continuous_coordinate(dynamics, l, m, &top, &at_eps, 0.0, 1.0)).collect();
        let gaps: Vec<f64> = [200usize, 400, 800]
            .iter()
            .map(|&n| {
                let sched = Schedule::uniform_vp(n, eps).unwrap();
                let (m, v) =
                    p.scheme_law(&Builtin::from_name(scheme).unwrap(), &sched, Init::Standard, &SpectralScore::Exact).unwrap().unwrap();
                // W2 between the sampler's law and the continuous law (commuting, so per coordinate).
                (0..3).map(|i| (m[i] - exact[i].0).powi(2) + (v[i].sqrt() - exact[i].1.sqrt()).powi(2)).sum::<f64>().sqrt()
            })
            .collect();
        let order = if scheme == "rk4" { 4.0 } else { 1.0 };
        for w in gaps.windows(2) {
            let slope = (w[0] / w[1]).log2();
            assert!((slope - order).abs() < 0.3, "{scheme}: gaps {gaps:?}");
        }
    }
    // Directly: the continuous coordinate law from p_T is p_t for both dynamics.
    let (top, at) = (vp.at(1.0).unwrap(), vp.at(0.4).unwrap());
    for d in [Dynamics::Sde, Dynamics::Ode] {
        let (mu, v) = continuous_coordinate(d, 2.0, 3.0, &top, &at, top.a * 3.0, top.a * top.a * 2.0 + top.b * top.b);
        assert!((mu - at.a * 3.0).abs() < 1e-14 && (v - (at.a * at.a * 2.0 + at.b * at.b)).abs() < 1e-14);
    }
}

#[test]
fn dense_and_spectral_paths_agree() {
    // A rotated covariance: the dense path (Bures) equals the spectral path (commuting formula).
    let (c, s) = (0.6f64, 0.8f64);
    let u = faer::mat![[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]];
    let lam = [0.2, 1.5, 0.0];
    let sigma = faer::Mat::from_fn(3, 3, |i, j| (0..3).map(|k| u[(i, k)] * lam[k] * u[(j, k)]).sum());
    let mu = vec![0.5, -1.0, 2.0];
    let dense = DenseProblem::new(mu, sigma).unwrap();
    let spectral = dense.spectral().unwrap();
    for scheme in ["em", "ddpm", "heun", "dpmpp2m", "ode-ei"] {
        let sched = Schedule::uniform_vp(60, 1e-3).unwrap();
        let sm = Builtin::from_name(scheme).unwrap();
        // A copy of the target runs the dense engine (the target itself takes the spectral route).
        let a = dense.scheme(&sm, &sched, Init::Standard, &dense.target().clone(), true).unwrap();
        let b = spectral.scheme(&sm, &sched, Init::Standard, &SpectralScore::Exact, true).unwrap();
        assert!((a.w2 - b.w2).abs() < 1e-6 * b.w2.max(1e-3), "{scheme}: dense {} vs spectral {}", a.w2, b.w2);
        for (x, y) in a.trajectory.unwrap().iter().zip(b.trajectory.unwrap()) {
            assert!((x - y).abs() < 1e-6 * y.max(1e-3), "{scheme} trajectory: {x} vs {y}");
        }
    }
}

#[test]
fn decomposition_parts_are_consistent() {
    let p = SpectralProblem::centred(spectrum()).unwrap();
    let vp = Process::default();
    let d = p.decompose(&EulerMaruyama, &vp, 100, 1e-3, Init::Standard, &SpectralScore::Scaled(0.05)).unwrap();
    // Triangle inequality: total ≤ truncation + initialization + discretization + score is not an
    // identity for W2 of compositions, but each part is ≥ 0 and total is at most their sum here.
    assert!(d.total <= d.truncation + d.initialization + d.discretization + d.score + 1e-12, "{d:?}");
    assert!(d.score > 0.0 && d.initialization > 0.0 && d.discretization > 0.0);
    let exact = p.decompose(&EulerMaruyama, &vp, 100, 1e-3, Init::Exact, &SpectralScore::Exact).unwrap();
    assert_eq!((exact.initialization, exact.score), (0.0, 0.0));
    assert!((exact.truncation - p.truncation(&vp, 1e-3).unwrap()).abs() < 1e-15);
}

#[test]
fn spectra_are_read_from_npy_f32_f64_and_text() {
    let dir = std::env::temp_dir().join(format!("gmdiff-spectrum-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Hand-built .npy files (format 1.0): magic, version, header length, header, data.
    let npy = |descr: &str, data: Vec<u8>, n: usize| {
        let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({n},), }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((header.len() as u16).to_le_bytes());
        b.extend(header.as_bytes());
        b.extend(data);
        b
    };
    let v = [0.5f64, 0.0, 3.25];
    std::fs::write(dir.join("a.npy"), npy("<f8", v.iter().flat_map(|x| x.to_le_bytes()).collect(), 3)).unwrap();
    std::fs::write(dir.join("b.npy"), npy("<f4", v.iter().flat_map(|x| (*x as f32).to_le_bytes()).collect(), 3)).unwrap();
    std::fs::write(dir.join("c.txt"), "0.5, 0\n3.25 # last\n").unwrap();
    for f in ["a.npy", "b.npy", "c.txt"] {
        assert_eq!(read_spectrum(&dir.join(f)).unwrap(), v.to_vec(), "{f}");
    }
    std::fs::write(dir.join("bad.txt"), "1 -2\n").unwrap();
    assert!(read_spectrum(&dir.join("bad.txt")).unwrap_err().to_string().contains("must be finite and ≥ 0"));
    std::fs::write(dir.join("bad.npy"), npy("<i4", vec![0; 12], 3)).unwrap();
    assert!(read_spectrum(&dir.join("bad.npy")).is_err());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn dense_decomposition_matches_the_spectral_one_for_a_commuting_error() {
    let (c, s) = (0.8f64, 0.6f64);
    let u = faer::mat![[c, -s], [s, c]];
    let lam = [0.3, 1.7];
    let sigma = faer::Mat::from_fn(2, 2, |i, j| (0..2).map(|k| u[(i, k)] * lam[k] * u[(j, k)]).sum());
    let dense = DenseProblem::new(vec![0.4, -0.9], sigma).unwrap();
    let spectral = dense.spectral().unwrap();
    let vp = Process::default();
    for (scheme, init) in [("em", Init::Standard), ("heun", Init::Exact), ("ddpm", Init::Standard)] {
        let sm = Builtin::from_name(scheme).unwrap();
        let a = dense.decompose(&sm, &vp, 80, 2e-3, init, &gmdiff_solvers::ScaledScore::new(dense.target().clone(), 0.07)).unwrap();
        let b = spectral.decompose(&sm, &vp, 80, 2e-3, init, &SpectralScore::Scaled(0.07)).unwrap();
        for (x, y) in [
            (a.total, b.total),
            (a.truncation, b.truncation),
            (a.initialization, b.initialization),
            (a.discretization, b.discretization),
            (a.score, b.score),
        ] {
            assert!((x - y).abs() <= 1e-7 * y.max(1e-6), "{scheme}: dense {a:?} vs spectral {b:?}");
        }
    }
}

/// `DenseProblem::scheme` with the problem's own target takes the eigenbasis route (lane by lane,
/// closed-form W2 and KL); with a copy of the target it runs the dense engine (`d × d` products,
/// Bures W2 and `kl_gaussian`). Independent arithmetic for one law: on a random rotated covariance
/// (`A Aᵀ/d + 0.1 I`, a non-zero mean, d = 24), nine schemes and both starts agree to 1e-10
/// (relative to `max(value, 1e-3)`) in W2, KL and the W2 trajectory. Measured: at most 2.4e-11
/// (W2, trajectory included) and 1.3e-11 (KL) here; at d = 512 with Heun, 100 steps, standard
/// start (the issue-18 benchmark, `cargo xtask bench law --method eigen|engine`), 2.7e-14 (W2) and
/// 8.1e-12 (KL). The dense side's Bures W2 and `kl_gaussian` go through eigendecompositions and
/// Cholesky factors whose rounding the tolerance covers with a factor ≥ 4.
#[test]
fn the_eigenbasis_route_equals_the_dense_engine() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let d = 24;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
    let mut z = || -> f64 { StandardNormal.sample(&mut rng) };
    let mean: Vec<f64> = (0..d).map(|_| z()).collect();
    let a = faer::Mat::from_fn(d, d, |_, _| z() / (d as f64).sqrt());
    let sigma = faer::Mat::from_fn(d, d, |i, j| (0..d).map(|k| a[(i, k)] * a[(j, k)]).sum::<f64>() + if i == j { 0.1 } else { 0.0 });
    let dense = DenseProblem::new(mean, sigma).unwrap();
    let copy = dense.target().clone();
    // Relative to max(|y|, 1e-3): a Bures W2 near 0 comes from tr S₁ + tr S₂ − 2 tr (…)^{1/2} with
    // O(1) traces, so its absolute rounding does not shrink with it (as in the test above).
    let rel = |x: f64, y: f64| (x - y).abs() / y.abs().max(1e-3);
    let (mut worst_w2, mut worst_kl) = (0.0f64, 0.0f64);
    for scheme in ["em", "ddpm", "heun", "dpmpp2m", "ode-ei", "rk4", "euler-a", "unipc", "lms"] {
        for init in [Init::Standard, Init::Exact] {
            let sched = Schedule::uniform_vp(50, 1e-3).unwrap();
            let sm = Builtin::from_name(scheme).unwrap();
            let fast = dense.scheme(&sm, &sched, init, dense.target(), true).unwrap();
            let slow = dense.scheme(&sm, &sched, init, &copy, true).unwrap();
            worst_w2 = worst_w2.max(rel(fast.w2, slow.w2));
            worst_kl = worst_kl.max(rel(fast.kl, slow.kl));
            assert!(rel(fast.w2, slow.w2) <= 1e-10, "{scheme}: W2 eigenbasis {} vs engine {}", fast.w2, slow.w2);
            assert!(rel(fast.kl, slow.kl) <= 1e-10, "{scheme}: KL eigenbasis {} vs engine {}", fast.kl, slow.kl);
            assert_eq!(fast.score_evals, slow.score_evals);
            for (x, y) in fast.trajectory.unwrap().iter().zip(slow.trajectory.unwrap()) {
                worst_w2 = worst_w2.max(rel(*x, y));
                assert!(rel(*x, y) <= 1e-10, "{scheme} trajectory: {x} vs {y}");
            }
        }
    }
    eprintln!("eigenbasis vs dense engine, d = {d}: max relative difference W2 {worst_w2:.1e}, KL {worst_kl:.1e}");
}
