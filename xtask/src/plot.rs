//! Figures: line, scatter, contour and histogram plots as SVG files.
//!
//! Everything is drawn with plotters' SVG backend and *no* font feature: plotters then only
//! estimates text extents (for layout) and the backend emits real `<text>` elements with
//! `font-family="sans-serif"`, which every SVG viewer renders with its own fonts. No system font is
//! read at any point, so figures are byte-identical across machines.
//!
//! Axes use our own coordinate type ([`Axis`]) rather than plotters' numeric/log ranges: one type
//! for linear and logarithmic axes, ticks at 1-2-5 steps (or decades), and tick labels formatted
//! from the tick step (no `0.30000000000000004`).
//!
//! Every function renders to a string first and then writes the file with
//! [`atomic_write`].

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use plotters::chart::SeriesAnno;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::error::{Result, XtaskError};
use crate::io::atomic_write;

const WIDTH: u32 = 860;
const HEIGHT: u32 = 580;
const FONT: &str = "sans-serif";

/// Twelve distinct colours: the Okabe–Ito colour-blind-safe palette (yellow replaced by a darker
/// ochre for contrast on white), then indigo and wine from Paul Tol's palettes, grey and brown. With
/// the four marker shapes of [`Style::LinePoints`] (cycled with a different period), up to 12
/// series differ in colour and neighbours also differ in shape.
pub const PALETTE: [RGBColor; 12] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(230, 159, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(150, 130, 0),
    RGBColor(51, 34, 136),
    RGBColor(136, 34, 85),
    RGBColor(119, 119, 119),
    RGBColor(140, 81, 10),
];

/// The colour of the `i`-th series.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Outline of marker shape `shape % 4` (circle, square, triangle, diamond) of radius `r`, as
/// pixel offsets from its centre, closed, starting and ending at its leftmost point.
fn marker_outline(shape: usize, r: i32) -> Vec<(i32, i32)> {
    match shape % 4 {
        0 => (0..=12)
            .map(|k| {
                let a = std::f64::consts::PI + std::f64::consts::TAU * f64::from(k) / 12.0;
                ((f64::from(r) * a.cos()).round() as i32, (f64::from(r) * a.sin()).round() as i32)
            })
            .collect(),
        1 => vec![(-r, 0), (-r, -r), (r, -r), (r, r), (-r, r), (-r, 0)],
        2 => vec![(-r - 1, r), (0, -r - 1), (r + 1, r), (-r - 1, r)],
        _ => vec![(-r - 1, 0), (0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
    }
}

/// How a [`Series`] is drawn by [`line_plot`] ([`scatter_plot`] draws every series as points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// A polyline through the points in the given order.
    #[default]
    Line,
    /// Small semi-transparent markers only (sample clouds: overlapping sets stay visible).
    Points,
    /// A polyline with hollow markers (shape cycles with the series index).
    LinePoints,
    /// A dashed polyline (reference curves, bounds).
    Dashed,
}

/// A named set of (x, y) points.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Legend entry; an empty name leaves the series out of the legend.
    pub name: String,
    /// The points. Non-finite points, and non-positive ones on a log axis, are skipped.
    pub points: Vec<(f64, f64)>,
    /// How it is drawn.
    pub style: Style,
    /// Optional symmetric vertical error bars (half-widths), one per point, or empty.
    pub y_err: Vec<f64>,
}

impl Series {
    /// A solid line.
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series { name: name.into(), points, style: Style::Line, y_err: Vec::new() }
    }

    /// Markers only.
    pub fn points(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series { style: Style::Points, ..Series::line(name, points) }
    }

    /// A dashed line.
    pub fn dashed(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series { style: Style::Dashed, ..Series::line(name, points) }
    }

    /// Changes the style.
    pub fn with_style(mut self, style: Style) -> Self {
        self.style = style;
        self
    }

    /// Adds vertical error bars (half-widths, one per point).
    pub fn with_y_err(mut self, y_err: Vec<f64>) -> Self {
        self.y_err = y_err;
        self
    }
}

/// Draws `series` as lines (or as their [`Style`] says) into an SVG at `path`.
pub fn line_plot(path: &Path, title: &str, x_label: &str, y_label: &str, series: &[Series], log_x: bool, log_y: bool) -> Result<()> {
    let svg = render_xy(title, x_label, y_label, series, log_x, log_y, false).map_err(|e| XtaskError::plot(path, e))?;
    atomic_write(path, svg.as_bytes())
}

/// Draws several point sets as markers into an SVG at `path`.
pub fn scatter_plot(path: &Path, title: &str, x_label: &str, y_label: &str, sets: &[Series], log_x: bool, log_y: bool) -> Result<()> {
    let svg = render_xy(title, x_label, y_label, sets, log_x, log_y, true).map_err(|e| XtaskError::plot(path, e))?;
    atomic_write(path, svg.as_bytes())
}

/// What [`contour_plot`] draws: level lines of `f` over a rectangle, above scatters of samples.
pub struct Contour<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// The plotted rectangle; samples outside it are not drawn.
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    /// The function (e.g. a density) whose level sets are drawn.
    pub f: &'a (dyn Fn(f64, f64) -> f64 + Sync),
    /// Grid points per side for marching squares (e.g. 120).
    pub grid: usize,
    /// The levels; see [`Contour::density_levels`] for a default.
    pub levels: Vec<f64>,
    /// Sample sets drawn as small translucent markers under the contours.
    pub samples: &'a [Series],
}

impl Contour<'_> {
    /// Levels at the given fractions of the maximum of `f` on the grid: for a density, e.g.
    /// `&[0.05, 0.2, 0.4, 0.6, 0.8]`.
    pub fn density_levels(&self, fractions: &[f64]) -> Vec<f64> {
        let (_, _, z) = grid_values(self);
        let max = z.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
        fractions.iter().map(|q| q * max).collect()
    }
}

/// Draws contour lines of `spec.f` (marching squares) over sample scatters into an SVG at `path`.
pub fn contour_plot(path: &Path, spec: &Contour<'_>) -> Result<()> {
    let svg = render_contour(spec).map_err(|e| XtaskError::plot(path, e))?;
    atomic_write(path, svg.as_bytes())
}

/// One data set of a histogram.
#[derive(Debug, Clone)]
pub struct HistSet {
    pub name: String,
    pub values: Vec<f64>,
}

/// What [`histogram_plot`] draws.
pub struct Histogram<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    /// "density" or "count", typically.
    pub y_label: &'a str,
    /// Data sets, binned on a common grid and drawn as translucent bars with outlines.
    pub sets: &'a [HistSet],
    pub bins: usize,
    /// Normalise each set to unit area (so a density can be overlaid) instead of counts.
    pub density: bool,
    /// Bin range; `None` spans all finite values.
    pub range: Option<(f64, f64)>,
    /// Curves drawn on top (e.g. the exact density).
    pub curves: &'a [Series],
}

/// Draws a histogram into an SVG at `path`.
pub fn histogram_plot(path: &Path, spec: &Histogram<'_>) -> Result<()> {
    let svg = render_histogram(spec).map_err(|e| XtaskError::plot(path, e))?;
    atomic_write(path, svg.as_bytes())
}

// ---------------------------------------------------------------------------------------------
// Axes

/// A linear or base-10 logarithmic axis over `[lo, hi]` with precomputed ticks.
#[derive(Clone)]
pub struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    major: Vec<f64>,
    minor: Vec<f64>,
    /// For linear axes: the major step, which fixes how many digits tick labels show.
    step: f64,
    linear: RangedCoordf64,
}

impl Axis {
    /// An axis exactly over `[lo, hi]` (swapped if reversed; widened if empty).
    pub fn new(lo: f64, hi: f64, log: bool) -> Self {
        let (mut lo, mut hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        if log {
            if !(lo > 0.0 && lo.is_finite()) {
                lo = if hi > 0.0 && hi.is_finite() { hi / 10.0 } else { 0.1 };
            }
            if !(hi > 0.0 && hi.is_finite()) {
                hi = lo * 10.0;
            }
            if hi <= lo {
                lo /= 2.0;
                hi *= 2.0;
            }
        } else {
            if !lo.is_finite() || !hi.is_finite() {
                (lo, hi) = (0.0, 1.0);
            }
            if hi <= lo {
                let w = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
                lo -= w;
                hi += w;
            }
        }
        let (major, minor, step) = if log { log_ticks(lo, hi) } else { linear_ticks(lo, hi, 7) };
        let (a, b) = if log { (lo.log10(), hi.log10()) } else { (lo, hi) };
        Axis { lo, hi, log, major, minor, step, linear: (a..b).into() }
    }

    /// An axis that fits `values` (non-finite ones, and non-positive ones when `log`, ignored) with
    /// a small margin; `from_zero` pins the lower end at 0 (histograms).
    pub fn fit(values: impl IntoIterator<Item = f64>, log: bool, from_zero: bool) -> Self {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            if v.is_finite() && (!log || v > 0.0) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        if lo > hi {
            return Axis::new(if log { 0.1 } else { 0.0 }, 1.0, log);
        }
        if from_zero && !log {
            lo = lo.min(0.0);
        }
        if log {
            let (a, b) = (lo.log10(), hi.log10());
            let pad = ((b - a) * 0.05).max(0.02);
            Axis::new(10f64.powf(a - pad), 10f64.powf(b + pad), true)
        } else {
            let span = hi - lo;
            let pad = if span > 0.0 {
                span * 0.05
            } else if lo == 0.0 {
                1.0
            } else {
                lo.abs() * 0.1
            };
            let new_lo = if from_zero && lo == 0.0 { 0.0 } else { lo - pad };
            Axis::new(new_lo, hi + pad, false)
        }
    }

    /// Whether `v` can be drawn on this axis.
    fn accepts(&self, v: f64) -> bool {
        v.is_finite() && (!self.log || v > 0.0)
    }

    fn lo(&self) -> f64 {
        self.lo
    }

    fn hi(&self) -> f64 {
        self.hi
    }

    /// Major tick positions (for tests and callers that want them).
    pub fn major_ticks(&self) -> &[f64] {
        &self.major
    }

    /// The label of a tick at `v`.
    pub fn label(&self, v: f64) -> String {
        if self.log { format_log_tick(v) } else { format_linear_tick(v, self.step, self.lo.abs().max(self.hi.abs())) }
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let v = if self.log { if *value > 0.0 { value.log10() } else { f64::NEG_INFINITY } } else { *value };
        // Keep wild values from overflowing pixel arithmetic.
        let (a, b) = (self.linear.range().start, self.linear.range().end);
        let w = b - a;
        let v = if v.is_finite() {
            v.clamp(a - 100.0 * w, b + 100.0 * w)
        } else if v > 0.0 {
            b + 100.0 * w
        } else {
            a - 100.0 * w
        };
        self.linear.map(&v, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.max_num_points() == 0 {
            return Vec::new();
        }
        if hint.weight().allow_light_points() { self.minor.clone() } else { self.major.clone() }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, value: &f64) -> String {
        self.label(*value)
    }
}

/// 1, 2 or 5 times a power of ten, at least `x`.
fn nice_step(x: f64) -> f64 {
    let e = x.log10().floor();
    let base = 10f64.powf(e);
    let m = x / base;
    let nice = if m <= 1.0 + 1e-9 {
        1.0
    } else if m <= 2.0 + 1e-9 {
        2.0
    } else if m <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    nice * base
}

fn linear_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, Vec<f64>, f64) {
    let step = nice_step((hi - lo) / target.max(2) as f64);
    let mut major = Vec::new();
    let k0 = (lo / step - 1e-9).ceil() as i64;
    let k1 = (hi / step + 1e-9).floor() as i64;
    for k in k0..=k1 {
        let v = k as f64 * step;
        major.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
    }
    // Minor ticks: 5 per step for 1·10^k and 5·10^k steps, 4 for 2·10^k.
    let lead = (step / 10f64.powf(step.log10().floor())).round();
    let sub = if lead == 2.0 { 4.0 } else { 5.0 };
    let mstep = step / sub;
    let mut minor = Vec::new();
    let m0 = (lo / mstep - 1e-9).ceil() as i64;
    let m1 = (hi / mstep + 1e-9).floor() as i64;
    for k in m0..=m1 {
        minor.push(k as f64 * mstep);
    }
    (major, minor, step)
}

fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>, f64) {
    let e0 = lo.log10().floor() as i32;
    let e1 = hi.log10().ceil() as i32;
    let inside = |v: &f64| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9);
    let with_mantissas = |ms: &[f64]| -> Vec<f64> {
        let mut v = Vec::new();
        for e in e0..=e1 {
            for m in ms {
                v.push(m * 10f64.powi(e));
            }
        }
        v.retain(inside);
        v
    };
    let decades = (e1 - e0) as usize;
    let all: Vec<f64> = with_mantissas(&[1., 2., 3., 4., 5., 6., 7., 8., 9.]);
    let major = if decades > 8 {
        let every = decades.div_ceil(8) as i32;
        let mut v: Vec<f64> = (e0..=e1).filter(|e| e.rem_euclid(every) == 0).map(|e| 10f64.powi(e)).collect();
        v.retain(inside);
        v
    } else {
        let decades_only = with_mantissas(&[1.0]);
        if decades_only.len() >= 3 {
            decades_only
        } else {
            let one_two_five = with_mantissas(&[1.0, 2.0, 5.0]);
            if one_two_five.len() >= 3 {
                one_two_five
            } else if all.len() >= 3 {
                all.clone()
            } else {
                // Less than a factor of ~3 in range: linear ticks read best.
                let (m, _, _) = linear_ticks(lo, hi, 5);
                m
            }
        }
    };
    let minor = if decades > 8 { major.clone() } else { all };
    (major, minor, 0.0)
}

/// A linear-axis tick: as many decimals as the step needs; scientific outside [1e-3, 1e5).
fn format_linear_tick(v: f64, step: f64, max_abs: f64) -> String {
    if !(1e-3..1e5).contains(&max_abs) {
        if v == 0.0 {
            return "0".into();
        }
        let prec = (max_abs.log10().floor() - step.log10().floor()).max(0.0) as usize;
        let s = format!("{:.*e}", prec.min(6), v);
        return tidy_exponent(&s);
    }
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{:.*}", decimals, v)
}

/// A log-axis tick: plain decimals for moderate values, `2e-5` style otherwise.
fn format_log_tick(v: f64) -> String {
    if (1e-3..1e5).contains(&v.abs()) {
        let s = format!("{:.4}", v);
        let s = s.trim_end_matches('0').trim_end_matches('.');
        return s.to_string();
    }
    tidy_exponent(&format!("{:.2e}", v))
}

/// `2.50e-5` → `2.5e-5`, `1.00e3` → `1e3`.
fn tidy_exponent(s: &str) -> String {
    match s.split_once('e') {
        Some((m, e)) => {
            let m = if m.contains('.') { m.trim_end_matches('0').trim_end_matches('.') } else { m };
            format!("{m}e{e}")
        }
        None => s.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Axis, Axis>>;
type DrawResult<T = ()> = std::result::Result<T, String>;

fn de<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// The legend box as fractions (width, height) of the plotting area, for entries `names`.
fn legend_box<'a>(names: impl Iterator<Item = &'a str>) -> (f64, f64) {
    let (mut n, mut chars) = (0usize, 0usize);
    for name in names.filter(|s| !s.is_empty()) {
        n += 1;
        chars = chars.max(name.chars().count());
    }
    // Plotting area: the canvas less the label areas, margins and caption.
    let plot_w = f64::from(WIDTH - 78 - 28);
    let plot_h = f64::from(HEIGHT - 52 - 28 - 30);
    (((chars as f64) * 8.0 + 64.0) / plot_w, ((n as f64) * 21.0 + 30.0) / plot_h)
}

/// How many points of `shapes` (polylines, densified so that a line crossing a corner counts)
/// fall in each corner box of size `bx` (fractions of the plot): [upper-right, upper-left,
/// lower-right, lower-left].
fn corner_counts(x: &Axis, y: &Axis, shapes: &[Vec<(f64, f64)>], bx: (f64, f64)) -> [usize; 4] {
    let frac = |a: &Axis, v: f64| {
        let (l, h, v) = if a.log { (a.lo.log10(), a.hi.log10(), v.log10()) } else { (a.lo, a.hi, v) };
        (v - l) / (h - l)
    };
    let (w, h) = (bx.0 + 0.03, bx.1 + 0.03);
    let mut counts = [0usize; 4];
    let mut count = |fx: f64, fy: f64| {
        let (right, left, up, down) = (fx > 1.0 - w, fx < w, fy > 1.0 - h, fy < h);
        counts[0] += usize::from(up && right);
        counts[1] += usize::from(up && left);
        counts[2] += usize::from(down && right);
        counts[3] += usize::from(down && left);
    };
    for shape in shapes {
        let f: Vec<Option<(f64, f64)>> =
            shape.iter().map(|&(a, b)| (x.accepts(a) && y.accepts(b)).then(|| (frac(x, a), frac(y, b)))).collect();
        for p in f.iter().flatten() {
            count(p.0, p.1);
        }
        for seg in f.windows(2) {
            if let (Some(p), Some(q)) = (seg[0], seg[1]) {
                for k in 1..16 {
                    let t = f64::from(k) / 16.0;
                    count(p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1));
                }
            }
        }
    }
    counts
}

fn corner(i: usize) -> SeriesLabelPosition {
    match i {
        0 => SeriesLabelPosition::UpperRight,
        1 => SeriesLabelPosition::UpperLeft,
        2 => SeriesLabelPosition::LowerRight,
        _ => SeriesLabelPosition::LowerLeft,
    }
}

/// Where the legend goes.
enum Legend {
    /// In a corner of the plotting area.
    Inside(SeriesLabelPosition),
    /// In a column right of the plotting area (the canvas grows by this many pixels).
    Right(u32),
}

/// Picks the corner whose legend box covers the fewest drawn points and line pieces. When every
/// corner covers something, the y axis is extended upwards (if `headroom` and the data keeps at least
/// 55% of the height) so that the data sits below the legend box, which then goes in the freer
/// upper corner; otherwise the legend goes in a column right of the plot.
fn place_legend(x: &Axis, y: Axis, shapes: &[Vec<(f64, f64)>], bx: (f64, f64), headroom: bool) -> (Axis, Legend) {
    let right = Legend::Right(((bx.0 * f64::from(WIDTH - 106)) as u32 + 16).clamp(120, 420));
    let counts = corner_counts(x, &y, shapes, bx);
    let best = (0..4).min_by_key(|&i| counts[i]).unwrap_or(0);
    if counts[best] == 0 {
        return (y, Legend::Inside(corner(best)));
    }
    let keep = 1.0 - bx.1 - 0.06;
    if !headroom || keep < 0.55 {
        return (y, right);
    }
    let y = if y.log {
        let (a, b) = (y.lo.log10(), y.hi.log10());
        Axis::new(y.lo, 10f64.powf(a + (b - a) / keep), true)
    } else {
        Axis::new(y.lo, y.lo + (y.hi - y.lo) / keep, false)
    };
    let counts = corner_counts(x, &y, shapes, bx);
    let best = if counts[1] < counts[0] { 1 } else { 0 };
    (y, Legend::Inside(corner(best)))
}

/// One entry of a legend drawn in the right column: its label, style and colour.
struct LegendEntry {
    name: String,
    style: Style,
    color: RGBColor,
    shape: usize,
}

impl LegendEntry {
    fn new(name: &str, style: Style, index: usize) -> Self {
        LegendEntry { name: name.to_string(), style, color: color(index), shape: index % 4 }
    }
}

/// Draws `entries` as a legend box with its top-left corner at `(x, y)` (canvas pixels).
fn draw_legend_column(root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>, x: i32, y: i32, entries: &[LegendEntry]) -> DrawResult {
    let row = 21;
    let width = entries.iter().map(|e| e.name.chars().count()).max().unwrap_or(0) as i32 * 8 + 52;
    let height = entries.len() as i32 * row + 12;
    root.draw(&Rectangle::new([(x, y), (x + width, y + height)], WHITE.mix(0.88).filled())).map_err(de)?;
    root.draw(&Rectangle::new([(x, y), (x + width, y + height)], BLACK.mix(0.4))).map_err(de)?;
    for (i, e) in entries.iter().enumerate() {
        let (lx, ly) = (x + 8, y + 6 + row * i as i32 + row / 2);
        let c = e.color;
        match e.style {
            Style::Line => root.draw(&PathElement::new(vec![(lx, ly), (lx + 20, ly)], c.stroke_width(2))).map_err(de)?,
            Style::Dashed => root.draw(&DashedPathElement::new(vec![(lx, ly), (lx + 20, ly)], 6, 4, c.stroke_width(2))).map_err(de)?,
            Style::LinePoints => {
                let mut pts = vec![(lx, ly)];
                pts.extend(marker_outline(e.shape, 4).into_iter().map(|(dx, dy)| (lx + 10 + dx, ly + dy)));
                pts.push((lx + 20, ly));
                root.draw(&PathElement::new(pts, c.stroke_width(2))).map_err(de)?;
            }
            Style::Points => root.draw(&Circle::new((lx + 10, ly), 4, c.mix(0.6).filled())).map_err(de)?,
        }
        root.draw(&Text::new(e.name.clone(), (lx + 28, ly - 8), (FONT, 15))).map_err(de)?;
    }
    Ok(())
}

/// Sets up the canvas, caption, axes and mesh; calls `body` to draw; adds the legend (`entries`
/// are drawn by hand when the legend goes in the right column).
fn render_frame(
    title: &str,
    x_label: &str,
    y_label: &str,
    x: Axis,
    y: Axis,
    (legend, entries): (Option<Legend>, &[LegendEntry]),
    body: impl FnOnce(&mut Chart<'_, '_>) -> DrawResult,
) -> DrawResult<String> {
    let extra = match &legend {
        Some(Legend::Right(w)) => *w,
        _ => 0,
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH + extra, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(de)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 22))
            .margin(14)
            .margin_right(14 + extra)
            .x_label_area_size(52)
            .y_label_area_size(78)
            .build_cartesian_2d(x, y)
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .bold_line_style(BLACK.mix(0.18))
            .light_line_style(BLACK.mix(0.05))
            .axis_style(BLACK.mix(0.8))
            .draw()
            .map_err(de)?;
        body(&mut chart)?;
        match legend {
            Some(Legend::Inside(pos)) => {
                chart
                    .configure_series_labels()
                    .position(pos)
                    .margin(12)
                    .label_font((FONT, 15))
                    .background_style(WHITE.mix(0.88))
                    .border_style(BLACK.mix(0.4))
                    .draw()
                    .map_err(de)?;
            }
            Some(Legend::Right(_)) => {
                let (px, py) = chart.plotting_area().get_base_pixel();
                let (w, _) = chart.plotting_area().dim_in_pixel();
                draw_legend_column(&root, px + w as i32 + 12, py, entries)?;
            }
            None => {}
        }
        root.present().map_err(de)?;
    }
    Ok(svg)
}

fn render_xy(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_x: bool,
    log_y: bool,
    all_points: bool,
) -> DrawResult<String> {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let x = Axis::fit(xs, log_x, false);
    let ys = series.iter().flat_map(|s| {
        s.points.iter().enumerate().flat_map(move |(i, p)| {
            let e = s.y_err.get(i).copied().unwrap_or(0.0).abs();
            [p.1 - e, p.1 + e]
        })
    });
    let y = Axis::fit(ys, log_y, false);
    let has_legend = series.iter().any(|s| !s.name.is_empty());
    let shapes: Vec<Vec<(f64, f64)>> = series
        .iter()
        .flat_map(|s| {
            let style = if all_points { Style::Points } else { s.style };
            if style == Style::Points { s.points.iter().map(|&p| vec![p]).collect::<Vec<_>>() } else { vec![s.points.clone()] }
        })
        .collect();
    let (y, legend) = if has_legend {
        let (y, pos) = place_legend(&x, y, &shapes, legend_box(series.iter().map(|s| s.name.as_str())), true);
        (y, Some(pos))
    } else {
        (y, None)
    };
    let entries: Vec<LegendEntry> = series
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.name.is_empty())
        .map(|(i, s)| LegendEntry::new(&s.name, if all_points { Style::Points } else { s.style }, i))
        .collect();
    render_frame(title, x_label, y_label, x.clone(), y.clone(), (legend, &entries), |chart| {
        for (i, s) in series.iter().enumerate() {
            let style = if all_points { Style::Points } else { s.style };
            draw_series(chart, s, style, i, &x, &y)?;
        }
        Ok(())
    })
}

fn draw_series(chart: &mut Chart<'_, '_>, s: &Series, style: Style, index: usize, x: &Axis, y: &Axis) -> DrawResult {
    let c = color(index);
    let shape = index % 4;
    let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(|&(a, b)| x.accepts(a) && y.accepts(b)).collect();
    // Error bars first, so markers sit on top.
    if !s.y_err.is_empty() {
        let bars: Vec<(f64, f64, f64)> = s
            .points
            .iter()
            .zip(&s.y_err)
            .filter(|((a, b), e)| x.accepts(*a) && y.accepts(*b) && e.is_finite())
            .map(|(&(a, b), &e)| (a, b - e.abs(), b + e.abs()))
            .collect();
        chart
            .draw_series(bars.iter().map(|&(a, lo, hi)| {
                let lo = if y.accepts(lo) { lo } else { y.lo() };
                PathElement::new(vec![(a, lo), (a, hi)], c.mix(0.8).stroke_width(1))
            }))
            .map_err(de)?;
        // Short caps, 4 px either side.
        chart
            .draw_series(bars.iter().flat_map(|&(a, lo, hi)| {
                let lo = if y.accepts(lo) { lo } else { y.lo() };
                [lo, hi]
                    .into_iter()
                    .map(move |v| EmptyElement::at((a, v)) + PathElement::new(vec![(-4, 0), (4, 0)], c.mix(0.8).stroke_width(1)))
            }))
            .map_err(de)?;
    }
    let legend_style = style;
    let anno = match style {
        Style::Line | Style::LinePoints => chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(2))).map_err(de)?,
        Style::Dashed => chart.draw_series(DashedLineSeries::new(pts.clone(), 8, 5, c.stroke_width(2))).map_err(de)?,
        Style::Points => chart.draw_series(pts.iter().map(|&p| Circle::new(p, 2, c.mix(0.35).filled()))).map_err(de)?,
    };
    if !s.name.is_empty() {
        set_legend(anno, &s.name, legend_style, c, shape);
    }
    if style == Style::LinePoints {
        chart
            .draw_series(pts.iter().map(|&p| EmptyElement::at(p) + PathElement::new(marker_outline(shape, 4), c.stroke_width(2))))
            .map_err(de)?;
    }
    Ok(())
}

/// Gives a series its legend entry: a short line, dashed line or marker in its colour.
///
/// The legend closures return backend-independent elements (`PathElement`, `DashedPathElement`,
/// `Circle`): composed elements would carry the backend type and tie the legend to its lifetime.
fn set_legend(anno: &mut SeriesAnno<'_, SVGBackend<'_>>, name: &str, style: Style, c: RGBColor, shape: usize) {
    let anno = anno.label(name);
    match style {
        Style::Line => {
            anno.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        }
        Style::LinePoints => {
            // The line, and the hollow marker around its middle, as one polyline.
            anno.legend(move |(x, y)| {
                let mut pts = vec![(x, y)];
                pts.extend(marker_outline(shape, 4).into_iter().map(|(dx, dy)| (x + 10 + dx, y + dy)));
                pts.push((x + 20, y));
                PathElement::new(pts, c.stroke_width(2))
            });
        }
        Style::Dashed => {
            anno.legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 20, y)], 6, 4, c.stroke_width(2)));
        }
        Style::Points => {
            anno.legend(move |(x, y)| Circle::new((x + 10, y), 4, c.mix(0.6).filled()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Contours

/// Grid coordinates and values of `spec.f`, row-major with x fastest.
fn grid_values(spec: &Contour<'_>) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = spec.grid.max(2);
    let lin = |(a, b): (f64, f64)| -> Vec<f64> { (0..n).map(|i| a + (b - a) * i as f64 / (n - 1) as f64).collect() };
    let gx = lin(spec.x_range);
    let gy = lin(spec.y_range);
    let mut z = Vec::with_capacity(n * n);
    for &yv in &gy {
        for &xv in &gx {
            z.push((spec.f)(xv, yv));
        }
    }
    (gx, gy, z)
}

/// Level lines of a gridded field at `level`, as polylines (marching squares).
///
/// Crossing points lie on grid edges; each edge has an id, so segments are joined into polylines
/// exactly (no floating-point matching). Saddle cells are split using the cell-centre average.
pub fn marching_squares(gx: &[f64], gy: &[f64], z: &[f64], level: f64) -> Vec<Vec<(f64, f64)>> {
    let (nx, ny) = (gx.len(), gy.len());
    if nx < 2 || ny < 2 || z.len() != nx * ny {
        return Vec::new();
    }
    let at = |i: usize, j: usize| z[j * nx + i];
    // Edge ids: horizontal edge (i,j)-(i+1,j) = 2*(j*nx+i); vertical edge (i,j)-(i,j+1) = +1.
    let h_edge = |i: usize, j: usize| 2 * (j * nx + i);
    let v_edge = |i: usize, j: usize| 2 * (j * nx + i) + 1;
    let point = |edge: usize| -> (f64, f64) {
        let cell = edge / 2;
        let (i, j) = (cell % nx, cell / nx);
        let (a, b, pa, pb) = if edge.is_multiple_of(2) {
            (at(i, j), at(i + 1, j), (gx[i], gy[j]), (gx[i + 1], gy[j]))
        } else {
            (at(i, j), at(i, j + 1), (gx[i], gy[j]), (gx[i], gy[j + 1]))
        };
        let t = if b != a { ((level - a) / (b - a)).clamp(0.0, 1.0) } else { 0.5 };
        (pa.0 + t * (pb.0 - pa.0), pa.1 + t * (pb.1 - pa.1))
    };
    let mut segments: Vec<(usize, usize)> = Vec::new();
    for j in 0..ny - 1 {
        for i in 0..nx - 1 {
            let c = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)];
            if c.iter().any(|v| !v.is_finite()) {
                continue;
            }
            let bits = c.iter().enumerate().fold(0u8, |acc, (k, &v)| acc | (u8::from(v > level) << k));
            // Edges of the cell: bottom, right, top, left.
            let (b, r, t, l) = (h_edge(i, j), v_edge(i + 1, j), h_edge(i, j + 1), v_edge(i, j));
            let centre_above = (c.iter().sum::<f64>() / 4.0) > level;
            match bits {
                0 | 15 => {}
                1 | 14 => segments.push((l, b)),
                2 | 13 => segments.push((b, r)),
                3 | 12 => segments.push((l, r)),
                4 | 11 => segments.push((r, t)),
                6 | 9 => segments.push((b, t)),
                7 | 8 => segments.push((l, t)),
                5 => {
                    // Corners 0 and 2 above.
                    if centre_above {
                        segments.push((l, t));
                        segments.push((b, r));
                    } else {
                        segments.push((l, b));
                        segments.push((r, t));
                    }
                }
                10 => {
                    // Corners 1 and 3 above.
                    if centre_above {
                        segments.push((l, b));
                        segments.push((r, t));
                    } else {
                        segments.push((l, t));
                        segments.push((b, r));
                    }
                }
                _ => unreachable!("four corner bits"),
            }
        }
    }
    // Join segments sharing an edge into polylines.
    let mut by_edge: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, &(a, b)) in segments.iter().enumerate() {
        by_edge.entry(a).or_default().push(k);
        by_edge.entry(b).or_default().push(k);
    }
    let mut used = vec![false; segments.len()];
    let mut lines = Vec::new();
    let extend = |start_edge: usize, chain: &mut Vec<usize>, used: &mut Vec<bool>| {
        let mut edge = start_edge;
        loop {
            let next = by_edge.get(&edge).and_then(|ks| ks.iter().copied().find(|&k| !used[k]));
            let Some(k) = next else { break };
            used[k] = true;
            let (a, b) = segments[k];
            edge = if a == edge { b } else { a };
            chain.push(edge);
        }
    };
    for k in 0..segments.len() {
        if used[k] {
            continue;
        }
        used[k] = true;
        let (a, b) = segments[k];
        let mut fwd = vec![a, b];
        extend(b, &mut fwd, &mut used);
        let mut back = Vec::new();
        extend(a, &mut back, &mut used);
        back.reverse();
        back.extend(fwd);
        lines.push(back.into_iter().map(point).collect());
    }
    lines
}

/// The colour of contour level `k` of `n`: dark blue (low levels) to orange-red (high levels).
fn level_color(k: usize, n: usize) -> RGBColor {
    let t = if n > 1 { k as f64 / (n - 1) as f64 } else { 0.0 };
    let lerp = |a: u8, b: u8| (f64::from(a) + t * (f64::from(b) - f64::from(a))).round() as u8;
    RGBColor(lerp(20, 213), lerp(40, 94), lerp(140, 0))
}

fn render_contour(spec: &Contour<'_>) -> DrawResult<String> {
    let x = Axis::new(spec.x_range.0, spec.x_range.1, false);
    let y = Axis::new(spec.y_range.0, spec.y_range.1, false);
    let (gx, gy, z) = grid_values(spec);
    let inside = |&(a, b): &(f64, f64)| a >= x.lo() && a <= x.hi() && b >= y.lo() && b <= y.hi();
    let n_levels = spec.levels.len();
    let mut shapes: Vec<Vec<(f64, f64)>> = spec.samples.iter().flat_map(|s| s.points.iter().map(|&p| vec![p])).collect();
    for level in &spec.levels {
        shapes.extend(marching_squares(&gx, &gy, &z, *level));
    }
    let names: Vec<String> = spec.levels.iter().map(|l| format!("level {}", format_log_tick(*l))).collect();
    let bx = legend_box(spec.samples.iter().map(|s| s.name.as_str()).chain(names.iter().map(String::as_str)));
    let (_, pos) = place_legend(&x, y.clone(), &shapes, bx, false);
    let legend = Some(pos);
    let mut entries: Vec<LegendEntry> = spec
        .samples
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.name.is_empty())
        .map(|(i, s)| LegendEntry::new(&s.name, Style::Points, i + 1))
        .collect();
    entries.extend(names.iter().enumerate().map(|(k, n)| LegendEntry {
        name: n.clone(),
        style: Style::Line,
        color: level_color(k, spec.levels.len()),
        shape: 0,
    }));
    render_frame(spec.title, spec.x_label, spec.y_label, x.clone(), y.clone(), (legend, &entries), |chart| {
        for (i, s) in spec.samples.iter().enumerate() {
            let c = color(i + 1);
            let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(inside).collect();
            let anno = chart.draw_series(pts.iter().map(|&p| Circle::new(p, 2, c.mix(0.35).filled()))).map_err(de)?;
            if !s.name.is_empty() {
                set_legend(anno, &s.name, Style::Points, c, 0);
            }
        }
        for (k, &level) in spec.levels.iter().enumerate() {
            let c = level_color(k, n_levels);
            let lines = marching_squares(&gx, &gy, &z, level);
            let anno = chart.draw_series(lines.into_iter().map(|l| PathElement::new(l, c.stroke_width(2)))).map_err(de)?;
            set_legend(anno, &format!("level {}", format_log_tick(level)), Style::Line, c, 0);
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Histograms

/// Bin edges and per-set bar heights (density or counts) on a common grid.
pub fn histogram(sets: &[HistSet], bins: usize, range: Option<(f64, f64)>, density: bool) -> (Vec<f64>, Vec<Vec<f64>>) {
    let bins = bins.max(1);
    let (lo, hi) = range.unwrap_or_else(|| {
        sets.iter()
            .flat_map(|s| s.values.iter().copied())
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)))
    });
    let (lo, hi) = if lo < hi {
        (lo, hi)
    } else if lo.is_finite() {
        (lo - 0.5, lo + 0.5)
    } else {
        (0.0, 1.0)
    };
    let w = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins).map(|i| lo + w * i as f64).collect();
    let heights = sets
        .iter()
        .map(|s| {
            let mut counts = vec![0f64; bins];
            let mut total = 0usize;
            for &v in &s.values {
                if !v.is_finite() {
                    continue;
                }
                total += 1;
                if v < lo || v > hi {
                    continue;
                }
                let b = (((v - lo) / w) as usize).min(bins - 1);
                counts[b] += 1.0;
            }
            if density && total > 0 {
                for c in &mut counts {
                    *c /= total as f64 * w;
                }
            }
            counts
        })
        .collect();
    (edges, heights)
}

fn render_histogram(spec: &Histogram<'_>) -> DrawResult<String> {
    let (edges, heights) = histogram(spec.sets, spec.bins, spec.range, spec.density);
    let x = Axis::fit(edges.iter().copied().chain(spec.curves.iter().flat_map(|s| s.points.iter().map(|p| p.0))), false, false);
    let y = Axis::fit(heights.iter().flatten().copied().chain(spec.curves.iter().flat_map(|s| s.points.iter().map(|p| p.1))), false, true);
    let centres: Vec<f64> = edges.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
    // A bar covers everything below its top.
    let mut shapes: Vec<Vec<(f64, f64)>> =
        heights.iter().flat_map(|h| centres.iter().zip(h).map(|(&c, &v)| vec![(c, 0.0), (c, v)])).collect();
    shapes.extend(spec.curves.iter().map(|s| s.points.clone()));
    let bx = legend_box(spec.sets.iter().map(|s| s.name.as_str()).chain(spec.curves.iter().map(|s| s.name.as_str())));
    let (y, pos) = place_legend(&x, y, &shapes, bx, true);
    let legend = Some(pos);
    let mut entries: Vec<LegendEntry> = spec
        .sets
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.name.is_empty())
        .map(|(i, s)| LegendEntry::new(&s.name, Style::Points, i))
        .collect();
    entries.extend(
        spec.curves
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.name.is_empty())
            .map(|(i, s)| LegendEntry::new(&s.name, s.style, spec.sets.len() + i)),
    );
    render_frame(spec.title, spec.x_label, spec.y_label, x.clone(), y.clone(), (legend, &entries), |chart| {
        for (i, (set, h)) in spec.sets.iter().zip(&heights).enumerate() {
            let c = color(i);
            let anno = chart
                .draw_series(
                    edges
                        .windows(2)
                        .zip(h)
                        .filter(|(_, v)| **v > 0.0)
                        .map(|(w, &v)| Rectangle::new([(w[0], 0.0), (w[1], v)], c.mix(0.3).filled())),
                )
                .map_err(de)?;
            if !set.name.is_empty() {
                anno.label(set.name.as_str())
                    .legend(move |(lx, ly)| Rectangle::new([(lx, ly - 6), (lx + 20, ly + 6)], c.mix(0.5).filled()));
            }
            // Step outline.
            let mut outline = Vec::with_capacity(2 * h.len() + 2);
            outline.push((edges[0], 0.0));
            for (w, &v) in edges.windows(2).zip(h) {
                outline.push((w[0], v));
                outline.push((w[1], v));
            }
            outline.push((edges[edges.len() - 1], 0.0));
            chart.draw_series(std::iter::once(PathElement::new(outline, c.stroke_width(1)))).map_err(de)?;
        }
        for (i, s) in spec.curves.iter().enumerate() {
            draw_series(chart, s, s.style, spec.sets.len() + i, &x, &y)?;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Grids of histograms

/// One panel of a [`histogram_grid`]: bar heights on the grid's common bins.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Shown above the panel.
    pub title: String,
    /// Shown below the panel's x axis.
    pub footer: String,
    /// Bar heights (any unit: each panel is scaled to its own maximum).
    pub heights: Vec<f64>,
    /// Palette index of the bars' colour (see [`color`]).
    pub color: usize,
}

/// What [`histogram_grid`] draws: panels in rows of `cols`, a colour key, a dashed marker line.
pub struct HistogramGrid<'a> {
    pub title: &'a str,
    /// The bins split this range evenly (as many as each panel has heights).
    pub x_range: (f64, f64),
    pub cols: usize,
    /// Row-major.
    pub panels: &'a [Panel],
    /// A dashed vertical line at this x in every panel (e.g. the target's mean).
    pub marker_x: Option<f64>,
    /// The colour key: (label, palette index).
    pub key: &'a [(&'a str, usize)],
}

/// Draws a grid of small histograms (plotters, one chart per panel) into an SVG at `path`.
pub fn histogram_grid(path: &Path, spec: &HistogramGrid<'_>) -> Result<()> {
    let svg = render_histogram_grid(spec).map_err(|e| XtaskError::plot(path, e))?;
    atomic_write(path, svg.as_bytes())
}

fn render_histogram_grid(spec: &HistogramGrid<'_>) -> DrawResult<String> {
    const PANEL_W: u32 = 250;
    const PANEL_H: u32 = 190;
    let cols = spec.cols.max(1);
    let rows = spec.panels.len().div_ceil(cols).max(1);
    let (width, height) = (PANEL_W * cols as u32 + 20, PANEL_H * rows as u32 + 86);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(de)?;
        let root = root.margin(6, 6, 10, 10);
        let area = root.titled(spec.title, (FONT, 18)).map_err(de)?;
        let (key, grid) = area.split_vertically(36);
        let mut x0 = 10;
        for (label, c) in spec.key {
            let c = color(*c);
            key.draw(&Rectangle::new([(x0, 10), (x0 + 18, 24)], c.mix(0.85).filled())).map_err(de)?;
            key.draw(&Text::new(label.to_string(), (x0 + 24, 10), (FONT, 14))).map_err(de)?;
            x0 += 24 + 8 * label.chars().count() as i32 + 28;
        }
        let bins = spec.panels.iter().map(|p| p.heights.len()).max().unwrap_or(1).max(1);
        let (lo, hi) = spec.x_range;
        let w = (hi - lo) / bins as f64;
        for (panel, area) in spec.panels.iter().zip(grid.split_evenly((rows, cols))) {
            let top = panel.heights.iter().copied().filter(|v| v.is_finite()).fold(0.0, f64::max);
            let top = if top > 0.0 { top * 1.08 } else { 1.0 };
            let mut chart = ChartBuilder::on(&area)
                .caption(&panel.title, (FONT, 14))
                .margin(6)
                .x_label_area_size(40)
                .y_label_area_size(6)
                .build_cartesian_2d(Axis::new(lo, hi, false), Axis::new(0.0, top, false))
                .map_err(de)?;
            chart
                .configure_mesh()
                .y_labels(0)
                .disable_y_mesh()
                .x_desc(&panel.footer)
                .label_style((FONT, 12))
                .axis_desc_style((FONT, 13))
                .bold_line_style(BLACK.mix(0.12))
                .light_line_style(BLACK.mix(0.0))
                .axis_style(BLACK.mix(0.6))
                .draw()
                .map_err(de)?;
            let c = color(panel.color);
            chart
                .draw_series(
                    panel
                        .heights
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| **v > 0.0)
                        .map(|(b, &v)| Rectangle::new([(lo + w * b as f64, 0.0), (lo + w * (b + 1) as f64, v)], c.mix(0.85).filled())),
                )
                .map_err(de)?;
            if let Some(m) = spec.marker_x {
                chart.draw_series(DashedLineSeries::new(vec![(m, 0.0), (m, top)], 4, 3, BLACK.stroke_width(1))).map_err(de)?;
            }
        }
        root.present().map_err(de)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_and_labelled_cleanly() {
        let a = Axis::new(0.0, 1.0, false);
        let labels: Vec<String> = a.major_ticks().iter().map(|&v| a.label(v)).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let b = Axis::new(0.0, 3e-5, false);
        assert!(b.major_ticks().iter().any(|&v| b.label(v) == "1e-5"), "{:?}", b.major_ticks());
    }

    #[test]
    fn log_ticks_cover_short_and_long_ranges() {
        let a = Axis::new(1e-4, 1.0, true);
        let labels: Vec<String> = a.major_ticks().iter().map(|&v| a.label(v)).collect();
        assert_eq!(labels, ["1e-4", "0.001", "0.01", "0.1", "1"]);
        // Less than a decade still gets at least three labelled ticks.
        let b = Axis::new(2.0, 8.0, true);
        assert!(b.major_ticks().len() >= 3, "{:?}", b.major_ticks());
    }

    #[test]
    fn marching_squares_finds_a_closed_circle() {
        let g: Vec<f64> = (0..41).map(|i| -2.0 + 0.1 * i as f64).collect();
        let mut z = Vec::new();
        for &y in &g {
            for &x in &g {
                z.push(x * x + y * y);
            }
        }
        let lines = marching_squares(&g, &g, &z, 1.0);
        assert_eq!(lines.len(), 1, "one joined polyline");
        let l = &lines[0];
        assert!(l.len() > 30);
        assert_eq!(l.first(), l.last(), "closed");
        for &(x, y) in l {
            assert!(((x * x + y * y).sqrt() - 1.0).abs() < 0.02);
        }
    }

    #[test]
    fn histogram_density_has_unit_area() {
        let sets = [HistSet { name: "a".into(), values: (0..1000).map(|i| f64::from(i) / 1000.0).collect() }];
        let (edges, h) = histogram(&sets, 10, None, true);
        let area: f64 = edges.windows(2).zip(&h[0]).map(|(w, v)| (w[1] - w[0]) * v).sum();
        assert!((area - 1.0).abs() < 1e-12);
    }

    #[test]
    fn svg_contains_text_elements_without_fonts() {
        let svg = render_xy("Title here", "x axis", "y axis", &[Series::line("curve", vec![(0.0, 1.0), (1.0, 2.0)])], false, false, false)
            .unwrap();
        for s in ["Title here", "x axis", "y axis", "curve", "<text"] {
            assert!(svg.contains(s), "missing {s}");
        }
    }

    /// Renders one figure of each kind. With `XTASK_PLOT_DEMO_DIR` set they are kept there (to
    /// look at, e.g. after `rsvg-convert`); otherwise they go to a temporary directory.
    #[test]
    fn demo_figures_render() {
        let keep = std::env::var_os("XTASK_PLOT_DEMO_DIR").map(std::path::PathBuf::from);
        let tmp = crate::io::TempDir::new("plots");
        let dir = keep.unwrap_or_else(|| tmp.0.clone());
        // Deterministic pseudo-random points (no RNG needed): a low-discrepancy sequence pushed
        // through the Box–Muller map.
        let normal_pairs = |n: usize, shift: (f64, f64), scale: f64| -> Vec<(f64, f64)> {
            (0..n)
                .map(|i| {
                    let u1 = ((i as f64 + 0.5) * 0.618_033_988_749_895).fract();
                    let u2 = ((i as f64 + 0.5) * 0.754_877_666_246_692_7).fract();
                    let r = (-2.0 * u1.max(1e-12).ln()).sqrt() * scale;
                    let a = std::f64::consts::TAU * u2;
                    (shift.0 + r * a.cos(), shift.1 + r * a.sin())
                })
                .collect()
        };
        let hs: Vec<f64> = (0..12).map(|i| 0.5f64.powi(i)).collect();
        line_plot(
            &dir.join("demo_line_loglog.svg"),
            "Error vs step size (log-log)",
            "step size h",
            "W2 error",
            &[
                Series::line("sampler A", hs.iter().map(|&h| (h, 0.3 * h)).collect()).with_style(Style::LinePoints),
                Series::line("sampler B", hs.iter().map(|&h| (h, 0.05 * h.sqrt())).collect()),
                Series::dashed("slope 1", hs.iter().map(|&h| (h, h)).collect()),
            ],
            true,
            true,
        )
        .unwrap();
        let a = normal_pairs(400, (-1.5, 0.0), 0.6);
        let b = normal_pairs(400, (1.5, 0.5), 0.4);
        scatter_plot(
            &dir.join("demo_scatter.svg"),
            "Two sample sets",
            "x₁",
            "x₂",
            &[Series::points("target", a.clone()), Series::points("sampler", b.clone())],
            false,
            false,
        )
        .unwrap();
        let density = |x: f64, y: f64| {
            let g =
                |mx: f64, my: f64, s: f64| (-((x - mx).powi(2) + (y - my).powi(2)) / (2.0 * s * s)).exp() / (std::f64::consts::TAU * s * s);
            0.5 * g(-1.5, 0.0, 0.6) + 0.5 * g(1.5, 0.5, 0.4)
        };
        let mut spec = Contour {
            title: "Mixture density and samples",
            x_label: "x₁",
            y_label: "x₂",
            x_range: (-4.0, 4.0),
            y_range: (-3.0, 3.0),
            f: &density,
            grid: 120,
            levels: Vec::new(),
            samples: &[Series::points("samples", a.iter().chain(&b).copied().collect())],
        };
        spec.levels = spec.density_levels(&[0.05, 0.2, 0.4, 0.6, 0.8]);
        contour_plot(&dir.join("demo_contour.svg"), &spec).unwrap();
        let xs: Vec<f64> = a.iter().map(|p| p.0).collect();
        let exact: Vec<(f64, f64)> = (0..200)
            .map(|i| {
                let x = -4.0 + 5.0 * f64::from(i) / 199.0;
                let z = (x + 1.5) / 0.6;
                (x, (-0.5 * z * z).exp() / (0.6 * std::f64::consts::TAU.sqrt()))
            })
            .collect();
        histogram_plot(
            &dir.join("demo_histogram.svg"),
            &Histogram {
                title: "Marginal of x₁",
                x_label: "x₁",
                y_label: "density",
                sets: &[HistSet { name: "samples".into(), values: xs }],
                bins: 30,
                density: true,
                range: None,
                curves: &[Series::line("exact N(-1.5, 0.6²)", exact)],
            },
        )
        .unwrap();
        let panels: Vec<Panel> = (0..6)
            .map(|k| Panel {
                title: format!("η = {k}, S = {}", 20 * (k + 1)),
                footer: if k % 2 == 0 { "one cluster".into() } else { "centre + sides (mostly off-plot)".into() },
                heights: (0..64).map(|b| (-(f64::from(b) - 32.0 - 4.0 * (k % 3) as f64).powi(2) / 40.0).exp()).collect(),
                color: k % 2,
            })
            .collect();
        histogram_grid(
            &dir.join("demo_histogram_grid.svg"),
            &HistogramGrid {
                title: "A grid of histograms",
                x_range: (-8.0, 8.0),
                cols: 3,
                panels: &panels,
                marker_x: Some(0.0),
                key: &[("one cluster", 0), ("centre + sides", 1)],
            },
        )
        .unwrap();
        // Many series: 12 distinct colours, and a legend that avoids the lines.
        let many: Vec<Series> = (0..11)
            .map(|i| {
                Series::line(format!("series {i}"), hs.iter().map(|&h| (h, (1.0 + i as f64) * h)).collect()).with_style(Style::LinePoints)
            })
            .collect();
        line_plot(&dir.join("demo_many.svg"), "Eleven series", "h", "error", &many, true, true).unwrap();
        // A crowded plot whose corners are all taken and whose legend is long: the legend goes in a
        // column to the right.
        let crowded: Vec<Series> = (0..13)
            .map(|i| {
                let pts = (0..50).map(|k| (f64::from(k), (f64::from(k) * 0.3 + f64::from(i)).sin() + 0.1 * f64::from(i))).collect();
                if i < 11 {
                    Series::line(format!("wave {i}"), pts).with_style(Style::LinePoints)
                } else {
                    Series::dashed(format!("dashed {i}"), pts)
                }
            })
            .collect();
        line_plot(&dir.join("demo_crowded.svg"), "Crowded", "x", "y", &crowded, false, false).unwrap();
        let crowded_svg = std::fs::read_to_string(dir.join("demo_crowded.svg")).unwrap();
        let canvas_width: u32 =
            crowded_svg.split("width=\"").nth(1).and_then(|r| r.split('"').next()).and_then(|w| w.parse().ok()).unwrap();
        assert!(canvas_width > WIDTH && crowded_svg.contains("dashed 12"), "legend in a column right of the plot");
        let fills: std::collections::BTreeSet<String> = (0..11).map(|i| format!("{:?}", color(i))).collect();
        assert_eq!(fills.len(), 11, "11 series, 11 colours");
        for f in ["demo_line_loglog", "demo_scatter", "demo_contour", "demo_histogram", "demo_histogram_grid", "demo_many", "demo_crowded"]
        {
            let svg = std::fs::read_to_string(dir.join(format!("{f}.svg"))).unwrap();
            assert!(svg.contains("<text"), "{f}: no text elements");
            assert!(svg.matches("<text").count() >= 8, "{f}: too few labels");
        }
    }
}
