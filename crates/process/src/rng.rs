//! Per-particle random streams, so that results never depend on how particles are split over threads.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random stream of particle `index` under `seed`: ChaCha8 keyed by `seed`, on stream `index`.
///
/// Particle `i` draws the same numbers whether it runs on one thread or many, and ChaCha's
/// stream parameter makes the `2⁶⁴` streams of a seed independent.
///
/// ```
/// use gmdiff_process::particle_rng;
/// use rand::RngExt;
/// let a: f64 = particle_rng(7, 3).random();
/// let b: f64 = particle_rng(7, 3).random();
/// let c: f64 = particle_rng(7, 4).random();
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// ```
pub fn particle_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}
