//! gmdiff: placeholder while the workspace is assembled.
pub use gmdiff_process as process;
