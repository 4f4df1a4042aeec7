//! `gmdiff.Path` (a forward Gaussian path) and `gmdiff.GaussianMixture` (exact log-density,
//! score, Hessian, predictions, sampling and the diffused mixture).

use crate::convert::{ArrayIn, mat_mut, mat_out, new_matrix, points, read, vec_out, vector};
use crate::errors::{Error, guarded};
use crate::options::{parse, path_args, process_args};
use clap::ValueEnum;
use faer::{Mat, MatMut};
use gmdiff::cli_args::{ProcessArgs, ProcessKind};
use gmdiff::mixture::{Covariance, Gaussian, GaussianMixture, MixtureDensity, MixtureError};
use gmdiff::process::{Conversion, GaussianPath, Prediction, Process};
use numpy::{PyArray1, PyArray2, PyArray3, PyArrayMethods};
use pyo3::prelude::*;
use std::sync::OnceLock;

/// A forward Gaussian path `x_t = a_t x_0 + b_t z` of `gmdiff_process`, built from the CLI's
/// process options (same names, defaults and errors as `--process`, `--beta-min`, …).
#[pyclass(name = "Path", module = "gmdiff", frozen)]
pub struct PyPath {
    pub args: ProcessArgs,
    pub process: Process,
}

#[pymethods]
impl PyPath {
    #[new]
    #[pyo3(signature = (kind = "vp", *, beta_min = None, beta_max = None, horizon = None, sigma_min = None, sigma_max = None))]
    fn new(
        kind: &str,
        beta_min: Option<f64>,
        beta_max: Option<f64>,
        horizon: Option<f64>,
        sigma_min: Option<f64>,
        sigma_max: Option<f64>,
    ) -> PyResult<Self> {
        let args = ProcessArgs { process: Some(parse::<ProcessKind>("path", kind)?), beta_min, beta_max, horizon, sigma_min, sigma_max };
        let process = args.process().map_err(Error::from)?;
        Ok(Self { args, process })
    }

    /// The path's name (`vp`, `vp-cosine`, `ou`, `sub-vp`, `ve`, `edm`, `flow`).
    #[getter]
    fn kind(&self) -> String {
        self.args.process.and_then(|k| k.to_possible_value()).map(|v| v.get_name().to_string()).unwrap_or_default()
    }

    /// The horizon `T`.
    #[getter]
    fn horizon(&self) -> f64 {
        self.process.horizon()
    }

    /// The standard deviation `s` of the standard start `N(0, s² I)`.
    #[getter]
    fn start_std(&self) -> f64 {
        self.process.start_std()
    }

    /// `(a_t, b_t)` at forward time `t` (any `t` where the path is defined).
    fn coefficients(&self, t: f64) -> PyResult<(f64, f64)> {
        let c = self.process.coefficients(t).map_err(Error::from)?;
        Ok((c.a, c.b))
    }

    /// `σ(t) = b_t / a_t`.
    fn sigma(&self, t: f64) -> PyResult<f64> {
        Ok(self.process.coefficients(t).map_err(Error::from)?.sigma())
    }

    fn __repr__(&self) -> String {
        format!("gmdiff.Path({:?})", self.process)
    }
}

impl PyPath {
    /// The process of `path` (a `Path`, a name, or `None` for VP linear with its defaults).
    pub fn resolve(path: Option<&Bound<'_, PyAny>>) -> PyResult<Process> {
        let args = path_args(path)?;
        Ok(if args.process.is_none() { process_args(ProcessKind::Vp).process() } else { args.process() }.map_err(Error::from)?)
    }
}

/// A Gaussian mixture `Σ_i w_i N(μ_i, Σ_i)` (gmdiff_mixture::GaussianMixture) with its factorised
/// density, computed on first use.
#[pyclass(name = "GaussianMixture", module = "gmdiff", frozen)]
pub struct PyMixture {
    pub inner: GaussianMixture,
    density: OnceLock<Result<MixtureDensity, MixtureError>>,
}

impl PyMixture {
    pub fn wrap(inner: GaussianMixture) -> Self {
        Self { inner, density: OnceLock::new() }
    }

    fn density(&self) -> Result<&MixtureDensity, Error> {
        self.density.get_or_init(|| self.inner.density()).as_ref().map_err(|e| Error::Mixture(e.clone()))
    }
}

#[pymethods]
impl PyMixture {
    #[new]
    fn new(weights: ArrayIn<'_>, means: ArrayIn<'_>, covariances: ArrayIn<'_>) -> PyResult<Self> {
        let w = vector(&weights, "weights", None)?;
        let k = w.len();
        let mu = read(&means, "means", "(k, d)", &[Some(k), None])?;
        let d = mu.shape[1];
        let cov = covariances.as_array();
        let covs: Vec<Result<Covariance, MixtureError>> = match cov.ndim() {
            1 => {
                let c = read(&covariances, "covariances", "(k,) (isotropic)", &[Some(k)])?;
                c.slice().iter().map(|v| Covariance::isotropic(d, *v)).collect()
            }
            2 => {
                let c = read(&covariances, "covariances", "(k, d) (diagonal)", &[Some(k), Some(d)])?;
                c.slice().chunks(d.max(1)).map(|v| Covariance::diagonal(v.to_vec())).collect()
            }
            _ => {
                let c = read(&covariances, "covariances", "(k, d, d) (full)", &[Some(k), Some(d), Some(d)])?;
                c.slice().chunks(d * d).map(|v| Covariance::full(Mat::from_fn(d, d, |i, j| v[i * d + j]))).collect()
            }
        };
        let components = covs
            .into_iter()
            .enumerate()
            .map(|(i, c)| c.and_then(|c| Gaussian::new(mu.slice()[i * d..(i + 1) * d].to_vec(), c)).map_err(|e| e.in_component(i)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::from)?;
        Ok(Self::wrap(GaussianMixture::new(w, components).map_err(Error::from)?))
    }

    /// A mixture from the JSON format of the CLI (`{"weights": …, "means": …, "covariances": …}`).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let m: GaussianMixture = serde_json::from_str(text).map_err(|e| Error::Usage(format!("mixture JSON: {e}")))?;
        Ok(Self::wrap(m))
    }

    /// The mixture in the CLI's JSON format.
    fn to_json(&self) -> PyResult<String> {
        Ok(serde_json::to_string(&self.inner).map_err(|e| Error::Usage(e.to_string()))?)
    }

    /// The dimension `d`.
    #[getter]
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    /// The number of components `k`.
    #[getter]
    fn n_components(&self) -> usize {
        self.inner.len()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// The weights, shape `(k,)`.
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        vec_out(py, self.inner.weights().to_vec())
    }

    /// The component means, shape `(k, d)`.
    #[getter]
    fn means<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        let c = self.inner.components();
        mat_out(py, Mat::from_fn(c.len(), self.inner.dim(), |i, j| c[i].mean()[j])).expect("allocating the means")
    }

    /// The component covariances as dense matrices, shape `(k, d, d)`.
    #[getter]
    fn covariances<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray3<f64>> {
        let d = self.inner.dim();
        let c = self.inner.components();
        let out = PyArray3::zeros(py, [c.len(), d, d], false);
        {
            let mut rw = out.readwrite();
            let s = rw.as_slice_mut().expect("a new array is contiguous");
            for (i, g) in c.iter().enumerate() {
                let m = g.covariance().to_dense();
                for r in 0..d {
                    for q in 0..d {
                        s[(i * d + r) * d + q] = m[(r, q)];
                    }
                }
            }
        }
        out
    }

    /// The mixture's mean `Σ w_i μ_i`, shape `(d,)`.
    fn mean<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        vec_out(py, self.inner.mean())
    }

    /// The mixture's covariance, shape `(d, d)`.
    fn covariance<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        mat_out(py, self.inner.covariance())
    }

    /// `log p(x)` at each row of `x` (shape `(n, d)`): shape `(n,)`.
    fn logpdf<'py>(&self, py: Python<'py>, x: ArrayIn<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let x = points(&x, "x", Some(self.inner.dim()))?;
        let p = self.density()?;
        let x = x.mat();
        Ok(vec_out(py, guarded(py, || Ok(p.logpdf_batch(x)?))?))
    }

    /// `∇ log p(x)` at each row of `x` (shape `(n, d)`): shape `(n, d)`, written once into a new
    /// array in the layout of `x` (F-ordered for an F-contiguous `x`, else C-ordered).
    fn score<'py>(&self, py: Python<'py>, x: ArrayIn<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let x = points(&x, "x", Some(self.inner.dim()))?;
        let p = self.density()?;
        let (n, d, f) = (x.shape[0], x.shape[1], x.column_major);
        let out = new_matrix(py, n, d, f);
        {
            let mut rw = out.readwrite();
            let s = rw.as_slice_mut().expect("a new array is contiguous");
            let x = x.mat();
            guarded(py, || Ok(p.score_batch_into(x, mat_mut(s, n, d, f))?))?;
        }
        Ok(out)
    }

    /// `∇² log p(x)` at each row of `x` (shape `(n, d)`): shape `(n, d, d)`.
    fn hessian<'py>(&self, py: Python<'py>, x: ArrayIn<'py>) -> PyResult<Bound<'py, PyArray3<f64>>> {
        let x = points(&x, "x", Some(self.inner.dim()))?;
        let p = self.density()?;
        let (n, d) = (x.shape[0], x.shape[1]);
        let xm = x.mat();
        let h = guarded(py, || Ok(p.hessian_batch(xm)?))?;
        let out = PyArray3::zeros(py, [n, d, d], false);
        {
            let mut rw = out.readwrite();
            let s = rw.as_slice_mut().expect("a new array is contiguous");
            for (i, m) in h.iter().enumerate() {
                for r in 0..d {
                    for q in 0..d {
                        s[(i * d + r) * d + q] = m[(r, q)];
                    }
                }
            }
        }
        Ok(out)
    }

    /// The posterior component probabilities `P(i | x)` at each row of `x`: shape `(n, k)`.
    fn responsibilities<'py>(&self, py: Python<'py>, x: ArrayIn<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let x = points(&x, "x", Some(self.inner.dim()))?;
        let p = self.density()?;
        let x = x.mat();
        let r = guarded(py, || Ok(p.responsibilities_batch(x)?))?;
        mat_out(py, r)
    }

    /// `n` exact draws (shape `(n, d)`); draw `i` uses the stream `ChaCha8(seed, i)`, as
    /// `gmdiff sample --sampler exact`.
    #[pyo3(signature = (n, seed = 0))]
    fn sample<'py>(&self, py: Python<'py>, n: usize, seed: u64) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let m = &self.inner;
        let x = guarded(py, || {
            gmdiff::solvers::check_particle_memory(n, m.dim(), 1)?;
            Ok(m.sample(n, seed))
        })?;
        mat_out(py, x)
    }

    /// The law `p_t` of `x_t = a_t x_0 + b_t z` on `path` (closure lemma): a new mixture.
    fn diffuse(&self, path: &Bound<'_, PyAny>, t: f64) -> PyResult<Self> {
        let process = PyPath::resolve(Some(path))?;
        let c = process.coefficients(t).map_err(Error::from)?;
        Ok(Self::wrap(self.inner.diffused(c.a, c.b).map_err(Error::from)?))
    }

    /// The exact denoiser output of kind `kind` (`score`, `epsilon`/`eps`, `sample`/`x0`,
    /// `v_prediction`/`v`, `velocity`/`flow`) at the points `x` (shape `(n, d)`) of time `t` on
    /// `path`: the score of the diffused mixture converted by `gmdiff_process::Conversion`.
    #[pyo3(signature = (x, path, t, kind = "epsilon"))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: ArrayIn<'py>,
        path: &Bound<'_, PyAny>,
        t: f64,
        kind: &str,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let kind: Prediction = kind.parse().map_err(Error::from)?;
        let process = PyPath::resolve(Some(path))?;
        let c = process.coefficients(t).map_err(Error::from)?;
        let conversion = Conversion::new(Prediction::Score, kind, &c).map_err(Error::from)?;
        let x = read(&x, "x", "(n, d)", &[None, Some(self.inner.dim())])?;
        let m = &self.inner;
        let (n, d) = (x.shape[0], x.shape[1]);
        let out = new_matrix(py, n, d, false);
        {
            let mut rw = out.readwrite();
            let s = rw.as_slice_mut().expect("a new array is contiguous");
            let xs = x.slice();
            let xm = x.mat();
            guarded(py, || {
                let p = m.diffused(c.a, c.b)?.density()?;
                p.score_batch_into(xm, MatMut::from_row_major_slice_mut(s, n, d))?;
                let mut score = vec![0.0; d];
                for (o, xr) in s.chunks_mut(d).zip(xs.chunks(d)) {
                    score.copy_from_slice(o);
                    conversion.apply_slice(xr, &score, o);
                }
                Ok(())
            })?;
        }
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!("gmdiff.GaussianMixture(k={}, d={})", self.inner.len(), self.inner.dim())
    }
}
