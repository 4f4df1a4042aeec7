//! Two-sample tests and distances between point clouds: is a sample from the law it should be?
//!
//! `p` is a 2-D two-component mixture and `q` the same mixture with the weights `0.5/0.5` changed
//! to `0.6/0.4` (a small change in the balance of the modes, hard to see in the means). With `x`,
//! `x'` independent samples of `p` and `y` a sample of `q`, the example prints for the pairs
//! `(x, x')` (same law) and `(x, y)` (different laws):
//!
//! * the unbiased `MMD²_u` and biased `MMD²_b` with the Gaussian kernel `exp(−‖x − y‖²/2h²)`, `h`
//!   the median heuristic, and the energy distance `D² = 2E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖`;
//! * their permutation-test p-values `(1 + #{T_perm ≥ T_obs}) / (1 + P)` (`mmd_test` and
//!   `energy_test` stream the kernel matrix in blocks: one pass gives the statistics of all the
//!   permutations);
//! * the exact empirical W2 (network simplex), the sliced W2 (a lower bound of it) and the Bures
//!   W2 between Gaussians fitted to the clouds;
//! * and the mixture distance `MW2(p, q)` between the laws themselves (an upper bound on `W2(p, q)`).
//!
//! Finally it repeats both tests on fresh samples to estimate the rejection rate at level 5%:
//! about 0.05 under `p = p` (calibration) and much higher under `p ≠ q` (power).
//!
//! Run: `cargo run --release -p gmdiff-metrics --example mmd_test`
use faer::MatRef;
use gmdiff_metrics::{
    Bandwidth, PermutationOptions, TwoSampleStatistic, bures_w2_fitted, energy_test, mixture_w2, mmd_test, permutation_test, w2_exact,
    w2_sliced,
};
use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture};

fn report(label: &str, a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Result<(), Box<dyn std::error::Error>> {
    let options = PermutationOptions { permutations: 999, seed: 1, progress: None };
    let mmd = mmd_test(a, b, Bandwidth::Median, &options)?;
    let energy = energy_test(a, b, &options)?;
    // The p-values are present since P > 0.
    let p = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |p| format!("{p:.3}"));
    println!("{label}");
    println!("  MMD²_u = {:>9.5} (h = {:.3})  p = {}", mmd.mmd2, mmd.bandwidth, p(mmd.p_value));
    println!("  MMD²_b = {:>9.5}              p = {}", mmd.mmd2_biased, p(mmd.p_value_biased));
    println!("  energy = {:>9.5}              p = {}", energy.distance, p(energy.p_value));
    let (exact, sliced) = (w2_exact(a, b)?, w2_sliced(a, b, 200, 3)?);
    println!("  W2 exact = {exact:.4}, sliced (200 dirs) = {sliced:.4}, Bures (fitted Gaussians) = {:.4}", bures_w2_fitted(a, b)?);
    // Projections x ↦ θᵀx are 1-Lipschitz, so every projected W2 is at most W2 and so is their mean
    // square: SW2 ≤ W2 holds exactly for empirical measures (the two are computed independently, by
    // sorting and by the network simplex); only rounding may separate equal values.
    assert!(sliced <= exact * (1.0 + 1e-12), "sliced W2 {sliced} exceeds exact W2 {exact}");
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let components = vec![
        Gaussian::new(vec![-1.5, 0.0], Covariance::isotropic(2, 0.5)?)?,
        Gaussian::new(vec![1.5, 0.5], Covariance::diagonal(vec![0.8, 0.3])?)?,
    ];
    let p = GaussianMixture::new(vec![0.5, 0.5], components.clone())?;
    let q = GaussianMixture::new(vec![0.6, 0.4], components)?;
    let n = 400;
    let (x, x2, y) = (p.sample(n, 1), p.sample(n, 2), q.sample(n, 3));
    println!("n = m = {n} points per sample, 999 permutations\n");
    report("x ~ p, x' ~ p (same law)", x.as_ref(), x2.as_ref())?;
    report("x ~ p, y ~ q (weights 0.5/0.5 vs 0.6/0.4)", x.as_ref(), y.as_ref())?;
    let mw2 = mixture_w2(&p, &q)?;
    println!("\nbetween the laws: MW2(p, q) = {:.4} (≥ W2(p, q))", mw2.distance);

    let (reps, m, perms) = (40, 150, 199);
    let mut rejections = [[0usize; 2]; 2];
    for r in 0..reps as u64 {
        let a = p.sample(m, 100 + r);
        for (case, b) in [p.sample(m, 200 + r), q.sample(m, 300 + r)].iter().enumerate() {
            for (k, stat) in [TwoSampleStatistic::Mmd2(Bandwidth::Median), TwoSampleStatistic::Energy].into_iter().enumerate() {
                if permutation_test(a.as_ref(), b.as_ref(), stat, perms, r)?.p_value <= 0.05 {
                    rejections[case][k] += 1;
                }
            }
        }
    }
    println!("\nrejection rate at level 0.05 over {reps} repetitions (m = {m}, {perms} permutations):");
    println!("  {:<10} {:>8} {:>8}", "", "MMD", "energy");
    for (case, label) in ["p vs p", "p vs q"].iter().enumerate() {
        let rate = |k: usize| rejections[case][k] as f64 / reps as f64;
        println!("  {label:<10} {:>8.3} {:>8.3}", rate(0), rate(1));
    }
    // With 199 permutations, P(p ≤ 0.05) = 10/200 = 0.05 exactly under p = q, so each count is
    // Binomial(40, 0.05) (mean 2) when the test has no power; P(count ≥ 9) ≈ 2·10⁻⁴. Calibration: at
    // most 8 rejections under p = p; power: at least 9 under p ≠ q.
    for (k, (same, different)) in rejections[0].iter().zip(&rejections[1]).enumerate() {
        assert!(*same <= 8, "test {k} rejects {same} of {reps} times under p = p");
        assert!(*different >= 9, "test {k} rejects only {different} of {reps} times under p ≠ q");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs_and_its_checks_hold() {
        super::main().unwrap();
    }
}
