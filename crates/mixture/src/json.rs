//! The JSON format of mixtures:
//! `{"weights": [w, …], "means": [[…], …], "covariances": [[[…], …], …]}`.
//!
//! Each covariance is a full matrix (`[[…], …]`); as a convenience a bare number reads as an
//! isotropic covariance `σ² I` and a flat list as a diagonal one. Writing uses the same forms.

use crate::covariance::Covariance;
use crate::error::MixtureError;
use crate::gaussian::Gaussian;
use crate::mixture::GaussianMixture;
use faer::Mat;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MixtureSpec {
    weights: Vec<f64>,
    means: Vec<Vec<f64>>,
    covariances: Vec<CovarianceSpec>,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum CovarianceSpec {
    Isotropic(f64),
    Diagonal(Vec<f64>),
    Full(Vec<Vec<f64>>),
}

impl TryFrom<MixtureSpec> for GaussianMixture {
    type Error = MixtureError;
    fn try_from(spec: MixtureSpec) -> Result<Self, MixtureError> {
        if spec.means.len() != spec.covariances.len() {
            return Err(MixtureError::DimensionMismatch {
                what: "means vs covariances".into(),
                expected: spec.means.len(),
                found: spec.covariances.len(),
            });
        }
        let components = spec
            .means
            .into_iter()
            .zip(spec.covariances)
            .enumerate()
            .map(|(i, (mean, cov))| {
                let d = mean.len();
                let cov = match cov {
                    CovarianceSpec::Isotropic(v) => Covariance::isotropic(d, v),
                    CovarianceSpec::Diagonal(v) => Covariance::diagonal(v),
                    CovarianceSpec::Full(rows) => {
                        if let Some(r) = rows.iter().find(|r| r.len() != rows.len()) {
                            return Err(MixtureError::DimensionMismatch {
                                what: format!("covariance {i} (row length)"),
                                expected: rows.len(),
                                found: r.len(),
                            });
                        }
                        Covariance::full(Mat::from_fn(rows.len(), rows.len(), |a, b| rows[a][b]))
                    }
                }
                .map_err(|e| e.in_component(i))?;
                Gaussian::new(mean, cov).map_err(|e| e.in_component(i))
            })
            .collect::<Result<Vec<_>, _>>()?;
        GaussianMixture::new(spec.weights, components)
    }
}

impl Serialize for GaussianMixture {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let covariances = self
            .components()
            .iter()
            .map(|c| match c.covariance() {
                Covariance::Isotropic { variance, .. } => CovarianceSpec::Isotropic(*variance),
                Covariance::Diagonal(v) => CovarianceSpec::Diagonal(v.clone()),
                Covariance::Full(m) => CovarianceSpec::Full((0..m.nrows()).map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect()).collect()),
            })
            .collect();
        MixtureSpec { weights: self.weights().to_vec(), means: self.components().iter().map(|c| c.mean().to_vec()).collect(), covariances }
            .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for GaussianMixture {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spec = MixtureSpec::deserialize(deserializer)?;
        GaussianMixture::try_from(spec).map_err(serde::de::Error::custom)
    }
}
