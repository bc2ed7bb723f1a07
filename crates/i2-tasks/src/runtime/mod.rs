//! The run-time checks upstream makes before a job runs that read the job's files
//! (`runTimeValidity()` beyond `validity()`):
//! - [`same_crystal`]: unit cells of `sameCrystalAs` partners ([`cells`] is the comparison);
//! - [`monomers`]: monomer dictionary coverage of a refinement model's residues, made only
//!   when nothing before it is an error.

pub mod cells;
mod monomers;
mod same_crystal;

use crate::jobparams::JobParams;
use crate::validity::{FileContext, Finding, Severity};

/// `validity` findings followed by the file-reading checks, in upstream's order.
pub(crate) fn run_time_findings(
    params: &JobParams,
    files: &FileContext,
    mut out: Vec<Finding>,
) -> Vec<Finding> {
    out.extend(same_crystal::check(params, files));
    let blocked = out.iter().any(|f| f.severity == Severity::Error);
    if !blocked && monomers::TASKS.contains(&params.task_name()) {
        out.extend(monomers::check(params, files));
    }
    out
}
