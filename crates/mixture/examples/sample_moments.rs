//! Exact sampling of a Gaussian mixture, checked against identities that hold for any density.
//!
//! With `n` exact samples `x_r ~ p = Σ_i w_i N(μ_i, Σ_i)` (sample `r` from its own random stream,
//! so the result is independent of the thread count), the example compares Monte Carlo averages
//! with closed forms, each with its standard error `sd/√n`:
//!
//! * the mean `Σ_i w_i μ_i`, the covariance `Σ_i w_i (Σ_i + μ_i μ_iᵀ) − m mᵀ` and `E‖x‖²`;
//! * `E_p[r_i(x)] = w_i`: the responsibilities `r_i(x) = w_i N(x; μ_i, Σ_i) / p(x)` average to the
//!   weights;
//! * `E_p[Δ log p + ‖∇ log p‖²] = 0` (integration by parts: `∫ Δp = 0`), which ties the batched
//!   score and Laplacian together.
//!
//! One batched call, `MixtureDensity::evaluate`, computes the log-density, score, Laplacian and
//! responsibilities of every sample at once.
//!
//! Run: `cargo run --release -p gmdiff-mixture --example sample_moments`
use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture, Request};

/// Mean and standard error of `values`.
fn mean_se(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = values.collect();
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Four components on the corners of a square, one of each covariance kind and a skewed one.
    let corner = |x: f64, y: f64, cov: Covariance| Gaussian::new(vec![x, y], cov);
    let p = GaussianMixture::new(
        vec![0.1, 0.2, 0.3, 0.4],
        vec![
            corner(-1.5, -1.5, Covariance::isotropic(2, 0.2)?)?,
            corner(1.5, -1.5, Covariance::diagonal(vec![0.6, 0.1])?)?,
            corner(1.5, 1.5, Covariance::full(faer::mat![[0.5, -0.3], [-0.3, 0.4]])?)?,
            corner(-1.5, 1.5, Covariance::full(faer::mat![[0.2, 0.1], [0.1, 0.9]])?)?,
        ],
    )?;
    let n = 50_000;
    let x = p.sample(n, 2024);
    let ev = p.density()?.evaluate(x.as_ref(), Request { logpdf: true, score: true, laplacian: true, responsibilities: true })?;
    let (Some(score), Some(laplacian), Some(resp)) = (ev.score, ev.laplacian, ev.responsibilities) else {
        return Err("requested fields missing".into());
    };

    let repeatable = x == p.sample(n, 2024);
    println!("n = {n} exact samples of a 4-component mixture in 2-D (same seed, same samples: {repeatable})\n");
    println!("{:<28} {:>12} {:>12} {:>10} {:>8}", "quantity", "exact", "Monte Carlo", "std err", "z");
    assert!(repeatable, "the same seed must give the same samples");
    let row = |name: &str, exact: f64, (mc, se): (f64, f64)| {
        let z = (mc - exact) / se;
        println!("{name:<28} {exact:>12.5} {mc:>12.5} {se:>10.5} {z:>8.2}");
        // n = 50 000 makes each z a standard normal draw to a good approximation; |z| > 5 has
        // probability ≈ 6·10⁻⁷ per row (11 rows), so it flags a wrong closed form or sampler.
        assert!(z.abs() < 5.0, "{name}: Monte Carlo {mc} is {z:.2} standard errors from the exact {exact}");
    };
    let (mean, cov) = (p.mean(), p.covariance());
    for j in 0..2 {
        row(&format!("mean[{j}]"), mean[j], mean_se((0..n).map(|i| x[(i, j)])));
    }
    for (j, k) in [(0, 0), (0, 1), (1, 1)] {
        let v = mean_se((0..n).map(|i| (x[(i, j)] - mean[j]) * (x[(i, k)] - mean[k])));
        row(&format!("cov[{j}{k}]"), cov[(j, k)], v);
    }
    row("E‖x‖²", p.second_moment(), mean_se((0..n).map(|i| x[(i, 0)].powi(2) + x[(i, 1)].powi(2))));
    for (c, w) in p.weights().iter().enumerate() {
        row(&format!("E r_{c}(x)  (= w_{c})"), *w, mean_se((0..n).map(|i| resp[(i, c)])));
    }
    let stein = (0..n).map(|i| laplacian[i] + score[(i, 0)].powi(2) + score[(i, 1)].powi(2));
    row("E[Δ log p + ‖∇ log p‖²]", 0.0, mean_se(stein));
    println!("\n(z = (Monte Carlo − exact) / std err should be a standard normal draw for each row)");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs_and_its_checks_hold() {
        super::main().unwrap();
    }
}
