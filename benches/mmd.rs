//! Criterion benches of the streamed kernel two-sample statistics: MMD² and the energy distance
//! alone (`(n+m)²/2` kernel values) and with permutations (a GEMM of `(n+m)² (P+2)` flops), at
//! 4000 + 4000 points in d = 8 so that a run stays well under a minute.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gmdiff::metrics::{Bandwidth, PermutationOptions, energy_test, mmd_test};
use gmdiff::testing::peer_points;

fn kernel(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernel");
    group.sample_size(10);
    let (n, d) = (4000usize, 8usize);
    let x = peer_points(n, d, 1);
    let y = peer_points(n, d, 2);
    let pairs = ((2 * n) * (2 * n) / 2) as u64;
    group.throughput(Throughput::Elements(pairs));
    for permutations in [0usize, 50] {
        let o = PermutationOptions { permutations, seed: 0, progress: None };
        group.bench_with_input(BenchmarkId::new("mmd", format!("n{n}_d{d}_p{permutations}")), &(), |b, _| {
            b.iter(|| mmd_test(x.as_ref(), y.as_ref(), Bandwidth::Fixed(3.0), &o).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("energy", format!("n{n}_d{d}_p{permutations}")), &(), |b, _| {
            b.iter(|| energy_test(x.as_ref(), y.as_ref(), &o).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, kernel);
criterion_main!(benches);
