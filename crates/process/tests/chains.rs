//! The diffusers `beta_schedule` chains, the zero-terminal-SNR rescale and the timestep spacings,
//! against formulas written here from their sources and against published values.

use gmdiff_process::*;
use proptest::prelude::*;
use std::f64::consts::FRAC_PI_2;

/// `round_half_even(num/den)` in exact integer arithmetic, and whether `num/den` is a tie.
fn round_half_even_exact(num: u64, den: u64) -> (u64, bool) {
    let (q, r) = (num / den, num % den);
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => (q, false),
        std::cmp::Ordering::Greater => (q + 1, false),
        std::cmp::Ordering::Equal => (if q % 2 == 0 { q } else { q + 1 }, true),
    }
}

/// diffusers' spacings in exact rational arithmetic (Lin et al. 2024, Table 2; diffusers
/// `DDIMScheduler.set_timesteps`): the value before rounding and whether it is a tie.
fn exact_timesteps(spacing: TimestepSpacing, big_n: u64, n: u64) -> Vec<(u64, bool)> {
    match spacing {
        TimestepSpacing::Linspace if n == 1 => vec![(0, false)],
        // τ_j = round(j (N − 1)/(n − 1)), descending.
        TimestepSpacing::Linspace => (0..n).rev().map(|j| round_half_even_exact(j * (big_n - 1), n - 1)).collect(),
        // τ_j = j ⌊N/n⌋ + offset, descending.
        TimestepSpacing::Leading { steps_offset } => (0..n).rev().map(|j| (j * (big_n / n) + steps_offset as u64, false)).collect(),
        // τ_j = round(N (n − j)/n) − 1, j = 0..n.
        TimestepSpacing::Trailing => (0..n)
            .map(|j| {
                let (r, tie) = round_half_even_exact(big_n * (n - j), n);
                (r - 1, tie)
            })
            .collect(),
    }
}

proptest! {
    /// Equal to the exact-arithmetic formula wherever its value is not a tie `x + ½`; at a tie
    /// numpy's floating-point arithmetic may land on either side, so there only `|Δ| ≤ 1`.
    #[test]
    fn spacings_match_the_exact_formula(big_n in 1u64..3000, frac in 0.0f64..=1.0, which in 0usize..3, offset in 0usize..2) {
        let n = 1 + ((big_n - 1) as f64 * frac) as u64;
        let spacing = [TimestepSpacing::Linspace, TimestepSpacing::Leading { steps_offset: offset }, TimestepSpacing::Trailing][which];
        let got = timesteps(spacing, big_n as usize, n as usize);
        let exact = exact_timesteps(spacing, big_n, n);
        if exact.iter().any(|&(t, _)| t >= big_n) {
            prop_assert!(got.is_err());
            return Ok(());
        }
        let got = got.unwrap();
        prop_assert_eq!(got.len(), n as usize);
        for (&g, &(e, tie)) in got.iter().zip(&exact) {
            if tie {
                prop_assert!((g as i64 - e as i64).abs() <= 1, "{spacing:?} N = {big_n} n = {n}: {g} vs tie {e}");
            } else {
                prop_assert_eq!(g as u64, e, "{:?} N = {} n = {}", spacing, big_n, n);
            }
        }
        prop_assert!(got.windows(2).all(|w| w[1] < w[0]), "not strictly descending: {got:?}");
    }
}

/// Lin et al. 2024, Table 2 (N = 1000, 10 steps), and Stable Diffusion's `steps_offset = 1`.
#[test]
fn spacings_reproduce_lin_et_al_table_2() {
    let n = 1000;
    assert_eq!(timesteps(TimestepSpacing::Linspace, n, 10).unwrap(), [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    assert_eq!(timesteps(TimestepSpacing::Leading { steps_offset: 0 }, n, 10).unwrap(), [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    assert_eq!(timesteps(TimestepSpacing::Leading { steps_offset: 1 }, n, 10).unwrap(), [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    assert_eq!(timesteps(TimestepSpacing::Trailing, n, 10).unwrap(), [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
}

/// Values printed by diffusers in its issue tracker: trailing, 1000 train steps, 13 inference steps
/// (huggingface/diffusers#9261); linspace and trailing at 1000 of 1000 are 999, …, 0 (#10003),
/// where leading with `steps_offset = 1` would reach 1000 (refused here).
#[test]
fn spacings_reproduce_diffusers_printed_values() {
    assert_eq!(timesteps(TimestepSpacing::Trailing, 1000, 13).unwrap(), [999, 922, 845, 768, 691, 614, 537, 461, 384, 307, 230, 153, 76]);
    let all: Vec<usize> = (0..1000).rev().collect();
    assert_eq!(timesteps(TimestepSpacing::Linspace, 1000, 1000).unwrap(), all);
    assert_eq!(timesteps(TimestepSpacing::Trailing, 1000, 1000).unwrap(), all);
    assert!(matches!(timesteps(TimestepSpacing::Leading { steps_offset: 1 }, 1000, 1000), Err(ProcessError::Invalid { .. })));
}

/// numpy rounds ties to even. By hand: trailing 1000/16 steps by 62.5 (exact in binary), so
/// 1000 − 3·62.5 = 812.5 → 812 (not 813) → τ = 811; linspace(0, 997, 3) has 498.5 → 498.
#[test]
fn spacings_round_ties_to_even_like_numpy() {
    assert_eq!(
        timesteps(TimestepSpacing::Trailing, 1000, 16).unwrap(),
        [999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61]
    );
    assert_eq!(timesteps(TimestepSpacing::Linspace, 998, 3).unwrap(), [997, 498, 0]);
    // numpy's arange(1000, 0, −1000/61) has 62 points (the last rounds to −1); we return 61.
    let t = timesteps(TimestepSpacing::Trailing, 1000, 61).unwrap();
    assert_eq!((t.len(), t[0], t[60]), (61, 999, 15));
    assert_eq!(timesteps(TimestepSpacing::Linspace, 1000, 1).unwrap(), [0]);
    assert!(timesteps(TimestepSpacing::Trailing, 1000, 0).is_err());
    assert!(timesteps(TimestepSpacing::Trailing, 10, 11).is_err());
}

/// `sqrt(β_k)` evenly spaced (diffusers `scaled_linear`).
#[test]
fn scaled_linear_is_evenly_spaced_in_sqrt_beta() {
    let (lo, hi, n) = (0.00085f64, 0.012f64, 1000);
    let c = DiscreteChain::scaled_linear(n, lo, hi).unwrap();
    for k in 1..=n {
        let root = lo.sqrt() + (hi.sqrt() - lo.sqrt()) * (k - 1) as f64 / (n - 1) as f64;
        assert!((c.beta(k) - root * root).abs() <= 2e-16 * root * root, "k = {k}");
    }
    assert!(DiscreteChain::scaled_linear(10, 0.0, 0.012).is_err());
}

/// Lin et al. 2024, §3.1: Stable Diffusion's schedule (scaled_linear 0.00085 → 0.012, 1000 steps)
/// has `sqrt(ᾱ_T) = 0.068265` and SNR `ᾱ/(1 − ᾱ) = 0.004682` at the last step (their printed
/// digits, from float32 rates: compared to 5e-6).
#[test]
fn stable_diffusion_terminal_snr_is_lin_et_al_value() {
    let c = DiscreteChain::scaled_linear(1000, 0.00085, 0.012).unwrap();
    let ab = c.alpha_bar(1000);
    assert!((ab.sqrt() - 0.068265).abs() < 5e-6, "sqrt(ᾱ_T) = {}", ab.sqrt());
    assert!((ab / (1.0 - ab) - 0.004682).abs() < 5e-6, "SNR = {}", ab / (1.0 - ab));
}

/// The Nichol–Dhariwal `ᾱ(t) = cos²(π/2 (t + 0.008)/1.008)`.
fn nd_alpha_bar(t: f64) -> f64 {
    ((t + 0.008) / 1.008 * FRAC_PI_2).cos().powi(2)
}

/// The same `ᾱ` at `t = 1 − m/N`, as `sin²(π/2 (m/N)/1.008)` (no rounding of an angle near `π/2`).
fn nd_alpha_bar_complement(m: usize, n: usize) -> f64 {
    (FRAC_PI_2 * (m as f64 / n as f64) / 1.008).sin().powi(2)
}

proptest! {
    /// `β_k = min(1 − ᾱ(k/N)/ᾱ((k−1)/N), 0.999)` (diffusers `betas_for_alpha_bar`), with `ᾱ` written
    /// through `cos(π/2 (t + s)/(1 + s)) = sin(π/2 (1 − t)/(1 + s))`, whose argument does not sit
    /// next to `π/2` (the literal `cos` loses `|tan|·ulp` there, up to `1e-13` at the last steps).
    /// The ratio `1 − r` still cancels at small `β`: bound `4ε` absolute plus `1e-13` relative.
    #[test]
    fn squaredcos_cap_v2_is_the_capped_ratio(n in 1usize..2000) {
        let c = DiscreteChain::squaredcos_cap_v2(n).unwrap();
        for k in 1..=n {
            let direct = (1.0 - nd_alpha_bar_complement(n - k, n) / nd_alpha_bar_complement(n - k + 1, n)).min(0.999);
            prop_assert!((c.beta(k) - direct).abs() <= 4.0 * f64::EPSILON + 1e-13 * direct, "k = {k}: {} vs {direct}", c.beta(k));
            // Until the cap binds, Π (1 − β_j) telescopes to ᾱ(k/N)/ᾱ(0).
            let telescoped = nd_alpha_bar_complement(n - k, n) / nd_alpha_bar_complement(n, n);
            if c.beta(k) < 0.999 {
                prop_assert!((c.alpha_bar(k) - telescoped).abs() <= 1e-13 * k as f64 * telescoped + 1e-300, "k = {k}");
            }
        }
        // ᾱ(1) = cos²(π/2) = 0: the last rate is capped.
        prop_assert_eq!(c.beta(n), 0.999);
        prop_assert!(nd_alpha_bar(1.0) < 1e-30);
    }

    /// Lin et al. Algorithm 1: `sqrt(ᾱ'_k) = (s_k − s_N) s_1/(s_1 − s_N)`, `s = sqrt(ᾱ)`; `ᾱ'_N = 0`,
    /// `β'_N = 1` exactly; `ᾱ'_1 = ᾱ_1`. Besides the transcribed formula (to a few ulps of the
    /// cancelling `s_k − s_N`), two independent routes: the map is affine in `s`, so the slope
    /// `(s'_k − s'_1)/(s_k − s_1)` is the same for every `k`; and the rates telescope,
    /// `Π_{j≤k} (1 − β'_j) = ᾱ'_k` to `Σ_j 4ε/α'_j` relative (each `1 − β'` re-rounds `α'`).
    #[test]
    fn zero_terminal_snr_rescale_is_lin_et_al_algorithm_1(betas in prop::collection::vec(1e-4f64..0.2, 2..300)) {
        let c = DiscreteChain::new(betas).unwrap();
        let n = c.len();
        let z = c.rescale_zero_terminal_snr().unwrap();
        let (s1, sn) = (c.alpha_bar(1).sqrt(), c.alpha_bar(n).sqrt());
        let slope = s1 / (s1 - sn);
        let mut product = 1.0;
        let mut budget = 0.0;
        for k in 1..n {
            let sk = c.alpha_bar(k).sqrt();
            let expected = (sk - sn) * slope;
            let got = z.alpha_bar(k).sqrt();
            // The subtraction s_k − s_N is exact to ε (s_k + s_N), scaled by the slope.
            let ulps = 4.0 * f64::EPSILON * (expected + (sk + sn) * slope);
            prop_assert!((got - expected).abs() <= ulps, "k = {k}: {got} vs {expected}");
            if k > 1 && (sk - s1).abs() > 1e-3 {
                let measured = (got - s1) / (sk - s1);
                prop_assert!((measured - slope).abs() <= 1e-10 * slope, "k = {k}: slope {measured} vs {slope}");
            }
            product *= 1.0 - z.beta(k);
            budget += 4.0 * f64::EPSILON / z.alpha(k);
            prop_assert!((product - z.alpha_bar(k)).abs() <= budget * z.alpha_bar(k), "k = {k}: Π(1 − β') = {product} vs ᾱ' = {}", z.alpha_bar(k));
        }
        prop_assert!((z.alpha_bar(1) - c.alpha_bar(1)).abs() <= 4.0 * f64::EPSILON * c.alpha_bar(1));
        prop_assert_eq!(z.alpha_bar(n), 0.0);
        prop_assert_eq!(z.beta(n), 1.0);
        prop_assert!(z.has_zero_terminal_snr() && !c.has_zero_terminal_snr());
        let end = z.at(n).unwrap();
        prop_assert_eq!((end.a, end.b, end.lambda, end.log_a), (0.0, 1.0, f64::NEG_INFINITY, f64::NEG_INFINITY));
    }
}

/// `new` keeps refusing `β = 1`; only the rescale builds it. A one-step chain cannot be rescaled.
#[test]
fn beta_one_only_through_the_rescale() {
    assert!(DiscreteChain::new(vec![0.1, 1.0]).is_err());
    assert!(matches!(DiscreteChain::new(vec![0.5]).unwrap().rescale_zero_terminal_snr(), Err(ProcessError::Invalid { .. })));
    // Rescaling twice is a no-op up to rounding (s_N is already 0): both chains recompute ᾱ as a
    // product of k factors, so they differ by at most 8kε relatively.
    let z = DiscreteChain::ho_linear(1000, 1e-4, 0.02).unwrap().rescale_zero_terminal_snr().unwrap();
    let zz = z.rescale_zero_terminal_snr().unwrap();
    for k in 0..=1000 {
        assert!((z.alpha_bar(k) - zz.alpha_bar(k)).abs() <= 8.0 * k as f64 * f64::EPSILON * z.alpha_bar(k), "k = {k}");
    }
}
