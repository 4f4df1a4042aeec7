//! Total variation between isotropic centred Gaussians in any dimension, by the χ² law of `‖v‖²`
//! (the complement factor of the isotropic DDPM factorisation, `gmdiff_gaussian::IsotropicDdpm`).

use crate::error::{MetricsError, Result, check_param};
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// `TV(N(0, σ² I_n), N(0, I_n))`, exactly: the densities cross on the sphere `‖v‖² = r*`,
/// `r* = n σ² ln σ² / (σ² − 1)`, so `TV = |F_n(r*/σ²) − F_n(r*)|` with `F_n` the χ²_n CDF.
/// `n = 0` or `σ² = 1` give 0.
///
/// ```
/// use gmdiff_metrics::{tv_gaussian_1d, tv_isotropic_gaussians};
/// let v: f64 = 1.7;
/// let one_d = tv_gaussian_1d(0.0, v.sqrt(), 0.0, 1.0).unwrap();
/// assert!((tv_isotropic_gaussians(1, v).unwrap() - one_d).abs() < 1e-9); // statrs Γ accuracy
/// ```
pub fn tv_isotropic_gaussians(n: usize, variance: f64) -> Result<f64> {
    check_param("variance", variance, variance > 0.0 && variance.is_finite(), "must be finite and > 0")?;
    if n == 0 || variance == 1.0 {
        return Ok(0.0);
    }
    let e = variance - 1.0;
    let r_star = n as f64 * variance * e.ln_1p() / e;
    let chi = ChiSquared::new(n as f64).map_err(|_| MetricsError::InvalidParameter {
        name: "n",
        value: n as f64,
        reason: "χ² degrees of freedom",
    })?;
    Ok((chi.cdf(r_star / variance) - chi.cdf(r_star)).abs())
}
