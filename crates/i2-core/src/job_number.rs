//! Dotted job numbers: `"7"` is a top-level job, `"7.2"` its second sub-job.

use std::cmp::Ordering;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobNumber(Vec<u32>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid job number {0:?}: expected dot-separated positive integers such as \"3\" or \"3.1\""
)]
pub struct BadJobNumber(pub String);

impl JobNumber {
    pub fn parse(s: &str) -> Result<Self, BadJobNumber> {
        let parts: Result<Vec<u32>, _> = s.split('.').map(str::parse::<u32>).collect();
        match parts {
            Ok(p) if !p.is_empty() && p.iter().all(|n| *n > 0) => Ok(JobNumber(p)),
            _ => Err(BadJobNumber(s.to_string())),
        }
    }

    pub fn top(n: u32) -> Self {
        JobNumber(vec![n])
    }

    pub fn child(&self, n: u32) -> Self {
        let mut v = self.0.clone();
        v.push(n);
        JobNumber(v)
    }

    pub fn parts(&self) -> &[u32] {
        &self.0
    }

    pub fn is_top_level(&self) -> bool {
        self.0.len() == 1
    }

    /// Directory of this job relative to the project: `CCP4_JOBS/job_7/job_2`.
    pub fn rel_dir(&self) -> PathBuf {
        let mut p = PathBuf::from(crate::layout::JOBS_DIR);
        for n in &self.0 {
            p.push(format!("job_{n}"));
        }
        p
    }
}

impl fmt::Display for JobNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

impl Ord for JobNumber {
    /// Numeric order element by element, so "10" sorts after "9" and "2.10" after "2.9".
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl PartialOrd for JobNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Sort key for a stored job number that may not parse (legacy data): unparsable sorts first.
pub fn sort_key(s: &str) -> Vec<u32> {
    JobNumber::parse(s).map(|n| n.0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        let n = JobNumber::parse("12.3").expect("valid");
        assert_eq!(n.to_string(), "12.3");
        assert_eq!(n.rel_dir(), PathBuf::from("CCP4_JOBS/job_12/job_3"));
        assert!(!n.is_top_level());
        assert_eq!(n.child(4).to_string(), "12.3.4");
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "a", "1..2", "0", "1.-2", "1.", " 1"] {
            assert!(JobNumber::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn orders_numerically() {
        let mut v: Vec<JobNumber> = ["10", "9", "2.10", "2.9", "2"]
            .iter()
            .map(|s| JobNumber::parse(s).expect("valid"))
            .collect();
        v.sort();
        let s: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(s, ["2", "2.9", "2.10", "9", "10"]);
    }
}
