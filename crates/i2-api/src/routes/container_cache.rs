//! The body of `GET jobs/{id}/container/` for a parameter file already seen: building the
//! container JSON of a large task (prosmart_refmac: ~200 KB) costs far more than reading the
//! small parameter file it comes from, and clients re-read the container after every change.
//!
//! An entry is keyed by the task and the exact text of the parameter file it was built from
//! (compared in full, so a changed file never gets an old answer, whatever its timestamps).
//! A few entries are kept; the oldest goes first.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;

const ENTRIES: usize = 32;

struct Entry {
    task: String,
    source: Option<Arc<str>>,
    body: Bytes,
}

fn cache() -> &'static Mutex<VecDeque<Entry>> {
    static C: OnceLock<Mutex<VecDeque<Entry>>> = OnceLock::new();
    C.get_or_init(Default::default)
}

/// The body built earlier for `task` from the parameter file text `source` (`None`: no file).
pub fn get(task: &str, source: Option<&str>) -> Option<Bytes> {
    let c = cache().lock().ok()?;
    c.iter()
        .find(|e| e.task == task && e.source.as_deref() == source)
        .map(|e| e.body.clone())
}

pub fn put(task: &str, source: Option<&str>, body: Bytes) {
    let Ok(mut c) = cache().lock() else {
        return;
    };
    c.retain(|e| !(e.task == task && e.source.as_deref() == source));
    if c.len() >= ENTRIES {
        c.pop_front();
    }
    c.push_back(Entry {
        task: task.to_string(),
        source: source.map(Arc::from),
        body,
    });
}
