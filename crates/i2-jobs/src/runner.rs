//! What runs a job. By default the upstream CCP4i2 runner
//! (`$CCP4I2_PYTHON -m django run_job -ju <uuid> -y`), which reads the job's parameters,
//! runs the task, registers outputs and KPIs and writes the final status itself, against
//! the same database and project directory as i2server.

use std::path::PathBuf;

use std::process::Command;

/// Variables passed through to the runner from i2server's own environment (everything else
/// is cleared: the runner's environment is explicit).
pub const PASS_THROUGH: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "TZ",
    "CCP4",
    "CCP4_MASTER",
    "CCP4_SCR",
    "CCP4I2_ROOT",
    "CLIBD",
    "CLIBD_MON",
    "CBIN",
    "CLIB",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "CCP4_PYTHON",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "SSL_CERT_FILE",
];

/// Environment variable naming the job a process runs for (see [`crate::process::runs_job`]).
pub const JOB_MARKER: &str = "I2SERVER_JOB_UUID";

/// The cached report of a job, in its directory (the name upstream uses).
pub const REPORT_FILE: &str = "report_xml.xml";

/// The text of [`DEATH_SIGNAL_PROLOGUE`] (a macro, so `concat!` can put it in front of
/// [`RUN_THEN_REPORT`]).
macro_rules! death_signal_prologue {
    () => {
        r#"import ctypes as _c, os as _o
try:
    _c.CDLL(None, use_errno=True).prctl(1, 9)
except Exception:
    pass
if _o.getppid() == 1:
    raise SystemExit(1)
"#
    };
}

/// The upstream runner, then the job's report, in one interpreter: what
/// `python -m django run_job -ju <uuid> -y` and then
/// `python -m django get_job_report --jobuuid <uuid> --type report --regenerate -o <file>`
/// do, without starting Python and Django a second time (a second or two per job) between
/// the job's end and its report. Exits with the runner's own exit code; a report that fails
/// leaves a traceback in the log and the job's verdict unchanged. Before it exits it
/// announces that code on the worker's done channel ([`crate::process::DONE_FD_VAR`]), so
/// the job shows its final status without waiting the 200-300 ms that tearing down Django,
/// NumPy and the task takes.
const RUN_THEN_REPORT: &str = concat!(
    death_signal_prologue!(),
    r#"import os, sys, traceback
# i2server's done channel (standard input, see I2SERVER_DONE_FD): moved to a descriptor of
# its own that the task's programs do not inherit; standard input becomes /dev/null again.
done_fd = None
if os.environ.pop("I2SERVER_DONE_FD", None) == "0":
    done_fd = os.dup(0)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.close(null_fd)
import django
from django.core.management import call_command
from django.core.management.base import CommandError
django.setup()
uuid, report = sys.argv[1], sys.argv[2]
def run(*args):
    try:
        call_command(*args)
        return 0
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except CommandError as e:
        print("CommandError: %s" % e, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
code = run("run_job", "-ju", uuid, "-y")
sys.stdout.flush()
run("get_job_report", "--jobuuid", uuid, "--type", "report", "--regenerate", "-o", report)
sys.stdout.flush()
sys.stderr.flush()
# The job, its outputs, KPIs and report are written: say so before the interpreter's teardown.
if done_fd is not None:
    try:
        os.write(done_fd, b"done %d\n" % code)
    except OSError:
        pass
sys.exit(code)
"#
);

/// First lines of the runner script: die with the worker (`PR_SET_PDEATHSIG`, SIGKILL), set
/// here rather than between fork and exec so the worker can start the runner with
/// `posix_spawn` instead of forking itself (see [`crate::process::DeathSignal`]). A runner
/// whose worker is already gone (re-parented to init) stops at once. Started through a
/// wrapper that does not `exec` Python, the runner dies with the wrapper instead; a
/// recovering worker still ends the whole lost process group.
pub const DEATH_SIGNAL_PROLOGUE: &str = death_signal_prologue!();

#[derive(Debug, Clone)]
pub enum Runner {
    /// The upstream runner through the given Python.
    Upstream { python: PathBuf },
    /// A fixed command (first element the program); `{uuid}` and `{job_dir}` are replaced.
    /// For native runners and for testing supervision with ordinary processes.
    Command { argv: Vec<String> },
}

/// Settings the runner must share with i2server.
#[derive(Debug, Clone)]
pub struct RunnerEnv {
    /// `DATABASE_URL` as upstream's settings parse it.
    pub database_url: String,
    pub projects_dir: PathBuf,
    pub home: PathBuf,
}

impl Runner {
    /// The Python to use: `CCP4I2_PYTHON`, else `ccp4-python` on `PATH`, else `python3`.
    pub fn upstream_from_env() -> Runner {
        let python = std::env::var_os("CCP4I2_PYTHON")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| find_on_path("ccp4-python"))
            .unwrap_or_else(|| PathBuf::from("python3"));
        Runner::Upstream { python }
    }

    /// Whether the runner builds the job's report itself when it exits normally (the
    /// upstream runner does, see [`RUN_THEN_REPORT`]); after a crash the worker builds it.
    pub fn builds_report(&self) -> bool {
        matches!(self, Runner::Upstream { .. })
    }

    /// Whether the runner announces on a done channel that its work is written, before its
    /// teardown (the upstream runner script does, see [`crate::process::DONE_FD_VAR`]).
    pub fn announces_done(&self) -> bool {
        matches!(self, Runner::Upstream { .. })
    }

    /// Who sets the runner's death signal: the upstream runner script sets its own.
    pub fn death_signal(&self) -> crate::process::DeathSignal {
        match self {
            Runner::Upstream { .. } => crate::process::DeathSignal::SetByChild,
            Runner::Command { .. } => crate::process::DeathSignal::Hook,
        }
    }

    /// Whether the runner writes the job's final status itself (the upstream runner does;
    /// a plain command does not, and its exit code decides).
    pub fn sets_status(&self) -> bool {
        matches!(self, Runner::Upstream { .. })
    }

    /// The command that (re)builds a job's report with the task's upstream report class and
    /// writes it to `out` (upstream itself also caches a terminal job's report as
    /// `report_xml.xml` in the job directory); `None` for plain commands.
    pub fn report_command(
        &self,
        uuid: &str,
        job_dir: &std::path::Path,
        env: &RunnerEnv,
        out: &std::path::Path,
    ) -> Option<Command> {
        let Runner::Upstream { python } = self else {
            return None;
        };
        let mut c = Command::new(python);
        c.args([
            "-m",
            "django",
            "get_job_report",
            "--jobuuid",
            uuid,
            "--type",
            "report",
            "--regenerate",
            "-o",
        ])
        .arg(out);
        self.environment(&mut c, job_dir, env, uuid);
        Some(c)
    }

    pub fn command(&self, uuid: &str, job_dir: &std::path::Path, env: &RunnerEnv) -> Command {
        let mut cmd = match self {
            Runner::Upstream { python } => {
                let mut c = Command::new(python);
                c.args(["-c", RUN_THEN_REPORT, uuid])
                    .arg(job_dir.join(REPORT_FILE));
                c
            }
            Runner::Command { argv } => {
                let fill = |s: &String| {
                    s.replace("{uuid}", uuid)
                        .replace("{job_dir}", &job_dir.to_string_lossy())
                };
                let mut c = Command::new(argv.first().map(fill).unwrap_or_default());
                c.args(argv.iter().skip(1).map(fill));
                c
            }
        };
        self.environment(&mut cmd, job_dir, env, uuid);
        cmd
    }

    /// Upstream's management command `args` (`python -m django …`) in the runner's
    /// environment, started in `dir`: project export and import. `None` for a plain-command
    /// runner. `marker` names the work in the processes' environment (as a job's uuid does).
    pub fn management_command(
        &self,
        args: &[String],
        dir: &std::path::Path,
        env: &RunnerEnv,
        marker: &str,
    ) -> Option<Command> {
        let Runner::Upstream { python } = self else {
            return None;
        };
        let mut c = Command::new(python);
        c.args(["-m", "django"]).args(args);
        self.environment(&mut c, dir, env, marker);
        Some(c)
    }

    /// An explicit environment: the pass-through list plus what the runner must share.
    fn environment(
        &self,
        cmd: &mut Command,
        job_dir: &std::path::Path,
        env: &RunnerEnv,
        uuid: &str,
    ) {
        cmd.env_clear();
        for k in PASS_THROUGH {
            if let Some(v) = std::env::var_os(k) {
                cmd.env(k, v);
            }
        }
        // Marks the job's processes, so a recovering worker can tell them from a process
        // that merely reuses the old process-group id.
        cmd.env(JOB_MARKER, uuid);
        if let Runner::Upstream { python } = self
            && let Some(path) = path_with_python_dir(python, std::env::var_os("PATH"))
        {
            cmd.env("PATH", path);
        }
        cmd.env("DJANGO_SETTINGS_MODULE", "ccp4i2.config.settings")
            .env("DATABASE_URL", &env.database_url)
            .env("CCP4I2_PROJECTS_DIR", &env.projects_dir)
            .env("CCP4I2_HOME", &env.home)
            .current_dir(job_dir);
    }
}

/// `PATH` with the directory of the runner's Python first, as activating its environment
/// does: the programs installed beside it (`servalcat`, `gemmi`…, or the whole suite beside
/// `ccp4-python`) are the ones upstream's wrappers look up on `PATH`. `None` for a bare
/// program name, or when the directory is already first.
fn path_with_python_dir(
    python: &std::path::Path,
    path: Option<std::ffi::OsString>,
) -> Option<std::ffi::OsString> {
    let dir = python.parent().filter(|d| !d.as_os_str().is_empty())?;
    // The runner starts in the job directory: a relative directory is made absolute here.
    let dir = std::path::absolute(dir).ok()?;
    let dir = dir.as_path();
    let rest: Vec<PathBuf> = path
        .as_deref()
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    if rest.first().is_some_and(|first| first == dir) {
        return None;
    }
    std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(rest)).ok()
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The upstream runner is started with `posix_spawn`, without a fork hook: the script's
    /// prologue must tie it to the thread that started it, as the hook did.
    #[test]
    fn runner_prologue_dies_with_the_thread_that_started_it() {
        use std::io::BufRead;
        use std::os::unix::process::ExitStatusExt;
        let py = std::env::var("I2_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = format!(
            "{DEATH_SIGNAL_PROLOGUE}import sys, time\nprint('ready', flush=True)\ntime.sleep(60)\n"
        );
        let starter = std::thread::spawn(move || {
            let mut child = Command::new(py)
                .args(["-c", &script])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("start python");
            let mut line = String::new();
            let out = child.stdout.take().expect("stdout");
            std::io::BufReader::new(out)
                .read_line(&mut line)
                .expect("read");
            assert_eq!(
                line.trim(),
                "ready",
                "the prologue must not stop a runner whose worker lives"
            );
            child
        });
        // The starting thread has ended: its child must have been killed.
        let mut child = starter.join().expect("starter thread");
        let status = child.wait().expect("wait");
        assert_eq!(
            status.signal(),
            Some(libc::SIGKILL),
            "runner outlived its starter: {status:?}"
        );
    }
    use std::ffi::OsString;
    use std::path::Path;

    #[test]
    fn python_dir_goes_first_on_path() {
        let got = path_with_python_dir(
            Path::new("/v/bin/python"),
            Some(OsString::from("/usr/bin:/bin")),
        );
        assert_eq!(got, Some(OsString::from("/v/bin:/usr/bin:/bin")));
        let got = path_with_python_dir(Path::new("/v/bin/python"), None);
        assert_eq!(got, Some(OsString::from("/v/bin")));
        assert_eq!(
            path_with_python_dir(Path::new("/v/bin/python"), Some("/v/bin:/bin".into())),
            None
        );
        assert_eq!(path_with_python_dir(Path::new("python3"), None), None);
    }
}
