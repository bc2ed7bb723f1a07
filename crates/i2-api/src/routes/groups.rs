//! `/projectgroups/` (campaigns) and `/projectgroupmemberships/`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use i2_store::records::{self, Filter, Page, RecordRow};
use i2_store::relations;
use i2_store::tables::{PROJECT_GROUP, PROJECT_GROUP_MEMBERSHIP};
use i2_store::{Arg, Conn};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::body::Input;
use crate::crud::{self, page_of};
use crate::drf;
use crate::error::ApiResult;

async fn groups_json(c: &mut impl Conn, rows: &[RecordRow]) -> ApiResult<Vec<Value>> {
    let counts = relations::member_counts(c).await?;
    let ids: Vec<Arg> = rows.iter().map(|r| drf::cell_arg(r.pk())).collect();
    let members = records::list_in(c, &PROJECT_GROUP_MEMBERSHIP, "group_id", ids, "id").await?;
    let mut projects: HashMap<i64, Vec<i64>> = HashMap::new();
    for m in &members {
        if let (Some(g), Some(p)) = (
            m.get(&PROJECT_GROUP_MEMBERSHIP, "group").as_i64(),
            m.get(&PROJECT_GROUP_MEMBERSHIP, "project").as_i64(),
        ) {
            projects.entry(g).or_default().push(p);
        }
    }
    Ok(rows
        .iter()
        .map(|r| {
            let id = r.pk().as_i64().unwrap_or_default();
            let mut m = Map::new();
            m.insert("id".into(), json!(id));
            m.insert(
                "member_count".into(),
                json!(counts.get(&id).copied().unwrap_or(0)),
            );
            for (k, v) in drf::render(&PROJECT_GROUP, r) {
                if k != "id" {
                    m.insert(k, v);
                }
            }
            m.insert(
                "projects".into(),
                json!(projects.get(&id).cloned().unwrap_or_default()),
            );
            Value::Object(m)
        })
        .collect())
}

pub async fn list(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let mut c = s.conn();
    let filters = crud::filters_of(&PROJECT_GROUP, &[("type", "type")], &q)?;
    let rows = records::list(&mut c, &PROJECT_GROUP, &filters, "name, id", page_of(&q)?).await?;
    Ok(Json(Value::Array(groups_json(&mut c, &rows).await?)))
}

pub async fn create(State(s): State<AppState>, input: Input) -> ApiResult<Response> {
    let row = crud::create_row(&s, &PROJECT_GROUP, &input).await?;
    let body = groups_json(&mut s.conn(), std::slice::from_ref(&row))
        .await?
        .pop()
        .unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Detail view: the group plus its memberships.
pub async fn retrieve(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let row = crud::fetch(&s, &PROJECT_GROUP, &id).await?;
    let mut c = s.conn();
    let members = records::list(
        &mut c,
        &PROJECT_GROUP_MEMBERSHIP,
        &[Filter {
            column: "group_id",
            value: drf::cell_arg(row.pk()),
        }],
        "id",
        Page::default(),
    )
    .await?;
    let mut m = Map::new();
    m.insert("id".into(), drf::cell_json(row.pk()));
    m.insert(
        "memberships".into(),
        crud::json_list(&PROJECT_GROUP_MEMBERSHIP, &members),
    );
    for (k, v) in drf::render(&PROJECT_GROUP, &row) {
        if k != "id" {
            m.insert(k, v);
        }
    }
    let projects: Vec<Value> = members
        .iter()
        .map(|r| drf::cell_json(r.get(&PROJECT_GROUP_MEMBERSHIP, "project")))
        .collect();
    m.insert("projects".into(), Value::Array(projects));
    Ok(Json(Value::Object(m)))
}

async fn update(s: AppState, id: String, input: Input, partial: bool) -> ApiResult<Json<Value>> {
    let row = crud::update_row(&s, &PROJECT_GROUP, &id, &input, partial, &[]).await?;
    Ok(Json(
        groups_json(&mut s.conn(), std::slice::from_ref(&row))
            .await?
            .pop()
            .unwrap_or(Value::Null),
    ))
}

pub async fn put(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Json<Value>> {
    update(s, id, input, false).await
}

pub async fn patch(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Json<Value>> {
    update(s, id, input, true).await
}

pub async fn destroy(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let row = crud::fetch(&s, &PROJECT_GROUP, &id).await?;
    let mut tx = s.db.begin().await?;
    let gid = row.pk().as_i64().unwrap_or_default();
    relations::delete_group(&mut tx, gid).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

fn project_ids(v: Option<&Value>) -> Vec<i64> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| {
                x.as_i64()
                    .or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()))
            })
            .collect(),
        Some(Value::String(s)) => s.split(',').filter_map(|p| p.trim().parse().ok()).collect(),
        Some(Value::Number(n)) => n.as_i64().into_iter().collect(),
        _ => vec![],
    }
}

/// `{"<project id>": {campaign_id, campaign_name, member_count, membership_type}}`: every
/// project that parents a campaign, plus (with `include_members`) every member project.
async fn campaigns(s: &AppState, ids: Vec<i64>, include_members: bool) -> ApiResult<Json<Value>> {
    let mut c = s.conn();
    let rows = relations::campaigns_of(&mut c, &ids).await?;
    let counts = relations::member_counts(&mut c).await?;
    let mut out = Map::new();
    for r in rows {
        let key = r.project_id.to_string();
        let parent = r.membership_type == "parent";
        if out.contains_key(&key) || !(parent || include_members) {
            continue;
        }
        let mut m = Map::new();
        m.insert("campaign_id".into(), json!(r.group_id));
        m.insert("campaign_name".into(), json!(r.group_name));
        if parent {
            m.insert(
                "member_count".into(),
                json!(counts.get(&r.group_id).copied().unwrap_or(0)),
            );
        }
        m.insert("membership_type".into(), json!(r.membership_type));
        out.insert(key, Value::Object(m));
    }
    Ok(Json(Value::Object(out)))
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

pub async fn campaigns_get(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let ids = project_ids(
        q.get("project_ids")
            .map(|v| Value::String(v.clone()))
            .as_ref(),
    );
    let inc = truthy(
        q.get("include_members")
            .map(|v| Value::String(v.clone()))
            .as_ref(),
    );
    campaigns(&s, ids, inc).await
}

pub async fn campaigns_post(State(s): State<AppState>, input: Input) -> ApiResult<Json<Value>> {
    campaigns(
        &s,
        project_ids(input.get("project_ids")),
        truthy(input.get("include_members")),
    )
    .await
}
