//! The lane-wise exact-law engine: the diagonal ([`crate::Diag`]) case of [`crate::LawEngine`],
//! recorded once per step and replayed over blocks of eigenvalues. [`crate::output_law`] runs it
//! for every [`Coef`] with [`Coef::DIAGONAL`].
//!
//! When every coefficient is diagonal in one fixed basis, the `d` coordinates ("lanes") are
//! independent scalar problems that all run the same program: a step's coefficient of lane `i` is a
//! function of lane `i`'s data only. So the step is run **once** on this carrier, whose values are
//! registers: each operation of the sampler's own step code (`lin`, `score`, `noise`, `data_mean`)
//! is folded symbolically where its result is the same for every lane (a multiple of the identity,
//! [`crate::Op::Scalar`]) and emits a lane instruction where it is not. `close` appends the collapse
//! of the new slots (means, covariances and cross-covariances, as in [`crate::law`]) and replays the
//! program over blocks of `BLOCK` (512) lanes, with each block's intermediate values in one scratch
//! buffer reused by every block and every step (no allocation per operation), with AVX2 where the
//! CPU has it; blocks run in parallel (rayon) from 16 blocks on. A new slot that is an unchanged
//! block of the old law (a multistep history shift, a slot a step leaves alone) takes the old
//! vector instead of a copy. The step code stays the single source of truth: it is run on this
//! carrier, never restated; the score `L_t` is asked of the target once per distinct time and
//! step, as `LawEngine` does.
//!
//! **Factored form.** Until a step draws noise, every slot is affine in the start: per lane,
//! `Y_b = m_b + g_b Z` with one `Z ~ N(0, V)` (`V` the start covariance). The engine then keeps the
//! gains `g_b` in place of the covariance blocks: a step's collapse is `g_i = Σ_b a_ib g_b`, `m` terms
//! per slot instead of the `m² p²` products of the joint covariance (`Cov(Y_i, Y_j) = g_i V g_j` is
//! assembled only when asked: [`LaneEngine::position`], [`LaneEngine::law`]). A deterministic
//! multistep sampler (LMS, UniPC, DPM-Solver++(3M)) costs a few lane operations per slot and step.
//! The first step that draws noise assembles the covariance blocks and continues unfactored.
//!
//! Unfactored, each lane's arithmetic is that of [`crate::LawEngine`] with [`crate::Diag`]
//! coefficients, operation by operation and in the same order (the same products, sums and scalar
//! folds, no fused multiply–add), so for a sampler that draws noise from its first step the two
//! engines agree bit for bit; a factored run is the same law by different arithmetic and agrees to
//! 1e-12 of the largest magnitude the law has carried (`tests/lane_engine.rs`: every built-in
//! sampler and a synthetic four-slot, two-noise sampler, on five paths and a chain). Since no value
//! mixes lanes, the result does not depend on the block size, the instruction set or the thread
//! count.

use crate::algebra::{Algebra, Carrier};
use crate::error::SolverError;
use crate::law::{Coef, GaussLaw, LinearScore, Marginal, Op};
use gmdiff_process::Coefficients;
use rayon::prelude::*;

/// Lanes per block of the replay (the scratch of a block is `BLOCK` values per register).
const BLOCK: usize = 512;
/// The replay runs blocks in parallel from this many blocks on (below, one thread: the call is
/// itself usually one task of a parallel loop, e.g. `gmdiff_gaussian::SpectralProblem::scheme`).
const PAR_BLOCKS: usize = 16;

/// A value of [`LaneEngine`]: a register of the step being recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reg(u32);

/// Where an instruction reads lanes: a scratch row, or an external vector (the old law, the score).
#[derive(Debug, Clone, Copy)]
enum Src {
    Row(u32),
    Ext(u32),
}

/// Where an instruction writes lanes: a scratch row, or an output vector of the new law.
#[derive(Debug, Clone, Copy)]
enum Dst {
    Row(u32),
    Out(u32),
}

/// A coefficient of a register: the same for every lane (`c I`), or lane by lane.
#[derive(Debug, Clone, Copy)]
enum Val {
    Scalar(f64),
    Lane(Src),
}

/// A sum being folded: nothing yet, a scalar, or lanes in a destination the fold owns.
#[derive(Debug, Clone, Copy)]
enum Acc<D> {
    Zero,
    Scalar(f64),
    Lanes(D),
}

/// What a new mean or covariance block of the collapse is: 0, a scalar, an output of the
/// program, or an unchanged vector of the old law (`Ext` index; moved, not copied).
#[derive(Debug, Clone, Copy)]
enum Spec {
    Zero,
    Scalar(f64),
    Out(u32),
    Old(u32),
}

/// One lane instruction; `acc` means `d ← d + t`, else `d ← t`.
#[derive(Debug, Clone, Copy)]
enum Ins {
    /// `d ← v`.
    Fill { dst: Dst, v: f64 },
    /// `t = c·s (+ shift)`.
    Scale { dst: Dst, c: f64, src: Src, shift: Option<f64>, acc: bool },
    /// `d ← d + v`.
    Shift { dst: Dst, v: f64 },
    /// `t = k·f₀·f₁·f₂` from the left over the first `n` factors (`k = 1` is not multiplied).
    Prod { dst: Dst, k: f64, f: [Src; 3], n: u8, acc: bool },
}

/// The most terms one fused pass takes (a longer sum continues in the next pass).
const LIN_TERMS: usize = 8;
/// The most product terms one fused pass takes.
const PROD_TERMS: usize = 4;

/// The "no shift" of a fused linear term: `t + (−0) = t` exactly for every `t`.
const NO_SHIFT: f64 = -0.0;

/// A replayed pass over the lanes: consecutive [`Ins`] on one destination fused, with the same
/// operations in the same order per lane (so the same bits as one pass per instruction).
#[derive(Debug, Clone, Copy)]
enum Pass {
    /// `outs[to] ← outs[from]` (the transposed copy of an off-diagonal covariance block, made while
    /// the block's lanes are at hand).
    Copy { from: u32, to: u32 },
    /// `d ← v`.
    Fill { dst: Dst, v: f64 },
    /// `d ← d + v`.
    Shift { dst: Dst, v: f64 },
    /// `d ← d + (c·s + z)`.
    AddScaleShift { dst: Dst, c: f64, src: Src, z: f64 },
    /// `t ← c₀ s₀ + z₀` (or `t ← (d + c₀ s₀) + z₀` when `acc`), then `t ← (t + cᵢ sᵢ) + zᵢ`, `d ← t`;
    /// the terms `(cᵢ, sᵢ, zᵢ)` are `lin[at..at + len]` (`zᵢ = −0` for none; `shifts` when any).
    Lin { dst: Dst, acc: bool, shifts: bool, at: u32, len: u8 },
    /// `d ← (d +) T₀ + T₁ + …` from the left, `Tᵢ = k·f₀·…·f_{n−1}` from the left; the terms are
    /// `prod[at..at + len]`, all with `n` factors.
    Prod { dst: Dst, acc: bool, n: u8, at: u32, len: u8 },
}

/// The replayed program of a step: its passes and their terms.
#[derive(Debug, Default)]
struct Program {
    passes: Vec<Pass>,
    lin: Vec<(f64, Src, f64)>,
    prod: Vec<(f64, [Src; 3])>,
}

fn same(a: Dst, b: Dst) -> bool {
    matches!((a, b), (Dst::Row(x), Dst::Row(y)) | (Dst::Out(x), Dst::Out(y)) if x == y)
}

impl Program {
    fn clear(&mut self) {
        self.passes.clear();
        self.lin.clear();
        self.prod.clear();
    }
    fn is_empty(&self) -> bool {
        self.passes.is_empty()
    }
    /// Lowers one instruction, fusing it into the last pass where it continues it on the same
    /// destination.
    fn push(&mut self, ins: Ins) {
        match ins {
            Ins::Fill { dst, v } => self.passes.push(Pass::Fill { dst, v }),
            Ins::Scale { dst, c, src, shift, acc: false } => {
                let z = shift.unwrap_or(NO_SHIFT);
                self.passes.push(Pass::Lin {
                    dst,
                    acc: false,
                    shifts: z.to_bits() != NO_SHIFT.to_bits(),
                    at: self.lin.len() as u32,
                    len: 1,
                });
                self.lin.push((c, src, z));
            }
            Ins::Scale { dst, c, src, shift: None, acc: true } => {
                match self.passes.last_mut() {
                    Some(Pass::Lin { dst: d, len, .. }) if same(*d, dst) && (*len as usize) < LIN_TERMS => *len += 1,
                    _ => self.passes.push(Pass::Lin { dst, acc: true, shifts: false, at: self.lin.len() as u32, len: 1 }),
                }
                self.lin.push((c, src, NO_SHIFT));
            }
            Ins::Scale { dst, c, src, shift: Some(z), acc: true } => self.passes.push(Pass::AddScaleShift { dst, c, src, z }),
            Ins::Shift { dst, v } => match (self.passes.last_mut(), self.lin.last_mut()) {
                // `t + c s` then `+ v`: the shift of the last term, when it has none yet.
                (Some(Pass::Lin { dst: d, shifts, .. }), Some((_, _, z))) if same(*d, dst) && z.to_bits() == NO_SHIFT.to_bits() => {
                    *z = v;
                    *shifts = true;
                }
                _ => self.passes.push(Pass::Shift { dst, v }),
            },
            Ins::Prod { dst, k, f, n, acc } => {
                match self.passes.last_mut() {
                    Some(Pass::Prod { dst: d, n: m, len, .. }) if acc && same(*d, dst) && *m == n && (*len as usize) < PROD_TERMS => {
                        *len += 1
                    }
                    _ => self.passes.push(Pass::Prod { dst, acc, n, at: self.prod.len() as u32, len: 1 }),
                }
                self.prod.push((k, f));
            }
        }
    }
}

/// A lane term of a collapse sum, before its destination is known.
#[derive(Debug, Clone, Copy)]
enum Term {
    Scalar(f64),
    Scale { c: f64, src: Src, shift: Option<f64> },
    Prod { k: f64, f: [Src; 3], n: u8 },
}

/// A register: its coefficients on the step's slots (`basis[at..at + p]`), on the step's noises
/// (`noise[from..to]`, in order of first appearance) and its constant.
#[derive(Debug, Clone, Copy)]
struct RegInfo {
    basis: usize,
    noise: (usize, usize),
    constant: Option<Src>,
}

/// A cached score `(L_t, c_t)` and whether the current step used it.
struct Entry<C> {
    at: Coefficients,
    l: Op<C>,
    c: Option<Vec<f64>>,
    used: bool,
}

/// The lane-wise exact-law carrier for an affine score with diagonal coefficients (see the module
/// docs): the engine [`crate::output_law`] runs when [`Coef::DIAGONAL`] holds.
///
/// ```
/// use gmdiff_solvers::{Ddim, Diag, LaneEngine, LawEngine, Marginal, Schedule, SpectralGaussian, run};
/// let target = SpectralGaussian::new(vec![0.0, 0.3, 2.0], Some(vec![1.0, -1.0, 0.5])).unwrap();
/// let sched = Schedule::uniform_vp(30, 1e-3).unwrap();
/// let mut lanes = LaneEngine::new(&target, Marginal::<Diag>::standard()).unwrap();
/// run(&Ddim { eta: 0.5 }, &sched, &mut lanes, |_, _| Ok(())).unwrap();
/// let mut affine = LawEngine::new(&target, Marginal::<Diag>::standard());
/// run(&Ddim { eta: 0.5 }, &sched, &mut affine, |_, _| Ok(())).unwrap();
/// // The same arithmetic lane by lane: the same law, bit for bit.
/// assert_eq!(lanes.law().position(), affine.law().position());
/// ```
pub struct LaneEngine<'a, C, T: ?Sized> {
    target: &'a T,
    dim: usize,
    law: GaussLaw<C>,
    evals: usize,
    cache: Vec<Entry<C>>,
    /// The target's data mean once asked for (`Some(None)`: centred).
    data_mean: Option<Option<Vec<f64>>>,
    /// Slots of the law the current step started from.
    p: usize,
    regs: Vec<RegInfo>,
    basis: Vec<Option<Val>>,
    noise: Vec<(u32, Val)>,
    noises: u32,
    prog: Program,
    rows: u32,
    scratch: Vec<f64>,
    /// Lane vectors of earlier laws, for reuse.
    pool: Vec<Vec<f64>>,
    /// `Some(V)` while the run is noise-free: then every slot is `Y_b = m_b + g_b Z` with one
    /// `Z ~ N(0, V)` per lane (`V` the start covariance), `law.cov[b][b]` holds `g_b` (not a
    /// covariance) and the off-diagonal blocks are unused; `Cov(Y_b, Y_b') = g_b V g_b'`.
    factor: Option<Op<C>>,
}

/// The lane-wise carrier [`crate::output_law`] runs samplers on (the target behind a trait object,
/// as [`crate::LawCarrier`]).
pub type LaneCarrier<'a, C> = LaneEngine<'a, C, dyn LinearScore<C> + 'a>;

fn dimension(what: &'static str, expected: usize, found: usize) -> Result<(), SolverError> {
    if expected == found { Ok(()) } else { Err(SolverError::Dimension { what, expected, found }) }
}

impl<'a, C: Coef, T: LinearScore<C> + ?Sized> LaneEngine<'a, C, T> {
    /// An engine for `target`, with the state law `start`.
    ///
    /// Errors: [`SolverError::Unsupported`] when `C` is not diagonal ([`Coef::DIAGONAL`] false), and
    /// [`SolverError::Dimension`] when the start's mean or covariance does not have `target.dim()`
    /// entries.
    pub fn new(target: &'a T, start: Marginal<C>) -> Result<Self, SolverError> {
        if !C::DIAGONAL {
            return Err(SolverError::Unsupported { sampler: "the lane-wise law engine", schedule: "non-diagonal coefficients" });
        }
        let dim = target.dim();
        if let Some(m) = &start.mean {
            dimension("start mean vs score", dim, m.len())?;
        }
        if let Op::Full(c) = &start.cov {
            dimension("start covariance vs score", dim, lanes_of(c).len())?;
        }
        // Factored from the start: the one slot is `m + 1·Z`, `Z ~ N(0, V)`.
        let law = GaussLaw::single(Marginal { mean: start.mean, cov: Op::Scalar(1.0) });
        Ok(Self {
            target,
            dim,
            law,
            evals: 0,
            cache: Vec::new(),
            data_mean: None,
            p: 0,
            regs: Vec::new(),
            basis: Vec::new(),
            noise: Vec::new(),
            noises: 0,
            prog: Program::default(),
            rows: 0,
            scratch: Vec::new(),
            pool: Vec::new(),
            factor: Some(start.cov),
        })
    }
    /// The current joint law (assembled from the factored form while the run is noise-free).
    pub fn law(&self) -> std::borrow::Cow<'_, GaussLaw<C>> {
        match &self.factor {
            None => std::borrow::Cow::Borrowed(&self.law),
            Some(v) => {
                let m = self.law.means.len();
                let g = |b: usize| &self.law.cov[b][b];
                // Each block once, `j ≥ i`; the block below the diagonal is its exact transpose (as
                // the unfactored collapse stores it), so the joint covariance is exactly symmetric.
                let mut cov: Vec<Vec<Op<C>>> =
                    (0..m).map(|i| (0..m).map(|j| if j >= i { C::sandwich(g(i), v, g(j)) } else { Op::Scalar(0.0) }).collect()).collect();
                for i in 1..m {
                    let (upper, lower) = cov.split_at_mut(i);
                    for (j, row) in upper.iter().enumerate() {
                        lower[0][j] = row[i].clone();
                    }
                }
                std::borrow::Cow::Owned(GaussLaw { means: self.law.means.clone(), cov })
            }
        }
    }
    /// The current marginal law of the position (slot 0).
    pub fn position(&self) -> Marginal<C> {
        match &self.factor {
            None => self.law.position(),
            Some(v) => {
                let g = &self.law.cov[0][0];
                Marginal { mean: self.law.means[0].clone(), cov: C::sandwich(g, v, g) }
            }
        }
    }
    /// Leaves the factored form: the covariance blocks `g_b V g_b'` (before a step that draws noise).
    fn unfactor(&mut self) {
        if self.factor.is_some() {
            self.law = self.law().into_owned();
            self.factor = None;
        }
    }

    // External vectors of a step, by index: old means, old covariance blocks, the data mean, then
    // (L, c) of each cache entry.
    fn ext_mean(b: usize) -> u32 {
        b as u32
    }
    fn ext_cov(&self, b: usize, bp: usize) -> u32 {
        (self.p + b * self.p + bp) as u32
    }
    fn ext_data_mean(&self) -> u32 {
        (self.p + self.p * self.p) as u32
    }
    fn ext_score(&self, k: usize) -> (u32, u32) {
        let base = self.p + self.p * self.p + 1 + 2 * k;
        (base as u32, base as u32 + 1)
    }

    fn row(&mut self) -> u32 {
        self.rows += 1;
        self.rows - 1
    }

    fn push_reg(&mut self, basis: usize, noise: (usize, usize), constant: Option<Src>) -> Reg {
        self.regs.push(RegInfo { basis, noise, constant });
        Reg(self.regs.len() as u32 - 1)
    }

    /// `acc + c·v` as [`crate::Op::add_scaled`] computes it (`None + c·v` is `v.scaled(c)`).
    fn fold(&mut self, acc: Acc<u32>, c: f64, v: Option<Val>) -> Acc<u32> {
        match (acc, v) {
            (acc, None) => acc,
            (Acc::Zero, Some(Val::Scalar(a))) => Acc::Scalar(c * a),
            (Acc::Zero, Some(Val::Lane(s))) => {
                let r = self.row();
                self.prog.push(Ins::Scale { dst: Dst::Row(r), c, src: s, shift: Some(0.0), acc: false });
                Acc::Lanes(r)
            }
            (Acc::Scalar(a), Some(Val::Scalar(b))) => Acc::Scalar(a + c * b),
            (Acc::Scalar(a), Some(Val::Lane(s))) => {
                let r = self.row();
                self.prog.push(Ins::Scale { dst: Dst::Row(r), c, src: s, shift: Some(a), acc: false });
                Acc::Lanes(r)
            }
            (Acc::Lanes(r), Some(Val::Scalar(b))) => {
                self.prog.push(Ins::Shift { dst: Dst::Row(r), v: c * b });
                Acc::Lanes(r)
            }
            (Acc::Lanes(r), Some(Val::Lane(s))) => {
                self.prog.push(Ins::Scale { dst: Dst::Row(r), c, src: s, shift: None, acc: true });
                Acc::Lanes(r)
            }
        }
    }

    /// `L · v` as [`crate::Op::mul`] computes it, with `L` a scalar or lanes.
    fn times(&mut self, l: Val, v: Option<Val>) -> Option<Val> {
        let v = v?;
        let (dst, ins) = match (l, v) {
            (Val::Scalar(s), Val::Scalar(a)) => return Some(Val::Scalar(s * a)),
            (Val::Scalar(s), Val::Lane(m)) | (Val::Lane(m), Val::Scalar(s)) => {
                let r = self.row();
                (r, Ins::Scale { dst: Dst::Row(r), c: s, src: m, shift: Some(0.0), acc: false })
            }
            (Val::Lane(l), Val::Lane(m)) => {
                let r = self.row();
                (r, Ins::Prod { dst: Dst::Row(r), k: 1.0, f: [l, m, m], n: 2, acc: false })
            }
        };
        self.prog.push(ins);
        Some(Val::Lane(Src::Row(dst)))
    }

    /// The cache entry of `at` (computing `(L_t, c_t)` on a miss), marked used by this step.
    fn entry(&mut self, at: &Coefficients) -> Result<usize, SolverError> {
        let k = match self.cache.iter().position(|e| e.at == *at) {
            Some(k) => k,
            None => {
                let (l, c) = self.target.affine(at)?;
                if let Op::Full(m) = &l {
                    dimension("score matrix L_t vs dimension", self.dim, lanes_of(m).len())?;
                }
                if let Some(c) = &c {
                    dimension("score shift c_t vs dimension", self.dim, c.len())?;
                }
                self.cache.push(Entry { at: *at, l, c, used: false });
                self.cache.len() - 1
            }
        };
        self.cache[k].used = true;
        Ok(k)
    }

    /// Appends `term` to the collapse sum `acc`, as `acc.add_scaled(1.0, term)` in [`crate::law`].
    fn add_term(&mut self, acc: Acc<u32>, term: Term, outs: &mut u32) -> Acc<u32> {
        let emit = |dst: Dst, acc: bool| match term {
            Term::Scalar(_) => unreachable!("scalar terms are folded"),
            Term::Scale { c, src, shift } => Ins::Scale { dst, c, src, shift, acc },
            Term::Prod { k, f, n } => Ins::Prod { dst, k, f, n, acc },
        };
        match (acc, term) {
            (Acc::Zero, Term::Scalar(s)) => Acc::Scalar(s),
            (Acc::Scalar(a), Term::Scalar(s)) => Acc::Scalar(a + s),
            (Acc::Lanes(o), Term::Scalar(s)) => {
                self.prog.push(Ins::Shift { dst: Dst::Out(o), v: s });
                Acc::Lanes(o)
            }
            (Acc::Zero, _) => {
                *outs += 1;
                self.prog.push(emit(Dst::Out(*outs - 1), false));
                Acc::Lanes(*outs - 1)
            }
            (Acc::Scalar(a), _) => {
                *outs += 1;
                self.prog.push(emit(Dst::Out(*outs - 1), false));
                self.prog.push(Ins::Shift { dst: Dst::Out(*outs - 1), v: a });
                Acc::Lanes(*outs - 1)
            }
            (Acc::Lanes(o), _) => {
                self.prog.push(emit(Dst::Out(o), true));
                Acc::Lanes(o)
            }
        }
    }

    /// The collapse sum `terms` of one output: an unchanged vector of the old law when the sum is
    /// exactly one copy of it (`1·v`, exact), else the program's fold of the terms (`Zero`,
    /// `Scalar` or `Out`).
    fn output(&mut self, terms: &[Term], outs: &mut u32) -> Spec {
        let old = (self.p + self.p * self.p) as u32;
        if let [Term::Prod { k: 1.0, f: [Src::Ext(e), ..], n: 1 } | Term::Scale { c: 1.0, src: Src::Ext(e), shift: None }] = *terms
            && e < old
        {
            return Spec::Old(e);
        }
        match terms.iter().fold(Acc::Zero, |acc, &t| self.add_term(acc, t, outs)) {
            Acc::Zero => Spec::Zero,
            Acc::Scalar(s) => Spec::Scalar(s),
            Acc::Lanes(o) => Spec::Out(o),
        }
    }

    /// Appends the collapse of `values` to the program: each new mean (`Zero` for none) and each
    /// covariance block `cov[i][j − i]`, `j ≥ i`; and the number of program outputs.
    fn collapse(&mut self, values: &[Reg]) -> (Vec<Spec>, Vec<Vec<Spec>>, u32) {
        let (p, m) = (self.p, values.len());
        let mut outs = 0;
        let mut terms = Vec::new();
        let mut means = Vec::with_capacity(m);
        for v in values {
            let info = self.regs[v.0 as usize];
            terms.clear();
            if let Some(src) = info.constant {
                terms.push(Term::Prod { k: 1.0, f: [src; 3], n: 1 });
            }
            for b in 0..p {
                if let (Some(a), Some(_)) = (self.basis[info.basis + b], &self.law.means[b]) {
                    let mb = Src::Ext(Self::ext_mean(b));
                    terms.push(match a {
                        Val::Scalar(a) => Term::Scale { c: a, src: mb, shift: None },
                        Val::Lane(a) => Term::Prod { k: 1.0, f: [a, mb, mb], n: 2 },
                    });
                }
            }
            means.push(self.output(&terms, &mut outs));
        }
        let mut cov = Vec::with_capacity(m);
        if self.factor.is_some() {
            // Factored: the new `g_i = Σ_b a_ib g_b` on the diagonal, no cross blocks.
            for v in values {
                let info = self.regs[v.0 as usize];
                terms.clear();
                for b in 0..p {
                    let Some(a) = self.basis[info.basis + b] else { continue };
                    let g = match &self.law.cov[b][b] {
                        Op::Scalar(s) => Val::Scalar(*s),
                        Op::Full(_) => Val::Lane(Src::Ext(self.ext_cov(b, b))),
                    };
                    terms.push(match (a, g) {
                        (Val::Scalar(a), Val::Scalar(g)) => Term::Scalar(a * g),
                        (Val::Scalar(c), Val::Lane(src)) | (Val::Lane(src), Val::Scalar(c)) => Term::Scale { c, src, shift: None },
                        (Val::Lane(a), Val::Lane(g)) => Term::Prod { k: 1.0, f: [a, g, g], n: 2 },
                    });
                }
                let mut row = vec![self.output(&terms, &mut outs)];
                row.resize(m - cov.len(), Spec::Zero);
                cov.push(row);
            }
            return (means, cov, outs);
        }
        for i in 0..m {
            let mut row = Vec::with_capacity(m - i);
            for j in i..m {
                let (vi, vj) = (self.regs[values[i].0 as usize], self.regs[values[j].0 as usize]);
                terms.clear();
                for b in 0..p {
                    let Some(ai) = self.basis[vi.basis + b] else { continue };
                    for bp in 0..p {
                        let Some(aj) = self.basis[vj.basis + bp] else { continue };
                        let c = match &self.law.cov[b][bp] {
                            Op::Scalar(s) => Val::Scalar(*s),
                            Op::Full(_) => Val::Lane(Src::Ext(self.ext_cov(b, bp))),
                        };
                        terms.push(sandwich(ai, c, aj));
                    }
                }
                for g in vi.noise.0..vi.noise.1 {
                    let (id, g) = self.noise[g];
                    if let Some(&(_, h)) = self.noise[vj.noise.0..vj.noise.1].iter().find(|(k, _)| *k == id) {
                        terms.push(match (g, h) {
                            (Val::Scalar(a), Val::Scalar(b)) => Term::Scalar(a * b),
                            (Val::Scalar(a), Val::Lane(n)) | (Val::Lane(n), Val::Scalar(a)) => {
                                Term::Scale { c: a, src: n, shift: Some(0.0) }
                            }
                            (Val::Lane(g), Val::Lane(h)) => Term::Prod { k: 1.0, f: [g, h, h], n: 2 },
                        });
                    }
                }
                row.push(self.output(&terms, &mut outs));
            }
            cov.push(row);
        }
        (means, cov, outs)
    }

    /// A lane vector of length `dim` (contents unspecified), reusing an old one when possible.
    fn buffer(&mut self) -> Vec<f64> {
        let mut v = self.pool.pop().unwrap_or_default();
        if v.len() != self.dim {
            v.clear();
            v.resize(self.dim, 0.0);
        }
        v
    }

    /// Starts recording a step: forgets the last step's registers and the cache entries it did not use.
    fn begin(&mut self) {
        self.p = self.law.means.len();
        self.regs.clear();
        self.basis.clear();
        self.noise.clear();
        self.noises = 0;
        self.prog.clear();
        self.rows = 0;
        self.cache.retain(|e| e.used);
        self.cache.iter_mut().for_each(|e| e.used = false);
    }
}

/// `A C Bᵀ` for diagonal coefficients as [`Coef::sandwich`] computes it for [`crate::Diag`]: the
/// scalar parts multiplied first (`k = s_A s_C s_B`), then the lane factors from the left.
fn sandwich(a: Val, c: Val, b: Val) -> Term {
    let part = |v: Val| match v {
        Val::Scalar(s) => (s, None),
        Val::Lane(l) => (1.0, Some(l)),
    };
    let ((sa, la), (sc, lc), (sb, lb)) = (part(a), part(c), part(b));
    let k = sa * sc * sb;
    let mut f = [Src::Row(0); 3];
    let mut n = 0;
    for l in [la, lc, lb].into_iter().flatten() {
        f[n] = l;
        n += 1;
    }
    if n == 0 { Term::Scalar(k) } else { Term::Prod { k, f, n: n as u8 } }
}

/// The lanes of a diagonal coefficient (the engine only runs when [`Coef::DIAGONAL`] holds).
fn lanes_of<C: Coef>(c: &C) -> &[f64] {
    c.diagonal().expect("Coef::DIAGONAL promises diagonal()")
}

impl<C: Coef, T: LinearScore<C> + ?Sized> Algebra for LaneEngine<'_, C, T> {
    type Value = Reg;
    fn lin(&mut self, terms: &[(f64, &Reg)]) -> Reg {
        let p = self.p;
        let at = self.basis.len();
        for b in 0..p {
            let mut acc = Acc::Zero;
            for &(c, r) in terms {
                let v = self.basis[self.regs[r.0 as usize].basis + b];
                acc = self.fold(acc, c, v);
            }
            self.basis.push(match acc {
                Acc::Zero => None,
                Acc::Scalar(s) => Some(Val::Scalar(s)),
                Acc::Lanes(r) => Some(Val::Lane(Src::Row(r))),
            });
        }
        // The noises in order of first appearance, each folded over the terms.
        let from = self.noise.len();
        for &(_, r) in terms {
            let (s, e) = self.regs[r.0 as usize].noise;
            for k in s..e {
                let id = self.noise[k].0;
                if !self.noise[from..].iter().any(|(i, _)| *i == id) {
                    self.noise.push((id, Val::Scalar(0.0)));
                }
            }
        }
        for k in from..self.noise.len() {
            let id = self.noise[k].0;
            let mut acc = Acc::Zero;
            for &(c, r) in terms {
                let (s, e) = self.regs[r.0 as usize].noise;
                let v = self.noise[s..e].iter().find(|(i, _)| *i == id).map(|(_, v)| *v);
                acc = self.fold(acc, c, v);
            }
            self.noise[k].1 = match acc {
                Acc::Zero => unreachable!("the noise appears in a term"),
                Acc::Scalar(s) => Val::Scalar(s),
                Acc::Lanes(r) => Val::Lane(Src::Row(r)),
            };
        }
        // The constant: `c·x` for the first, `acc + c·x` after (no shift, as in `Affine`).
        let mut constant: Option<u32> = None;
        for &(c, r) in terms {
            if let Some(src) = self.regs[r.0 as usize].constant {
                let dst = match constant {
                    Some(d) => d,
                    None => self.row(),
                };
                self.prog.push(Ins::Scale { dst: Dst::Row(dst), c, src, shift: None, acc: constant.is_some() });
                constant = Some(dst);
            }
        }
        let noise = (from, self.noise.len());
        self.push_reg(at, noise, constant.map(Src::Row))
    }
    fn score(&mut self, at: &Coefficients, x: &Reg) -> Result<Reg, SolverError> {
        let k = self.entry(at)?;
        self.evals += 1;
        let (el, ec) = self.ext_score(k);
        let l = match &self.cache[k].l {
            Op::Scalar(s) => Val::Scalar(*s),
            Op::Full(_) => Val::Lane(Src::Ext(el)),
        };
        let has_c = self.cache[k].c.is_some();
        let x = self.regs[x.0 as usize];
        let at_basis = self.basis.len();
        for b in 0..self.p {
            let v = self.times(l, self.basis[x.basis + b]);
            self.basis.push(v);
        }
        let from = self.noise.len();
        for g in x.noise.0..x.noise.1 {
            let (id, v) = self.noise[g];
            let v = self.times(l, Some(v)).expect("a value in, a value out");
            self.noise.push((id, v));
        }
        // The constant `L x_c + c_t` (as `LawEngine::score`: `apply`, then `+ c`).
        let constant = match (x.constant, has_c) {
            (None, false) => None,
            (None, true) => Some(Src::Ext(ec)),
            (Some(xc), _) => {
                let r = self.row();
                self.prog.push(match l {
                    Val::Scalar(s) => Ins::Scale { dst: Dst::Row(r), c: s, src: xc, shift: None, acc: false },
                    Val::Lane(l) => Ins::Prod { dst: Dst::Row(r), k: 1.0, f: [l, xc, xc], n: 2, acc: false },
                });
                if has_c {
                    self.prog.push(Ins::Prod { dst: Dst::Row(r), k: 1.0, f: [Src::Ext(ec); 3], n: 1, acc: true });
                }
                Some(Src::Row(r))
            }
        };
        let noise = (from, self.noise.len());
        Ok(self.push_reg(at_basis, noise, constant))
    }
    fn data_mean(&mut self, at: &Coefficients) -> Result<Reg, SolverError> {
        if self.data_mean.is_none() {
            let mean = self.target.data_mean().ok_or(SolverError::NoDenoiser { t: at.t })?;
            if let Some(m) = &mean {
                dimension("data mean vs dimension", self.dim, m.len())?;
            }
            self.data_mean = Some(mean);
        }
        self.evals += 1;
        let constant = match self.data_mean {
            Some(Some(_)) => Src::Ext(self.ext_data_mean()),
            _ => {
                let r = self.row();
                self.prog.push(Ins::Fill { dst: Dst::Row(r), v: 0.0 });
                Src::Row(r)
            }
        };
        let at_basis = self.basis.len();
        self.basis.extend(std::iter::repeat_n(None, self.p));
        let noise = (self.noise.len(), self.noise.len());
        Ok(self.push_reg(at_basis, noise, Some(constant)))
    }
    fn noise(&mut self) -> Reg {
        let at = self.basis.len();
        self.basis.extend(std::iter::repeat_n(None, self.p));
        let from = self.noise.len();
        self.noise.push((self.noises, Val::Scalar(1.0)));
        self.noises += 1;
        self.push_reg(at, (from, from + 1), None)
    }
    fn score_evals(&self) -> usize {
        self.evals
    }
}

impl<C: Coef, T: LinearScore<C> + ?Sized> crate::law::StepLaw<C> for LaneEngine<'_, C, T> {
    fn position(&self) -> Marginal<C> {
        LaneEngine::position(self)
    }
    fn joint(&self) -> std::borrow::Cow<'_, GaussLaw<C>> {
        self.law()
    }
}

impl<C: Coef, T: LinearScore<C> + ?Sized> Carrier for LaneEngine<'_, C, T> {
    fn open(&mut self) -> Vec<Reg> {
        self.begin();
        let p = self.p;
        (0..p)
            .map(|b| {
                let at = self.basis.len();
                self.basis.extend((0..p).map(|bp| (bp == b).then_some(Val::Scalar(1.0))));
                let n = self.noise.len();
                self.push_reg(at, (n, n), None)
            })
            .collect()
    }
    fn close(&mut self, values: Vec<Reg>) -> Result<(), SolverError> {
        // The opened slots unchanged: `LawEngine` would recompute the same law exactly (products
        // by 1); keep it as it is.
        if values.len() == self.p && values.iter().enumerate().all(|(i, r)| r.0 as usize == i) {
            self.begin();
            return Ok(());
        }
        // A step that drew noise leaves the factored form (one `Z` per lane no longer spans the law).
        if self.noises > 0 {
            self.unfactor();
        }
        let (means, cov, mut outs) = self.collapse(&values);
        // Off-diagonal blocks computed here also fill their transposed copy, block by block.
        let mut copy_of: Vec<Option<u32>> = vec![None; outs as usize];
        for row in &cov {
            for spec in &row[1..] {
                if let Spec::Out(o) = *spec {
                    self.prog.passes.push(Pass::Copy { from: o, to: outs });
                    copy_of[o as usize] = Some(outs);
                    outs += 1;
                }
            }
        }
        let mut buffers: Vec<Vec<f64>> = (0..outs).map(|_| self.buffer()).collect();
        let mut scratch = std::mem::take(&mut self.scratch);
        {
            let ext = ext_table(&self.law, &self.cache, self.data_mean.as_ref(), self.p);
            execute(&self.prog, self.rows as usize, &ext, &mut buffers, self.dim, &mut scratch);
        }
        self.scratch = scratch;
        let mut buffers: Vec<Option<Vec<f64>>> = buffers.into_iter().map(Some).collect();
        let m = values.len();
        let p = self.p;
        // The old law's vectors that the new law keeps unchanged: each moved at its last use and
        // copied before (a block `(b, b')` kept at `(i, j)` is also kept, as `(b', b)`, at `(j, i)`).
        let transpose = |e: u32| {
            let e = e as usize - p;
            (p + (e % p) * p + e / p) as u32
        };
        let mut uses = vec![0usize; p + p * p];
        for spec in means.iter().chain(cov.iter().flatten()) {
            if let Spec::Old(e) = *spec {
                uses[e as usize] += 1;
            }
        }
        for row in &cov {
            for spec in &row[1..] {
                if let Spec::Old(e) = *spec {
                    uses[transpose(e) as usize] += 1;
                }
            }
        }
        let mut old = std::mem::replace(&mut self.law, GaussLaw { means: Vec::new(), cov: Vec::new() });
        let mut kept = |e: u32, pool: &mut Vec<Vec<f64>>| -> Vec<f64> {
            let e = e as usize;
            uses[e] -= 1;
            let last = uses[e] == 0;
            if e < p {
                let v = if last { old.means[e].take() } else { old.means[e].clone() };
                return v.expect("a kept mean exists");
            }
            let slot = &mut old.cov[(e - p) / p][(e - p) % p];
            if last {
                match std::mem::replace(slot, Op::Scalar(0.0)) {
                    Op::Full(c) => c.into_diagonal().expect("Coef::DIAGONAL promises into_diagonal()"),
                    Op::Scalar(_) => unreachable!("only lane blocks are kept"),
                }
            } else {
                let Op::Full(c) = slot else { unreachable!("only lane blocks are kept") };
                let mut v = pool.pop().unwrap_or_default();
                v.clear();
                v.extend_from_slice(lanes_of(c));
                v
            }
        };
        let mut take = |o: u32| buffers[o as usize].take().expect("each output is read once");
        let mut new_means: Vec<Option<Vec<f64>>> = Vec::with_capacity(m);
        for spec in &means {
            new_means.push(match *spec {
                Spec::Zero | Spec::Scalar(_) => None,
                Spec::Out(o) => Some(take(o)),
                Spec::Old(e) => Some(kept(e, &mut self.pool)),
            });
        }
        let mut new_cov: Vec<Vec<Op<C>>> = vec![vec![Op::Scalar(0.0); m]; m];
        for (i, row) in cov.iter().enumerate() {
            for (j, spec) in row.iter().enumerate().map(|(k, a)| (i + k, a)) {
                match *spec {
                    Spec::Zero | Spec::Scalar(_) => {
                        let s = if let Spec::Scalar(s) = *spec { s } else { 0.0 };
                        new_cov[i][j] = Op::Scalar(s);
                        new_cov[j][i] = Op::Scalar(s);
                    }
                    Spec::Out(o) => {
                        if i != j {
                            new_cov[j][i] = Op::Full(diagonal(take(copy_of[o as usize].expect("off-diagonal outputs have a copy"))));
                        }
                        new_cov[i][j] = Op::Full(diagonal(take(o)));
                    }
                    Spec::Old(e) => {
                        if i != j {
                            new_cov[j][i] = Op::Full(diagonal(kept(transpose(e), &mut self.pool)));
                        }
                        new_cov[i][j] = Op::Full(diagonal(kept(e, &mut self.pool)));
                    }
                }
            }
        }
        self.law = GaussLaw { means: new_means, cov: new_cov };
        self.pool.extend(old.means.into_iter().flatten());
        self.pool.extend(old.cov.into_iter().flatten().filter_map(|c| match c {
            Op::Full(c) => c.into_diagonal(),
            Op::Scalar(_) => None,
        }));
        self.noises = 0;
        Ok(())
    }
}

/// A diagonal coefficient from its lanes (the engine only runs when [`Coef::DIAGONAL`] holds).
fn diagonal<C: Coef>(v: Vec<f64>) -> C {
    C::from_diagonal(v).expect("Coef::DIAGONAL promises from_diagonal()")
}

/// The external vectors of a step, indexed as `LaneEngine::ext_*`: the old means, the old
/// covariance blocks, the data mean, then `(L_t, c_t)` of each cache entry (`&[]` where the value
/// is absent or a scalar; no instruction reads those).
fn ext_table<'e, C: Coef>(
    law: &'e GaussLaw<C>,
    cache: &'e [Entry<C>],
    data_mean: Option<&'e Option<Vec<f64>>>,
    p: usize,
) -> Vec<&'e [f64]> {
    let empty: &[f64] = &[];
    let lanes = |c: &'e Op<C>| match c {
        Op::Full(c) => lanes_of(c),
        Op::Scalar(_) => empty,
    };
    let mut ext: Vec<&[f64]> = Vec::with_capacity(p + p * p + 1 + 2 * cache.len());
    ext.extend(law.means.iter().map(|m| m.as_deref().unwrap_or(empty)));
    ext.extend(law.cov.iter().flatten().map(lanes));
    ext.push(data_mean.and_then(|m| m.as_deref()).unwrap_or(empty));
    for e in cache {
        ext.push(lanes(&e.l));
        ext.push(e.c.as_deref().unwrap_or(empty));
    }
    ext
}

/// Runs `prog` over all `n` lanes, block by block: each output vector of `outs` gets its lanes.
fn execute(prog: &Program, rows: usize, ext: &[&[f64]], outs: &mut [Vec<f64>], n: usize, scratch: &mut Vec<f64>) {
    if prog.is_empty() {
        return;
    }
    let blocks = n.div_ceil(BLOCK);
    let need = rows * BLOCK;
    if blocks < PAR_BLOCKS || rayon::current_num_threads() == 1 {
        if scratch.len() < need {
            scratch.resize(need, 0.0);
        }
        let mut cur: Vec<&mut [f64]> = Vec::with_capacity(outs.len());
        let mut chunks: Vec<_> = outs.iter_mut().map(|o| o.chunks_mut(BLOCK)).collect();
        for blk in 0..blocks {
            cur.clear();
            cur.extend(chunks.iter_mut().map(|c| c.next().expect("every output has n lanes")));
            let lo = blk * BLOCK;
            run_block(prog, &mut scratch[..need], ext, &mut cur, lo, (n - lo).min(BLOCK));
        }
    } else {
        let mut parts: Vec<Vec<&mut [f64]>> = (0..blocks).map(|_| Vec::with_capacity(outs.len())).collect();
        for o in outs.iter_mut() {
            for (part, c) in parts.iter_mut().zip(o.chunks_mut(BLOCK)) {
                part.push(c);
            }
        }
        parts.into_par_iter().enumerate().for_each_init(
            || vec![0.0; need],
            |scratch, (blk, mut cur)| {
                let lo = blk * BLOCK;
                run_block(prog, scratch, ext, &mut cur, lo, (n - lo).min(BLOCK));
            },
        );
    }
}

/// Runs `prog` on lanes `lo..lo + n`: `outs` holds those lanes of each output, `scratch` one
/// `BLOCK`-long row per register. With AVX2 where the CPU has it (the same IEEE operations in the
/// same order, four lanes at a time: the same bits; no fused multiply–add).
fn run_block(prog: &Program, scratch: &mut [f64], ext: &[&[f64]], outs: &mut [&mut [f64]], lo: usize, n: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU reported AVX2 at run time.
        return unsafe { run_block_avx2(prog, scratch, ext, outs, lo, n) };
    }
    run_block_any(prog, scratch, ext, outs, lo, n)
}

/// [`run_block`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_block_avx2(prog: &Program, scratch: &mut [f64], ext: &[&[f64]], outs: &mut [&mut [f64]], lo: usize, n: usize) {
    run_block_any(prog, scratch, ext, outs, lo, n)
}

/// A fused linear pass (see [`Pass::Lin`]) with `K` terms.
#[inline(always)]
fn lin_pass<const K: usize, const ACC: bool, const Z: bool>(d: &mut [f64], c: [f64; K], z: [f64; K], s: [&[f64]; K]) {
    let n = d.len();
    let mut s2: [&[f64]; K] = [&[]; K];
    for i in 0..K {
        s2[i] = &s[i][..n];
    }
    let s = s2;
    for l in 0..n {
        let mut t = if ACC { d[l] + c[0] * s[0][l] } else { c[0] * s[0][l] };
        if Z {
            t += z[0];
        }
        for i in 1..K {
            t += c[i] * s[i][l];
            if Z {
                t += z[i];
            }
        }
        d[l] = t;
    }
}

/// A fused product pass (see [`Pass::Prod`]): `K` terms `((k·a)·b)·c` (`b`, `c` absent for
/// fewer factors).
#[inline(always)]
fn prod_pass<const N: usize, const K: usize, const ACC: bool, const K1: bool>(
    d: &mut [f64],
    k: [f64; K],
    a: [&[f64]; K],
    b: [&[f64]; K],
    c: [&[f64]; K],
) {
    let n = d.len();
    let mut a2: [&[f64]; K] = [&[]; K];
    let mut b2: [&[f64]; K] = [&[]; K];
    let mut c2: [&[f64]; K] = [&[]; K];
    for i in 0..K {
        a2[i] = &a[i][..n];
        if N > 1 {
            b2[i] = &b[i][..n];
        }
        if N > 2 {
            c2[i] = &c[i][..n];
        }
    }
    let (a, b, c) = (a2, b2, c2);
    for l in 0..n {
        let term = |i: usize| {
            // `1·a = a` exactly: with every `k = 1` (`K1`) the multiplication is left out.
            let mut p = if K1 { a[i][l] } else { k[i] * a[i][l] };
            if N > 1 {
                p *= b[i][l];
            }
            if N > 2 {
                p *= c[i][l];
            }
            p
        };
        let mut t = if ACC { d[l] + term(0) } else { term(0) };
        for i in 1..K {
            t += term(i);
        }
        d[l] = t;
    }
}

/// [`run_block`] for any target (inlined into each instruction-set variant).
#[inline(always)]
fn run_block_any(prog: &Program, scratch: &mut [f64], ext: &[&[f64]], outs: &mut [&mut [f64]], lo: usize, n: usize) {
    for pass in &prog.passes {
        if let Pass::Copy { from, to } = *pass {
            let (from, to) = (from as usize, to as usize);
            debug_assert!(from < to, "a copy is made after its source");
            let (head, tail) = outs.split_at_mut(to);
            tail[0][..n].copy_from_slice(&head[from][..n]);
            continue;
        }
        let dst = match *pass {
            Pass::Copy { .. } => unreachable!("handled above"),
            Pass::Fill { dst, .. }
            | Pass::Shift { dst, .. }
            | Pass::AddScaleShift { dst, .. }
            | Pass::Lin { dst, .. }
            | Pass::Prod { dst, .. } => dst,
        };
        // A row destination only reads rows before it (registers are created in order).
        let (d, rows): (&mut [f64], &[f64]) = match dst {
            Dst::Row(r) => {
                let (head, tail) = scratch.split_at_mut(r as usize * BLOCK);
                (&mut tail[..n], head)
            }
            Dst::Out(o) => (&mut outs[o as usize][..n], scratch),
        };
        let src = |s: Src| -> &[f64] {
            match s {
                Src::Row(r) => &rows[r as usize * BLOCK..r as usize * BLOCK + n],
                Src::Ext(e) => &ext[e as usize][lo..lo + n],
            }
        };
        match *pass {
            Pass::Copy { .. } => unreachable!("handled above"),
            Pass::Fill { v, .. } => d.fill(v),
            Pass::Shift { v, .. } => d.iter_mut().for_each(|d| *d += v),
            Pass::AddScaleShift { c, src: s, z, .. } => d.iter_mut().zip(src(s)).for_each(|(d, s)| *d += c * s + z),
            Pass::Lin { acc, shifts, at, len, .. } => {
                let t = &prog.lin[at as usize..at as usize + len as usize];
                macro_rules! go {
                    ($k:literal) => {{
                        let (c, z, s) =
                            (std::array::from_fn(|i| t[i].0), std::array::from_fn(|i| t[i].2), std::array::from_fn(|i| src(t[i].1)));
                        match (acc, shifts) {
                            (false, false) => lin_pass::<$k, false, false>(d, c, z, s),
                            (false, true) => lin_pass::<$k, false, true>(d, c, z, s),
                            (true, false) => lin_pass::<$k, true, false>(d, c, z, s),
                            (true, true) => lin_pass::<$k, true, true>(d, c, z, s),
                        }
                    }};
                }
                match len {
                    1 => go!(1),
                    2 => go!(2),
                    3 => go!(3),
                    4 => go!(4),
                    5 => go!(5),
                    6 => go!(6),
                    7 => go!(7),
                    _ => go!(8),
                }
            }
            Pass::Prod { acc, n: factors, at, len, .. } => {
                let t = &prog.prod[at as usize..at as usize + len as usize];
                let none: &[f64] = &[];
                macro_rules! go {
                    ($f:literal, $k:literal) => {{
                        let mut k = [0.0; $k];
                        let (mut a, mut b, mut c) = ([none; $k], [none; $k], [none; $k]);
                        for i in 0..$k {
                            k[i] = t[i].0;
                            a[i] = src(t[i].1[0]);
                            if $f > 1 {
                                b[i] = src(t[i].1[1]);
                            }
                            if $f > 2 {
                                c[i] = src(t[i].1[2]);
                            }
                        }
                        match (acc, k.iter().all(|&k| k == 1.0)) {
                            (false, false) => prod_pass::<$f, $k, false, false>(d, k, a, b, c),
                            (false, true) => prod_pass::<$f, $k, false, true>(d, k, a, b, c),
                            (true, false) => prod_pass::<$f, $k, true, false>(d, k, a, b, c),
                            (true, true) => prod_pass::<$f, $k, true, true>(d, k, a, b, c),
                        }
                    }};
                }
                match (factors, len) {
                    (1, 1) => go!(1, 1),
                    (1, 2) => go!(1, 2),
                    (1, 3) => go!(1, 3),
                    (1, _) => go!(1, 4),
                    (2, 1) => go!(2, 1),
                    (2, 2) => go!(2, 2),
                    (2, 3) => go!(2, 3),
                    (2, _) => go!(2, 4),
                    (_, 1) => go!(3, 1),
                    (_, 2) => go!(3, 2),
                    (_, 3) => go!(3, 3),
                    (_, _) => go!(3, 4),
                }
            }
        }
    }
}

/// `−1/(a² vᵢ + b²)` for each `vᵢ`: the diagonal of the exact score matrix `L_t` of a spectral
/// Gaussian (`a2 = a_t²`, `b2 = b_t²`), vectorised with AVX2 where the CPU has it (the same IEEE
/// operations: the same bits on every CPU).
pub(crate) fn neg_recip_variance(values: &[f64], a2: f64, b2: f64) -> Vec<f64> {
    #[inline(always)]
    fn any(values: &[f64], a2: f64, b2: f64) -> Vec<f64> {
        values.iter().map(|&v| -1.0 / (a2 * v + b2)).collect()
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn avx2(values: &[f64], a2: f64, b2: f64) -> Vec<f64> {
        any(values, a2, b2)
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU reported AVX2 at run time.
        return unsafe { avx2(values, a2, b2) };
    }
    any(values, a2, b2)
}
