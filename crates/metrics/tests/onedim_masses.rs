//! The weighted 1-D W2 keeps tiny masses next to large ones (the kind of issue 14's fault 1, in
//! one dimension): expected values are computed by hand from the quantile coupling.

use gmdiff_metrics::w2_1d;

#[test]
fn a_tiny_far_atom_keeps_its_cost() {
    // P = (1 δ₀ + 1e-17 δ_{1e8}) / (1 + 1e-17), Q = δ₀. The only moved mass is the far atom's,
    // 1e-17 / (1 + 1e-17) = 1e-17 to f64 precision, at cost (1e8)² = 1e16: W2² = 0.1.
    // A cumulative-mass sweep rounds 1/(1 + 1e-17) to 1 and returns 0.
    let w = w2_1d(&[0.0, 1e8], Some(&[1.0, 1e-17]), &[0.0], Some(&[1.0])).unwrap();
    assert!((w * w - 0.1).abs() <= 1e-15, "W2² = {}", w * w);
}

#[test]
fn ties_and_shifts_by_hand() {
    // Equal halves at the same points: 0. Shifted by one: every unit of mass moves 1, W2² = 1.
    assert_eq!(w2_1d(&[0.0, 1.0], Some(&[0.5, 0.5]), &[0.0, 1.0], Some(&[0.5, 0.5])).unwrap(), 0.0);
    assert_eq!(w2_1d(&[0.0, 1.0], Some(&[0.5, 0.5]), &[1.0, 2.0], Some(&[0.5, 0.5])).unwrap(), 1.0);
    // (¼ δ₀ + ¾ δ₁) against δ₀: mass ¾ moves 1, W2 = sqrt(¾), to the one rounding of the sqrt.
    let w = w2_1d(&[0.0, 1.0], Some(&[0.25, 0.75]), &[0.0], None).unwrap();
    assert!((w - 0.75f64.sqrt()).abs() <= f64::EPSILON, "W2 = {w}");
}
