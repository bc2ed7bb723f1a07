//! A job's processes: started as the leader of a new process group, so that cancel and
//! recovery can end the runner and everything it started; the direct child also dies with
//! its worker (`PR_SET_PDEATHSIG`), so a killed worker does not leave a runner writing on.
//!
//! The leader is reaped with `wait4` on a thread of its own, which also yields the
//! resource use the kernel accounted to it (and to the descendants it waited for).

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// How a job's process ended, with what it used.
#[derive(Debug, Clone)]
pub struct ExitInfo {
    pub status: ExitStatus,
    pub usage: Usage,
    pub wall: Duration,
}

/// Resource use of a reaped process (`struct rusage`), including descendants it waited for.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub user_secs: f64,
    pub sys_secs: f64,
    /// Peak resident set size in KiB.
    pub max_rss_kib: i64,
}

/// A started process group, reaped in the background.
pub struct JobProcess {
    pub pgid: i32,
    exit: oneshot::Receiver<Result<ExitInfo, String>>,
    done: Option<Result<ExitInfo, String>>,
    /// The exit code the program announced on its done channel (see [`DONE_FD_VAR`]).
    announced: Option<oneshot::Receiver<i32>>,
}

/// Set (to `0`) in the environment of a program started with a done channel: its standard
/// input is then the write end of a pipe on which it may announce, with one line
/// `done <exit code>`, that its work is complete and written, before it exits. The
/// upstream runner script does so once the job and its report are written, so the job can
/// show its final status without waiting for the interpreter's teardown.
pub const DONE_FD_VAR: &str = "I2SERVER_DONE_FD";

impl JobProcess {
    /// Wait for the leader to exit. Cancel-safe, and may be called again after it returned.
    pub async fn wait(&mut self) -> Result<ExitInfo, String> {
        if let Some(d) = &self.done {
            return d.clone();
        }
        let r = match (&mut self.exit).await {
            Ok(r) => r,
            Err(_) => Err("the reaper thread vanished".to_string()),
        };
        self.done = Some(r.clone());
        r
    }
}

/// How the direct child comes to die with its worker (`PR_SET_PDEATHSIG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeathSignal {
    /// Set between fork and exec. A hook there makes the standard library fork the whole
    /// worker process (about 1 ms for a server's address space) instead of `posix_spawn`.
    Hook,
    /// The program sets it on itself first thing (the upstream runner script does, see
    /// `runner::DEATH_SIGNAL_PROLOGUE`), so the child is started with `posix_spawn`
    /// (vfork semantics, some 50 µs).
    SetByChild,
}

/// Nobody watches a group whose handle is dropped before it was reaped (its worker's task
/// was aborted): end the whole group rather than leave it running unsupervised, including
/// the grandchildren a death signal would not reach.
impl Drop for JobProcess {
    fn drop(&mut self) {
        if self.done.is_none() {
            let _ = kill_group(self.pgid);
        }
    }
}

/// Start `cmd` in its own process group with stdout and stderr appended to `log`, the
/// death signal set between fork and exec.
///
/// Must be called from a long-lived thread (a runtime worker, not a blocking-pool thread):
/// `PR_SET_PDEATHSIG` fires when the thread that forked the child ends.
pub fn spawn_group(cmd: Command, log: &Path) -> std::io::Result<JobProcess> {
    spawn_group_with(cmd, log, DeathSignal::Hook, false)
}

/// [`spawn_group`], saying who sets the death signal and whether the program gets a done
/// channel ([`DONE_FD_VAR`]).
pub fn spawn_group_with(
    mut cmd: Command,
    log: &Path,
    death: DeathSignal,
    done_channel: bool,
) -> std::io::Result<JobProcess> {
    use std::os::unix::process::CommandExt;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let err = out.try_clone()?;
    let done_read = if done_channel {
        let (read, write) = pipe()?;
        cmd.stdin(Stdio::from(write)).env(DONE_FD_VAR, "0");
        Some(read)
    } else {
        cmd.stdin(Stdio::null());
        None
    };
    cmd.stdout(out).stderr(err).process_group(0);
    #[cfg(target_os = "linux")]
    // SAFETY: only async-signal-safe calls between fork and exec (prctl).
    if death == DeathSignal::Hook {
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let started = Instant::now();
    let child = cmd.spawn()?;
    // Our copy of the done channel's write end goes with the command, so the channel closes
    // when the program (the only other holder) exits.
    drop(cmd);
    let pid = child.id() as i32;
    // The std handle neither kills nor waits when dropped; the reaper owns the pid now.
    drop(child);
    // A job without one still runs (a worker that lives on supervises it anyway).
    if let Err(e) = spawn_lifeline(pid) {
        tracing::warn!(pgid = pid, error = %e, "no lifeline for the job's process group");
    }
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name(format!("i2-reap-{pid}"))
        .spawn(move || {
            let _ = tx.send(reap(pid, started));
        })?;
    let announced = match done_read {
        Some(fd) => {
            let (tx, rx) = oneshot::channel();
            std::thread::Builder::new()
                .name(format!("i2-done-{pid}"))
                .spawn(move || {
                    if let Some(code) = read_announcement(std::fs::File::from(fd)) {
                        let _ = tx.send(code);
                    }
                })?;
            Some(rx)
        }
        None => None,
    };
    Ok(JobProcess {
        pgid: pid,
        exit: rx,
        done: None,
        announced,
    })
}

/// The lifeline's script: `$1` is the job's process group. The kernel sends it SIGTERM when
/// its worker dies (`PR_SET_PDEATHSIG`, however the worker died, SIGKILL included); it then
/// ends the whole group. It leaves by itself once the group is empty (within 5 s).
/// (No `--` before the negative group id: dash's `kill` refuses it.)
const LIFELINE: &str = "trap 'kill -KILL -$1 2>/dev/null; exit 0' TERM
while kill -0 -$1 2>/dev/null; do sleep 5 & wait $!; done";

/// Watch the job's group `pgid` from a small shell in a group of its own, so that when the
/// worker dies without a chance to act (SIGKILL, OOM) the job's descendants die with it. The
/// direct child already does (its death signal), but the programs it started would run on
/// unsupervised, writing into the job directory, until a worker on this host recovered the
/// job, and for ever if none did.
///
/// The shell is started from a thread of its own, which then waits for it: that thread is
/// the parent the death signal is tied to, and it lives as long as the shell. It starts the
/// shell [`LIFELINE_DELAY`] after the runner, so forking the server does not compete with
/// the runner's own start; a runner's interpreter takes far longer than that before it can
/// start any program of its own.
fn spawn_lifeline(pgid: i32) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("i2-lifeline-{pgid}"))
        .spawn(move || {
            std::thread::sleep(LIFELINE_DELAY);
            if !group_alive(pgid) {
                return;
            }
            match lifeline_command(pgid).spawn() {
                Ok(mut child) => {
                    let _ = child.wait();
                }
                Err(e) => {
                    tracing::warn!(pgid, error = %e, "no lifeline for the job's process group")
                }
            }
        })?;
    Ok(())
}

/// How long after the runner's start its lifeline starts (see [`spawn_lifeline`]).
const LIFELINE_DELAY: Duration = Duration::from_millis(50);

fn lifeline_command(pgid: i32) -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(LIFELINE)
        .arg("i2server-lifeline")
        .arg(pgid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    // SAFETY: only async-signal-safe calls between fork and exec (prctl).
    #[cfg(target_os = "linux")]
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// Read the done channel until its `done <code>` line, or until it closes without one.
fn read_announcement(mut f: std::fs::File) -> Option<i32> {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64];
    loop {
        match f.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.iter().position(|b| *b == b'\n') {
                    return parse_announcement(&buf[..end]);
                }
                if buf.len() > 256 {
                    return None;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

fn parse_announcement(line: &[u8]) -> Option<i32> {
    std::str::from_utf8(line)
        .ok()?
        .strip_prefix("done ")?
        .trim()
        .parse()
        .ok()
}

impl JobProcess {
    /// The done channel's receiving end, for waiting on it beside [`JobProcess::wait`].
    pub fn take_announcement(&mut self) -> Option<oneshot::Receiver<i32>> {
        self.announced.take()
    }
}

/// Resolves with the exit code a program announced on its done channel; never if it has
/// none, or closed it without announcing. Cancel-safe.
pub async fn announced(rx: &mut Option<oneshot::Receiver<i32>>) -> i32 {
    if let Some(r) = rx.as_mut()
        && let Ok(code) = r.await
    {
        return code;
    }
    *rx = None;
    std::future::pending().await
}

/// A pipe whose two ends are closed on exec (the child gets its end by `dup2`, which clears
/// that flag on the copy).
fn pipe() -> std::io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the array, which we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nothing else.
    Ok(unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    })
}

fn reap(pid: i32, started: Instant) -> Result<ExitInfo, String> {
    use std::os::unix::process::ExitStatusExt;
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: zeroed rusage is a valid value; wait4 fills it.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: plain syscall on our own child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            return Ok(ExitInfo {
                status: ExitStatus::from_raw(status),
                usage: Usage {
                    user_secs: secs(ru.ru_utime),
                    sys_secs: secs(ru.ru_stime),
                    max_rss_kib: ru.ru_maxrss,
                },
                wall: started.elapsed(),
            });
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4({pid}): {e}"));
        }
    }
}

/// What the processes of a group use right now (from `/proc`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupSample {
    pub processes: usize,
    pub rss_bytes: u64,
    /// user + system CPU time of the live processes, in clock ticks.
    pub cpu_ticks: u64,
}

/// Sum the resident memory and CPU time of every live process in group `pgid`.
pub fn sample_group(pgid: i32) -> GroupSample {
    let mut s = GroupSample::default();
    if pgid <= 1 {
        return s;
    }
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return s;
    };
    let page = page_size();
    for p in procs.filter_map(Result::ok) {
        let Some(pid) = p.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Some(st) = proc_stat(pid) else { continue };
        if st.pgrp != pgid {
            continue;
        }
        s.processes += 1;
        s.cpu_ticks += st.utime + st.stime;
        s.rss_bytes += st.rss_pages.max(0) as u64 * page;
    }
    s
}

/// CPU use between two samples of a group taken `window` apart, in percent of one core (as
/// psutil reports it: 200 means two cores busy), to one decimal.
pub fn cpu_percent(before: GroupSample, after: GroupSample, window: Duration) -> f64 {
    let ticks = after.cpu_ticks.saturating_sub(before.cpu_ticks) as f64;
    let pct = ticks / clock_ticks() / window.as_secs_f64().max(1e-3) * 100.0;
    (pct * 10.0).round() / 10.0
}

struct ProcStat {
    pgrp: i32,
    utime: u64,
    stime: u64,
    rss_pages: i64,
}

fn proc_stat(pid: i32) -> Option<ProcStat> {
    let st = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after `(comm)`: state(3) ppid(4) pgrp(5) … utime(14) stime(15) … rss(24).
    let rest = st.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcStat {
        pgrp: f.get(2)?.parse().ok()?,
        utime: f.get(11)?.parse().ok()?,
        stime: f.get(12)?.parse().ok()?,
        rss_pages: f.get(21)?.parse().ok()?,
    })
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as u64 } else { 4096 }
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
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
    async fn dropping_an_unreaped_group_ends_it() {
        let dir = std::env::temp_dir().join(format!("i2-proc-drop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "sleep 60 & echo started; wait"]);
        let child = spawn_group(cmd, &dir.join("log")).expect("spawn");
        let pgid = child.pgid;
        let deadline = Instant::now() + Duration::from_secs(5);
        while sample_group(pgid).processes < 2 {
            assert!(Instant::now() < deadline, "child never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while group_alive(pgid) {
            assert!(
                Instant::now() < deadline,
                "the group outlived its dropped handle"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn a_done_announcement_arrives_before_the_exit() {
        let dir = std::env::temp_dir().join(format!("i2-proc-done-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let mut cmd = Command::new("/bin/sh");
        // Announces on its standard input (the channel), then lingers as a teardown would.
        cmd.args([
            "-c",
            "test \"$I2SERVER_DONE_FD\" = 0 && echo 'done 3' >&0; sleep 1; exit 3",
        ]);
        let mut child =
            spawn_group_with(cmd, &dir.join("log"), DeathSignal::Hook, true).expect("spawn");
        let mut rx = child.take_announcement();
        let code = tokio::time::timeout(Duration::from_secs(10), announced(&mut rx))
            .await
            .expect("announced");
        assert_eq!(code, 3);
        assert!(group_alive(child.pgid), "announced before exiting");
        let exit = child.wait().await.expect("reap");
        assert_eq!(exit.status.code(), Some(3));

        // Without an announcement (or with a malformed one) nothing resolves.
        for script in ["exit 0", "echo 'finished' >&0; exit 0"] {
            let mut cmd = Command::new("/bin/sh");
            cmd.args(["-c", script]);
            let mut child =
                spawn_group_with(cmd, &dir.join("log"), DeathSignal::Hook, true).expect("spawn");
            let mut rx = child.take_announcement();
            child.wait().await.expect("reap");
            assert!(
                tokio::time::timeout(Duration::from_millis(300), announced(&mut rx))
                    .await
                    .is_err(),
                "{script}: nothing announced"
            );
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn announcements_parse_strictly() {
        assert_eq!(parse_announcement(b"done 0"), Some(0));
        assert_eq!(parse_announcement(b"done 1 "), Some(1));
        assert_eq!(parse_announcement(b"done"), None);
        assert_eq!(parse_announcement(b"done x"), None);
        assert_eq!(parse_announcement(b"ok 0"), None);
    }

    #[tokio::test]
    async fn killing_the_group_ends_grandchildren_too() {
        let dir = std::env::temp_dir().join(format!("i2-proc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "sleep 60 & sleep 60 & echo started; wait"]);
        let mut child = spawn_group(cmd, &dir.join("log")).expect("spawn");
        let pgid = child.pgid;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !std::fs::read_to_string(dir.join("log"))
            .unwrap_or_default()
            .contains("started")
        {
            assert!(Instant::now() < deadline, "child never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(group_alive(pgid));
        assert_eq!(sample_group(pgid).processes, 3, "sh and two sleeps");
        kill_group(pgid).expect("kill");
        let exit = child.wait().await.expect("reap");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(exit.status.signal(), Some(libc::SIGKILL));
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
