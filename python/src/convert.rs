//! numpy ⇄ faer: inputs are read in place when C-contiguous (copied once to row-major otherwise),
//! outputs are numpy arrays allocated once and written in place, or views that own a faer matrix.

use crate::errors::Error;
use faer::{Mat, MatMut, MatRef};
use numpy::ndarray::{ArrayView2, CowArray, IxDyn, ShapeBuilder};
use numpy::{AllowTypeChange, PyArray1, PyArray2, PyArrayLikeDyn};
use pyo3::prelude::*;

/// Any array-like of real numbers, converted to float64 by `numpy.asarray` (no copy when it is
/// already a float64 array).
pub type ArrayIn<'py> = PyArrayLikeDyn<'py, f64, AllowTypeChange>;

/// A float64 array in row-major order (a view of the numpy data when it is C-contiguous, else one
/// copy), or, for points only, a column-major view of F-contiguous data.
pub struct RowMajor<'a> {
    data: CowArray<'a, f64, IxDyn>,
    pub shape: Vec<usize>,
    /// The data is column-major (an F-contiguous 2-D array read by [`points`]).
    pub column_major: bool,
}

impl RowMajor<'_> {
    /// The values in memory order (row-major unless `column_major`).
    pub fn slice(&self) -> &[f64] {
        // A standard-layout or F-contiguous array always has a contiguous slice in memory order.
        self.data.as_slice_memory_order().unwrap_or(&[])
    }
    /// The `n × d` matrix of a 2-D array, as a view in its own layout.
    pub fn mat(&self) -> MatRef<'_, f64> {
        if self.column_major {
            MatRef::from_column_major_slice(self.slice(), self.shape[0], self.shape[1])
        } else {
            MatRef::from_row_major_slice(self.slice(), self.shape[0], self.shape[1])
        }
    }
}

/// Reads `array`, checking that its shape is `expected`: `None` entries are free, `Some(n)` must
/// match. `name` and `pattern` (e.g. `"(n, d)"`) make the message.
pub fn read<'a>(array: &'a ArrayIn<'_>, name: &str, pattern: &str, expected: &[Option<usize>]) -> Result<RowMajor<'a>, Error> {
    let view = array.as_array();
    let shape = view.shape().to_vec();
    let fits = shape.len() == expected.len() && shape.iter().zip(expected).all(|(s, e)| e.is_none_or(|e| *s == e));
    if !fits {
        let want: Vec<String> = expected.iter().map(|e| e.map_or("any".to_string(), |n| n.to_string())).collect();
        return Err(Error::Shape(format!("{name} must have shape {pattern} = ({}), got {:?}", want.join(", "), shape)));
    }
    let data = if view.is_standard_layout() { CowArray::from(view) } else { CowArray::from(view.as_standard_layout().into_owned()) };
    Ok(RowMajor { data, shape, column_major: false })
}

/// Reads an `n × d` array of points (`d` checked when given) without copying when it is C- or
/// F-contiguous ([`RowMajor::mat`] views it in its own layout).
pub fn points<'a>(array: &'a ArrayIn<'_>, name: &str, d: Option<usize>) -> Result<RowMajor<'a>, Error> {
    let view = array.as_array();
    if view.ndim() == 2 && !view.is_standard_layout() && view.t().is_standard_layout() && d.is_none_or(|d| view.shape()[1] == d) {
        let shape = view.shape().to_vec();
        return Ok(RowMajor { data: CowArray::from(view), shape, column_major: true });
    }
    read(array, name, "(n, d)", &[None, d])
}

/// Reads a 1-D array (of length `n` when given) into a vector.
pub fn vector(array: &ArrayIn<'_>, name: &str, n: Option<usize>) -> Result<Vec<f64>, Error> {
    Ok(read(array, name, "(n,)", &[n])?.slice().to_vec())
}

/// Reads a square matrix (`d × d` when `d` is given) into a faer matrix.
pub fn matrix(array: &ArrayIn<'_>, name: &str, d: Option<usize>) -> Result<Mat<f64>, Error> {
    let shape = array.as_array().shape().to_vec();
    let d = d.or(if shape.len() == 2 && shape[0] == shape[1] { Some(shape[0]) } else { None });
    let a = match d {
        Some(d) => read(array, name, "(d, d)", &[Some(d), Some(d)])?,
        None => return Err(Error::Shape(format!("{name} must be a square matrix of shape (d, d), got {shape:?}"))),
    };
    Ok(a.mat().to_owned())
}

/// A new `n × d` numpy array, F-ordered when `column_major` (else C-ordered), that the caller fills
/// completely through [`mat_mut`] (the only write of the output; never read before).
pub fn new_matrix<'py>(py: Python<'py>, n: usize, d: usize, column_major: bool) -> Bound<'py, PyArray2<f64>> {
    // SAFETY: f64 has no invalid bit patterns; every caller writes all n·d values before the array
    // is returned to Python (and drops it on error).
    unsafe { PyArray2::new(py, [n, d], column_major) }
}

/// The faer view of the memory of a new [`new_matrix`] array, in its layout.
pub fn mat_mut(s: &mut [f64], n: usize, d: usize, column_major: bool) -> MatMut<'_, f64> {
    if column_major { MatMut::from_column_major_slice_mut(s, n, d) } else { MatMut::from_row_major_slice_mut(s, n, d) }
}

/// A numpy vector owning `v` (no copy: numpy takes the Vec's buffer).
pub fn vec_out(py: Python<'_>, v: Vec<f64>) -> Bound<'_, PyArray1<f64>> {
    PyArray1::from_vec(py, v)
}

/// Owns a faer matrix whose memory a numpy array views (its `base`).
#[pyclass(frozen, module = "gmdiff._gmdiff")]
pub struct MatOwner(Mat<f64>);

/// The `n × d` numpy array of `m` without copying: an array that views the matrix's column-major
/// memory (strides `(8, 8·col_stride)`) and keeps it alive as its `base`.
pub fn mat_out(py: Python<'_>, m: Mat<f64>) -> PyResult<Bound<'_, PyArray2<f64>>> {
    let (n, d) = (m.nrows(), m.ncols());
    if n == 0 || d == 0 {
        return Ok(PyArray2::zeros(py, [n, d], false));
    }
    let col_stride = m.col_stride() as usize;
    let owner = Bound::new(py, MatOwner(m))?;
    let ptr = owner.get().0.as_ptr();
    // SAFETY: `ptr` points to the matrix's `n × d` values at row stride 1 and column stride
    // `col_stride`, inside memory that lives as long as `owner`, which becomes the array's base and
    // is never reallocated (the class is frozen and exposes nothing; writes through the array stay
    // inside the matrix's own values).
    let view = unsafe { ArrayView2::from_shape_ptr((n, d).strides((1, col_stride)), ptr) };
    Ok(unsafe { PyArray2::borrow_from_array(&view, owner.into_any()) })
}
