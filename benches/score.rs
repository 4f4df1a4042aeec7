//! Criterion benches of the batched mixture score: full covariances at the sizes, and
//! the same mixture with isotropic and diagonal covariances, which must cost O(n k d), not O(n k d²).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gmdiff::mixture::{Covariance, Gaussian, GaussianMixture};
use gmdiff::testing::{peer_mixture, peer_points};

fn restructured(m: &GaussianMixture, kind: &str) -> GaussianMixture {
    let components = m
        .components()
        .iter()
        .map(|c| {
            let dense = c.covariance().to_dense();
            let d = dense.nrows();
            let cov = match kind {
                "isotropic" => Covariance::isotropic(d, c.covariance().trace() / d as f64),
                "diagonal" => Covariance::diagonal((0..d).map(|i| dense[(i, i)]).collect()),
                _ => Ok(c.covariance().clone()),
            };
            Gaussian::new(c.mean().to_vec(), cov.unwrap()).unwrap()
        })
        .collect();
    GaussianMixture::new(m.weights().to_vec(), components).unwrap()
}

fn score(c: &mut Criterion) {
    let mut group = c.benchmark_group("score");
    group.sample_size(20);
    for &(n, d, k) in &[(20_000usize, 32usize, 16usize), (20_000, 128, 16), (20_000, 2, 8)] {
        let base = peer_mixture(d, k, 1);
        let x = peer_points(n, d, 1);
        let mut out = faer::Mat::zeros(n, d);
        group.throughput(Throughput::Elements(n as u64));
        for kind in ["full", "diagonal", "isotropic"] {
            let p = restructured(&base, kind).diffused(0.8, 0.6).unwrap().density().unwrap();
            group.bench_with_input(BenchmarkId::new(kind, format!("n{n}_d{d}_k{k}")), &(), |b, _| {
                b.iter(|| p.score_batch_into(x.as_ref(), out.as_mut()).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, score);
criterion_main!(benches);
