//! Explaining an abnormal end in the job directory's `diagnostic.xml`, in upstream's
//! `<errorReportList><errorReport>…` form (class, code, details, name, severity,
//! severityName), so the clients and readers that show a failed job's diagnostics show
//! ours too. Written when the runner crashed, exited non-zero, could not start or was
//! stopped by a limit; a file the runner wrote during this attempt is kept and extended.

use std::path::Path;
use std::time::SystemTime;

use i2_store::queue::{LimitKind, Outcome};

use crate::process::ExitInfo;

pub const DIAGNOSTIC_FILE: &str = "diagnostic.xml";

/// Error codes of i2server's entries (upstream's own codes are below 1000).
fn code_of(outcome: &Outcome) -> Option<u32> {
    Some(match outcome {
        Outcome::Crashed { .. } => 9001,
        Outcome::LimitReached {
            kind: LimitKind::WallTime,
            ..
        } => 9002,
        Outcome::LimitReached {
            kind: LimitKind::Memory,
            ..
        } => 9003,
        Outcome::Failed { .. } => 9004,
        Outcome::SpawnFailed { .. } => 9005,
        Outcome::Exited | Outcome::Succeeded | Outcome::Cancelled => return None,
    })
}

/// Append an entry explaining `outcome` to `job_dir/diagnostic.xml` (nothing for normal
/// ends). `attempt_start` tells a file the runner wrote now from a stale one of an
/// earlier run, which is replaced. `logs` are the files whose tails are quoted.
pub fn record(
    job_dir: &Path,
    task: &str,
    outcome: &Outcome,
    exit: Option<&ExitInfo>,
    attempt_start: SystemTime,
    logs: &[&str],
) -> std::io::Result<()> {
    let Some(code) = code_of(outcome) else {
        return Ok(());
    };
    let details = details(job_dir, outcome, exit, logs);
    let entry = format!(
        "\t<errorReport>\n\t\t<class>i2server</class>\n\t\t<code>{code}</code>\n\t\t<details>{}</details>\n\t\t<name>{}</name>\n\t\t<severity>4</severity>\n\t\t<severityName>ERROR</severityName>\n\t</errorReport>\n",
        escape(&details),
        escape(task)
    );
    let path = job_dir.join(DIAGNOSTIC_FILE);
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= attempt_start);
    let existing = if fresh {
        std::fs::read_to_string(&path).unwrap_or_default()
    } else {
        String::new()
    };
    let text = match existing.rfind("</errorReportList>") {
        Some(i) => format!("{}{entry}{}", &existing[..i], &existing[i..]),
        None if existing.trim_end().ends_with("<errorReportList/>") => {
            let i = existing.rfind("<errorReportList/>").unwrap_or(0);
            format!(
                "{}<errorReportList>\n{entry}</errorReportList>\n",
                &existing[..i]
            )
        }
        None => format!("<errorReportList>\n{entry}</errorReportList>\n"),
    };
    std::fs::write(path, text)
}

fn details(job_dir: &Path, outcome: &Outcome, exit: Option<&ExitInfo>, logs: &[&str]) -> String {
    use std::os::unix::process::ExitStatusExt;
    let mut d = String::new();
    d.push_str(&match outcome {
        Outcome::Crashed { signal } => format!(
            "The job's process crashed: it was killed by signal {signal} ({}).",
            signal_name(*signal)
        ),
        Outcome::LimitReached { what, .. } => format!("The job was stopped by i2server: {what}."),
        Outcome::Failed { code } => format!("The job's process exited with status {code}."),
        Outcome::SpawnFailed { reason } => {
            format!("The job's process could not be started: {reason}.")
        }
        _ => String::new(),
    });
    if let Some(e) = exit {
        match (e.status.code(), e.status.signal()) {
            (Some(c), _) => d.push_str(&format!("\nexit code: {c}")),
            (None, Some(s)) => d.push_str(&format!("\nsignal: {s} ({})", signal_name(s))),
            _ => {}
        }
        d.push_str(&format!(
            "\nresources: wall time {:.1} s, CPU {:.1} s user + {:.1} s system, peak resident memory {:.1} MiB",
            e.wall.as_secs_f64(),
            e.usage.user_secs,
            e.usage.sys_secs,
            e.usage.max_rss_kib as f64 / 1024.0
        ));
    }
    for name in logs {
        if let Some(t) = tail(&job_dir.join(name), 20, 4000) {
            d.push_str(&format!("\nlast lines of {name}:\n{t}"));
        }
    }
    d
}

/// The last `lines` lines (at most `max_bytes`) of a file; `None` when missing or empty.
fn tail(path: &Path, lines: usize, max_bytes: usize) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let start = bytes.len().saturating_sub(max_bytes);
    let text = String::from_utf8_lossy(&bytes[start..]);
    let all: Vec<&str> = text.lines().collect();
    let from = all.len().saturating_sub(lines);
    let t = all[from..].join("\n");
    (!t.trim().is_empty()).then_some(t)
}

fn signal_name(s: i32) -> &'static str {
    match s {
        libc::SIGSEGV => "SIGSEGV, segmentation fault",
        libc::SIGABRT => "SIGABRT, aborted",
        libc::SIGBUS => "SIGBUS, bus error",
        libc::SIGFPE => "SIGFPE, arithmetic error",
        libc::SIGILL => "SIGILL, illegal instruction",
        libc::SIGKILL => "SIGKILL, killed (e.g. by the out-of-memory killer)",
        libc::SIGTERM => "SIGTERM, terminated",
        libc::SIGINT => "SIGINT, interrupted",
        libc::SIGXCPU => "SIGXCPU, CPU time limit",
        _ => "signal",
    }
}

/// XML text: markup characters escaped, characters XML 1.0 forbids dropped.
fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 => {}
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extends_a_fresh_runner_file_and_replaces_a_stale_one() {
        let dir = std::env::temp_dir().join(format!("i2-diag-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("i2server_runner.log"), "line 1\nboom <&>\n").expect("log");
        let runner = "<errorReportList>\n\t<errorReport><code>101</code></errorReport>\n</errorReportList>\n";
        std::fs::write(dir.join(DIAGNOSTIC_FILE), runner).expect("write");
        let before = SystemTime::UNIX_EPOCH;
        let crash = Outcome::Crashed { signal: 11 };
        record(&dir, "t", &crash, None, before, &["i2server_runner.log"]).expect("record");
        let got = std::fs::read_to_string(dir.join(DIAGNOSTIC_FILE)).expect("read");
        assert!(
            got.contains("<code>101</code>") && got.contains("<code>9001</code>"),
            "{got}"
        );
        assert!(
            got.contains("SIGSEGV") && got.contains("boom &lt;&amp;&gt;"),
            "{got}"
        );
        assert_eq!(got.matches("</errorReportList>").count(), 1);
        // A file older than the attempt is from an earlier run: replaced.
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        record(&dir, "t", &Outcome::Failed { code: 2 }, None, later, &[]).expect("record");
        let got = std::fs::read_to_string(dir.join(DIAGNOSTIC_FILE)).expect("read");
        assert!(
            !got.contains("<code>101</code>") && got.contains("<code>9004</code>"),
            "{got}"
        );
        // Normal ends write nothing.
        std::fs::remove_file(dir.join(DIAGNOSTIC_FILE)).expect("rm");
        record(&dir, "t", &Outcome::Exited, None, before, &[]).expect("record");
        assert!(!dir.join(DIAGNOSTIC_FILE).exists());
        std::fs::remove_dir_all(&dir).ok();
    }
}
