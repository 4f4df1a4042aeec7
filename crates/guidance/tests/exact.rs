//! Exactness of the guidance algebra: CFG = classifier guidance on exact scores, closed-form
//! classifier gradients and Jacobians against finite differences and against the mixture Hessians,
//! THEORY §4's softmax formulas, and typed errors.

use faer::{Mat, MatRef};
use gmdiff_guidance::{ClassConditional, Guidance, GuidanceError, GuidedScore, ScoreJacobian};
use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture};
use gmdiff_process::{Coefficients, GaussianPath, Ou, Score, VpLinear, particle_rng};
use rand::RngExt;
use rand_distr::StandardNormal;

/// A 3-D, 4-component mixture with full, diagonal and isotropic covariances; classes {0, 2}, {1}, {3}.
fn model() -> ClassConditional {
    let full = Covariance::full(faer::mat![[1.0, 0.3, -0.2], [0.3, 0.6, 0.1], [-0.2, 0.1, 0.8]]).unwrap();
    let comps = vec![
        Gaussian::new(vec![1.0, 0.0, -0.5], full).unwrap(),
        Gaussian::new(vec![-1.5, 1.0, 0.5], Covariance::diagonal(vec![0.4, 1.2, 0.7]).unwrap()).unwrap(),
        Gaussian::new(vec![0.5, -1.0, 1.5], Covariance::isotropic(3, 0.5).unwrap()).unwrap(),
        Gaussian::new(vec![2.0, 2.0, 0.0], Covariance::isotropic(3, 1.5).unwrap()).unwrap(),
    ];
    let m = GaussianMixture::new(vec![0.25, 0.35, 0.15, 0.25], comps).unwrap();
    ClassConditional::new(m, vec![vec![0, 2], vec![1], vec![3]]).unwrap()
}

fn points(n: usize, d: usize, seed: u64, scale: f64) -> Mat<f64> {
    Mat::from_fn(n, d, |i, j| {
        let mut rng = particle_rng(seed, (i * d + j) as u64);
        scale * rng.sample::<f64, _>(StandardNormal)
    })
}

fn times() -> Vec<Coefficients> {
    let ou = Ou::new(5.0).unwrap();
    let vp = VpLinear::default();
    vec![ou.at(0.0).unwrap(), ou.at(0.05).unwrap(), ou.at(0.7).unwrap(), ou.at(3.0).unwrap(), vp.at(0.3).unwrap()]
}

fn score(s: &impl Score<Error = GuidanceError>, at: &Coefficients, x: MatRef<'_, f64>) -> Mat<f64> {
    let mut out = Mat::zeros(x.nrows(), x.ncols());
    s.score_into(at, x, out.as_mut()).unwrap();
    out
}

#[test]
fn cfg_equals_classifier_guidance_on_exact_scores() {
    let m = model();
    let x = points(300, 3, 1, 2.0);
    let mut worst: f64 = 0.0;
    for at in times() {
        for class in 0..3 {
            for eta in [0.0, 0.5, 3.0, 10.0] {
                let cg = GuidedScore::new(m.clone(), class, eta, Guidance::Classifier).unwrap();
                let cfg = GuidedScore::new(m.clone(), class, eta, Guidance::ClassifierFree).unwrap();
                let (a, b) = (score(&cg, &at, x.as_ref()), score(&cfg, &at, x.as_ref()));
                let (mut da, mut db) = (vec![0.0; 300], vec![0.0; 300]);
                let (mut sa, mut sb) = (Mat::zeros(300, 3), Mat::zeros(300, 3));
                cg.score_divergence_into(&at, x.as_ref(), sa.as_mut(), &mut da).unwrap();
                cfg.score_divergence_into(&at, x.as_ref(), sb.as_mut(), &mut db).unwrap();
                let (ja, jb) = (cg.jacobian_batch(&at, x.as_ref()).unwrap(), cfg.jacobian_batch(&at, x.as_ref()).unwrap());
                for r in 0..300 {
                    for j in 0..3 {
                        let e = (a[(r, j)] - b[(r, j)]).abs() / a[(r, j)].abs().max(1.0);
                        worst = worst.max(e);
                        // The score written with the divergence is the same field.
                        assert_eq!(sa[(r, j)], a[(r, j)]);
                        assert_eq!(sb[(r, j)], b[(r, j)]);
                    }
                    worst = worst.max((da[r] - db[r]).abs() / da[r].abs().max(1.0));
                    let tr: f64 = (0..3).map(|i| ja[r][(i, i)]).sum();
                    assert!((tr - da[r]).abs() <= 1e-11 * da[r].abs().max(1.0), "trace {tr} vs divergence {}", da[r]);
                    worst = worst.max((&ja[r] - &jb[r]).norm_max() / ja[r].norm_max().max(1.0));
                }
            }
        }
    }
    assert!(worst <= 1e-12, "worst relative CFG − CG gap {worst:e}");
}

#[test]
fn classifier_gradient_and_jacobian_match_finite_differences() {
    let m = model();
    let x = points(40, 3, 2, 1.5);
    let h = 1e-5;
    for at in times() {
        let c = m.classifier(&at).unwrap();
        for class in 0..3 {
            let g = c.gradient_batch(x.as_ref(), class).unwrap();
            let jac = c.jacobian_batch(x.as_ref(), class).unwrap();
            let tr = c.jacobian_trace_batch(x.as_ref(), class).unwrap();
            for r in 0..x.nrows() {
                for j in 0..3 {
                    let shifted = |s: f64| Mat::from_fn(1, 3, |_, k| x[(r, k)] + if k == j { s } else { 0.0 });
                    let (xp, xm) = (shifted(h), shifted(-h));
                    let lp = c.log_posterior_batch(xp.as_ref(), class).unwrap()[0];
                    let lm = c.log_posterior_batch(xm.as_ref(), class).unwrap()[0];
                    let fd = (lp - lm) / (2.0 * h);
                    assert!((fd - g[(r, j)]).abs() <= 1e-6 * (1.0 + g[(r, j)].abs()), "gradient {j}: fd {fd} vs {}", g[(r, j)]);
                    let gp = c.gradient_batch(xp.as_ref(), class).unwrap();
                    let gm = c.gradient_batch(xm.as_ref(), class).unwrap();
                    for i in 0..3 {
                        let fd = (gp[(0, i)] - gm[(0, i)]) / (2.0 * h);
                        assert!(
                            (fd - jac[r][(i, j)]).abs() <= 1e-5 * (1.0 + jac[r][(i, j)].abs()),
                            "J[{i},{j}]: fd {fd} vs {}",
                            jac[r][(i, j)]
                        );
                    }
                }
                let t: f64 = (0..3).map(|i| jac[r][(i, i)]).sum();
                assert!((t - tr[r]).abs() <= 1e-12 * (1.0 + t.abs()));
            }
        }
    }
}

#[test]
fn classifier_jacobian_is_the_difference_of_mixture_hessians() {
    let m = model();
    let x = points(100, 3, 3, 2.0);
    for at in times() {
        let c = m.classifier(&at).unwrap();
        let full = m.mixture().diffused(at.a, at.b).unwrap().density().unwrap();
        let hf = full.hessian_batch(x.as_ref()).unwrap();
        let post = c.posterior_batch(x.as_ref()).unwrap();
        for class in 0..3 {
            let cond = m.conditional(class).unwrap().diffused(at.a, at.b).unwrap().density().unwrap();
            let hc = cond.hessian_batch(x.as_ref()).unwrap();
            let jac = c.jacobian_batch(x.as_ref(), class).unwrap();
            let lp = c.log_posterior_batch(x.as_ref(), class).unwrap();
            // Bayes: log p_t(y|x) = log p_t(x|y) + log π_y − log p_t(x).
            let lc = cond.logpdf_batch(x.as_ref()).unwrap();
            let lf = full.logpdf_batch(x.as_ref()).unwrap();
            for r in 0..x.nrows() {
                let diff = &hc[r] - &hf[r];
                assert!((&jac[r] - &diff).norm_max() <= 1e-10 * diff.norm_max().max(1.0));
                let bayes = lc[r] + m.prior(class).ln() - lf[r];
                assert!((lp[r] - bayes).abs() <= 1e-12 * bayes.abs().max(1.0), "{} vs {bayes}", lp[r]);
                assert!((post[(r, class)] - lp[r].exp()).abs() <= 1e-15);
            }
        }
        for r in 0..x.nrows() {
            let s: f64 = (0..3).map(|y| post[(r, y)]).sum();
            assert!((s - 1.0).abs() <= 1e-14);
        }
    }
}

#[test]
fn theory_section_4_softmax_and_guided_score() {
    // THEORY §4: x | y ~ N(μ_y, I), OU; p_t(y|x) = softmax(log π_k + e^{−t}⟨x, μ_k⟩ − e^{−2t}‖μ_k‖²/2),
    // s_η = −(x − e^{−t} μ_y) + η e^{−t} (μ_y − Σ_k p_t(k|x) μ_k).
    let mus = [[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]];
    let w = [0.2, 0.5, 0.3];
    let comps = mus.iter().map(|m| Gaussian::new(m.to_vec(), Covariance::isotropic(2, 1.0).unwrap()).unwrap()).collect();
    let model = ClassConditional::per_component(GaussianMixture::new(w.to_vec(), comps).unwrap());
    let ou = Ou::new(5.0).unwrap();
    let x = points(50, 2, 4, 2.5);
    for t in [0.0, 0.3, 1.0, 4.0] {
        let at = ou.at(t).unwrap();
        let e = (-t).exp();
        let post = model.classifier(&at).unwrap().posterior_batch(x.as_ref()).unwrap();
        for eta in [0.0, 1.0, 7.5] {
            let s = score(&GuidedScore::new(model.clone(), 0, eta, Guidance::Classifier).unwrap(), &at, x.as_ref());
            for r in 0..x.nrows() {
                let logits: Vec<f64> = (0..3)
                    .map(|k| {
                        w[k].ln() + e * (x[(r, 0)] * mus[k][0] + x[(r, 1)] * mus[k][1])
                            - e * e * (mus[k][0].powi(2) + mus[k][1].powi(2)) / 2.0
                    })
                    .collect();
                let top = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = logits.iter().map(|l| (l - top).exp()).sum();
                let p: Vec<f64> = logits.iter().map(|l| (l - top).exp() / z).collect();
                for k in 0..3 {
                    assert!((post[(r, k)] - p[k]).abs() <= 1e-13);
                }
                for j in 0..2 {
                    let mean_mu: f64 = (0..3).map(|k| p[k] * mus[k][j]).sum();
                    let expected = -(x[(r, j)] - e * mus[0][j]) + eta * e * (mus[0][j] - mean_mu);
                    assert!((s[(r, j)] - expected).abs() <= 1e-12 * (1.0 + expected.abs()), "t {t} η {eta}: {} vs {expected}", s[(r, j)]);
                }
            }
        }
    }
}

#[test]
fn guided_jacobian_matches_finite_differences_of_the_guided_score() {
    let m = model();
    let x = points(20, 3, 5, 1.5);
    let h = 1e-5;
    let at = Ou::new(5.0).unwrap().at(0.4).unwrap();
    for kind in [Guidance::Classifier, Guidance::ClassifierFree] {
        let s = GuidedScore::new(m.clone(), 1, 4.0, kind).unwrap();
        let jac = s.jacobian_batch(&at, x.as_ref()).unwrap();
        for r in 0..x.nrows() {
            for j in 0..3 {
                let shifted = |e: f64| Mat::from_fn(1, 3, |_, k| x[(r, k)] + if k == j { e } else { 0.0 });
                let (sp, sm) = (score(&s, &at, shifted(h).as_ref()), score(&s, &at, shifted(-h).as_ref()));
                for i in 0..3 {
                    let fd = (sp[(0, i)] - sm[(0, i)]) / (2.0 * h);
                    assert!((fd - jac[r][(i, j)]).abs() <= 1e-5 * (1.0 + fd.abs()), "{kind:?} J[{i},{j}] fd {fd} vs {}", jac[r][(i, j)]);
                }
            }
        }
    }
}

#[test]
fn typed_errors_never_panics() {
    let m = model();
    assert!(matches!(
        GuidedScore::new(m.clone(), 3, 1.0, Guidance::Classifier),
        Err(GuidanceError::ClassOutOfRange { class: 3, classes: 3 })
    ));
    for bad in [-0.5, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            GuidedScore::new(m.clone(), 0, bad, Guidance::ClassifierFree),
            Err(GuidanceError::InvalidParameter { name: "strength", .. })
        ));
    }
    let mix = m.mixture().clone();
    for classes in [
        vec![],
        vec![vec![0, 1], vec![2]],
        vec![vec![0, 1], vec![1, 2, 3]],
        vec![vec![0, 1, 2, 3], vec![]],
        vec![vec![0, 1, 2, 9], vec![3]],
    ] {
        assert!(matches!(ClassConditional::new(mix.clone(), classes), Err(GuidanceError::InvalidClasses { .. })));
    }
    let zero = GaussianMixture::new(vec![1.0, 0.0], mix.components()[..2].to_vec()).unwrap();
    assert!(matches!(ClassConditional::new(zero.clone(), vec![vec![0], vec![1]]), Err(GuidanceError::ZeroClassWeight { class: 1 })));
    assert!(matches!(
        GuidedScore::new(ClassConditional::per_component(zero), 1, 1.0, Guidance::Classifier),
        Err(GuidanceError::ZeroClassWeight { class: 1 })
    ));
    // Non-finite and far-away points are errors, not NaN.
    let at = Ou::new(5.0).unwrap().at(0.5).unwrap();
    let s = GuidedScore::new(m.clone(), 0, 2.0, Guidance::Classifier).unwrap();
    let mut out = Mat::zeros(1, 3);
    assert!(s.score_into(&at, faer::mat![[f64::NAN, 0.0, 0.0]].as_ref(), out.as_mut()).is_err());
    assert!(s.score_into(&at, faer::mat![[1e300, 0.0, 0.0]].as_ref(), out.as_mut()).is_err());
    assert!(m.classifier(&at).unwrap().gradient_batch(faer::mat![[1e300, 0.0, 0.0]].as_ref(), 0).is_err());
    // Wrong dimension.
    assert!(s.score_into(&at, faer::mat![[1.0, 0.0]].as_ref(), Mat::zeros(1, 2).as_mut()).is_err());
    // A singular component has no data classifier at t = 0 but has one at t > 0.
    let singular = GaussianMixture::new(
        vec![0.5, 0.5],
        vec![
            Gaussian::new(vec![0.0], Covariance::isotropic(1, 0.0).unwrap()).unwrap(),
            Gaussian::new(vec![1.0], Covariance::isotropic(1, 1.0).unwrap()).unwrap(),
        ],
    )
    .unwrap();
    let sm = ClassConditional::per_component(singular);
    assert!(matches!(sm.data_classifier(), Err(GuidanceError::Mixture(_))));
    assert!(sm.classifier(&at).is_ok());
}
