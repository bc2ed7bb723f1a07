//! A job's processes: started as the leader of a new process group, so that cancel and
//! recovery can end the runner and everything it started; the direct child also dies with
//! its worker (`PR_SET_PDEATHSIG`), so a killed worker does not leave a runner writing on.

use std::path::Path;
use std::process::Stdio;

use tokio::process::{Child, Command};

/// Start `cmd` in its own process group with stdout and stderr appended to `log`.
pub fn spawn_group(mut cmd: Command, log: &Path) -> std::io::Result<Child> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let err = out.try_clone()?;
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .kill_on_drop(false);
    #[cfg(target_os = "linux")]
    // SAFETY: only async-signal-safe calls between fork and exec (prctl, getppid).
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
}

/// Send SIGKILL to a whole process group. A group that is already gone counts as success.
pub fn kill_group(pgid: i32) -> std::io::Result<()> {
    if pgid <= 1 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "refusing to signal process group <= 1",
        ));
    }
    // SAFETY: plain syscall with a negative pid naming the group.
    let r = unsafe { libc::kill(-pgid, libc::SIGKILL) };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ESRCH) {
        Ok(())
    } else {
        Err(e)
    }
}

/// Whether process group `pgid` still holds a process started for `job_uuid` (its
/// environment carries the marker). Process ids are reused: a recovering worker must not
/// end a stranger's processes, and the group leader may already be gone.
pub fn runs_job(pgid: i32, job_uuid: &str) -> bool {
    let want = format!("{}={job_uuid}", crate::runner::JOB_MARKER);
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    procs.filter_map(Result::ok).any(|p| {
        let Some(pid) = p.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            return false;
        };
        // Field 5 of /proc/<pid>/stat is the process group (after the `(comm)` field).
        let in_group = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|st| st.rsplit_once(')').map(|(_, rest)| rest.to_string()))
            .and_then(|rest| {
                rest.split_whitespace()
                    .nth(2)
                    .and_then(|g| g.parse::<i32>().ok())
            })
            == Some(pgid);
        in_group
            && std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|kv| kv == want.as_bytes()))
    })
}

/// Whether any process of the group is still alive.
pub fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence and permission.
    pgid > 1 && unsafe { libc::kill(-pgid, 0) } == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn killing_the_group_ends_grandchildren_too() {
        let dir = std::env::temp_dir().join(format!("i2-proc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "sleep 60 & sleep 60 & echo started; wait"]);
        let mut child = spawn_group(cmd, &dir.join("log")).expect("spawn");
        let pgid = child.id().expect("pid") as i32;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !std::fs::read_to_string(dir.join("log"))
            .unwrap_or_default()
            .contains("started")
        {
            assert!(Instant::now() < deadline, "child never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(group_alive(pgid));
        kill_group(pgid).expect("kill");
        child.wait().await.expect("reap");
        let deadline = Instant::now() + Duration::from_secs(2);
        while group_alive(pgid) {
            assert!(
                Instant::now() < deadline,
                "grandchildren survived the group kill"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        kill_group(pgid).expect("killing a vanished group is fine");
        std::fs::remove_dir_all(&dir).ok();
    }
}
