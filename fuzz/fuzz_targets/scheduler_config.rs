//! Any bytes as a diffusers `scheduler_config.json`: the reader either refuses the text with a
//! typed error or yields a configuration whose plan and anomalies, at a few step counts, are
//! either typed errors or well-formed (never a panic; tables as long as the class says).
#![no_main]
use gmdiff::solvers::diffusers::SchedulerConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = SchedulerConfig::from_json(text) else { return };
    let config = parsed.config;
    for n in [1, 2, 3, 10, 25, 50, 1000] {
        if let Ok(plan) = config.plan(n) {
            assert_eq!(plan.steps, n);
            assert!(!plan.timesteps.is_empty(), "{config:?} n = {n}: empty timesteps");
            assert!(plan.init_noise_sigma.is_finite() && plan.init_noise_sigma > 0.0, "{config:?} n = {n}: init_noise_sigma");
        }
        let _ = config.anomalies(n);
    }
});
