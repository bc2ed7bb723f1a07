//! Filling a job's input files from an earlier job (upstream's `set_input_by_context_job`):
//! `create_task` with `context_job_uuid` (or, by default, the project's latest top-level job)
//! and `POST jobs/{id}/set_context_job/`.
//!
//! For every input file parameter marked `fromPreviousJob`, the top-level jobs numbered up to
//! the context job are searched from the latest down; the first job that has files of the
//! parameter's MIME type (and required sub-type and content flag) gives them: files it
//! produced, else files it imported, else files it used (outputs, then inputs). Only files
//! present on disk count. A single parameter takes the first file; an empty file list under
//! `inputData` gets one item per file.

use std::collections::HashMap;
use std::path::PathBuf;

use i2_core::job_number::JobNumber;
use i2_core::layout::IMPORTED_FILES_DIR;
use i2_store::cells::Cell;
use i2_store::{Conn, Kind, args};
use i2_tasks::JobParams;
use serde_json::{Map, Value, json};

use crate::error::ApiResult;

/// A file row that may fill an input.
#[derive(Debug, Clone)]
struct Candidate {
    uuid: String,
    name: String,
    sub_type: Option<i64>,
    content: Option<i64>,
    annotation: String,
    mime: String,
    /// Where it is relative to the project directory (`relPath`).
    rel_path: String,
    imported: bool,
}

/// The project's files, as the context search sees them.
pub struct ProjectFiles {
    dir: PathBuf,
    project_uuid: String,
    /// Top-level jobs: (id, number).
    top_jobs: Vec<(i64, i64)>,
    /// Files owned by each job, in id order.
    owned: HashMap<i64, Vec<Candidate>>,
    /// Files each job used: (role, file), in id order.
    used: HashMap<i64, Vec<(i64, Candidate)>>,
}

const FILE_COLS: &str = "f.uuid, f.name, f.directory, f.sub_type, f.content, f.annotation, f.type_id, \
                         oj.number, (SELECT COUNT(*) FROM ccp4i2_fileimport fi WHERE fi.file_id = f.id)";
const FILE_KINDS: [Kind; 9] = [
    Kind::Uuid,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Int,
];

fn candidate(cells: &[Cell]) -> Option<Candidate> {
    let uuid = match cells.first()? {
        Cell::Uuid(u) => u.hyphenated().to_string(),
        Cell::Text(t) => uuid::Uuid::parse_str(t).ok()?.hyphenated().to_string(),
        _ => return None,
    };
    let text = |i: usize| {
        cells
            .get(i)
            .and_then(Cell::as_str)
            .unwrap_or("")
            .to_string()
    };
    let int = |i: usize| cells.get(i).and_then(Cell::as_i64);
    let rel_path = match int(2)? {
        2 => IMPORTED_FILES_DIR.to_string(),
        _ => JobNumber::parse(&text(7))
            .ok()?
            .rel_dir()
            .to_string_lossy()
            .into_owned(),
    };
    Some(Candidate {
        uuid,
        name: text(1),
        sub_type: int(3),
        content: int(4),
        annotation: text(5),
        mime: text(6),
        rel_path,
        imported: int(8).unwrap_or(0) > 0,
    })
}

impl ProjectFiles {
    pub async fn load(
        c: &mut impl Conn,
        project_id: i64,
        project_uuid: &str,
        dir: PathBuf,
    ) -> ApiResult<ProjectFiles> {
        let jobs = c
            .fetch_cells(
                "SELECT id, number FROM ccp4i2_job WHERE project_id = $1 AND parent_id IS NULL",
                args![project_id],
                &[Kind::Int, Kind::Text],
            )
            .await?;
        let top_jobs = jobs
            .iter()
            .filter_map(|r| Some((r.first()?.as_i64()?, r.get(1)?.as_str()?.parse().ok()?)))
            .collect();
        let mut kinds = vec![Kind::Int];
        kinds.extend(FILE_KINDS);
        let owned_rows = c
            .fetch_cells(
                &format!(
                    "SELECT f.job_id, {FILE_COLS} FROM ccp4i2_file f JOIN ccp4i2_job oj ON oj.id = f.job_id \
                     WHERE oj.project_id = $1 ORDER BY f.id"
                ),
                args![project_id],
                &kinds,
            )
            .await?;
        let mut owned: HashMap<i64, Vec<Candidate>> = HashMap::new();
        for r in &owned_rows {
            if let (Some(j), Some(f)) = (r.first().and_then(Cell::as_i64), candidate(&r[1..])) {
                owned.entry(j).or_default().push(f);
            }
        }
        let mut kinds = vec![Kind::Int, Kind::Int];
        kinds.extend(FILE_KINDS);
        let used_rows = c
            .fetch_cells(
                &format!(
                    "SELECT u.job_id, u.role, {FILE_COLS} FROM ccp4i2_fileuse u \
                     JOIN ccp4i2_job uj ON uj.id = u.job_id JOIN ccp4i2_file f ON f.id = u.file_id \
                     JOIN ccp4i2_job oj ON oj.id = f.job_id WHERE uj.project_id = $1 ORDER BY u.id"
                ),
                args![project_id],
                &kinds,
            )
            .await?;
        let mut used: HashMap<i64, Vec<(i64, Candidate)>> = HashMap::new();
        for r in &used_rows {
            if let (Some(j), Some(role), Some(f)) = (
                r.first().and_then(Cell::as_i64),
                r.get(1).and_then(Cell::as_i64),
                candidate(&r[2..]),
            ) {
                used.entry(j).or_default().push((role, f));
            }
        }
        Ok(ProjectFiles {
            dir,
            project_uuid: project_uuid.replace('-', ""),
            top_jobs,
            owned,
            used,
        })
    }

    /// The latest top-level job other than `except` (upstream's automatic context).
    pub fn latest_top_job(&self, except: i64) -> Option<i64> {
        self.top_jobs
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| *id != except)
            .max()
    }

    fn on_disk(&self, f: &Candidate) -> bool {
        self.dir.join(&f.rel_path).join(&f.name).is_file()
    }

    /// Files for a parameter, searching back from the context job.
    fn search(&self, context_job: i64, want: &Wanted) -> Vec<&Candidate> {
        let Some(limit) = self
            .top_jobs
            .iter()
            .find(|(id, _)| *id == context_job)
            .map(|(_, n)| *n)
        else {
            return Vec::new();
        };
        let mut jobs: Vec<(i64, i64)> = self
            .top_jobs
            .iter()
            .filter(|(_, n)| *n <= limit)
            .copied()
            .collect();
        jobs.sort_by_key(|(_, n)| *n);
        for (job, _) in jobs.into_iter().rev() {
            let owned: Vec<&Candidate> = self
                .owned
                .get(&job)
                .into_iter()
                .flatten()
                .filter(|f| want.matches(f) && self.on_disk(f))
                .collect();
            let outputs: Vec<&Candidate> = owned.iter().copied().filter(|f| !f.imported).collect();
            if !outputs.is_empty() {
                return outputs;
            }
            if !owned.is_empty() {
                return owned;
            }
            let uses = self.used.get(&job).into_iter().flatten();
            let mut found: Vec<&Candidate> = uses
                .clone()
                .filter(|(role, f)| *role == 0 && want.matches(f) && self.on_disk(f))
                .map(|(_, f)| f)
                .collect();
            found.extend(
                uses.filter(|(role, f)| *role == 1 && want.matches(f) && self.on_disk(f))
                    .map(|(_, f)| f),
            );
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }
}

/// What a parameter accepts: MIME type, and the sub-types and content flags it requires.
struct Wanted {
    mime: String,
    sub_types: Option<Vec<i64>>,
    contents: Option<Vec<i64>>,
}

impl Wanted {
    fn from_qualifiers(q: &Value) -> Option<Wanted> {
        let mime = q.get("mimeTypeName")?.as_str()?.to_string();
        // A sub-type list holding 0 (or a 0) means any sub-type.
        let sub_types = int_list(q.get("requiredSubType")).filter(|l| !l.contains(&0));
        let contents = int_list(q.get("requiredContentFlag"));
        Some(Wanted {
            mime,
            sub_types,
            contents,
        })
    }

    fn matches(&self, f: &Candidate) -> bool {
        f.mime == self.mime
            && self
                .sub_types
                .as_ref()
                .is_none_or(|l| f.sub_type.is_some_and(|s| l.contains(&s)))
            && self
                .contents
                .as_ref()
                .is_none_or(|l| f.content.is_some_and(|c| l.contains(&c)))
    }
}

/// An int or list-of-ints qualifier (also `"1,2"` text).
fn int_list(v: Option<&Value>) -> Option<Vec<i64>> {
    match v? {
        Value::Null => None,
        Value::Array(a) => Some(a.iter().filter_map(as_int).collect()),
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.split(',').filter_map(|x| x.trim().parse().ok()).collect()),
        other => as_int(other).map(|i| vec![i]),
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "True" | "true" | "1"),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

fn is_file(node: &Value) -> bool {
    node.get("_value")
        .and_then(Value::as_object)
        .is_some_and(|m| m.contains_key("baseName") && m.contains_key("relPath"))
}

/// Object paths of `fromPreviousJob` file parameters below `node`, with what they accept.
fn file_params(node: &Value, out: &mut Vec<(String, Wanted)>) {
    if is_file(node) {
        let q = node.get("_qualifiers").unwrap_or(&Value::Null);
        if truthy(q.get("fromPreviousJob"))
            && let (Some(p), Some(w)) = (
                node.get("_objectPath").and_then(Value::as_str),
                Wanted::from_qualifiers(q),
            )
        {
            out.push((p.to_string(), w));
        }
        return;
    }
    match node.get("_value") {
        Some(Value::Object(m)) => {
            let order: Vec<&str> = node
                .get("_CONTENTS_ORDER")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_else(|| m.keys().map(String::as_str).collect());
            for k in order {
                if let Some(c) = m.get(k) {
                    file_params(c, out);
                }
            }
        }
        Some(Value::Array(items)) => items.iter().for_each(|i| file_params(i, out)),
        _ => {}
    }
}

/// Empty lists of files directly under `inputData` that take files from earlier jobs.
fn file_lists(input: &Value) -> Vec<(String, Wanted)> {
    let mut out = Vec::new();
    let Some(m) = input.get("_value").and_then(Value::as_object) else {
        return out;
    };
    for node in m.values() {
        let (Some(Value::Array(items)), Some(sub)) = (node.get("_value"), node.get("_subItem"))
        else {
            continue;
        };
        if !items.is_empty() || !is_file(sub) {
            continue;
        }
        let sq = sub.get("_qualifiers").unwrap_or(&Value::Null);
        let lq = node.get("_qualifiers").unwrap_or(&Value::Null);
        if !(truthy(sq.get("fromPreviousJob")) || truthy(lq.get("fromPreviousJob"))) {
            continue;
        }
        if let (Some(p), Some(w)) = (
            node.get("_objectPath").and_then(Value::as_str),
            Wanted::from_qualifiers(sq),
        ) {
            out.push((p.to_string(), w));
        }
    }
    out
}

fn parts_of(f: &Candidate, project_uuid: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("baseName".into(), json!(f.name));
    m.insert("relPath".into(), json!(f.rel_path));
    m.insert("project".into(), json!(project_uuid));
    m.insert("annotation".into(), json!(f.annotation));
    m.insert("dbFileId".into(), json!(f.uuid.replace('-', "")));
    if let Some(c) = f.content {
        m.insert("contentFlag".into(), json!(c));
    }
    if let Some(s) = f.sub_type {
        m.insert("subType".into(), json!(s));
    }
    m
}

/// Binds a file row to a file parameter. Like an upload, the parameter then holds only the
/// seven parts of a plain data file.
fn set_file(params: &mut JobParams, path: &str, f: &Candidate, project_uuid: &str) -> bool {
    params.set_parts(path, &parts_of(f, project_uuid)).is_ok()
        && params.keep_plain_file_parts(path).is_ok()
}

/// Fills `params` from the context job; returns how many parameters changed.
pub fn fill_from_context(params: &mut JobParams, files: &ProjectFiles, context_job: i64) -> usize {
    let tree = params.container_json();
    let Some(input) = tree.get("_value").and_then(|v| v.get("inputData")).cloned() else {
        return 0;
    };
    let mut singles = Vec::new();
    file_params(&input, &mut singles);
    let lists = file_lists(&input);
    let mut changed = 0;
    for (path, want) in singles {
        if let Some(f) = files.search(context_job, &want).first()
            && set_file(params, &path, f, &files.project_uuid)
        {
            changed += 1;
        }
    }
    for (path, want) in lists {
        for f in files.search(context_job, &want) {
            let Ok(item) = params.append_item(&path) else {
                break;
            };
            if set_file(params, &item, f, &files.project_uuid) {
                changed += 1;
            }
        }
    }
    changed
}
