//! Any bytes as a points CSV: an error or an n × d matrix of finite values.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(x) = gmdiff::io::parse_points_csv(data) {
        assert!(x.nrows() > 0 && x.ncols() > 0);
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                assert!(x[(i, j)].is_finite());
            }
        }
    }
});
