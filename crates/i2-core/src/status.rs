//! Numeric enums whose values are part of the upstream contract (database and JSON).

/// Job status as stored in `ccp4i2_job.status`. The numbers are contractual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum JobStatus {
    Unknown = 0,
    Pending = 1,
    Queued = 2,
    Running = 3,
    Interrupted = 4,
    Failed = 5,
    Finished = 6,
    RunningRemotely = 7,
    FileHolder = 8,
    ToDelete = 9,
    Unsatisfactory = 10,
}

impl JobStatus {
    pub const ALL: [JobStatus; 11] = [
        JobStatus::Unknown,
        JobStatus::Pending,
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Interrupted,
        JobStatus::Failed,
        JobStatus::Finished,
        JobStatus::RunningRemotely,
        JobStatus::FileHolder,
        JobStatus::ToDelete,
        JobStatus::Unsatisfactory,
    ];

    pub fn from_i32(v: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as i32 == v)
    }

    /// Human label as upstream shows it (e.g. in `active_jobs/`).
    pub fn label(self) -> &'static str {
        match self {
            JobStatus::Unknown => "Unknown",
            JobStatus::Pending => "Pending",
            JobStatus::Queued => "Queued",
            JobStatus::Running => "Running",
            JobStatus::Interrupted => "Interrupted",
            JobStatus::Failed => "Failed",
            JobStatus::Finished => "Finished",
            JobStatus::RunningRemotely => "Running remotely",
            JobStatus::FileHolder => "File holder",
            JobStatus::ToDelete => "To delete",
            JobStatus::Unsatisfactory => "Unsatisfactory",
        }
    }

    /// Statuses that count as "active" (shown by `active_jobs/`, block deletion warnings).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            JobStatus::Queued | JobStatus::Running | JobStatus::RunningRemotely
        )
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Finished
                | JobStatus::Failed
                | JobStatus::Unsatisfactory
                | JobStatus::Interrupted
        )
    }
}

/// Job evaluation (`ccp4i2_job.evaluation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Evaluation {
    Unknown = 0,
    Best = 1,
    Good = 2,
    Rejected = 3,
}

impl Evaluation {
    pub fn from_i32(v: i32) -> Option<Self> {
        [
            Evaluation::Unknown,
            Evaluation::Best,
            Evaluation::Good,
            Evaluation::Rejected,
        ]
        .into_iter()
        .find(|e| *e as i32 == v)
    }
}

/// Where a file lives (`ccp4i2_file.directory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum FileDirectory {
    /// Inside the producing job's directory.
    Job = 1,
    /// In the project's `CCP4_IMPORTED_FILES`.
    Import = 2,
}

impl FileDirectory {
    pub fn from_i32(v: i32) -> Option<Self> {
        match v {
            1 => Some(FileDirectory::Job),
            2 => Some(FileDirectory::Import),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_values_round_trip_and_match_upstream() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::from_i32(s as i32), Some(s));
        }
        assert_eq!(JobStatus::Finished as i32, 6);
        assert_eq!(JobStatus::Unsatisfactory as i32, 10);
        assert_eq!(JobStatus::from_i32(11), None);
        assert_eq!(JobStatus::RunningRemotely.label(), "Running remotely");
    }

    #[test]
    fn evaluation_and_directory_reject_unknown_values() {
        assert_eq!(Evaluation::from_i32(3), Some(Evaluation::Rejected));
        assert_eq!(Evaluation::from_i32(4), None);
        assert_eq!(FileDirectory::from_i32(2), Some(FileDirectory::Import));
        assert_eq!(FileDirectory::from_i32(0), None);
    }
}
