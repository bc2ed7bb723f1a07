//! Per-task resource limits: a wall-time and a memory ceiling, each optional, chosen per
//! task instead of one global timeout (a refinement may run for hours, a header read never
//! should). Configured as JSON (`I2SERVER_TASK_LIMITS`: the JSON itself or a file path):
//!
//! ```json
//! {"*": {"wall_time_secs": 86400},
//!  "servalcat_pipe": {"wall_time_secs": 14400, "memory_mb": 8192}}
//! ```
//!
//! `"*"` applies to every task; a task's own entry overrides it field by field. Memory is the
//! resident memory of the job's whole process group, polled from `/proc` (no cgroups needed;
//! an address-space rlimit would instead make allocations fail at random points).

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;

/// The limits of one task; `None` means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub wall_time_secs: Option<u64>,
    pub memory_mb: Option<u64>,
}

impl Limits {
    pub fn wall_time(&self) -> Option<Duration> {
        self.wall_time_secs.map(Duration::from_secs)
    }
    pub fn memory_bytes(&self) -> Option<u64> {
        self.memory_mb.map(|m| m.saturating_mul(1024 * 1024))
    }
    fn or(self, fallback: Limits) -> Limits {
        Limits {
            wall_time_secs: self.wall_time_secs.or(fallback.wall_time_secs),
            memory_mb: self.memory_mb.or(fallback.memory_mb),
        }
    }
}

/// Limits by task name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskLimits {
    default: Limits,
    tasks: HashMap<String, Limits>,
}

impl TaskLimits {
    /// Parse the JSON form (see the module documentation).
    pub fn parse(json: &str) -> Result<TaskLimits, String> {
        let mut all: HashMap<String, Limits> =
            serde_json::from_str(json).map_err(|e| format!("task limits: {e}"))?;
        let default = all.remove("*").unwrap_or_default();
        for (task, l) in
            std::iter::once(("*", &default)).chain(all.iter().map(|(k, v)| (k.as_str(), v)))
        {
            if l.wall_time_secs == Some(0) || l.memory_mb == Some(0) {
                return Err(format!(
                    "task limits for {task:?}: a limit of 0 would stop every job at once"
                ));
            }
        }
        Ok(TaskLimits {
            default,
            tasks: all,
        })
    }

    /// The value of `I2SERVER_TASK_LIMITS`: JSON when it starts with `{`, else a file path.
    pub fn from_setting(value: &str) -> Result<TaskLimits, String> {
        let v = value.trim();
        if v.starts_with('{') {
            return TaskLimits::parse(v);
        }
        let text = std::fs::read_to_string(v).map_err(|e| format!("task limits file {v}: {e}"))?;
        TaskLimits::parse(&text).map_err(|e| format!("{v}: {e}"))
    }

    pub fn for_task(&self, task: &str) -> Limits {
        self.tasks
            .get(task)
            .copied()
            .unwrap_or_default()
            .or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_entry_overrides_the_default_field_by_field() {
        let l = TaskLimits::parse(
            r#"{"*": {"wall_time_secs": 100, "memory_mb": 10}, "refine": {"memory_mb": 50}}"#,
        )
        .expect("parse");
        assert_eq!(
            l.for_task("refine"),
            Limits {
                wall_time_secs: Some(100),
                memory_mb: Some(50)
            }
        );
        assert_eq!(
            l.for_task("other"),
            Limits {
                wall_time_secs: Some(100),
                memory_mb: Some(10)
            }
        );
        assert_eq!(TaskLimits::default().for_task("x"), Limits::default());
    }

    #[test]
    fn typos_and_zero_limits_are_refused() {
        assert!(TaskLimits::parse(r#"{"x": {"walltime": 3}}"#).is_err());
        assert!(TaskLimits::parse(r#"{"x": {"memory_mb": 0}}"#).is_err());
        assert!(TaskLimits::parse("[1]").is_err());
    }
}
