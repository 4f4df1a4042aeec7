//! The forward processes, time grids and discrete chains of `gmdiff-process`, side by side.
//!
//! Every process here is variance preserving, `x_t = α_t x_0 + σ_t z` with
//! `α_t = exp(−½ B(t))`, `σ_t = sqrt(1 − α_t²)` and `B(t) = ∫₀ᵗ β(s) ds`; the half log
//! signal-to-noise ratio is `λ(t) = log(α_t / σ_t) = −½ log(expm1(B(t)))` (the log-SNR is `2λ`).
//! The example prints, for VP linear
//! (`β_min = 0.1`, `β_max = 20`), VP cosine (Nichol–Dhariwal, `s = 0.008`) and OU (`β ≡ 2`, `T = 5`):
//!
//! 1. `β(t)`, `α_t`, `σ_t`, `λ(t)` at a few fractions of the horizon, with the round trip
//!    `|λ⁻¹(λ(t)) − t|` of the inverse used by the log-SNR grid;
//! 2. the uniform, Karras (`ρ = 7`) and log-SNR-uniform grids of 8 steps down to `ε = 10⁻³`, as
//!    times and as `λ` (uniform in `λ` means equal increments in the last column);
//! 3. the discrete chains: Ho et al.'s linear `β_k` (1000 steps from `10⁻⁴` to `0.02`) and the
//!    Li–Yan schedule, with `ᾱ_k = Π_{j≤k} (1 − β_j)` beside the continuous `α_t²` of VP linear at
//!    `t = k/N`: Ho's rates are `β_k ≈ β(t)/N` on that process, so `ᾱ_k ≈ exp(−B(k/N))` up to the
//!    `O(Σ β_j²)` gap between `−log(1 − β)` and `β`.
//!
//! Run: `cargo run --release -p gmdiff-process --example schedules`
use gmdiff_process::{DiscreteChain, ForwardProcess, GaussianPath, Ou, Process, TimeGrid, VpCosine, VpLinear};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let processes = [
        ("VP linear (0.1, 20, T = 1)", Process::Vp(VpLinear::default())),
        ("VP cosine (s = 0.008, t_max = 0.9946)", Process::VpCosine(VpCosine::default())),
        ("OU (T = 5)", Process::Ou(Ou::new(5.0)?)),
    ];

    println!("1. Coefficients  x_t = α_t x_0 + σ_t z,  λ = log(α/σ),  β = g²\n");
    for (name, p) in &processes {
        println!("{name}");
        println!("  {:>8} {:>10} {:>12} {:>12} {:>10} {:>10}", "t", "β(t)", "α_t", "σ_t", "λ(t)", "roundtrip");
        let mut worst_unit = 0.0f64;
        let mut worst_back = 0.0f64;
        for frac in [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 1.0] {
            let t = frac * p.horizon();
            let c = p.at(t)?;
            let lambda = c.lambda;
            let back = (p.time_of_lambda(lambda) - t).abs();
            worst_unit = worst_unit.max((c.a * c.a + c.b * c.b - 1.0).abs());
            worst_back = worst_back.max(back / p.horizon());
            println!("  {t:>8.4} {:>10.4} {:>12.6e} {:>12.6e} {lambda:>10.4} {back:>10.1e}", c.g2, c.a, c.b);
        }
        println!("  max |α² + σ² − 1| = {worst_unit:.1e}\n");
        // Variance preservation α² + σ² = 1 holds up to rounding of O(1) quantities.
        assert!(worst_unit < 1e-14, "{name}: |α² + σ² − 1| = {worst_unit:.1e}");
        // λ⁻¹(λ(t)) = t: the inverse is solved in closed form or to machine precision, so the round
        // trip is a rounding error relative to the horizon; 10⁻⁹ still catches any wrong branch.
        assert!(worst_back < 1e-9, "{name}: |λ⁻¹(λ(t)) − t| / T = {worst_back:.1e}");
    }

    let (steps, eps) = (8, 1e-3);
    println!("2. Time grids: {steps} steps from T down to ε = {eps}\n");
    for (name, p) in &processes {
        let grids = [
            ("uniform", TimeGrid::uniform(p, steps, eps)?),
            ("karras ρ=7", TimeGrid::karras(p, steps, eps, 7.0)?),
            ("log-SNR", TimeGrid::log_snr_uniform(p, steps, eps)?),
        ];
        println!("{name}");
        println!("  {:>3} | {:>22} {:>22} {:>22}", "k", "uniform: t (λ)", "karras: t (λ)", "log-SNR: t (λ)");
        for k in 0..=steps {
            let cells: Vec<String> = grids
                .iter()
                .map(|(_, g)| {
                    let t = g.times()[k];
                    format!("{t:>9.5} ({:>8.3})", p.eval(t).lambda)
                })
                .collect();
            println!("  {k:>3} | {:>22} {:>22} {:>22}", cells[0], cells[1], cells[2]);
        }
        // The log-SNR grid is uniform in λ by construction: λ(t_(k+1)) − λ(t_k) is the same for every
        // k, recomputed here as log(a/b) from the coefficients (an independent route from the grid's own inverse).
        let lambdas: Vec<f64> = grids[2].1.times().iter().map(|&t| p.eval(t)).map(|c| (c.a / c.b).ln()).collect();
        let incs: Vec<f64> = lambdas.windows(2).map(|w| w[1] - w[0]).collect();
        let spread = incs.iter().map(|d| (d - incs[0]).abs()).fold(0.0, f64::max);
        assert!(spread < 1e-8 * (lambdas[steps] - lambdas[0]).abs(), "{name}: log-SNR grid increments differ by {spread:.1e}");
        for (label, g) in &grids {
            let widths: Vec<f64> = g.steps_iter().map(|(t, s)| t - s).collect();
            let (lo, hi) = widths.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &h| (lo.min(h), hi.max(h)));
            println!("  {label:>11}: step lengths in [{lo:.2e}, {hi:.2e}]");
        }
        println!();
    }

    println!("3. Discrete chains  ᾱ_k = Π_(j≤k) (1 − β_j)\n");
    let ho = DiscreteChain::ho_linear(1000, 1e-4, 0.02)?;
    let li_yan = DiscreteChain::li_yan(1000, 2.0, 4.0)?;
    let vp = VpLinear::default();
    println!("  {:>5} {:>12} {:>14} {:>14} {:>12}", "k", "Ho β_k", "Ho ᾱ_k", "VP α²(k/N)", "Li–Yan ᾱ_k");
    for k in [0usize, 1, 10, 50, 100, 250, 500, 750, 1000] {
        let beta = if k == 0 { 0.0 } else { ho.beta(k) };
        let continuous = vp.eval(k as f64 / ho.len() as f64).a.powi(2);
        println!("  {k:>5} {beta:>12.6} {:>14.6e} {continuous:>14.6e} {:>12.6e}", ho.alpha_bar(k), li_yan.alpha_bar(k));
    }
    let end = ho.at(ho.len())?;
    println!("\n  Ho chain at k = N: a = sqrt(ᾱ_N) = {:.3e}, b = {:.12}, −log ᾱ_N = {:.4}", end.a, end.b, -2.0 * end.log_a);
    let sum_beta: f64 = ho.betas().iter().sum();
    let sum_half_sq: f64 = ho.betas().iter().map(|b| 0.5 * b * b).sum();
    println!("  Σ β_k = {sum_beta:.4} = B(1) = {:.4} of VP linear (β_k ≈ β(t_k)/N);", vp.integrated_beta(1.0));
    println!("  −log ᾱ_N = −Σ log(1 − β_k) exceeds it by ≈ Σ β_k²/2 = {sum_half_sq:.4}");
    // By hand: Ho's β_k run linearly from 10⁻⁴ to 0.02, so Σ β_k = N (β_1 + β_N)/2 = 1000 · 0.01005 =
    // 10.05, and B(1) = β_min + (β_max − β_min)/2 = 0.1 + 9.95 = 10.05 for VP linear.
    assert!((sum_beta - 10.05).abs() < 1e-9, "Σ β_k = {sum_beta}, expected 10.05");
    assert!((vp.integrated_beta(1.0) - 10.05).abs() < 1e-12, "B(1) = {}, expected 10.05", vp.integrated_beta(1.0));
    // Taylor: −log(1 − β) − β − β²/2 = Σ_(m≥3) β^m/m lies in [β³/3, β³/(3(1 − β))], which brackets
    // the excess of −log ᾱ_N over Σ β_k + Σ β_k²/2 (up to rounding of a sum of 1000 terms).
    let excess = -2.0 * end.log_a - sum_beta - sum_half_sq;
    let cube: f64 = ho.betas().iter().map(|b| b.powi(3) / 3.0).sum();
    let beta_max = ho.betas().iter().copied().fold(0.0, f64::max);
    assert!(
        excess >= cube - 1e-12 && excess <= cube / (1.0 - beta_max) + 1e-12,
        "−log ᾱ_N − Σβ − Σβ²/2 = {excess:.3e}, not in [{cube:.3e}, {:.3e}]",
        cube / (1.0 - beta_max)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs_and_its_checks_hold() {
        super::main().unwrap();
    }
}
