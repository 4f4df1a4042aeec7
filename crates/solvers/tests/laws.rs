//! The exact-law route: orders of convergence of the ODE schemes, the discrete-chain DDPM law,
//! and Monte Carlo of the particle sampler against the exact law (d = 3, non-centred data,
//! non-commuting score error).

use faer::Mat;
use gmdiff_process::{DiscreteChain, GaussianPath, VpLinear};
use gmdiff_solvers::{
    Builtin, Ddim, Ddpm, Dense, DenseGaussian, Diag, DpmSolver2M, Dpom, Dpum, Euler, EulerMaruyama, Heun, LawStart, OdeExponential, Op,
    PerturbedPrecision, Rk4, Schedule, SpectralGaussian, Start, output_law, sample,
};

fn diag(op: Op<Diag>, d: usize) -> Vec<f64> {
    match op {
        Op::Full(Diag(v)) => v,
        Op::Scalar(s) => vec![s; d],
    }
}

/// max_i |v_i − λ_i(ε)| for the flow-ODE scheme started from the exact p_T (whose exact
/// solution at ε is p_ε).
fn ode_error(s: Builtin, spectrum: &[f64], steps: usize, eps: f64) -> f64 {
    let target = SpectralGaussian::centred(spectrum.to_vec()).unwrap();
    let sched = Schedule::uniform_vp(steps, eps).unwrap();
    let out = output_law(&s, &sched, &target, LawStart::Exact, |_, _| Ok(())).unwrap();
    let v = diag(out.law.cov, spectrum.len());
    let at = VpLinear::default().at(eps).unwrap();
    v.iter().zip(spectrum).map(|(v, l)| (v - (at.a * at.a * l + at.b * at.b)).abs()).fold(0.0, f64::max)
}

#[test]
fn ode_schemes_converge_with_orders_one_two_four() {
    let spectrum = [0.05, 0.3, 1.0, 2.5];
    let eps = 1e-2;
    for (s, order, steps) in [
        (Builtin::Euler(Euler), 1.0, [200usize, 400, 800]),
        (Builtin::OdeExponential(OdeExponential), 1.0, [200, 400, 800]),
        (Builtin::Heun(Heun), 2.0, [100, 200, 400]),
        (Builtin::Rk4(Rk4), 4.0, [50, 100, 200]),
        (Builtin::DpmSolver2M(DpmSolver2M::default()), 2.0, [100, 200, 400]),
    ] {
        let e: Vec<f64> = steps.iter().map(|&n| ode_error(s, &spectrum, n, eps)).collect();
        let slopes: Vec<f64> = (0..2).map(|i| (e[i] / e[i + 1]).ln() / 2f64.ln()).collect();
        println!("{}: errors {e:?}, slopes {slopes:?}", s.name());
        for sl in slopes {
            assert!((sl - order).abs() < 0.25, "{}: slope {sl} vs order {order} (errors {e:?})", s.name());
        }
    }
}

#[test]
fn chain_ddpm_law_matches_the_li_cai_wei_recurrence() {
    // Y_{t−1} = (Y_t + (1 − α_t) s_t(Y_t)) / sqrt(α_t) + sqrt(1 − α_t) Z: for λ, with
    // v_t = ᾱ_t λ + 1 − ᾱ_t, var ← (1 − β_t/v_t)² / α_t · var + β_t.
    let chain = DiscreteChain::li_yan(300, 2.0, 4.0).unwrap();
    let spectrum = vec![0.0, 0.01, 0.7, 5.0];
    let target = SpectralGaussian::centred(spectrum.clone()).unwrap();
    let out = output_law(&Ddpm::default(), &Schedule::Chain(chain.clone()), &target, LawStart::<Diag>::Standard, |_, _| Ok(())).unwrap();
    let got = diag(out.law.cov, 4);
    for (i, &l) in spectrum.iter().enumerate() {
        let mut v = 1.0;
        for t in (1..=chain.len()).rev() {
            let (ab, b) = (chain.alpha_bar(t), chain.beta(t));
            let vt = ab * l + 1.0 - ab;
            v = (1.0 - b / vt).powi(2) / (1.0 - b) * v + b;
        }
        assert!((got[i] - v).abs() <= 1e-9 * v.max(1e-12), "λ = {l}: {} vs {v}", got[i]);
    }
}

#[test]
fn monte_carlo_of_particles_matches_the_exact_law_in_three_dimensions() {
    // Non-centred data, full covariance, and a score error E that does not commute with Σ.
    let mu = vec![1.5, -0.5, 0.8];
    let sigma = faer::mat![[1.0, 0.4, 0.1], [0.4, 0.6, -0.2], [0.1, -0.2, 0.3]];
    let g = DenseGaussian::new(mu, sigma).unwrap();
    let e = Dense(faer::mat![[0.05, 0.1, 0.0], [0.1, -0.03, 0.08], [0.0, 0.08, 0.02]]);
    let score = PerturbedPrecision::new(g.clone(), e);
    let n = 60_000;
    for (s, steps, eps) in [
        (Builtin::EulerMaruyama(EulerMaruyama), 23usize, 2e-2),
        (Builtin::Ddpm(Ddpm::default()), 41, 1e-2),
        (Builtin::Heun(Heun), 15, 3e-2),
        (Builtin::DpmSolver2M(DpmSolver2M::default()), 12, 1e-2),
        (Builtin::Ddim(Ddim { eta: 0.7 }), 19, 1e-2),
        (Builtin::Dpum(Dpum(Default::default())), 17, 2e-2),
        (Builtin::Dpom(Dpom(Default::default())), 17, 2e-2),
    ] {
        let sched = Schedule::uniform_vp(steps, eps).unwrap();
        let law = output_law(&s, &sched, &score, LawStart::<Dense>::Exact, |_, _| Ok(())).unwrap().law;
        let m = law.mean.unwrap();
        let Op::Full(Dense(c)) = law.cov else { panic!("a dense covariance") };
        let x = sample(
            &s,
            &sched,
            &score,
            Start::Exact(&gmdiff_mixture::GaussianMixture::from_gaussian(
                gmdiff_mixture::Gaussian::new(g.mean().to_vec(), gmdiff_mixture::Covariance::full(g.cov().to_owned()).unwrap()).unwrap(),
            )),
            n,
            11,
        )
        .unwrap()
        .samples;
        check_moments(s.name(), &x, &m, &c, 5.0);
    }
}

/// Sample mean and covariance within `k` standard errors of the exact law (Gaussian formulas:
/// se(mean_j) = sqrt(C_jj/n), se(cov_ij) = sqrt((C_ii C_jj + C_ij²)/n)).
pub fn check_moments(name: &str, x: &Mat<f64>, m: &[f64], c: &Mat<f64>, k: f64) {
    let (n, d) = (x.nrows(), x.ncols());
    let nf = n as f64;
    let xm: Vec<f64> = (0..d).map(|j| (0..n).map(|i| x[(i, j)]).sum::<f64>() / nf).collect();
    for j in 0..d {
        let se = (c[(j, j)] / nf).sqrt();
        assert!((xm[j] - m[j]).abs() < k * se, "{name}: mean[{j}] {} vs exact {} (se {se:e})", xm[j], m[j]);
    }
    for a in 0..d {
        for b in 0..d {
            let sc = (0..n).map(|i| (x[(i, a)] - xm[a]) * (x[(i, b)] - xm[b])).sum::<f64>() / (nf - 1.0);
            let se = ((c[(a, a)] * c[(b, b)] + c[(a, b)] * c[(a, b)]) / nf).sqrt();
            assert!((sc - c[(a, b)]).abs() < k * se, "{name}: cov[{a},{b}] {sc} vs exact {} (se {se:e})", c[(a, b)]);
        }
    }
}
