//! The closure lemma and the exact score of a diffused Gaussian mixture, checked two ways.
//!
//! A 2-D mixture with one full, one diagonal and one isotropic covariance,
//! `p = Σ_i w_i N(μ_i, Σ_i)`, is pushed through the VP linear process `x_t = a_t x_0 + b_t z`.
//! By the closure lemma (Liang et al.) `p_t = Σ_i w_i N(a_t μ_i, a_t² Σ_i + b_t² I)`: the same
//! weights, each covariance keeping its structure. At several `t` the example
//!
//! * prints `log p_t(x)` and `∇ log p_t(x) = −Σ_i r_i(x) Σ_{t,i}⁻¹ (x − a_t μ_i)` at a few points;
//! * checks the score against the central difference `(log p_t(x + h e_j) − log p_t(x − h e_j)) / 2h`
//!   (`h = 10⁻⁵`, so the truncation error is `O(h²)` and the rounding error `O(ε_mach/h)`);
//! * checks that the batched `Score` implementation of `GaussianMixture` agrees with the density;
//! * draws `a_t x_0 + b_t z` by Monte Carlo and compares its mean and covariance with those of `p_t`
//!   (gaps in units of their standard errors: a few at most).
//!
//! Run: `cargo run --release -p gmdiff-mixture --example diffuse_and_score`
use faer::Mat;
use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture};
use gmdiff_process::{GaussianPath, Score, VpLinear};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let p = GaussianMixture::new(
        vec![0.5, 0.3, 0.2],
        vec![
            Gaussian::new(vec![-2.0, 0.0], Covariance::full(faer::mat![[1.0, 0.6], [0.6, 0.8]])?)?,
            Gaussian::new(vec![2.0, 1.0], Covariance::diagonal(vec![0.3, 1.5])?)?,
            Gaussian::new(vec![0.0, -2.5], Covariance::isotropic(2, 0.5)?)?,
        ],
    )?;
    let points = faer::mat![[0.0, 0.0], [-2.0, 0.5], [2.0, 1.0], [1.0, -1.0], [4.0, 3.0]];
    let vp = VpLinear::default();
    let h = 1e-5;
    let mut worst_fd = 0.0f64;
    let mut worst_batch = 0.0f64;

    for t in [0.0, 0.05, 0.2, 0.5, 1.0] {
        let c = vp.at(t)?;
        let pt = p.diffused(c.a, c.b)?;
        let density = pt.density()?;
        println!("t = {t:<4}  a_t = {:.4}  b_t = {:.4}  weights {:?}", c.a, c.b, pt.weights());
        for (i, comp) in pt.components().iter().enumerate() {
            let kind = match comp.covariance() {
                Covariance::Isotropic { .. } => "isotropic",
                Covariance::Diagonal(_) => "diagonal",
                Covariance::Full(_) => "full",
            };
            let s = comp.covariance().to_dense();
            println!(
                "  component {i}: mean ({:>7.4}, {:>7.4})  cov [[{:.4}, {:.4}], [{:.4}, {:.4}]]  ({kind})",
                comp.mean()[0],
                comp.mean()[1],
                s[(0, 0)],
                s[(0, 1)],
                s[(1, 0)],
                s[(1, 1)]
            );
        }
        println!("  {:>16} {:>12} {:>24} {:>10}", "x", "log p_t(x)", "∇ log p_t(x)", "|FD − ∇|");
        for r in 0..points.nrows() {
            let x = [points[(r, 0)], points[(r, 1)]];
            let lp = density.logpdf(&x)?;
            let score = density.score(&x)?;
            let mut err = 0.0f64;
            for j in 0..2 {
                let (mut up, mut down) = (x, x);
                up[j] += h;
                down[j] -= h;
                let fd = (density.logpdf(&up)? - density.logpdf(&down)?) / (2.0 * h);
                err = err.max((fd - score[j]).abs());
            }
            worst_fd = worst_fd.max(err);
            println!("  ({:>5.1}, {:>5.1})  {lp:>12.6} ({:>10.5}, {:>10.5}) {err:>10.2e}", x[0], x[1], score[0], score[1]);
        }
        // The `Score` trait (what the samplers call) diffuses and factorises internally.
        let mut batched = Mat::zeros(points.nrows(), 2);
        p.score_into(&c, points.as_ref(), batched.as_mut())?;
        let direct = density.score_batch(points.as_ref())?;
        worst_batch = worst_batch.max((&batched - &direct).norm_max());

        // Monte Carlo: a_t x_0 + b_t z against the closed-form mean and covariance of p_t.
        let n = 100_000;
        let x0 = p.sample(n, 11);
        let z = GaussianMixture::from_gaussian(Gaussian::standard(2)?).sample(n, 12);
        let xt = Mat::from_fn(n, 2, |i, j| c.a * x0[(i, j)] + c.b * z[(i, j)]);
        let (mean, cov) = (pt.mean(), pt.covariance());
        // Each moment as a Monte Carlo mean with its standard error, then the gap in standard errors.
        let mut worst_z = 0.0f64;
        let mut z_of = |f: &dyn Fn(usize) -> f64, exact: f64| {
            let v: Vec<f64> = (0..n).map(f).collect();
            let m = v.iter().sum::<f64>() / n as f64;
            let se = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / ((n - 1) * n) as f64).sqrt();
            worst_z = worst_z.max((m - exact).abs() / se);
            (m - exact).abs()
        };
        let mut gap = 0.0f64;
        for j in 0..2 {
            gap = gap.max(z_of(&|i| xt[(i, j)], mean[j]));
            for k in j..2 {
                gap = gap.max(z_of(&|i| (xt[(i, j)] - mean[j]) * (xt[(i, k)] - mean[k]), cov[(j, k)]));
            }
        }
        println!("  Monte Carlo a_t x_0 + b_t z (n = {n}): max |moment gap| = {gap:.4} = {worst_z:.2} standard errors\n");
        // 25 moment comparisons in all (5 per t): a gap of 5 standard errors has probability
        // ≈ 6·10⁻⁷ each under the closure lemma, so exceeding it means the lemma is implemented wrong.
        assert!(worst_z < 5.0, "t = {t}: Monte Carlo moment {worst_z:.2} standard errors from the closure lemma");
    }
    println!("max |central difference − score| over all t and points: {worst_fd:.2e}");
    println!("max |Score::score_into − MixtureDensity::score_batch|:   {worst_batch:.2e}");
    // Central difference with h = 10⁻⁵: truncation h²/6 |∂³ log p| ≲ 10⁻⁹ (third derivatives are
    // O(10) here, covariances ≥ 0.3) plus rounding ε_mach |log p| / h ≲ 10⁻⁹; 10⁻⁶ leaves a wide margin
    // while any wrong term in the score (errors O(10⁻¹) or more) fails it.
    assert!(worst_fd < 1e-6, "score differs from the central difference of log p_t by {worst_fd:.2e}");
    // Two routes to the same score (factorised per call vs the density object): they may differ only
    // by rounding, a few ulps of scores of size O(10).
    assert!(worst_batch < 1e-10, "Score::score_into and score_batch differ by {worst_batch:.2e}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs_and_its_checks_hold() {
        super::main().unwrap();
    }
}
