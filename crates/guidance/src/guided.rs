//! Guided scores: classifier guidance and classifier-free guidance, as a [`Score`] for every sampler.

use crate::classes::ClassConditional;
use crate::error::{GuidanceError, check_param};
use faer::{Mat, MatMut, MatRef};
use gmdiff_mixture::{GaussianMixture, MixtureDensity, Request};
use gmdiff_process::{Coefficients, Score};

/// How the guided score is assembled. With exact scores both give the same field.
///
/// ```
/// use gmdiff_guidance::{ClassConditional, Guidance, GuidedScore};
/// let m: gmdiff_mixture::GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[-1.0],[1.0]],"covariances":[1.0,1.0]}"#).unwrap();
/// let s = GuidedScore::new(ClassConditional::per_component(m), 0, 1.0, Guidance::ClassifierFree).unwrap();
/// assert_eq!(s.kind(), Guidance::ClassifierFree);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guidance {
    /// Classifier guidance: `s_η = ∇ log p_t(x | y) + η ∇_x log p_t(y | x)`, the conditional score
    /// from the class sub-mixture and the classifier gradient from the responsibilities
    /// ([`crate::NoisyClassifier`]).
    Classifier,
    /// Classifier-free guidance: `s_η = (1 + η) ∇ log p_t(x | y) − η ∇ log p_t(x)`, from the
    /// conditional and the unconditional mixture scores.
    ClassifierFree,
}

/// A score together with its Jacobian: what the exact change-of-variables measurements need.
///
/// `score_divergence_into` writes `s_t(x_r)` and `∇·s_t(x_r) = tr ∇s_t(x_r)`; `jacobian_batch`
/// returns every `∇s_t(x_r)` (`d × d`).
///
/// ```
/// use gmdiff_guidance::{ClassConditional, Guidance, GuidedScore, ScoreJacobian};
/// use gmdiff_process::{GaussianPath, Ou};
/// let m: gmdiff_mixture::GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.5,0.5],"means":[[-1.0],[1.0]],"covariances":[1.0,1.0]}"#).unwrap();
/// let s = GuidedScore::new(ClassConditional::per_component(m), 1, 0.0, Guidance::Classifier).unwrap();
/// let at = Ou::new(5.0).unwrap().at(1.0).unwrap();
/// let x = faer::mat![[0.2]];
/// let mut out = faer::Mat::zeros(1, 1);
/// let mut div = [0.0];
/// s.score_divergence_into(&at, x.as_ref(), out.as_mut(), &mut div).unwrap();
/// // η = 0, class N(1, 1): the score of N(a, 1) is a − x, its divergence −1.
/// assert!((out[(0, 0)] - (at.a - 0.2)).abs() < 1e-15 && (div[0] + 1.0).abs() < 1e-15);
/// ```
pub trait ScoreJacobian: Score {
    /// Writes `s_t(x_r)` into row `r` of `out` and `tr ∇s_t(x_r)` into `div[r]`.
    fn score_divergence_into(
        &self,
        at: &Coefficients,
        x: MatRef<'_, f64>,
        out: MatMut<'_, f64>,
        div: &mut [f64],
    ) -> Result<(), Self::Error>;
    /// `∇s_t(x_r)` for every row (`d × d` each).
    fn jacobian_batch(&self, at: &Coefficients, x: MatRef<'_, f64>) -> Result<Vec<Mat<f64>>, Self::Error>;
}

/// The guided score of class `y` with strength `η ≥ 0` on a [`ClassConditional`] mixture:
/// `s_η(x, t) = ∇ log p_t(x | y) + η ∇_x log p_t(y | x) = (1 + η) ∇ log p_t(x | y) − η ∇ log p_t(x)`
/// (Bayes: `log p_t(y | x) = log p_t(x | y) + log π_y − log p_t(x)`). `η = 0` is the exact
/// conditional score. Its Jacobian, used for exact output densities, is
/// `∇s_η = ∇² log p_t(x | y) + η ∇²_x log p_t(y | x)`, computed per [`Guidance`] kind from its own
/// ingredients (mixture Hessians, or the classifier's closed-form Jacobian).
///
/// It implements [`Score`], so every sampler of `gmdiff-solvers` runs guided.
///
/// ```
/// use gmdiff_guidance::{ClassConditional, Guidance, GuidedScore};
/// use gmdiff_process::{GaussianPath, Ou, Score};
/// let m: gmdiff_mixture::GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.3,0.7],"means":[[-1.0,0.0],[2.0,1.0]],"covariances":[0.5,[1.0,2.0]]}"#).unwrap();
/// let model = ClassConditional::per_component(m);
/// let at = Ou::new(5.0).unwrap().at(0.4).unwrap();
/// let x = faer::mat![[0.1, -0.3], [1.0, 2.0]];
/// let (mut a, mut b) = (faer::Mat::zeros(2, 2), faer::Mat::zeros(2, 2));
/// GuidedScore::new(model.clone(), 0, 2.5, Guidance::Classifier).unwrap().score_into(&at, x.as_ref(), a.as_mut()).unwrap();
/// GuidedScore::new(model, 0, 2.5, Guidance::ClassifierFree).unwrap().score_into(&at, x.as_ref(), b.as_mut()).unwrap();
/// assert!((&a - &b).norm_max() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct GuidedScore {
    model: ClassConditional,
    conditional: GaussianMixture,
    class: usize,
    strength: f64,
    kind: Guidance,
}

impl GuidedScore {
    /// The guided score of `class` with strength `η`; errors on a bad class or `η` not finite `≥ 0`.
    pub fn new(model: ClassConditional, class: usize, strength: f64, kind: Guidance) -> Result<Self, GuidanceError> {
        check_param("strength", strength, |e| e >= 0.0, "the guidance strength η must be finite and ≥ 0")?;
        let conditional = model.conditional(class)?;
        Ok(Self { model, conditional, class, strength, kind })
    }
    /// The model.
    pub fn model(&self) -> &ClassConditional {
        &self.model
    }
    /// The guided class `y`.
    pub fn class(&self) -> usize {
        self.class
    }
    /// The strength `η`.
    pub fn strength(&self) -> f64 {
        self.strength
    }
    /// The assembly.
    pub fn kind(&self) -> Guidance {
        self.kind
    }

    fn conditional_density(&self, at: &Coefficients) -> Result<MixtureDensity, GuidanceError> {
        Ok(self.conditional.diffused(at.a, at.b)?.density()?)
    }

    fn full_density(&self, at: &Coefficients) -> Result<MixtureDensity, GuidanceError> {
        Ok(self.model.mixture().diffused(at.a, at.b)?.density()?)
    }

    fn check_out(&self, x: MatRef<'_, f64>, rows: usize, cols: usize) -> Result<(), GuidanceError> {
        let d = self.model.dim();
        if x.ncols() != d || cols != d || rows != x.nrows() {
            return Err(GuidanceError::Mixture(gmdiff_mixture::MixtureError::DimensionMismatch {
                what: "points / score output (n × d)".into(),
                expected: d,
                found: if x.ncols() != d { x.ncols() } else { cols },
            }));
        }
        Ok(())
    }
}

fn finite(out: MatRef<'_, f64>, what: &str) -> Result<(), GuidanceError> {
    for j in 0..out.ncols() {
        if !out.col(j).iter().all(|v| v.is_finite()) {
            return Err(GuidanceError::NonFinite { what: what.into() });
        }
    }
    Ok(())
}

impl Score for GuidedScore {
    type Error = GuidanceError;
    fn dim(&self) -> usize {
        self.model.dim()
    }
    fn score_into(&self, at: &Coefficients, x: MatRef<'_, f64>, mut out: MatMut<'_, f64>) -> Result<(), GuidanceError> {
        self.check_out(x, out.nrows(), out.ncols())?;
        let eta = self.strength;
        let cond = self.conditional_density(at)?;
        cond.score_batch_into(x, out.as_mut())?;
        match self.kind {
            _ if eta == 0.0 => {}
            Guidance::Classifier => {
                let g = self.model.classifier(at)?.gradient_row_major(x, self.class)?;
                let d = x.ncols();
                for r in 0..x.nrows() {
                    for j in 0..d {
                        out[(r, j)] += eta * g[r * d + j];
                    }
                }
            }
            Guidance::ClassifierFree => {
                let full = self.full_density(at)?;
                let su = full.score_batch(x)?;
                for j in 0..x.ncols() {
                    for r in 0..x.nrows() {
                        out[(r, j)] = (1.0 + eta) * out[(r, j)] - eta * su[(r, j)];
                    }
                }
            }
        }
        finite(out.as_ref(), "guided score")
    }
}

impl ScoreJacobian for GuidedScore {
    fn score_divergence_into(
        &self,
        at: &Coefficients,
        x: MatRef<'_, f64>,
        mut out: MatMut<'_, f64>,
        div: &mut [f64],
    ) -> Result<(), GuidanceError> {
        self.check_out(x, out.nrows(), out.ncols())?;
        if div.len() != x.nrows() {
            return Err(GuidanceError::Mixture(gmdiff_mixture::MixtureError::DimensionMismatch {
                what: "divergence output".into(),
                expected: x.nrows(),
                found: div.len(),
            }));
        }
        let eta = self.strength;
        let cond = self.conditional_density(at)?;
        let both = Request { score: true, laplacian: true, ..Request::default() };
        let ev = cond.evaluate(x, both)?;
        let (s, lap) = (ev.score.expect("requested"), ev.laplacian.expect("requested"));
        let d = x.ncols();
        match self.kind {
            _ if eta == 0.0 => {
                out.copy_from(&s);
                div.copy_from_slice(&lap);
            }
            Guidance::Classifier => {
                let (g, tr) = self.model.classifier(at)?.gradient_and_trace(x, self.class)?;
                for r in 0..x.nrows() {
                    for j in 0..d {
                        out[(r, j)] = s[(r, j)] + eta * g[r * d + j];
                    }
                    div[r] = lap[r] + eta * tr[r];
                }
            }
            Guidance::ClassifierFree => {
                let full = self.full_density(at)?;
                let eu = full.evaluate(x, both)?;
                let (su, lu) = (eu.score.expect("requested"), eu.laplacian.expect("requested"));
                for r in 0..x.nrows() {
                    for j in 0..d {
                        out[(r, j)] = (1.0 + eta) * s[(r, j)] - eta * su[(r, j)];
                    }
                    div[r] = (1.0 + eta) * lap[r] - eta * lu[r];
                }
            }
        }
        if !div.iter().all(|v| v.is_finite()) {
            return Err(GuidanceError::NonFinite { what: "guided divergence".into() });
        }
        finite(out.as_ref(), "guided score")
    }

    fn jacobian_batch(&self, at: &Coefficients, x: MatRef<'_, f64>) -> Result<Vec<Mat<f64>>, GuidanceError> {
        let eta = self.strength;
        let cond = self.conditional_density(at)?;
        let mut h = cond.hessian_batch(x)?;
        match self.kind {
            _ if eta == 0.0 => {}
            Guidance::Classifier => {
                let c = self.model.classifier(at)?.jacobian_batch(x, self.class)?;
                for (h, c) in h.iter_mut().zip(&c) {
                    *h += eta * c;
                }
            }
            Guidance::ClassifierFree => {
                let full = self.full_density(at)?;
                let hu = full.hessian_batch(x)?;
                for (h, u) in h.iter_mut().zip(&hu) {
                    *h = (1.0 + eta) * &*h - eta * u;
                }
            }
        }
        if h.iter().any(|m| !(0..m.ncols()).all(|j| m.col(j).iter().all(|v| v.is_finite()))) {
            return Err(GuidanceError::NonFinite { what: "guided Jacobian".into() });
        }
        Ok(h)
    }
}
