//! A method computed by the installation's Python, for the few whose data only a compiled
//! Python package carries (gemmi's Cromer–Liberman tables). The call is a short-lived
//! subprocess with a time limit, given its input as JSON on the command line and answering
//! one JSON value on standard output; the server itself runs no Python.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::MethodError;

/// How long a call may take before it is stopped (Python and gemmi start in well under a
/// second; a stalled interpreter must not hold a request for ever).
const TIME_LIMIT: Duration = Duration::from_secs(30);

/// Run `script` with `python`, `input` as its first argument (JSON); return what it prints.
pub fn call(python: &Path, script: &str, input: &Value) -> Result<Value, MethodError> {
    let fail = |why: String| {
        MethodError::Invalid(format!(
            "the installation's Python ({}) could not compute this: {why}",
            python.display()
        ))
    };
    let mut child = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(input.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot start it: {e}")))?;
    let deadline = Instant::now() + TIME_LIMIT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "it took longer than {} s and was stopped",
                    TIME_LIMIT.as_secs()
                )));
            }
            Err(e) => return Err(fail(format!("waiting for it: {e}"))),
        }
    }
    // The answer is one short line, well inside a pipe's buffer, so the child never blocked
    // on writing it while we waited.
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("reading its answer: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(fail(format!("{} ({})", last.trim(), out.status)));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| fail(format!("unreadable answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python() -> Option<std::path::PathBuf> {
        let p = std::path::PathBuf::from("python3");
        Command::new(&p)
            .arg("-c")
            .arg("pass")
            .status()
            .ok()
            .filter(|s| s.success())
            .map(|_| p)
    }

    #[test]
    fn answers_what_the_script_prints_and_explains_a_failure() {
        let Some(py) = python() else {
            panic!("python3 is needed for this test (it is part of the test setup)");
        };
        let script = "import json, sys; v = json.loads(sys.argv[1]); print(json.dumps({'twice': v['n'] * 2}))";
        let got = call(&py, script, &serde_json::json!({"n": 21})).expect("an answer");
        assert_eq!(got, serde_json::json!({"twice": 42}));

        let err = call(&py, "raise SystemExit('no tables here')", &Value::Null)
            .expect_err("a failing script");
        assert!(err.to_string().contains("no tables here"), "{err}");

        let err = call(Path::new("/nonexistent/python"), "pass", &Value::Null)
            .expect_err("no such interpreter");
        assert!(err.to_string().contains("cannot start it"), "{err}");
    }
}
