//! Scheduler conformance (issue 16): the exact laws of diffusers' schedulers.

use gmdiff_gaussian::{DenseProblem, conformance};
use gmdiff_solvers::diffusers::SchedulerConfig;

fn cfg(text: &str) -> SchedulerConfig {
    SchedulerConfig::from_json(text).unwrap().config
}

#[test]
fn smoke() {
    let p = DenseProblem::new(vec![1.0, -0.5], faer::mat![[1.0, 0.3], [0.3, 0.5]]).unwrap();
    for (name, extra) in [
        ("DDIMScheduler", r#","timestep_spacing":"linspace""#),
        ("DDIMScheduler", r#","timestep_spacing":"trailing""#),
        ("DDIMScheduler", r#","timestep_spacing":"leading","steps_offset":1"#),
        ("DDPMScheduler", ""),
        ("EulerDiscreteScheduler", ""),
        ("EulerAncestralDiscreteScheduler", ""),
        ("HeunDiscreteScheduler", ""),
        ("KDPM2DiscreteScheduler", ""),
        ("KDPM2AncestralDiscreteScheduler", ""),
        ("LMSDiscreteScheduler", ""),
        ("DPMSolverMultistepScheduler", ""),
        ("DPMSolverSDEScheduler", ""),
        ("UniPCMultistepScheduler", ""),
        ("DEISMultistepScheduler", ""),
        ("EDMEulerScheduler", ""),
        ("EDMDPMSolverMultistepScheduler", ""),
    ] {
        let text = format!(
            r#"{{"_class_name":"{name}","num_train_timesteps":1000,"beta_schedule":"scaled_linear","beta_start":0.00085,"beta_end":0.012,"clip_sample":false{extra}}}"#
        );
        let c = SchedulerConfig::from_json(&text).unwrap();
        for n in [10, 25, 50] {
            match conformance(&c.config, n, &p) {
                Ok(r) => {
                    println!(
                        "{name}{extra} n={n}: {} w2 {:.5} kl {:.5} ideal {:?}",
                        r.plan.sampler.name(),
                        r.error.w2,
                        r.error.kl,
                        r.ideal.as_ref().map(|i| (i.w2, &i.fixes))
                    );
                    for a in &r.anomalies {
                        println!("    {} {} fixed {:?} {:?}", a.anomaly.kind.name(), a.anomaly.message, a.fixed, a.fix_error);
                    }
                }
                Err(e) => println!("{name}{extra} n={n}: error {e}"),
            }
        }
    }
    let _ = cfg;
}
