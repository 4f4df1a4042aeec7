//! Guided sampling and the measurements of its outputs: exact output densities against the exact
//! Gaussian output law, bit-identical samples and thread counts, and the claims' shapes
//! (confidence up, entropy down with η) on THEORY §4's setting.

use faer::Mat;
use gmdiff_guidance::{ClassConditional, Guidance, GuidanceError, GuidedScore, confidence, flow_log_density, knn_entropy, map_log_density};
use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture};
use gmdiff_process::{Ou, Process, TimeGrid};
use gmdiff_solvers::{
    Algebra, Builtin, Ddim, Ddpm, Dense, DenseGaussian, DpmSolver2M, Euler, EulerMaruyama, Heun, LawSampler, LawStart, OdeExponential, Rk4,
    Sampler, SamplerInfo, Schedule, SolverError, Start, StepInfo, output_law, sample,
};

fn ou_schedule(steps: usize) -> Schedule {
    let p = Process::Ou(Ou::new(5.0).unwrap());
    Schedule::grid(p, TimeGrid::uniform(&p, steps, 1e-3).unwrap())
}

/// THEORY §4: unit covariances at (2, 0), (−1, ±1.7), equal weights.
fn theory_model() -> ClassConditional {
    let mus = [[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]];
    let comps = mus.iter().map(|m| Gaussian::new(m.to_vec(), Covariance::isotropic(2, 1.0).unwrap()).unwrap()).collect();
    ClassConditional::per_component(GaussianMixture::new(vec![1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0], comps).unwrap())
}

/// A mixture whose class 1 is the single Gaussian `N(μ, Σ)` (full covariance), so that with η = 0 the
/// guided field is the exact score of that Gaussian and every sampler's output law is Gaussian.
fn gaussian_class() -> (ClassConditional, Vec<f64>, Mat<f64>) {
    let mu = vec![1.0, -0.5];
    let cov = faer::mat![[0.8, 0.3], [0.3, 0.5]];
    let comps = vec![
        Gaussian::new(vec![-3.0, 2.0], Covariance::isotropic(2, 1.0).unwrap()).unwrap(),
        Gaussian::new(mu.clone(), Covariance::full(cov.clone()).unwrap()).unwrap(),
    ];
    (ClassConditional::per_component(GaussianMixture::new(vec![0.4, 0.6], comps).unwrap()), mu, cov)
}

/// `log N(x_r; law)` for the exact output law of `sampler` on the Gaussian class.
fn exact_output_logpdf<M: LawSampler<Dense> + ?Sized>(
    sampler: &M,
    sched: &Schedule,
    mu: &[f64],
    cov: &Mat<f64>,
    x: &Mat<f64>,
) -> (Vec<f64>, f64) {
    let g = DenseGaussian::new(mu.to_vec(), cov.clone()).unwrap();
    let out = output_law(sampler, sched, &g, LawStart::<Dense>::Standard, |_, _| Ok(())).unwrap();
    let mean = out.law.mean.clone().unwrap_or(vec![0.0; 2]);
    let c = out.law.cov.to_full(2).0;
    let law = Gaussian::new(mean, Covariance::full(c).unwrap()).unwrap();
    ((0..x.nrows()).map(|r| law.logpdf(&[x[(r, 0)], x[(r, 1)]]).unwrap()).collect(), law.entropy())
}

#[test]
fn ddim_map_density_is_the_exact_gaussian_output_density() {
    let (model, mu, cov) = gaussian_class();
    let s = GuidedScore::new(model, 1, 0.0, Guidance::Classifier).unwrap();
    for steps in [5, 40] {
        let sched = ou_schedule(steps);
        for sampler in [Builtin::Ddim(Ddim { eta: 0.0 }), Builtin::Euler(Euler), Builtin::OdeExponential(OdeExponential)] {
            let out = map_log_density(&sampler, &sched, &s, 500, 11).unwrap();
            let (exact, h) = exact_output_logpdf(&sampler, &sched, &mu, &cov, &out.samples);
            let worst = out.log_density.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(worst < 1e-9, "{} S={steps}: per-sample log-density gap {worst:e}", sampler.name());
            let e = out.entropy().unwrap();
            assert!((e.mean - h).abs() < 4.0 * e.stderr, "{}: entropy {} ± {} vs closed form {h}", sampler.name(), e.mean, e.stderr);
        }
    }
}

#[test]
fn flow_density_matches_the_closed_form_and_converges_at_the_scheme_order() {
    let (model, mu, cov) = gaussian_class();
    let s = GuidedScore::new(model, 1, 0.0, Guidance::ClassifierFree).unwrap();
    // RK4: the integrated log-density agrees per sample with the exact Gaussian density of the RK4 output.
    let sched = ou_schedule(60);
    let out = flow_log_density(&Rk4, &sched, &s, 2000, 5).unwrap();
    let (exact, h) = exact_output_logpdf(&Builtin::Rk4(Rk4), &sched, &mu, &cov, &out.samples);
    let worst = out.log_density.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-5, "RK4 per-sample gap {worst:e}");
    let e = out.entropy().unwrap();
    assert!((e.mean - h).abs() < 4.0 * e.stderr + 1e-5, "entropy {} ± {} vs {h}", e.mean, e.stderr);
    // Euler: the quadrature of ∫ div is first order; the gap to the exact map density halves with h.
    let gap = |steps| {
        let sched = ou_schedule(steps);
        let f = flow_log_density(&Euler, &sched, &s, 300, 9).unwrap();
        let m = map_log_density(&Euler, &sched, &s, 300, 9).unwrap();
        assert_eq!(f.samples, m.samples);
        f.log_density.iter().zip(&m.log_density).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
    };
    let (g1, g2) = (gap(100), gap(200));
    assert!(g2 < g1 && (1.6..2.4).contains(&(g1 / g2)), "Euler gaps {g1:e}, {g2:e}");
}

#[test]
fn samples_are_those_of_the_solvers_and_independent_of_threads() {
    let model = theory_model();
    let s = GuidedScore::new(model, 0, 3.0, Guidance::Classifier).unwrap();
    let sched = ou_schedule(30);
    let pool = |k| rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap();
    for sampler in [Builtin::Heun(Heun), Builtin::Rk4(Rk4)] {
        let direct = sample(&sampler, &sched, &s, Start::Standard, 700, 21).unwrap().samples;
        let one = pool(1).install(|| flow_log_density(&sampler, &sched, &s, 700, 21).unwrap());
        let two = pool(2).install(|| flow_log_density(&sampler, &sched, &s, 700, 21).unwrap());
        assert_eq!(one.samples, direct);
        assert_eq!(one.samples, two.samples);
        assert_eq!(one.log_density, two.log_density);
    }
    let ddim = Builtin::Ddim(Ddim { eta: 0.0 });
    let direct = sample(&ddim, &sched, &s, Start::Standard, 700, 21).unwrap().samples;
    let one = pool(1).install(|| map_log_density(&ddim, &sched, &s, 700, 21).unwrap());
    let two = pool(2).install(|| map_log_density(&ddim, &sched, &s, 700, 21).unwrap());
    assert_eq!(one.samples, direct);
    assert_eq!(one.log_density, two.log_density);
    let a = pool(1).install(|| sample(&Ddpm::default(), &sched, &s, Start::Standard, 700, 4).unwrap().samples);
    let b = pool(2).install(|| sample(&Ddpm::default(), &sched, &s, Start::Standard, 700, 4).unwrap().samples);
    assert_eq!(a, b);
}

#[test]
fn guidance_raises_confidence_and_lowers_entropy() {
    let model = theory_model();
    let sched = ou_schedule(50);
    let n = 3000;
    let etas = [0.0, 1.0, 3.0];
    for sampler in [Builtin::Ddpm(Ddpm::default()), Builtin::Ddim(Ddim { eta: 0.0 })] {
        let c: Vec<_> = etas
            .iter()
            .map(|&eta| {
                let s = GuidedScore::new(model.clone(), 0, eta, Guidance::Classifier).unwrap();
                let x = sample(&sampler, &sched, &s, Start::Standard, n, 2).unwrap().samples;
                confidence(&model, 0, x.as_ref()).unwrap()
            })
            .collect();
        for w in c.windows(2) {
            assert!(w[1].mean - w[0].mean > 2.0 * (w[0].stderr.powi(2) + w[1].stderr.powi(2)).sqrt(), "{}: {:?}", sampler.name(), c);
        }
    }
    let ddim: Vec<_> = etas
        .iter()
        .map(|&eta| {
            let s = GuidedScore::new(model.clone(), 0, eta, Guidance::Classifier).unwrap();
            map_log_density(&Ddim { eta: 0.0 }, &sched, &s, n, 3).unwrap().entropy().unwrap()
        })
        .collect();
    let flow: Vec<_> = etas
        .iter()
        .map(|&eta| {
            let s = GuidedScore::new(model.clone(), 0, eta, Guidance::Classifier).unwrap();
            flow_log_density(&Heun, &sched, &s, n, 3).unwrap().entropy().unwrap()
        })
        .collect();
    for h in [&ddim, &flow] {
        for w in h.windows(2) {
            assert!(w[0].mean - w[1].mean > 2.0 * (w[0].stderr.powi(2) + w[1].stderr.powi(2)).sqrt(), "{h:?}");
        }
    }
    // The k-NN estimate of the same DDIM outputs agrees with the exact one to its bias.
    let s = GuidedScore::new(model.clone(), 0, 1.0, Guidance::Classifier).unwrap();
    let out = map_log_density(&Ddim { eta: 0.0 }, &sched, &s, n, 3).unwrap();
    let knn = knn_entropy(out.samples.as_ref(), 5).unwrap();
    assert!((knn - ddim[1].mean).abs() < 0.1, "k-NN {knn} vs exact {}", ddim[1].mean);
}

#[test]
fn unsupported_samplers_are_typed_errors() {
    let s = GuidedScore::new(theory_model(), 0, 1.0, Guidance::Classifier).unwrap();
    let sched = ou_schedule(10);
    for sampler in [
        Builtin::Ddpm(Ddpm::default()),
        Builtin::Ddim(Ddim { eta: 0.0 }),
        Builtin::OdeExponential(OdeExponential),
        Builtin::DpmSolver2M(DpmSolver2M::default()),
    ] {
        assert!(matches!(flow_log_density(&sampler, &sched, &s, 10, 0), Err(GuidanceError::Unsupported { .. })), "{}", sampler.name());
    }
    for sampler in [
        Builtin::Ddpm(Ddpm::default()),
        Builtin::Ddim(Ddim { eta: 0.5 }),
        Builtin::Heun(Heun),
        Builtin::Rk4(Rk4),
        Builtin::DpmSolver2M(DpmSolver2M::default()),
        Builtin::EulerMaruyama(EulerMaruyama),
    ] {
        assert!(matches!(map_log_density(&sampler, &sched, &s, 10, 0), Err(GuidanceError::Unsupported { .. })), "{}", sampler.name());
    }
    assert!(matches!(confidence(&theory_model(), 0, faer::mat![[1.0, 0.0]].as_ref()), Err(GuidanceError::TooFewValues { found: 1 })));
}

/// A sampler outside the solvers crate: the explicit midpoint rule on the flow drift
/// `f = β̃ (x + s)`, `X ← X + h f(t − h/2, X + h/2 f(t, X))`.
#[derive(Debug)]
struct Midpoint;

impl SamplerInfo for Midpoint {
    fn name(&self) -> &'static str {
        "midpoint"
    }
}

impl<A: Algebra + ?Sized> Sampler<A> for Midpoint {
    fn step(&self, alg: &mut A, info: &StepInfo, mut state: Vec<A::Value>) -> Result<Vec<A::Value>, SolverError> {
        let (t, m, h) = (&info.from, info.mid.as_ref().expect("a grid"), info.h);
        let s1 = alg.score(t, &state[0])?;
        let k1 = alg.lin(&[(-t.f, &state[0]), (0.5 * t.g2, &s1)]);
        let y = alg.lin(&[(1.0, &state[0]), (0.5 * h, &k1)]);
        let s2 = alg.score(m, &y)?;
        let k2 = alg.lin(&[(-m.f, &y), (0.5 * m.g2, &s2)]);
        state[0] = alg.lin(&[(1.0, &state[0]), (h, &k2)]);
        Ok(state)
    }
}

#[test]
fn a_user_runge_kutta_sampler_gets_the_flow_density_and_other_maps_do_not() {
    let (model, mu, cov) = gaussian_class();
    let s = GuidedScore::new(model, 1, 0.0, Guidance::ClassifierFree).unwrap();
    // Recognised from its step code as a Runge–Kutta step on the drift; same samples as the solvers.
    let mut gaps = Vec::new();
    for steps in [30, 60] {
        let sched = ou_schedule(steps);
        let out = flow_log_density(&Midpoint, &sched, &s, 1000, 5).unwrap();
        assert_eq!(out.samples, sample(&Midpoint, &sched, &s, Start::Standard, 1000, 5).unwrap().samples);
        assert_eq!(out.score_evals, 2 * steps);
        // The integrated log-density and the exact density of the discrete map's output both
        // converge to the flow's at order 2: the per-sample gap falls by ≈ 4 when S doubles.
        let (exact, _) = exact_output_logpdf(&Midpoint, &sched, &mu, &cov, &out.samples);
        gaps.push(out.log_density.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max));
    }
    let ratio = gaps[0] / gaps[1];
    println!("midpoint per-sample log-density gaps at 30/60 steps {gaps:?}, ratio {ratio:.3}");
    assert!((3.0..5.5).contains(&ratio), "midpoint gaps {gaps:?}, ratio {ratio}");
    // The flow exponential integrator is X + (e^δ − 1)/β̃ · f: a step of the wrong length, refused.
    let sched = ou_schedule(30);
    assert!(matches!(flow_log_density(&OdeExponential, &sched, &s, 10, 0), Err(GuidanceError::Unsupported { .. })));
}

/// The flow log-density on the non-VP paths: the augmented score `r (d + ℓ) − ∇·s`, `r = 2f/g²`,
/// must give the exact Gaussian density of the RK4 output (from the exact-law engine, an
/// independent route through the same step) on VE, EDM, sub-VP and flow (`T < 1`), from each
/// path's standard start `N(0, s² I)`; and DDIM's exact map density likewise.
#[test]
fn output_densities_are_exact_on_every_path() {
    use gmdiff_process::{Edm, Flow, SubVp, Ve};
    let (model, mu, cov) = gaussian_class();
    let s = GuidedScore::new(model, 1, 0.0, Guidance::ClassifierFree).unwrap();
    let paths = [
        (Process::Ve(Ve::default()), 1e-3),
        (Process::Edm(Edm::default()), 0.002),
        (Process::SubVp(SubVp::default()), 1e-3),
        (Process::Flow(Flow::new(0.99).unwrap()), 1e-3),
    ];
    for (p, eps) in paths {
        let sched = Schedule::grid(p, TimeGrid::karras(&p, 80, eps, 7.0).unwrap());
        let out = flow_log_density(&Rk4, &sched, &s, 500, 5).unwrap();
        let (exact, _) = exact_output_logpdf(&Builtin::Rk4(Rk4), &sched, &mu, &cov, &out.samples);
        let worst = out.log_density.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-4, "RK4 on {p:?}: per-sample gap {worst:e}");
        let ddim = Builtin::Ddim(Ddim { eta: 0.0 });
        let map = map_log_density(&ddim, &sched, &s, 500, 5).unwrap();
        let (exact, _) = exact_output_logpdf(&ddim, &sched, &mu, &cov, &map.samples);
        let worst = map.log_density.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-9, "DDIM map on {p:?}: per-sample gap {worst:e}");
    }
}
