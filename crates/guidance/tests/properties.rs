//! Properties on random class-conditional mixtures and points: posteriors are distributions,
//! log-posteriors are ≤ 0, and classifier guidance equals CFG, whatever the partition.

use faer::Mat;
use gmdiff_guidance::{ClassConditional, Guidance, GuidedScore};
use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture};
use gmdiff_process::{GaussianPath, Ou, Score};
use proptest::prelude::*;

fn mixture(means: &[f64], vars: &[f64], weights: &[f64]) -> GaussianMixture {
    let total: f64 = weights.iter().sum();
    let comps = (0..weights.len())
        .map(|i| Gaussian::new(means[2 * i..2 * i + 2].to_vec(), Covariance::diagonal(vars[2 * i..2 * i + 2].to_vec()).unwrap()).unwrap())
        .collect();
    GaussianMixture::new(weights.iter().map(|w| w / total).collect(), comps).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn posteriors_and_guidance_identity(
        means in prop::collection::vec(-4.0..4.0f64, 8),
        vars in prop::collection::vec(0.1..3.0f64, 8),
        weights in prop::collection::vec(0.05..1.0f64, 4),
        split in 1usize..4,
        t in 0.0..5.0f64,
        eta in 0.0..20.0f64,
        point in prop::collection::vec(-8.0..8.0f64, 2),
    ) {
        let m = mixture(&means, &vars, &weights);
        let model = ClassConditional::new(m, vec![(0..split).collect(), (split..4).collect()]).unwrap();
        let at = Ou::new(5.0).unwrap().at(t).unwrap();
        let x = Mat::from_fn(1, 2, |_, j| point[j]);
        let c = model.classifier(&at).unwrap();
        let post = c.posterior_batch(x.as_ref()).unwrap();
        prop_assert!((post[(0, 0)] + post[(0, 1)] - 1.0).abs() < 1e-14);
        for y in 0..2 {
            prop_assert!(c.log_posterior_batch(x.as_ref(), y).unwrap()[0] <= 1e-15);
        }
        let (mut a, mut b) = (Mat::zeros(1, 2), Mat::zeros(1, 2));
        GuidedScore::new(model.clone(), 1, eta, Guidance::Classifier).unwrap().score_into(&at, x.as_ref(), a.as_mut()).unwrap();
        GuidedScore::new(model, 1, eta, Guidance::ClassifierFree).unwrap().score_into(&at, x.as_ref(), b.as_mut()).unwrap();
        for j in 0..2 {
            prop_assert!((a[(0, j)] - b[(0, j)]).abs() <= 1e-12 * a[(0, j)].abs().max(1.0), "{} vs {}", a[(0, j)], b[(0, j)]);
        }
    }
}
