//! The Numenta Anomaly Benchmark (NAB v1.1) scorer, reimplemented to give NAB's own numbers.
//!
//! NAB (Ahmad, Lavin, Purdy & Agha, Neurocomputing 2017) scores a detector on 58 labelled time
//! series. Each row gets an anomaly score in [0, 1]; a row is a detection when its score is at
//! or above one threshold per application profile, chosen over the whole corpus. A detection
//! early in an anomaly window earns up to `A_TP`, a late one almost nothing, a window without
//! detection costs `A_FN`, and every detection outside windows costs up to `A_FP` (less right
//! after a window). The first 15 % of each file (at most 750 rows) is a probationary period that
//! is not scored. The corpus total is normalised so that the null detector scores 0 and the
//! perfect one 100. The rules reproduced here are those of `nab/sweeper.py` and
//! `nab/optimizer.py` at NAB commit ea702d7.
//!
//! Entry points:
//! - [`run_corpus`]: run a detector over every file (in parallel) and score it;
//! - [`score_results_dir`]: score stored detector outputs in NAB's `results/` layout;
//! - [`write_results`]: write a run in NAB's `results/` layout;
//! - [`published_scoreboard`]: the published NAB scoreboard, to print ours beside it.
//!
//! ```no_run
//! use std::path::Path;
//! use ai4ict_eval::nab;
//!
//! // A "detector" that flags rows far from the file's running mean.
//! let run = nab::run_corpus(Path::new("shared/data/nab"), "spike", |series| {
//!     let (mut mean, mut n) = (0.0, 0.0);
//!     series.values.iter().map(|&v| {
//!         n += 1.0;
//!         mean += (v - mean) / n;
//!         if (v - mean).abs() > 3.0 * mean.abs().max(1.0) { 1.0 } else { 0.0 }
//!     }).collect()
//! })?;
//! println!("{}", run.score);
//! nab::write_results(Path::new("results"), &run)?;
//! # Ok::<(), ai4ict_eval::EvalError>(())
//! ```

mod corpus;
mod results;
mod score;
mod scoreboard;
#[cfg(test)]
mod tests;

pub use corpus::*;
pub use results::*;
pub use score::*;
pub use scoreboard::*;
