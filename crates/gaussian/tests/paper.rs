//! Pierret–Galerne (THEORY §3): every published number, reproduced to the printed digits, from the
//! CIFAR-10 and ADSN spectra shipped in `data/` (data/README.md). A missing spectrum fails the test.

use crate::common;

use gmdiff_gaussian::published::{TABLE5, TABLE5_NFE, reproduces};
use gmdiff_gaussian::{Dynamics, Init, SpectralProblem, SpectralScore, read_spectrum};
use gmdiff_process::{GaussianPath, Process};
use gmdiff_solvers::{Builtin, Schedule};

fn w2(p: &SpectralProblem, scheme: &str, points: usize, eps: f64, init: Init) -> f64 {
    let sched = Schedule::uniform_vp(points - 1, eps).unwrap();
    p.scheme(&Builtin::from_name(scheme).unwrap(), &sched, init, &SpectralScore::Exact, false).unwrap().w2
}

/// `published` is "a" (both starts agree to two decimals) or "a / b" (init p_T / init N(0, I));
/// [`reproduces`] states the rule, including the one rounding-boundary case.
fn check_cell(p: &SpectralProblem, label: &str, scheme: &str, points: usize, eps: f64, published: &str) {
    let (pt, std) = (w2(p, scheme, points, eps, Init::Exact), w2(p, scheme, points, eps, Init::Standard));
    println!("{label:<34} N = {points:>4}: p_T {pt:.4}  N(0,I) {std:.4}   published {published}");
    assert!(reproduces(published, pt, std), "{label}, N = {points}: {pt:.4} / {std:.4} vs published {published}");
    if !published.contains(" / ") && format!("{std:.2}") != published {
        println!("    note: N(0,I) gives {std:.4}, at the rounding boundary of {published}");
    }
}

#[test]
fn table_5_cifar10() {
    let path = common::data_file("cifar10_cov_eigenvalues.npy");
    let p = SpectralProblem::centred(read_spectrum(&path).unwrap()).unwrap();
    assert_eq!(p.dim(), 3072);
    for row in TABLE5 {
        for (k, &n) in TABLE5_NFE.iter().enumerate() {
            check_cell(&p, row.label, row.scheme, (row.points)(n), row.eps, row.cells[k]);
        }
    }
    // The honest Heun column (N = NFE/2 points, NFE score evaluations), printed beside the quirk.
    for eps in [1e-5, 1e-3] {
        let row: Vec<String> = TABLE5_NFE
            .iter()
            .map(|&n| format!("{:.2} / {:.2}", w2(&p, "heun", n / 2, eps, Init::Exact), w2(&p, "heun", n / 2, eps, Init::Standard)))
            .collect();
        println!("Heun (N = NFE/2, honest), ε = {eps:e}: {row:?}");
    }
    // At ε = 0 Heun and RK4 divide by λ_i(0) = 0 for the 9 zero eigenvalues: ∞, never NaN.
    assert_eq!(w2(&p, "heun", 50, 0.0, Init::Standard), f64::INFINITY);
    assert_eq!(w2(&p, "rk4", 50, 0.0, Init::Exact), f64::INFINITY);
}

#[test]
fn continuous_truncation_and_figure_1a_cifar10() {
    let path = common::data_file("cifar10_cov_eigenvalues.npy");
    let p = SpectralProblem::centred(read_spectrum(&path).unwrap()).unwrap();
    let vp = Process::default();
    let sde = p.continuous(Dynamics::Sde, &vp, 0.0, Init::Standard, None).unwrap().w2;
    let ode = p.continuous(Dynamics::Ode, &vp, 0.0, Init::Standard, None).unwrap().w2;
    println!("continuous SDE {sde:.3e} (published 6.7e-4), ODE {ode:.4} (published 0.0730)");
    assert_eq!(format!("{sde:.1e}"), "6.7e-4");
    assert_eq!(format!("{ode:.4}"), "0.0730");
    for (eps, published) in [(1e-5, "4.1e-3"), (1e-4, "0.026"), (1e-3, "0.178"), (1e-2, "1.355")] {
        let t = p.truncation(&vp, eps).unwrap();
        println!("truncation ε = {eps:e}: {t:.4e} (published {published})");
        let ours = if published.contains('e') { format!("{t:.1e}") } else { format!("{t:.3}") };
        assert_eq!(ours, published);
    }
    // Figure 1a: NFE 1000, ε = 0, N(0, I).
    let gap = p.init_gap(&vp).unwrap();
    assert_eq!(format!("{gap:.5}"), "0.00547", "W2(N(0,I), p_T) = {gap}");
    for (scheme, published) in [("em", "0.160"), ("ei", "0.160"), ("ddpm", "0.234"), ("euler", "0.167")] {
        let sched = Schedule::uniform_vp(999, 0.0).unwrap();
        let r = p.scheme(&Builtin::from_name(scheme).unwrap(), &sched, Init::Standard, &SpectralScore::Exact, true).unwrap();
        let traj = r.trajectory.unwrap();
        assert_eq!(traj.len(), 1000);
        assert_eq!(traj[0], r.w2);
        // At the start (forward time T) the law is N(0, I): the trajectory ends at W2(N(0,I), p_T).
        assert!((traj[999] - gap).abs() < 1e-12, "{scheme}: {} vs {gap}", traj[999]);
        println!("Figure 1a {scheme}: final {:.4} (published {published})", r.w2);
        assert_eq!(format!("{:.3}", r.w2), published);
    }
    // Prop. 4: along the trajectory the exact SDE is never worse than the exact ODE.
    let grid: Vec<f64> = (0..=200).map(|k| 1.0 - k as f64 / 200.0).collect();
    let s = p.continuous(Dynamics::Sde, &vp, 0.0, Init::Standard, Some(&grid)).unwrap().trajectory.unwrap();
    let o = p.continuous(Dynamics::Ode, &vp, 0.0, Init::Standard, Some(&grid)).unwrap().trajectory.unwrap();
    for (a, b) in s.iter().zip(&o) {
        assert!(a <= &(b + 1e-15), "Prop. 4 fails: SDE {a} > ODE {b}");
    }
    let _ = vp.horizon();
}

#[test]
fn adsn_em_and_heun() {
    let path = common::data_file("adsn_fabric_eigenvalues.npy");
    let p = SpectralProblem::centred(read_spectrum(&path).unwrap()).unwrap();
    assert_eq!(p.dim(), 196_608);
    for init in [Init::Standard, Init::Exact] {
        let em = w2(&p, "em", 1000, 1e-3, init);
        let heun = w2(&p, "heun", 1000, 1e-3, init);
        println!("ADSN {init:?}: EM {em:.4} (published 5.162), Heun {heun:.4} (published 3.731)");
        assert_eq!(format!("{em:.3}"), "5.162");
        assert_eq!(format!("{heun:.3}"), "3.731");
    }
}

#[test]
fn adsn_six_schemes_timing() {
    let path = common::data_file("adsn_fabric_eigenvalues.npy");
    let p = SpectralProblem::centred(read_spectrum(&path).unwrap()).unwrap();
    let sched = Schedule::uniform_vp(1000, 1e-3).unwrap();
    let t0 = std::time::Instant::now();
    for s in ["em", "ei", "ddpm", "euler", "heun", "rk4"] {
        let r = p.scheme(&Builtin::from_name(s).unwrap(), &sched, Init::Standard, &SpectralScore::Exact, false).unwrap();
        assert!(r.w2.is_finite());
    }
    println!("ADSN d = 196608, 1000 steps, six schemes: {:.3} s", t0.elapsed().as_secs_f64());
}
