//! `tv_isotropic_gaussians` (the χ² closed form) against the 1-D closed form and the exponential
//! law of `‖v‖²/σ²` in two dimensions. (The isotropic DDPM factorisation that uses it lives in
//! gmdiff-gaussian, `tests/isotropic_ddpm.rs`.)

use gmdiff_metrics::{tv_gaussian_1d, tv_isotropic_gaussians};

#[test]
fn chi_square_tv_matches_one_dimensional_and_monte_carlo_values() {
    // n = 1 is the 1-D closed form; for n = 2, ‖v‖²/σ² is exponential, so TV = |e^{−r*/2σ²} − e^{−r*/2}|.
    // statrs' regularised incomplete gamma is accurate to about 1e-11 here.
    for var in [0.5f64, 0.9, 1.1, 3.0] {
        let one = tv_gaussian_1d(0.0, var.sqrt(), 0.0, 1.0).unwrap();
        assert!((tv_isotropic_gaussians(1, var).unwrap() - one).abs() < 1e-9);
        let r = 2.0 * var * var.ln() / (var - 1.0);
        let two = ((-r / (2.0 * var)).exp() - (-r / 2.0).exp()).abs();
        assert!((tv_isotropic_gaussians(2, var).unwrap() - two).abs() < 1e-9);
    }
    assert_eq!(tv_isotropic_gaussians(100, 1.0).unwrap(), 0.0);
    assert!(tv_isotropic_gaussians(3, -1.0).is_err());
}
