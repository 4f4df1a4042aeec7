//! Property tests (proptest) of the empirical distances over random clouds.

use faer::Mat;
use gmdiff_metrics::*;
use proptest::prelude::*;

fn cloud_strategy(max_n: usize, d: usize) -> impl Strategy<Value = Mat<f64>> {
    (1..=max_n)
        .prop_flat_map(move |n| prop::collection::vec(-5.0f64..5.0, n * d).prop_map(move |v| Mat::from_fn(n, d, |i, k| v[i * d + k])))
}

fn two_clouds(max_n: usize) -> impl Strategy<Value = (Mat<f64>, Mat<f64>)> {
    (1usize..=3).prop_flat_map(move |d| (cloud_strategy(max_n, d), cloud_strategy(max_n, d)))
}

fn three_clouds(max_n: usize) -> impl Strategy<Value = (Mat<f64>, Mat<f64>, Mat<f64>)> {
    (1usize..=3).prop_flat_map(move |d| (cloud_strategy(max_n, d), cloud_strategy(max_n, d), cloud_strategy(max_n, d)))
}

const TOL: f64 = 1e-10;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn exact_w2_is_symmetric((x, y) in two_clouds(40)) {
        let a = w2_exact(x.as_ref(), y.as_ref()).unwrap();
        let b = w2_exact(y.as_ref(), x.as_ref()).unwrap();
        prop_assert!((a - b).abs() <= TOL * a.max(1.0), "{a} vs {b}");
    }

    #[test]
    fn exact_w2_of_a_cloud_with_itself_is_zero(x in (1usize..=4).prop_flat_map(|d| cloud_strategy(60, d))) {
        prop_assert_eq!(w2_exact(x.as_ref(), x.as_ref()).unwrap(), 0.0);
    }

    #[test]
    fn translating_a_cloud_moves_it_by_the_norm((x, v) in (1usize..=3).prop_flat_map(|d| (cloud_strategy(40, d), prop::collection::vec(-3.0f64..3.0, d)))) {
        let y = Mat::from_fn(x.nrows(), x.ncols(), |i, k| x[(i, k)] + v[k]);
        let norm = v.iter().map(|t| t * t).sum::<f64>().sqrt();
        let w = w2_exact(x.as_ref(), y.as_ref()).unwrap();
        prop_assert!((w - norm).abs() <= 1e-9 * norm.max(1.0), "{w} vs ‖v‖ = {norm}");
    }

    #[test]
    fn exact_w2_satisfies_the_triangle_inequality((x, y, z) in three_clouds(25)) {
        let xy = w2_exact(x.as_ref(), y.as_ref()).unwrap();
        let yz = w2_exact(y.as_ref(), z.as_ref()).unwrap();
        let xz = w2_exact(x.as_ref(), z.as_ref()).unwrap();
        prop_assert!(xz <= xy + yz + TOL * (xy + yz).max(1.0), "{xz} > {xy} + {yz}");
    }

    #[test]
    fn sliced_is_below_exact((x, y) in two_clouds(40), seed in 0u64..1000) {
        let s = w2_sliced(x.as_ref(), y.as_ref(), 20, seed).unwrap();
        let e = w2_exact(x.as_ref(), y.as_ref()).unwrap();
        prop_assert!(s <= e + TOL * e.max(1.0), "sliced {s} > exact {e}");
    }

    #[test]
    fn exact_equals_quantile_w2_in_one_dimension((x, y) in (cloud_strategy(50, 1), cloud_strategy(50, 1))) {
        let xs: Vec<f64> = (0..x.nrows()).map(|i| x[(i, 0)]).collect();
        let ys: Vec<f64> = (0..y.nrows()).map(|i| y[(i, 0)]).collect();
        let q = w2_1d(&xs, None, &ys, None).unwrap();
        let e = w2_exact(x.as_ref(), y.as_ref()).unwrap();
        prop_assert!((q - e).abs() <= TOL * e.max(1.0), "quantile {q} vs simplex {e}");
    }

    #[test]
    fn weighted_one_dimensional_w2_matches_the_simplex(
        (x, wa, y, wb) in (1usize..30, 1usize..30).prop_flat_map(|(n, m)| (
            prop::collection::vec(-5.0f64..5.0, n), prop::collection::vec(0.0f64..1.0, n),
            prop::collection::vec(-5.0f64..5.0, m), prop::collection::vec(0.0f64..1.0, m)))
    ) {
        let norm = |w: &[f64]| { let s: f64 = w.iter().sum::<f64>() + 1e-3 * w.len() as f64; w.iter().map(|v| (v + 1e-3) / s).collect::<Vec<f64>>() };
        let (a, b) = (norm(&wa), norm(&wb));
        let q = w2_1d(&x, Some(&a), &y, Some(&b)).unwrap();
        let xm = Mat::from_fn(x.len(), 1, |i, _| x[i]);
        let ym = Mat::from_fn(y.len(), 1, |i, _| y[i]);
        let e = w2_exact_weighted(xm.as_ref(), Some(&a), ym.as_ref(), Some(&b)).unwrap();
        prop_assert!((q - e).abs() <= 1e-9 * e.max(1.0), "quantile {q} vs simplex {e}");
    }

    #[test]
    fn sliced_is_bit_reproducible_and_symmetric((x, y) in two_clouds(30), seed in 0u64..1000) {
        let a = w2_sliced(x.as_ref(), y.as_ref(), 16, seed).unwrap();
        let b = w2_sliced(x.as_ref(), y.as_ref(), 16, seed).unwrap();
        prop_assert_eq!(a.to_bits(), b.to_bits());
        let c = w2_sliced(y.as_ref(), x.as_ref(), 16, seed).unwrap();
        prop_assert!((a - c).abs() <= TOL * a.max(1.0));
    }

    #[test]
    fn bures_is_symmetric_and_vanishes_on_the_diagonal(
        (m1, l1, m2, l2) in (1usize..=4).prop_flat_map(|d| (
            prop::collection::vec(-3.0f64..3.0, d), prop::collection::vec(-1.0f64..1.0, d * d),
            prop::collection::vec(-3.0f64..3.0, d), prop::collection::vec(-1.0f64..1.0, d * d)))
    ) {
        let d = m1.len();
        // S = L Lᵀ (PSD, possibly near singular).
        let psd = |l: &[f64]| Mat::from_fn(d, d, |i, j| (0..d).map(|k| l[i * d + k] * l[j * d + k]).sum::<f64>());
        let (s1, s2) = (psd(&l1), psd(&l2));
        let ab = bures_w2(&m1, s1.as_ref(), &m2, s2.as_ref()).unwrap();
        let ba = bures_w2(&m2, s2.as_ref(), &m1, s1.as_ref()).unwrap();
        prop_assert!((ab - ba).abs() <= 1e-6 * ab.max(1.0), "{ab} vs {ba}");
        let aa = bures_w2_squared(&m1, s1.as_ref(), &m1, s1.as_ref()).unwrap();
        prop_assert!(aa <= 1e-10 * (1.0 + (0..d).map(|i| s1[(i, i)]).sum::<f64>()), "W2²(N, N) = {aa}");
    }
}
