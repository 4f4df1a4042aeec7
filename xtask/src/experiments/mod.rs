//! The experiment registry.
//!
//! To add an experiment: create `experiments/<name>.rs` with a unit struct implementing
//! [`Experiment`] (module docs: the claim, its paper and THEORY
//! section, the setup, the measurement and the verdict), declare it below, and add it to
//! [`all`]. Keep the order stable: it is the order of the report.

pub mod closure;
pub mod conformance;
pub mod dimension_free;
pub mod error_bounds;
pub mod guidance_confidence;
pub mod guidance_entropy;
pub mod guidance_split;
pub mod pierret_galerne;
pub mod sampler_leaderboard;
pub mod sampler_zoo;
pub mod smoothness;

use crate::experiment::Experiment;

/// Every experiment, in report order.
pub fn all() -> Vec<Box<dyn Experiment>> {
    vec![
        Box::new(closure::Closure),
        Box::new(pierret_galerne::PierretGalerne),
        Box::new(sampler_zoo::SamplerZoo),
        Box::new(sampler_leaderboard::SamplerLeaderboard),
        Box::new(conformance::Conformance),
        Box::new(smoothness::Smoothness),
        Box::new(error_bounds::ErrorBounds),
        Box::new(dimension_free::DimensionFree),
        Box::new(guidance_confidence::GuidanceConfidence),
        Box::new(guidance_entropy::GuidanceEntropy),
        Box::new(guidance_split::GuidanceSplit),
        // New experiments go here.
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_unique_and_snake_case() {
        let all = super::all();
        let mut names: Vec<&str> = all.iter().map(|e| e.name()).collect();
        for n in &names {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'), "{n}");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len(), "duplicate experiment name");
    }
}
