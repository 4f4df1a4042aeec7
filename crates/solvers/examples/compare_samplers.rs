//! Every reverse-time sampler of `gmdiff-solvers` on a 2-D Gaussian mixture, against exact samples.
//!
//! The target is `p = Σ_i w_i N(μ_i, Σ_i)` (three components: two separated modes with full and
//! isotropic covariances, a thin tilted one between them); the score is its exact diffused score
//! (the closure lemma, via `impl Score for GaussianMixture`). Each sampler runs `n = 20 000`
//! particles from `N(0, I)` on the VP linear process, uniform grid from `T = 1` down to `ε = 10⁻³`. Its output `μ̂` is compared
//! with `n` exact samples `ν̂` of `p` by the sliced Wasserstein distance (`gmdiff-metrics`)
//!
//! `SW2(μ̂, ν̂)² = (1/P) Σ_p W2²(θ_pᵀ μ̂, θ_pᵀ ν̂)`, `P = 100` random directions `θ_p`,
//!
//! which sees the balance of the modes, and by the largest error of the empirical covariance
//! against the exact `Σ_i w_i (Σ_i + μ_i μ_iᵀ) − m mᵀ`. Two independent exact samples are at
//! `SW2 > 0` too: that noise floor is printed first, and a converged sampler sits near it. The
//! floor is itself one random draw: with modes 6 apart, `|ΔΣ|` of 20 000 exact samples has a
//! standard deviation near 0.06 (the variance of a sample variance grows with the fourth moment),
//! so covariance errors below about 0.1 are noise, not bias.
//! DDPM's rate `β_k = h β(t_k)` must stay below 1, so it refuses the coarsest uniform grid.
//!
//! A second table runs three ODE samplers at 10 steps on the uniform, Karras (`ρ = 7`) and
//! log-SNR-uniform grids, scored by SW2 and by the exact empirical
//! `W2(μ̂, ν̂)² = min_γ Σ_ij γ_ij ‖x_i − y_j‖²` (network simplex) on the first 2000 points: where the
//! steps are placed matters as much as the scheme.
//!
//! Run: `cargo run --release -p gmdiff-solvers --example compare_samplers`
use faer::{Mat, MatRef};
use gmdiff_metrics::{FittedGaussian, w2_exact, w2_sliced};
use gmdiff_mixture::{Covariance, Gaussian, GaussianMixture};
use gmdiff_process::{Process, TimeGrid, VpLinear};
use gmdiff_solvers::{Builtin, Schedule, SolverError, Start, sample, score_evals};

/// `max_jk |Ĉ_jk − C_jk|` for the empirical (`ddof = 1`) covariance `Ĉ` of the rows of `x`.
fn covariance_error(x: MatRef<'_, f64>, exact: &Mat<f64>) -> Result<f64, Box<dyn std::error::Error>> {
    Ok((&FittedGaussian::fit(x)?.cov - exact).norm_max())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two well-separated modes with unequal weights and a thin, tilted third one between them.
    let p = GaussianMixture::new(
        vec![0.6, 0.25, 0.15],
        vec![
            Gaussian::new(vec![-3.0, 1.0], Covariance::full(faer::mat![[0.8, -0.3], [-0.3, 0.5]])?)?,
            Gaussian::new(vec![3.0, -1.0], Covariance::isotropic(2, 0.4)?)?,
            Gaussian::new(vec![0.0, 0.0], Covariance::full(faer::mat![[0.6, 0.5], [0.5, 0.6]])?)?,
        ],
    )?;
    // As a test (`cargo test`), fewer particles keep the run short; the tolerances below scale with n.
    let n = if cfg!(test) { 5_000 } else { 20_000 };
    let (eps, seed, projections) = (1e-3, 7, 100);
    let reference = p.sample(n, 1);
    let exact_cov = p.covariance();
    let other = p.sample(n, 2);
    // Standard error of an empirical covariance entry, sqrt(Var[(x_j − m_j)(x_k − m_k)] / n), with the
    // variance estimated from the exact sample (mixture fourth moments; no Gaussian shortcut).
    let mean = p.mean();
    let mut cov_se = 0.0f64;
    for (j, k) in [(0, 0), (0, 1), (1, 1)] {
        let v: Vec<f64> = (0..n).map(|i| (reference[(i, j)] - mean[j]) * (reference[(i, k)] - mean[k])).collect();
        let m = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        cov_se = cov_se.max((var / n as f64).sqrt());
    }
    let floor_cov = covariance_error(other.as_ref(), &exact_cov)?;
    println!(
        "n = {n} particles; two independent exact samples: SW2 = {:.4}, |ΔΣ| = {floor_cov:.4} (noise floor; standard error {cov_se:.4})\n",
        w2_sliced(other.as_ref(), reference.as_ref(), projections, 0)?,
    );
    // Exact samples against the closed-form covariance Σ_i w_i (Σ_i + μ_i μ_iᵀ) − m mᵀ: within 5
    // standard errors (≈ 6·10⁻⁷ per entry by chance).
    assert!(floor_cov < 5.0 * cov_se, "exact samples: |ΔΣ| = {floor_cov:.4} > 5 standard errors ({cov_se:.4})");

    // Allowed discretisation bias of the covariance at 100 steps (first-order schemes, h = 10⁻²).
    const BIAS: f64 = 0.1;
    let step_counts = [10, 30, 100];
    print!("{:<8} {:>8}", "sampler", "NFE/step");
    for s in step_counts {
        print!(" | {:>3} steps: {:>6} {:>7}", s, "SW2", "|ΔΣ|");
    }
    println!();
    for name in Builtin::NAMES {
        let Some(sampler) = Builtin::from_name(name) else { continue };
        let per_step = score_evals(&sampler, &Schedule::uniform_vp(100, eps)?)? as f64 / 100.0;
        print!("{name:<8} {per_step:>8.2}");
        for steps in step_counts {
            let out = match sample(&sampler, &Schedule::uniform_vp(steps, eps)?, &p, Start::Standard, n, seed) {
                Ok(out) => out,
                Err(SolverError::DdpmRate { beta, .. }) => {
                    print!(" | {:>25}", format!("refused: β_k = {beta:.1}"));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let sw2 = w2_sliced(out.samples.as_ref(), reference.as_ref(), projections, 0)?;
            let cov_err = covariance_error(out.samples.as_ref(), &exact_cov)?;
            print!(" | {:>10} {sw2:>6.4} {cov_err:>7.4}", "");
            if steps == 100 {
                // At 100 steps every sampler is close to converged: its covariance error is Monte Carlo
                // noise (5 standard errors) plus a discretisation bias allowed up to BIAS.
                assert!(cov_err < 5.0 * cov_se + BIAS, "{name}, 100 steps: |ΔΣ| = {cov_err:.4}");
            }
        }
        println!();
    }

    let process = Process::Vp(VpLinear::default());
    let steps = 10;
    let grids: [(&str, TimeGrid); 3] = [
        ("uniform", TimeGrid::uniform(&process, steps, eps)?),
        ("karras", TimeGrid::karras(&process, steps, eps, 7.0)?),
        ("log-SNR", TimeGrid::log_snr_uniform(&process, steps, eps)?),
    ];
    let m = 2000;
    let (head, other_head) = (reference.as_ref().subrows(0, m), other.as_ref().subrows(0, m));
    println!("\nat {steps} steps, by grid: SW2 ({n} points) / exact W2 (first {m} points; floor {:.4})", w2_exact(other_head, head)?);
    println!("{:<8} {:>15} {:>15} {:>15}", "sampler", grids[0].0, grids[1].0, grids[2].0);
    for name in ["ddim", "heun", "dpmpp2m"] {
        let Some(sampler) = Builtin::from_name(name) else { continue };
        let cells: Vec<String> = grids
            .iter()
            .map(|(_, g)| {
                let x = sample(&sampler, &Schedule::grid(process, g.clone()), &p, Start::Standard, n, seed)?.samples;
                let sw2 = w2_sliced(x.as_ref(), reference.as_ref(), projections, 0)?;
                Ok(format!("{sw2:.4} / {:.4}", w2_exact(x.as_ref().subrows(0, m), head)?))
            })
            .collect::<Result<_, Box<dyn std::error::Error>>>()?;
        println!("{name:<8} {:>15} {:>15} {:>15}", cells[0], cells[1], cells[2]);
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
