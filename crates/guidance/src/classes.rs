//! Class-conditional mixtures: a class is a component or a group of components.

use crate::classifier::NoisyClassifier;
use crate::error::GuidanceError;
use gmdiff_mixture::GaussianMixture;
use gmdiff_process::Coefficients;

/// A Gaussian mixture `p = Σ_i w_i N(μ_i, Σ_i)` with its components partitioned into classes.
///
/// Class `y` owns the components `I_y`; its prior is `π_y = Σ_{i∈I_y} w_i` and its conditional law
/// is the sub-mixture `p(x | y) = Σ_{i∈I_y} (w_i / π_y) N(μ_i, Σ_i)`, so that
/// `p(x) = Σ_y π_y p(x | y)`. The forward process diffuses every component (closure lemma), so
/// the same holds at every time `t` with the diffused components.
///
/// Construction checks that the classes partition `0..k` (every component in exactly one class,
/// no empty class) and that every class has `π_y > 0`.
///
/// ```
/// use gmdiff_guidance::ClassConditional;
/// let m: gmdiff_mixture::GaussianMixture = serde_json::from_str(
///     r#"{"weights":[0.2,0.3,0.5],"means":[[0.0],[1.0],[5.0]],"covariances":[1.0,1.0,1.0]}"#).unwrap();
/// let model = ClassConditional::new(m, vec![vec![0, 1], vec![2]]).unwrap();
/// assert_eq!(model.num_classes(), 2);
/// assert!((model.prior(0) - 0.5).abs() < 1e-15);
/// assert_eq!(model.conditional(0).unwrap().weights(), &[0.4, 0.6]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClassConditional {
    mixture: GaussianMixture,
    classes: Vec<Vec<usize>>,
    class_of: Vec<usize>,
    priors: Vec<f64>,
}

impl ClassConditional {
    /// A model whose class `y` is the group of components `classes[y]`; see the type docs.
    pub fn new(mixture: GaussianMixture, classes: Vec<Vec<usize>>) -> Result<Self, GuidanceError> {
        let k = mixture.len();
        if classes.is_empty() {
            return Err(GuidanceError::InvalidClasses { reason: "no class given".into() });
        }
        let mut class_of = vec![usize::MAX; k];
        for (y, members) in classes.iter().enumerate() {
            if members.is_empty() {
                return Err(GuidanceError::InvalidClasses { reason: format!("class {y} has no component") });
            }
            for &i in members {
                if i >= k {
                    return Err(GuidanceError::InvalidClasses {
                        reason: format!("class {y} names component {i}, but the mixture has {k} (0..{k})"),
                    });
                }
                if class_of[i] != usize::MAX {
                    return Err(GuidanceError::InvalidClasses { reason: format!("component {i} is in classes {} and {y}", class_of[i]) });
                }
                class_of[i] = y;
            }
        }
        if let Some(i) = class_of.iter().position(|&c| c == usize::MAX) {
            return Err(GuidanceError::InvalidClasses { reason: format!("component {i} is in no class") });
        }
        let priors: Vec<f64> = classes.iter().map(|m| m.iter().map(|&i| mixture.weights()[i]).sum()).collect();
        if let Some(y) = priors.iter().position(|&p| p <= 0.0) {
            return Err(GuidanceError::ZeroClassWeight { class: y });
        }
        Ok(Self { mixture, classes, class_of, priors })
    }

    /// One class per component: class `i` is component `i` (THEORY §4's setting).
    ///
    /// Zero-weight components still become classes; guiding toward one of them is refused by
    /// [`ClassConditional::conditional`] with [`GuidanceError::ZeroClassWeight`].
    pub fn per_component(mixture: GaussianMixture) -> Self {
        let k = mixture.len();
        let priors = mixture.weights().to_vec();
        Self { mixture, classes: (0..k).map(|i| vec![i]).collect(), class_of: (0..k).collect(), priors }
    }

    /// The whole mixture `p`.
    pub fn mixture(&self) -> &GaussianMixture {
        &self.mixture
    }
    /// The component groups, one per class.
    pub fn classes(&self) -> &[Vec<usize>] {
        &self.classes
    }
    /// The number of classes.
    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }
    /// The class of component `i` (`i < k`).
    pub fn class_of(&self, component: usize) -> Option<usize> {
        self.class_of.get(component).copied()
    }
    /// The class prior `π_y = Σ_{i∈I_y} w_i` (0 for an out-of-range class).
    pub fn prior(&self, class: usize) -> f64 {
        self.priors.get(class).copied().unwrap_or(0.0)
    }
    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.mixture.dim()
    }

    /// `Ok(())` when `class` exists and has a positive prior.
    pub fn check_class(&self, class: usize) -> Result<(), GuidanceError> {
        if class >= self.classes.len() {
            return Err(GuidanceError::ClassOutOfRange { class, classes: self.classes.len() });
        }
        if self.priors[class] <= 0.0 {
            return Err(GuidanceError::ZeroClassWeight { class });
        }
        Ok(())
    }

    /// The conditional law `p(x | y) = Σ_{i∈I_y} (w_i / π_y) N(μ_i, Σ_i)` as a mixture.
    pub fn conditional(&self, class: usize) -> Result<GaussianMixture, GuidanceError> {
        self.check_class(class)?;
        let members = &self.classes[class];
        let pi = self.priors[class];
        let mut weights: Vec<f64> = members.iter().map(|&i| self.mixture.weights()[i] / pi).collect();
        // Renormalise exactly enough for the mixture's 1e-9 check whatever the rounding of π_y.
        let sum: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= sum);
        let comps = members.iter().map(|&i| self.mixture.components()[i].clone()).collect();
        Ok(GaussianMixture::new(weights, comps)?)
    }

    /// The exact noisy classifier `p_t(y | x)` of the diffused model at the coefficients `at`
    /// (`a_t`, `b_t`), factorised once for batched evaluation.
    pub fn classifier(&self, at: &Coefficients) -> Result<NoisyClassifier, GuidanceError> {
        NoisyClassifier::new(self, at.a, at.b)
    }

    /// The exact classifier `p_0(y | x)` of the data law itself (`a = 1`, `b = 0`); needs
    /// non-singular covariances.
    pub fn data_classifier(&self) -> Result<NoisyClassifier, GuidanceError> {
        NoisyClassifier::new(self, 1.0, 0.0)
    }
}
