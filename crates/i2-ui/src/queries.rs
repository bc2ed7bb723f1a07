//! What the pages read, through `i2-store`'s [`Conn`]. Every list is bounded (a page size
//! or a set of ids from one page), so no page loads the whole database.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use i2_store::cells::Cell;
use i2_store::{Arg, Conn, Db, Kind, StoreError};

/// Projects per page on the projects page; top-level jobs per page on a project page.
pub const PAGE: i64 = 50;
/// Files per page on a project page, and candidates per file input on a job form.
pub const FILES_PAGE: i64 = 100;

fn int(c: &Cell) -> i64 {
    c.as_i64().unwrap_or_default()
}
fn text(c: &Cell) -> String {
    c.as_str().unwrap_or_default().to_string()
}
fn time(c: &Cell) -> Option<DateTime<Utc>> {
    match c {
        Cell::Time(t) => Some(*t),
        _ => None,
    }
}
fn uuid(c: &Cell) -> String {
    match c {
        Cell::Uuid(u) => u.simple().to_string(),
        Cell::Text(s) => s.replace('-', ""),
        _ => String::new(),
    }
}
fn placeholders(n: usize, start: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub last_access: Option<DateTime<Utc>>,
    pub jobs: i64,
    pub tags: Vec<String>,
}

/// One page of projects, most recently used first, filtered by a name search and a tag.
/// Fetches one row more than `limit` so the caller knows whether there is a next page.
pub async fn projects(
    db: &Db,
    search: &str,
    tag: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Vec<ProjectRow>, StoreError> {
    let mut c = db.clone();
    let mut args = vec![Arg::from(format!("%{}%", search.to_lowercase()))];
    let mut sql = String::from(
        "SELECT p.id, p.name, p.description, p.last_access, \
         (SELECT COUNT(*) FROM ccp4i2_job j WHERE j.project_id = p.id) \
         FROM ccp4i2_project p WHERE LOWER(p.name) LIKE $1",
    );
    if let Some(t) = tag {
        args.push(Arg::Int(t));
        sql.push_str(&format!(
            " AND p.id IN (SELECT project_id FROM ccp4i2_projecttag_projects WHERE projecttag_id = ${})",
            args.len()
        ));
    }
    args.push(Arg::Int(limit));
    args.push(Arg::Int(offset));
    sql.push_str(&format!(
        " ORDER BY p.last_access DESC, p.id DESC LIMIT ${} OFFSET ${}",
        args.len() - 1,
        args.len()
    ));
    let rows = c
        .fetch_cells(
            &sql,
            args,
            &[Kind::Int, Kind::Text, Kind::Text, Kind::Time, Kind::Int],
        )
        .await?;
    let mut out: Vec<ProjectRow> = rows
        .iter()
        .map(|r| ProjectRow {
            id: int(&r[0]),
            name: text(&r[1]),
            description: text(&r[2]),
            last_access: time(&r[3]),
            jobs: int(&r[4]),
            tags: vec![],
        })
        .collect();
    let ids: Vec<i64> = out.iter().map(|p| p.id).collect();
    let tags = i2_store::relations::tags_of_projects(&mut c, &ids).await?;
    for p in &mut out {
        if let Some(t) = tags.get(&p.id) {
            p.tags = t.iter().map(|l| l.text.clone()).collect();
        }
    }
    Ok(out)
}

/// Every project tag (id, text), for the filter menu; tags are few, but still bounded.
pub async fn tags(db: &Db) -> Result<Vec<(i64, String)>, StoreError> {
    let rows = db
        .clone()
        .fetch_cells(
            "SELECT id, text FROM ccp4i2_projecttag ORDER BY text LIMIT 500",
            vec![],
            &[Kind::Int, Kind::Text],
        )
        .await?;
    Ok(rows.iter().map(|r| (int(&r[0]), text(&r[1]))).collect())
}

#[derive(Debug, Clone)]
pub struct ProjectInfo {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub directory: String,
    pub jobs: i64,
    pub files: i64,
}

pub async fn project(db: &Db, id: i64) -> Result<Option<ProjectInfo>, StoreError> {
    let rows = db
        .clone()
        .fetch_cells(
            "SELECT p.id, p.uuid, p.name, p.directory, \
             (SELECT COUNT(*) FROM ccp4i2_job j WHERE j.project_id = p.id), \
             (SELECT COUNT(*) FROM ccp4i2_file f JOIN ccp4i2_job j ON j.id = f.job_id WHERE j.project_id = p.id) \
             FROM ccp4i2_project p WHERE p.id = $1",
            vec![Arg::Int(id)],
            &[Kind::Int, Kind::Uuid, Kind::Text, Kind::Text, Kind::Int, Kind::Int],
        )
        .await?;
    Ok(rows.first().map(|r| ProjectInfo {
        id: int(&r[0]),
        uuid: uuid(&r[1]),
        name: text(&r[2]),
        directory: text(&r[3]),
        jobs: int(&r[4]),
        files: int(&r[5]),
    }))
}

#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: i64,
    pub uuid: String,
    pub number: String,
    pub title: String,
    pub status: i64,
    pub evaluation: i64,
    pub task_name: String,
    pub parent: Option<i64>,
    pub project: i64,
    pub created: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
}

const JOB_COLS: &str = "j.id, j.uuid, j.number, j.title, j.status, j.evaluation, j.task_name, \
                        j.parent_id, j.project_id, j.creation_time, j.finish_time";
const JOB_KINDS: &[Kind] = &[
    Kind::Int,
    Kind::Uuid,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Time,
    Kind::Time,
];

fn job_row(r: &[Cell]) -> JobRow {
    JobRow {
        id: int(&r[0]),
        uuid: uuid(&r[1]),
        number: text(&r[2]),
        title: text(&r[3]),
        status: int(&r[4]),
        evaluation: int(&r[5]),
        task_name: text(&r[6]),
        parent: r[7].as_i64(),
        project: int(&r[8]),
        created: time(&r[9]),
        finished: time(&r[10]),
    }
}

/// Statuses as clients must see them (the queue overlay: Finished only once reaped).
async fn overlay(c: &mut Db, jobs: &mut [JobRow]) -> Result<(), StoreError> {
    let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
    let shown = i2_store::queue::visible_statuses(c, &ids).await?;
    for j in jobs {
        if let Some(s) = shown.get(&j.id) {
            j.status = i64::from(*s);
        }
    }
    Ok(())
}

/// One page of a project's top-level jobs, newest first, with all their sub-jobs.
pub async fn job_tree(
    db: &Db,
    project: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<JobRow>, StoreError> {
    let mut c = db.clone();
    let sql = format!(
        "SELECT {JOB_COLS} FROM ccp4i2_job j WHERE j.project_id = $1 AND j.parent_id IS NULL \
         ORDER BY j.id DESC LIMIT $2 OFFSET $3"
    );
    let rows = c
        .fetch_cells(
            &sql,
            vec![Arg::Int(project), Arg::Int(limit), Arg::Int(offset)],
            JOB_KINDS,
        )
        .await?;
    let mut jobs: Vec<JobRow> = rows.iter().map(|r| job_row(r)).collect();
    // Sub-jobs by job number prefix: `5.1`, `5.1.2` belong to top-level job `5`.
    let tops: Vec<String> = jobs.iter().map(|j| format!("{}.%", j.number)).collect();
    for chunk in tops.chunks(100) {
        let likes: Vec<String> = (0..chunk.len())
            .map(|i| format!("j.number LIKE ${}", i + 2))
            .collect();
        let sql = format!(
            "SELECT {JOB_COLS} FROM ccp4i2_job j WHERE j.project_id = $1 AND ({}) LIMIT 5000",
            likes.join(" OR ")
        );
        let mut args = vec![Arg::Int(project)];
        args.extend(chunk.iter().map(|s| Arg::from(s.clone())));
        let rows = c.fetch_cells(&sql, args, JOB_KINDS).await?;
        jobs.extend(rows.iter().map(|r| job_row(r)));
    }
    overlay(&mut c, &mut jobs).await?;
    Ok(jobs)
}

pub async fn job(db: &Db, id: i64) -> Result<Option<JobRow>, StoreError> {
    let mut c = db.clone();
    let sql = format!("SELECT {JOB_COLS} FROM ccp4i2_job j WHERE j.id = $1");
    let rows = c.fetch_cells(&sql, vec![Arg::Int(id)], JOB_KINDS).await?;
    let mut jobs: Vec<JobRow> = rows.iter().map(|r| job_row(r)).collect();
    overlay(&mut c, &mut jobs).await?;
    Ok(jobs.into_iter().next())
}

/// KPIs of the given jobs (floats and strings), keyed by job id.
pub async fn kpis(
    db: &Db,
    jobs: &[i64],
) -> Result<HashMap<i64, i2_store::relations::Kpis>, StoreError> {
    i2_store::relations::kpis_of_jobs(&mut db.clone(), jobs).await
}

#[derive(Debug, Clone)]
pub struct FileRow {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub file_type: String,
    pub annotation: String,
    pub param: String,
    pub directory: i64,
    pub job_id: i64,
    pub job_number: String,
    pub sub_type: Option<i64>,
    pub content: Option<i64>,
    /// Numbers of the jobs that used this file as an input.
    pub used_by: Vec<(i64, String)>,
}

const FILE_COLS: &str = "f.id, f.uuid, f.name, f.type_id, f.annotation, f.job_param_name, \
                         f.directory, j.id, j.number, f.sub_type, f.content";
const FILE_KINDS: &[Kind] = &[
    Kind::Int,
    Kind::Uuid,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Int,
    Kind::Int,
];

fn file_row(r: &[Cell]) -> FileRow {
    FileRow {
        id: int(&r[0]),
        uuid: uuid(&r[1]),
        name: text(&r[2]),
        file_type: text(&r[3]),
        annotation: text(&r[4]),
        param: text(&r[5]),
        directory: int(&r[6]),
        job_id: int(&r[7]),
        job_number: text(&r[8]),
        sub_type: r[9].as_i64(),
        content: r[10].as_i64(),
        used_by: vec![],
    }
}

async fn with_uses(c: &mut Db, files: &mut [FileRow]) -> Result<(), StoreError> {
    let ids: Vec<i64> = files.iter().map(|f| f.id).collect();
    let mut uses: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT u.file_id, j.id, j.number FROM ccp4i2_fileuse u JOIN ccp4i2_job j ON j.id = u.job_id \
             WHERE u.file_id IN ({}) ORDER BY j.id",
            placeholders(chunk.len(), 1)
        );
        let args = chunk.iter().map(|i| Arg::Int(*i)).collect();
        for r in c
            .fetch_cells(&sql, args, &[Kind::Int, Kind::Int, Kind::Text])
            .await?
        {
            let e = uses.entry(int(&r[0])).or_default();
            let u = (int(&r[1]), text(&r[2]));
            if !e.contains(&u) {
                e.push(u);
            }
        }
    }
    for f in files {
        f.used_by = uses.remove(&f.id).unwrap_or_default();
    }
    Ok(())
}

/// One page of a project's files, newest first, with which jobs used each.
pub async fn project_files(
    db: &Db,
    project: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<FileRow>, StoreError> {
    let mut c = db.clone();
    let sql = format!(
        "SELECT {FILE_COLS} FROM ccp4i2_file f JOIN ccp4i2_job j ON j.id = f.job_id \
         WHERE j.project_id = $1 ORDER BY f.id DESC LIMIT $2 OFFSET $3"
    );
    let rows = c
        .fetch_cells(
            &sql,
            vec![Arg::Int(project), Arg::Int(limit), Arg::Int(offset)],
            FILE_KINDS,
        )
        .await?;
    let mut files: Vec<FileRow> = rows.iter().map(|r| file_row(r)).collect();
    with_uses(&mut c, &mut files).await?;
    Ok(files)
}

/// The files a job made or imported.
pub async fn job_files(db: &Db, job: i64) -> Result<Vec<FileRow>, StoreError> {
    let mut c = db.clone();
    let sql = format!(
        "SELECT {FILE_COLS} FROM ccp4i2_file f JOIN ccp4i2_job j ON j.id = f.job_id \
         WHERE f.job_id = $1 ORDER BY f.id LIMIT 500"
    );
    let rows = c.fetch_cells(&sql, vec![Arg::Int(job)], FILE_KINDS).await?;
    let mut files: Vec<FileRow> = rows.iter().map(|r| file_row(r)).collect();
    with_uses(&mut c, &mut files).await?;
    Ok(files)
}

/// Files of the project with one of `types` made by jobs other than `except_job`, newest
/// first: the candidates for a file input.
pub async fn files_of_types(
    db: &Db,
    project: i64,
    types: &[String],
    except_job: i64,
) -> Result<Vec<FileRow>, StoreError> {
    if types.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT {FILE_COLS} FROM ccp4i2_file f JOIN ccp4i2_job j ON j.id = f.job_id \
         WHERE j.project_id = $1 AND j.id <> $2 AND f.type_id IN ({}) ORDER BY f.id DESC LIMIT {FILES_PAGE}",
        placeholders(types.len(), 3)
    );
    let mut args = vec![Arg::Int(project), Arg::Int(except_job)];
    args.extend(types.iter().map(|t| Arg::from(t.clone())));
    let rows = db.clone().fetch_cells(&sql, args, FILE_KINDS).await?;
    Ok(rows.iter().map(|r| file_row(r)).collect())
}

/// Where a job stands in the queue: its state there, how many queued jobs are ahead of it,
/// how many jobs are running, and the last outcome recorded (why it failed to start…).
#[derive(Debug, Clone, Default)]
pub struct QueueInfo {
    pub state: Option<String>,
    pub ahead: i64,
    pub running: i64,
    pub attempts: i64,
    pub detail: String,
}

pub async fn queue_info(db: &Db, job: i64) -> Result<QueueInfo, StoreError> {
    let mut c = db.clone();
    let rows = c
        .fetch_cells(
            "SELECT q.state, q.attempts, q.detail, \
             (SELECT COUNT(*) FROM i2_job_queue o WHERE o.state = 'queued' AND \
               (o.enqueued_at < q.enqueued_at OR (o.enqueued_at = q.enqueued_at AND o.job_id < q.job_id))), \
             (SELECT COUNT(*) FROM i2_job_queue r WHERE r.state = 'running') \
             FROM i2_job_queue q WHERE q.job_id = $1",
            vec![Arg::Int(job)],
            &[Kind::Text, Kind::Int, Kind::Text, Kind::Int, Kind::Int],
        )
        .await?;
    Ok(rows
        .first()
        .map(|r| QueueInfo {
            state: r[0].as_str().map(str::to_string),
            attempts: int(&r[1]),
            detail: text(&r[2]),
            ahead: int(&r[3]),
            running: int(&r[4]),
        })
        .unwrap_or_default())
}
