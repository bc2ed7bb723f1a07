//! Queries that span tables: tags of projects, KPIs of jobs, where files live, which jobs
//! depend on which, and deletes that cascade the way upstream's ORM does (its foreign keys
//! have no database-level cascade).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::args;
use crate::db::Conn;
use crate::error::StoreError;
use crate::types::Arg;

/// A tag as listed with a project.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TagLink {
    pub project_id: i64,
    pub id: i64,
    pub text: String,
    pub parent_id: Option<i64>,
}

fn placeholders(n: usize, start: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Tags of each of `project_ids`, ordered by tag id.
pub async fn tags_of_projects(
    c: &mut impl Conn,
    project_ids: &[i64],
) -> Result<HashMap<i64, Vec<TagLink>>, StoreError> {
    let mut out: HashMap<i64, Vec<TagLink>> = HashMap::new();
    // Chunked so a 2,000-project list stays within parameter limits.
    for chunk in project_ids.chunks(500) {
        let sql = format!(
            "SELECT tp.project_id, t.id, t.text, t.parent_id FROM ccp4i2_projecttag_projects tp \
             JOIN ccp4i2_projecttag t ON t.id = tp.projecttag_id \
             WHERE tp.project_id IN ({}) ORDER BY t.id",
            placeholders(chunk.len(), 1)
        );
        let args: Vec<Arg> = chunk.iter().map(|i| Arg::Int(*i)).collect();
        for l in c.fetch_all::<TagLink>(&sql, args).await? {
            out.entry(l.project_id).or_default().push(l);
        }
    }
    Ok(out)
}

/// Project ids carrying each of `tag_ids`.
pub async fn projects_of_tags(
    c: &mut impl Conn,
    tag_ids: &[i64],
) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for chunk in tag_ids.chunks(500) {
        let sql = format!(
            "SELECT projecttag_id, project_id FROM ccp4i2_projecttag_projects \
             WHERE projecttag_id IN ({}) ORDER BY project_id",
            placeholders(chunk.len(), 1)
        );
        let args: Vec<Arg> = chunk.iter().map(|i| Arg::Int(*i)).collect();
        for (t, p) in c.fetch_all::<(i64, i64)>(&sql, args).await? {
            out.entry(t).or_default().push(p);
        }
    }
    Ok(out)
}

pub async fn link_tag(c: &mut impl Conn, project_id: i64, tag_id: i64) -> Result<(), StoreError> {
    let exists: Option<(i64,)> = c
        .fetch_optional(
            "SELECT id FROM ccp4i2_projecttag_projects WHERE projecttag_id = $1 AND project_id = $2",
            args![tag_id, project_id],
        )
        .await?;
    if exists.is_none() {
        c.execute(
            "INSERT INTO ccp4i2_projecttag_projects (projecttag_id, project_id) VALUES ($1, $2)",
            args![tag_id, project_id],
        )
        .await?;
    }
    Ok(())
}

pub async fn unlink_tag(
    c: &mut impl Conn,
    project_id: i64,
    tag_id: i64,
) -> Result<u64, StoreError> {
    c.execute(
        "DELETE FROM ccp4i2_projecttag_projects WHERE projecttag_id = $1 AND project_id = $2",
        args![tag_id, project_id],
    )
    .await
}

/// Replace the project set of a tag (the `projects` field of `projecttags/`).
pub async fn set_tag_projects(
    c: &mut impl Conn,
    tag_id: i64,
    projects: &[i64],
) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM ccp4i2_projecttag_projects WHERE projecttag_id = $1",
        args![tag_id],
    )
    .await?;
    for p in projects {
        link_tag(c, *p, tag_id).await?;
    }
    Ok(())
}

/// Delete a tag, its links and (recursively) its child tags.
pub async fn delete_tag(c: &mut impl Conn, tag_id: i64) -> Result<bool, StoreError> {
    let children: Vec<(i64,)> = c
        .fetch_all(
            "SELECT id FROM ccp4i2_projecttag WHERE parent_id = $1",
            args![tag_id],
        )
        .await?;
    for (child,) in children {
        Box::pin(delete_tag(c, child)).await?;
    }
    c.execute(
        "DELETE FROM ccp4i2_projecttag_projects WHERE projecttag_id = $1",
        args![tag_id],
    )
    .await?;
    Ok(
        c.execute("DELETE FROM ccp4i2_projecttag WHERE id = $1", args![tag_id])
            .await?
            > 0,
    )
}

/// KPIs of jobs: job id → (float values, char values), keys sorted.
pub type Kpis = (BTreeMap<String, f64>, BTreeMap<String, String>);

pub async fn kpis_of_jobs(
    c: &mut impl Conn,
    job_ids: &[i64],
) -> Result<HashMap<i64, Kpis>, StoreError> {
    let mut out: HashMap<i64, Kpis> = HashMap::new();
    for chunk in job_ids.chunks(500) {
        let ph = placeholders(chunk.len(), 1);
        let args: Vec<Arg> = chunk.iter().map(|i| Arg::Int(*i)).collect();
        let sql = format!(
            "SELECT job_id, key_id, value FROM ccp4i2_jobfloatvalue WHERE job_id IN ({ph}) ORDER BY id"
        );
        for (j, k, v) in c
            .fetch_all::<(i64, String, f64)>(&sql, args.clone())
            .await?
        {
            out.entry(j).or_default().0.insert(k, v);
        }
        let sql = format!(
            "SELECT job_id, key_id, value FROM ccp4i2_jobcharvalue WHERE job_id IN ({ph}) ORDER BY id"
        );
        for (j, k, v) in c.fetch_all::<(i64, String, String)>(&sql, args).await? {
            out.entry(j).or_default().1.insert(k, v);
        }
    }
    Ok(out)
}

/// Where a file is: the project directory, and the producing job's number if any.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FilePlace {
    pub file_id: i64,
    pub directory: i32,
    pub name: String,
    pub project_dir: Option<String>,
    pub job_number: Option<String>,
}

pub async fn places_of_files(
    c: &mut impl Conn,
    file_ids: &[i64],
) -> Result<HashMap<i64, FilePlace>, StoreError> {
    let mut out = HashMap::new();
    for chunk in file_ids.chunks(500) {
        let sql = format!(
            "SELECT f.id AS file_id, f.directory, f.name, p.directory AS project_dir, j.number AS job_number \
             FROM ccp4i2_file f LEFT JOIN ccp4i2_job j ON j.id = f.job_id \
             LEFT JOIN ccp4i2_project p ON p.id = j.project_id WHERE f.id IN ({})",
            placeholders(chunk.len(), 1)
        );
        let args: Vec<Arg> = chunk.iter().map(|i| Arg::Int(*i)).collect();
        for p in c.fetch_all::<FilePlace>(&sql, args).await? {
            out.insert(p.file_id, p);
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct JobKey {
    id: i64,
    number: String,
}

/// Jobs that depend on `job_id`: its sub-jobs and every job that used a file it produced,
/// transitively, in job-number order; `job_id` itself is not included.
pub async fn dependent_jobs(c: &mut impl Conn, job_id: i64) -> Result<Vec<i64>, StoreError> {
    let mut seen: HashSet<i64> = HashSet::from([job_id]);
    let mut frontier = vec![job_id];
    let mut found: Vec<JobKey> = Vec::new();
    while let Some(j) = frontier.pop() {
        let next: Vec<JobKey> = c
            .fetch_all(
                "SELECT id, number FROM ccp4i2_job WHERE parent_id = $1 \
                 UNION SELECT j.id, j.number FROM ccp4i2_job j \
                 JOIN ccp4i2_fileuse u ON u.job_id = j.id \
                 JOIN ccp4i2_file f ON f.id = u.file_id \
                 WHERE f.job_id = $1 AND j.id <> $1",
                args![j],
            )
            .await?;
        for k in next {
            if seen.insert(k.id) {
                frontier.push(k.id);
                found.push(k);
            }
        }
    }
    found.sort_by(|a, b| {
        i2_core::job_number::sort_key(&a.number).cmp(&i2_core::job_number::sort_key(&b.number))
    });
    Ok(found.into_iter().map(|k| k.id).collect())
}

/// What a job delete removed, so the caller can remove directories after commit.
#[derive(Debug, Clone, PartialEq)]
pub struct DeletedJob {
    pub id: i64,
    pub project_dir: String,
    pub number: String,
}

/// Delete one job's own rows (not its dependents): KPIs, file uses, files and their
/// imports/exports, the job row. References to it from projects are cleared.
pub async fn delete_job_rows(
    c: &mut impl Conn,
    job_id: i64,
) -> Result<Option<DeletedJob>, StoreError> {
    let place: Option<(String, String)> = c
        .fetch_optional(
            "SELECT p.directory, j.number FROM ccp4i2_job j JOIN ccp4i2_project p ON p.id = j.project_id WHERE j.id = $1",
            args![job_id],
        )
        .await?;
    let Some((project_dir, number)) = place else {
        return Ok(None);
    };
    for sql in [
        "DELETE FROM ccp4i2_jobfloatvalue WHERE job_id = $1",
        "DELETE FROM ccp4i2_jobcharvalue WHERE job_id = $1",
        "DELETE FROM ccp4i2_fileuse WHERE job_id = $1",
        "DELETE FROM ccp4i2_fileuse WHERE file_id IN (SELECT id FROM ccp4i2_file WHERE job_id = $1)",
        "DELETE FROM ccp4i2_fileimport WHERE file_id IN (SELECT id FROM ccp4i2_file WHERE job_id = $1)",
        "DELETE FROM ccp4i2_fileexport WHERE file_id IN (SELECT id FROM ccp4i2_file WHERE job_id = $1)",
        "DELETE FROM ccp4i2_file WHERE job_id = $1",
        "DELETE FROM ccp4i2_serverjob WHERE job_id = $1",
        "UPDATE ccp4i2_xdata SET job_id = NULL WHERE job_id = $1",
        "UPDATE ccp4i2_project SET follow_from_job_id = NULL WHERE follow_from_job_id = $1",
        "DELETE FROM ccp4i2_job WHERE id = $1",
    ] {
        c.execute(sql, args![job_id]).await?;
    }
    Ok(Some(DeletedJob {
        id: job_id,
        project_dir,
        number,
    }))
}

/// Delete a job together with everything that depends on it, leaf first.
pub async fn delete_job_cascade(
    c: &mut impl Conn,
    job_id: i64,
) -> Result<Vec<DeletedJob>, StoreError> {
    // Leaf first: the highest numbers (newest, deepest) go before what they depend on.
    let mut order = dependent_jobs(c, job_id).await?;
    order.reverse();
    order.push(job_id);
    let mut out = Vec::new();
    for j in order {
        if let Some(d) = delete_job_rows(c, j).await? {
            out.push(d);
        }
    }
    Ok(out)
}

/// Delete a project and all its rows. Returns the deleted jobs.
pub async fn delete_project_cascade(
    c: &mut impl Conn,
    project_id: i64,
) -> Result<Vec<DeletedJob>, StoreError> {
    let jobs: Vec<(i64, String)> = c
        .fetch_all(
            "SELECT id, number FROM ccp4i2_job WHERE project_id = $1",
            args![project_id],
        )
        .await?;
    let mut jobs = jobs;
    // Deepest and newest first, so sub-jobs go before their parents.
    jobs.sort_by(|a, b| {
        i2_core::job_number::sort_key(&b.1).cmp(&i2_core::job_number::sort_key(&a.1))
    });
    c.execute(
        "UPDATE ccp4i2_project SET follow_from_job_id = NULL WHERE id = $1",
        args![project_id],
    )
    .await?;
    let mut out = Vec::new();
    for (id, _) in jobs {
        if let Some(d) = delete_job_rows(c, id).await? {
            out.push(d);
        }
    }
    for sql in [
        "DELETE FROM ccp4i2_projecttag_projects WHERE project_id = $1",
        "DELETE FROM ccp4i2_projectgroupmembership WHERE project_id = $1",
        "DELETE FROM ccp4i2_projectexport WHERE project_id = $1",
        "DELETE FROM ccp4i2_projectimport WHERE project_id = $1",
        "DELETE FROM ccp4i2_project WHERE id = $1",
    ] {
        c.execute(sql, args![project_id]).await?;
    }
    Ok(out)
}

/// Case-insensitive name check (upstream refuses "Foo" when "foo" exists).
pub async fn project_name_taken(
    c: &mut impl Conn,
    name: &str,
    except: Option<i64>,
) -> Result<bool, StoreError> {
    let rows: Vec<(i64,)> = c
        .fetch_all(
            "SELECT id FROM ccp4i2_project WHERE UPPER(name) = UPPER($1)",
            args![name],
        )
        .await?;
    Ok(rows.iter().any(|(id,)| Some(*id) != except))
}

pub async fn project_directory_taken(c: &mut impl Conn, dir: &str) -> Result<bool, StoreError> {
    Ok(c.fetch_optional::<(i64,)>(
        "SELECT id FROM ccp4i2_project WHERE directory = $1",
        args![dir],
    )
    .await?
    .is_some())
}

pub async fn touch_project(c: &mut impl Conn, project_id: i64) -> Result<(), StoreError> {
    c.execute(
        "UPDATE ccp4i2_project SET last_access = $1 WHERE id = $2",
        args![i2_core::time::now(), project_id],
    )
    .await?;
    Ok(())
}

pub async fn project_id_by_uuid(
    c: &mut impl Conn,
    uuid: uuid::Uuid,
) -> Result<Option<i64>, StoreError> {
    Ok(
        c.fetch_optional::<(i64,)>("SELECT id FROM ccp4i2_project WHERE uuid = $1", args![uuid])
            .await?
            .map(|r| r.0),
    )
}

/// Member counts (type `member`) per group.
pub async fn member_counts(c: &mut impl Conn) -> Result<HashMap<i64, i64>, StoreError> {
    let rows: Vec<(i64, i64)> = c
        .fetch_all(
            "SELECT group_id, COUNT(*) FROM ccp4i2_projectgroupmembership WHERE type = 'member' GROUP BY group_id",
            vec![],
        )
        .await?;
    Ok(rows.into_iter().collect())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Campaign {
    pub project_id: i64,
    pub group_id: i64,
    pub group_name: String,
    pub membership_type: String,
}

/// Group (campaign) memberships of the given projects.
pub async fn campaigns_of(
    c: &mut impl Conn,
    project_ids: &[i64],
) -> Result<Vec<Campaign>, StoreError> {
    if project_ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT m.project_id, g.id AS group_id, g.name AS group_name, m.type AS membership_type \
         FROM ccp4i2_projectgroupmembership m JOIN ccp4i2_projectgroup g ON g.id = m.group_id \
         WHERE m.project_id IN ({}) ORDER BY m.id",
        placeholders(project_ids.len(), 1)
    );
    c.fetch_all(&sql, project_ids.iter().map(|i| Arg::Int(*i)).collect())
        .await
}

/// A queued or running job, for `active_jobs/`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActiveJob {
    pub id: i64,
    pub project: String,
    pub task: String,
    pub uuid: crate::DbUuid,
    pub number: String,
    pub status: i32,
    pub pid: Option<i32>,
}

/// Jobs whose status is Queued, Running or Running remotely.
pub async fn active_jobs(c: &mut impl Conn) -> Result<Vec<ActiveJob>, StoreError> {
    c.fetch_all(
        "SELECT j.id, p.name AS project, j.task_name AS task, j.uuid, j.number, j.status, \
         j.process_id AS pid FROM ccp4i2_job j JOIN ccp4i2_project p ON p.id = j.project_id \
         WHERE j.status IN (2, 3, 7) ORDER BY j.id",
        vec![],
    )
    .await
}

pub async fn job_ids_of_project(
    c: &mut impl Conn,
    project_id: i64,
) -> Result<Vec<i64>, StoreError> {
    let rows: Vec<(i64,)> = c
        .fetch_all(
            "SELECT id FROM ccp4i2_job WHERE project_id = $1 ORDER BY id",
            args![project_id],
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Delete a file row with its uses, import and export records (not the file on disk).
pub async fn delete_file_rows(c: &mut impl Conn, file_id: i64) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM ccp4i2_fileuse WHERE file_id = $1",
        "DELETE FROM ccp4i2_fileimport WHERE file_id = $1",
        "DELETE FROM ccp4i2_fileexport WHERE file_id = $1",
        "DELETE FROM ccp4i2_file WHERE id = $1",
    ] {
        c.execute(sql, args![file_id]).await?;
    }
    Ok(())
}

/// Delete a project group and its memberships.
pub async fn delete_group(c: &mut impl Conn, group_id: i64) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM ccp4i2_projectgroupmembership WHERE group_id = $1",
        args![group_id],
    )
    .await?;
    c.execute(
        "DELETE FROM ccp4i2_projectgroup WHERE id = $1",
        args![group_id],
    )
    .await?;
    Ok(())
}

/// The project list exactly as `GET /projects/` renders it (`id`, `uuid`, `name`,
/// `creation_time`, `last_access`, `tags`), built by the database as one JSON text.
/// Decoding and re-encoding thousands of rows in Rust cost more than the whole query; both
/// engines build the same JSON (DRF's datetime form, hyphenated uuids) much faster.
pub async fn project_list_json(
    c: &mut impl Conn,
    name: Option<&str>,
    uuid: Option<uuid::Uuid>,
    limit: Option<i64>,
    offset: Option<i64>,
) -> Result<String, StoreError> {
    let mut conds = Vec::new();
    let mut args = Vec::new();
    if let Some(n) = name {
        args.push(Arg::Text(n.to_string()));
        conds.push(format!("p.name = ${}", args.len()));
    }
    if let Some(u) = uuid {
        args.push(Arg::Uuid(u));
        conds.push(format!("p.uuid = ${}", args.len()));
    }
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    let mut page = String::new();
    let no_limit = match c.backend() {
        crate::Backend::Sqlite => "-1",
        crate::Backend::Postgres => "ALL",
    };
    if limit.is_some() || offset.is_some() {
        match limit {
            Some(l) => {
                args.push(Arg::Int(l));
                page.push_str(&format!(" LIMIT ${}", args.len()));
            }
            None => page.push_str(&format!(" LIMIT {no_limit}")),
        }
        if let Some(o) = offset {
            args.push(Arg::Int(o));
            page.push_str(&format!(" OFFSET ${}", args.len()));
        }
    }
    let sql = match c.backend() {
        crate::Backend::Sqlite => format!(
            "SELECT COALESCE(json_group_array(json(item)), '[]') FROM ( \
               SELECT json_object('id', p.id, 'uuid', {uuid}, 'name', p.name, \
                 'creation_time', {ct}, 'last_access', {la}, \
                 'tags', (SELECT json_group_array(json_object('id', t.id, 'text', t.text, 'parent', t.parent_id)) \
                          FROM (SELECT t.id, t.text, t.parent_id FROM ccp4i2_projecttag_projects tp \
                                JOIN ccp4i2_projecttag t ON t.id = tp.projecttag_id \
                                WHERE tp.project_id = p.id ORDER BY t.id) t)) AS item \
               FROM ccp4i2_project p {filter} ORDER BY p.last_access DESC, p.id DESC{page})",
            uuid = sqlite_uuid("p.uuid"),
            ct = sqlite_drf_time("p.creation_time"),
            la = sqlite_drf_time("p.last_access"),
        ),
        crate::Backend::Postgres => format!(
            "SELECT COALESCE(json_agg(x.item ORDER BY x.la DESC, x.id DESC), '[]'::json)::text FROM ( \
               SELECT p.id, p.last_access AS la, json_build_object('id', p.id, 'uuid', p.uuid::text, 'name', p.name, \
                 'creation_time', {ct}, 'last_access', {la}, \
                 'tags', COALESCE((SELECT json_agg(json_build_object('id', t.id, 'text', t.text, 'parent', t.parent_id) ORDER BY t.id) \
                          FROM ccp4i2_projecttag_projects tp JOIN ccp4i2_projecttag t ON t.id = tp.projecttag_id \
                          WHERE tp.project_id = p.id), '[]'::json)) AS item \
               FROM ccp4i2_project p {filter} ORDER BY p.last_access DESC, p.id DESC{page}) x",
            ct = pg_drf_time("p.creation_time"),
            la = pg_drf_time("p.last_access"),
        ),
    };
    let (json,): (String,) = c.fetch_one(&sql, args).await?;
    Ok(json)
}

/// SQLite text `YYYY-MM-DD HH:MM:SS[.ffffff]` (naive UTC) → DRF's `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`.
fn sqlite_drf_time(col: &str) -> String {
    format!("(replace(substr({col}, 1, 26), ' ', 'T') || 'Z')")
}

/// 32 hex characters (upstream's SQLite form) → hyphenated; hyphenated text passes through.
fn sqlite_uuid(col: &str) -> String {
    format!(
        "(CASE WHEN length({col}) = 32 THEN lower(substr({col},1,8) || '-' || substr({col},9,4) || '-' || \
         substr({col},13,4) || '-' || substr({col},17,4) || '-' || substr({col},21,12)) ELSE lower({col}) END)"
    )
}

/// `timestamptz` → DRF's form: microseconds only when non-zero.
fn pg_drf_time(col: &str) -> String {
    format!(
        "(to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || \
         CASE WHEN extract(microseconds FROM {col})::bigint % 1000000 = 0 THEN '' \
         ELSE to_char({col} AT TIME ZONE 'UTC', '.US') END || 'Z')"
    )
}

/// The next free job number: top level `max + 1`, or `<parent>.<max child + 1>`.
pub async fn next_job_number(
    c: &mut impl Conn,
    project_id: i64,
    parent: Option<(i64, &str)>,
) -> Result<String, StoreError> {
    let rows: Vec<(String,)> = match parent {
        None => {
            c.fetch_all(
                "SELECT number FROM ccp4i2_job WHERE project_id = $1 AND parent_id IS NULL",
                args![project_id],
            )
            .await?
        }
        Some((pid, _)) => {
            c.fetch_all(
                "SELECT number FROM ccp4i2_job WHERE parent_id = $1",
                args![pid],
            )
            .await?
        }
    };
    let last = rows
        .iter()
        .filter_map(|(n,)| n.rsplit('.').next().and_then(|p| p.parse::<u32>().ok()))
        .max()
        .unwrap_or(0);
    Ok(match parent {
        None => (last + 1).to_string(),
        Some((_, pnum)) => format!("{pnum}.{}", last + 1),
    })
}

/// Keep the project's legacy `last_job_number` in step and mark it accessed.
pub async fn note_new_job(
    c: &mut impl Conn,
    project_id: i64,
    top_number: i64,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE ccp4i2_project SET last_job_number = CASE WHEN last_job_number < $2 THEN $2 ELSE last_job_number END, \
         last_access = $3 WHERE id = $1",
        args![project_id, top_number, i2_core::time::now()],
    )
    .await?;
    Ok(())
}

/// Files of an earlier upload into the same job parameter: `(file id, name)`.
pub async fn imported_files_of_param(
    c: &mut impl Conn,
    job_id: i64,
    job_param_name: &str,
) -> Result<Vec<(i64, String)>, StoreError> {
    c.fetch_all(
        "SELECT id, name FROM ccp4i2_file WHERE job_id = $1 AND job_param_name = $2 AND directory = 2",
        args![job_id, job_param_name],
    )
    .await
}

/// Make sure a file type row exists (upstream creates unseeded MIME types on demand).
pub async fn ensure_file_type(c: &mut impl Conn, name: &str) -> Result<(), StoreError> {
    let exists: Option<(String,)> = c
        .fetch_optional(
            "SELECT name FROM ccp4i2_filetype WHERE name = $1",
            args![name],
        )
        .await?;
    if exists.is_none() {
        c.execute(
            "INSERT INTO ccp4i2_filetype (name, description) VALUES ($1, $2)",
            args![name, format!("MIME type: {name}")],
        )
        .await?;
    }
    Ok(())
}
