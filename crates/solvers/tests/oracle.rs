//! The generic step code, run on exact laws, against the hand-written per-eigenvalue recurrences of
//! THEORY §3 (the oracle), on held-out step counts, early stops, starts and spectra.

use crate::common;
use common::{recurrence, unit};
use gmdiff_solvers::{Builtin, Diag, Heun, LawStart, Op, Schedule, SpectralGaussian, output_law};

fn law_variances(scheme: &str, spectrum: &[f64], steps: usize, eps: f64, exact: bool) -> Vec<f64> {
    let target = SpectralGaussian::centred(spectrum.to_vec()).unwrap();
    let sched = Schedule::uniform_vp(steps, eps).unwrap();
    let start = if exact { LawStart::Exact } else { LawStart::<Diag>::Standard };
    let out = output_law(&Builtin::from_name(scheme).unwrap(), &sched, &target, start, |_, _| Ok(())).unwrap();
    assert!(out.law.mean.is_none(), "centred data must stay centred");
    match out.law.cov {
        Op::Full(Diag(v)) => v,
        Op::Scalar(s) => vec![s; spectrum.len()],
    }
}

#[test]
fn six_paper_schemes_match_the_theory_recurrences() {
    // Held-out configurations: odd step counts, several ε, both starts, a spectrum with zeros,
    // tiny and large eigenvalues.
    let mut spectrum: Vec<f64> = (0..40).map(|i| 10f64.powf(-4.0 + 6.0 * unit(i))).collect();
    spectrum.extend([0.0, 1.0, 1e-8, 30.0]);
    let mut worst: f64 = 0.0;
    for scheme in ["em", "ei", "ddpm", "euler", "heun", "rk4"] {
        for &(steps, eps) in &[(37usize, 1e-3), (113, 1e-2), (250, 1e-5), (61, 0.0)] {
            if eps == 0.0 && (scheme == "heun" || scheme == "rk4") {
                continue; // they evaluate the score at t = 0, where zero eigenvalues make it infinite
            }
            if scheme == "ddpm" && steps < 40 {
                continue; // β_k = Δ β(T) ≥ 1 would be refused
            }
            for exact in [false, true] {
                let got = law_variances(scheme, &spectrum, steps, eps, exact);
                for (i, &lam) in spectrum.iter().enumerate() {
                    let want = recurrence(scheme, lam, steps, eps, exact);
                    let rel = (got[i] - want).abs() / want.abs().max(1e-300);
                    worst = worst.max(rel);
                    assert!(
                        rel < 1e-9,
                        "{scheme} steps {steps} eps {eps} exact {exact} λ = {lam}: law {} vs recurrence {want} (rel {rel:e})",
                        got[i]
                    );
                }
            }
        }
    }
    println!("worst relative gap to the THEORY §3 recurrences: {worst:e}");
}

#[test]
fn heun_at_eps_zero_reports_a_singular_score() {
    let target = SpectralGaussian::centred(vec![0.0, 1.0]).unwrap();
    let sched = Schedule::uniform_vp(20, 0.0).unwrap();
    let err = output_law(&Heun, &sched, &target, LawStart::<Diag>::Standard, |_, _| Ok(())).unwrap_err();
    assert!(matches!(err, gmdiff_solvers::SolverError::SingularScore { t } if t == 0.0), "{err}");
}
