//! A deterministic synthetic iSCSI workload per SVM.
//!
//! Every rate is a constant plus a few sinusoids (a daily and a weekly cycle, then shorter ones
//! that make neighbouring 15-second samples differ), with sizes and phases drawn from a generator
//! seeded with a hash of the SVM's UUID. Sinusoids integrate in closed form, so the totals over
//! any interval cost the same whether it lasts fifteen seconds or a year, and the same interval
//! always gives the same numbers. Every rate stays above a fifth of its mean, so counters
//! strictly increase.

use std::f64::consts::TAU;
use std::hash::Hasher;

use fnv::FnvHasher;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Index of read operations in per-class arrays.
pub const READ: usize = 0;
/// Index of write operations.
pub const WRITE: usize = 1;
/// Index of other (metadata) operations.
pub const OTHER: usize = 2;

/// How much of each kind accumulated over an interval, per operation class, before rounding into
/// counters. Other operations move no data, so `bytes[OTHER]` is always zero.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Totals {
    /// Operations completed.
    pub ops: [f64; 3],
    /// Sum of the operations' latencies, in microseconds.
    pub latency_us: [f64; 3],
    /// Bytes transferred.
    pub bytes: [f64; 3],
}

/// The workload of one SVM's iSCSI service: rates of operations, of latency and of bytes.
#[derive(Clone, Debug)]
pub struct Workload {
    ops: [Wave; 3],
    latency: [Wave; 3],
    bytes: [Wave; 3],
}

/// `base + Σ amplitude · sin(2π (t + offset) / period)`.
#[derive(Clone, Debug, PartialEq)]
struct Wave {
    base: f64,
    terms: Vec<Term>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Term {
    amplitude: f64,
    period: i64,
    offset: i64,
}

/// Periods and relative amplitude ranges of an operation rate's cycles. The largest amplitudes
/// add up to 0.8, so the rate never drops below a fifth of its mean.
const RATE_CYCLES: [(i64, f64, f64); 6] = [
    (86_400, 0.30, 0.40),
    (604_800, 0.05, 0.10),
    (3_600, 0.05, 0.10),
    (421, 0.05, 0.08),
    (97, 0.04, 0.07),
    (31, 0.03, 0.05),
];

/// Cycles of the per-operation latency and size around their means, relative to the mean
/// operation rate. Their amplitudes add up to at most 0.15, so against a rate of at least 0.2 a
/// per-operation value stays within ±75 % of its mean.
const PER_OP_CYCLES: [(i64, f64, f64); 3] =
    [(1_800, 0.05, 0.08), (173, 0.03, 0.05), (43, 0.01, 0.02)];

/// Ranges of the mean operation rates (per second), latencies (µs) and sizes (bytes).
const MEAN_OPS: [(f64, f64); 3] = [(400.0, 2_400.0), (150.0, 1_150.0), (40.0, 240.0)];
const MEAN_LATENCY_US: [(f64, f64); 3] = [(250.0, 750.0), (400.0, 1_200.0), (80.0, 240.0)];
const MEAN_BYTES: [(f64, f64); 2] = [(8_192.0, 65_536.0), (4_096.0, 32_768.0)];

impl Workload {
    /// The workload of the SVM with this UUID; the same UUID always gives the same workload.
    pub fn for_svm(uuid: &str) -> Workload {
        let mut draw = generator_for(uuid);
        let daily_offset = draw.random_range(0..86_400);
        let ops: [Wave; 3] = std::array::from_fn(|class| {
            let (low, high) = MEAN_OPS[class];
            let mean = draw.random_range(low..high);
            let terms = RATE_CYCLES
                .iter()
                .map(|&(period, low, high)| Term {
                    amplitude: mean * draw.random_range(low..high),
                    period,
                    offset: if period == 86_400 {
                        daily_offset
                    } else {
                        draw.random_range(0..period)
                    },
                })
                .collect();
            Wave { base: mean, terms }
        });
        let latency = std::array::from_fn(|class| {
            let (low, high) = MEAN_LATENCY_US[class];
            per_op(&ops[class], draw.random_range(low..high), &mut draw)
        });
        let bytes = std::array::from_fn(|class| match MEAN_BYTES.get(class) {
            Some(&(low, high)) => per_op(&ops[class], draw.random_range(low..high), &mut draw),
            None => Wave {
                base: 0.0,
                terms: Vec::new(),
            },
        });
        Workload {
            ops,
            latency,
            bytes,
        }
    }

    /// What accumulated from `from` to `to` (seconds since the epoch; nothing if `to <= from`).
    pub fn totals(&self, from: i64, to: i64) -> Totals {
        if to <= from {
            return Totals::default();
        }
        Totals {
            ops: std::array::from_fn(|c| self.ops[c].integral(from, to)),
            latency_us: std::array::from_fn(|c| self.latency[c].integral(from, to)),
            bytes: std::array::from_fn(|c| self.bytes[c].integral(from, to)),
        }
    }
}

/// A per-operation quantity with mean `mean`: its rate is `mean · (ops + wobble)`, so per
/// operation it varies around `mean` and its integral stays in closed form.
fn per_op(ops: &Wave, mean: f64, draw: &mut Pcg64Mcg) -> Wave {
    let mut terms: Vec<Term> = ops
        .terms
        .iter()
        .map(|t| Term {
            amplitude: t.amplitude * mean,
            ..*t
        })
        .collect();
    terms.extend(PER_OP_CYCLES.iter().map(|&(period, low, high)| Term {
        amplitude: ops.base * draw.random_range(low..high) * mean,
        period,
        offset: draw.random_range(0..period),
    }));
    Wave {
        base: ops.base * mean,
        terms,
    }
}

impl Wave {
    #[cfg(test)]
    fn rate(&self, t: i64) -> f64 {
        self.base
            + self
                .terms
                .iter()
                .map(|term| term.amplitude * term.angle(t).sin())
                .sum::<f64>()
    }

    /// ∫ from `a` to `b`. The sinusoids' antiderivatives are `-A·P/2π · cos`, evaluated at exactly
    /// reduced angles, so the result is as precise for a year as for a second.
    fn integral(&self, a: i64, b: i64) -> f64 {
        let span = (b - a) as f64;
        self.base * span
            + self
                .terms
                .iter()
                .map(|term| {
                    term.amplitude * term.period as f64 / TAU
                        * (term.angle(a).cos() - term.angle(b).cos())
                })
                .sum::<f64>()
    }
}

impl Term {
    /// The phase at `t`, reduced in integers first so huge `t` lose no precision.
    fn angle(&self, t: i64) -> f64 {
        let within = (t.wrapping_add(self.offset)).rem_euclid(self.period);
        TAU * within as f64 / self.period as f64
    }
}

/// The generator a UUID's workload is drawn from. FNV-1a and PCG are both fixed algorithms (unlike
/// std's `DefaultHasher` or rand's `StdRng`), so a UUID gives the same workload on every platform
/// and with every Rust release.
fn generator_for(uuid: &str) -> Pcg64Mcg {
    let mut hasher = FnvHasher::default();
    hasher.write(uuid.as_bytes());
    Pcg64Mcg::seed_from_u64(hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVM: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
    const START: i64 = 1_767_225_600;

    #[test]
    fn same_uuid_gives_the_same_workload() {
        let a = Workload::for_svm(SVM).totals(START, START + 15);
        let b = Workload::for_svm(SVM).totals(START, START + 15);
        assert_eq!(a, b);
    }

    #[test]
    fn different_uuids_give_different_workloads() {
        let a = Workload::for_svm(SVM).totals(START, START + 15);
        let b = Workload::for_svm("19d04b8e-94d7-11e8-8370-005056b48fd2").totals(START, START + 15);
        assert_ne!(a, b);
    }

    #[test]
    fn rates_stay_within_their_documented_bounds() {
        let workload = Workload::for_svm(SVM);
        for class in [READ, WRITE, OTHER] {
            let wave = &workload.ops[class];
            for t in (START..START + 7 * 86_400).step_by(631) {
                let rate = wave.rate(t);
                assert!(rate >= 0.2 * wave.base && rate <= 1.8 * wave.base, "{rate}");
            }
        }
    }

    #[test]
    fn integrals_add_up_over_adjacent_intervals() {
        let workload = Workload::for_svm(SVM);
        let whole = workload.totals(START, START + 86_400);
        let halves = [
            workload.totals(START, START + 40_000),
            workload.totals(START + 40_000, START + 86_400),
        ];
        for class in [READ, WRITE, OTHER] {
            let sum = halves[0].ops[class] + halves[1].ops[class];
            assert!((whole.ops[class] - sum).abs() < 1e-3 * whole.ops[class].max(1.0));
        }
    }

    #[test]
    fn integral_matches_a_numeric_sum_of_the_rate() {
        let wave = &Workload::for_svm(SVM).latency[READ];
        let numeric: f64 = (0..600)
            .map(|s| wave.rate(START + s) + wave.rate(START + s + 1))
            .sum::<f64>()
            / 2.0;
        let exact = wave.integral(START, START + 600);
        assert!(
            (numeric - exact).abs() < 1e-3 * exact,
            "{numeric} vs {exact}"
        );
    }

    #[test]
    fn latency_and_size_per_operation_stay_near_their_means() {
        let workload = Workload::for_svm(SVM);
        for t in (START..START + 86_400).step_by(997) {
            let totals = workload.totals(t, t + 15);
            for class in [READ, WRITE, OTHER] {
                let per_op = totals.latency_us[class] / totals.ops[class];
                let mean = workload.latency[class].base / workload.ops[class].base;
                assert!(
                    per_op > 0.2 * mean && per_op < 1.8 * mean,
                    "{per_op} vs {mean}"
                );
            }
            assert!(totals.bytes[READ] > 0.0 && totals.bytes[WRITE] > 0.0);
            assert_eq!(totals.bytes[OTHER], 0.0);
        }
    }

    #[test]
    fn nothing_accumulates_over_an_empty_or_reversed_interval() {
        let workload = Workload::for_svm(SVM);
        assert_eq!(workload.totals(START, START), Totals::default());
        assert_eq!(workload.totals(START + 1, START), Totals::default());
    }
}
