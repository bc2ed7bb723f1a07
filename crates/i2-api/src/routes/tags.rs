//! `/projecttags/`: tags with their project sets.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use i2_store::records::{self, Filter, Page, RecordRow};
use i2_store::relations;
use i2_store::tables::PROJECT_TAG;
use i2_store::{Arg, Conn, Kind};
use serde_json::{Value, json};

use crate::AppState;
use crate::body::Input;
use crate::crud;
use crate::drf::{self, Mode};
use crate::error::{ApiError, ApiResult};

async fn tags_json(c: &mut impl Conn, rows: &[RecordRow]) -> ApiResult<Vec<Value>> {
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.pk().as_i64()).collect();
    let members = relations::projects_of_tags(c, &ids).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let id = r.pk().as_i64().unwrap_or_default();
            json!({
                "id": id,
                "text": drf::cell_json(r.get(&PROJECT_TAG, "text")),
                "parent": drf::cell_json(r.get(&PROJECT_TAG, "parent")),
                "projects": members.get(&id).cloned().unwrap_or_default(),
            })
        })
        .collect())
}

pub async fn list(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let mut c = s.conn();
    let rows = records::list(&mut c, &PROJECT_TAG, &[], "id", Page::default()).await?;
    Ok(Json(Value::Array(tags_json(&mut c, &rows).await?)))
}

/// The `projects` field: a list of existing project ids.
async fn projects_field(c: &mut impl Conn, input: &Input) -> ApiResult<Option<Vec<i64>>> {
    let Some(v) = input.get("projects") else {
        return Ok(None);
    };
    let items = match v {
        Value::Array(a) => a.clone(),
        Value::String(s) if s.is_empty() => vec![],
        other => vec![other.clone()],
    };
    let mut ids = Vec::new();
    for it in items {
        let id = match &it {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        let Some(id) = id else {
            return Err(ApiError::field(
                "projects",
                "Incorrect type. Expected pk value, received str.",
            ));
        };
        if !records::exists(c, "ccp4i2_project", Arg::Int(id)).await? {
            return Err(ApiError::field(
                "projects",
                format!("Invalid pk \"{id}\" - object does not exist."),
            ));
        }
        ids.push(id);
    }
    Ok(Some(ids))
}

/// Upstream's own rule: (text, parent) unique, parent NULL included.
async fn check_unique(
    c: &mut impl Conn,
    values: &[(&'static str, Arg)],
    existing: Option<&RecordRow>,
) -> ApiResult<()> {
    let pick = |col: &str, field: &str| -> Arg {
        values
            .iter()
            .find(|(c2, _)| *c2 == col)
            .map(|(_, a)| a.clone())
            .or_else(|| existing.map(|e| drf::cell_arg(e.get(&PROJECT_TAG, field))))
            .unwrap_or(Arg::Null(Kind::Int))
    };
    let filters = [
        Filter {
            column: "text",
            value: pick("text", "text"),
        },
        Filter {
            column: "parent_id",
            value: match pick("parent_id", "parent") {
                Arg::Null(_) => Arg::Null(Kind::Int),
                a => a,
            },
        },
    ];
    let except = existing.map(|e| drf::cell_arg(e.pk()));
    if records::count_matching(c, &PROJECT_TAG, &filters, except).await? > 0 {
        return Err(ApiError::field(
            "text",
            "A tag with this text and parent already exists.",
        ));
    }
    Ok(())
}

pub async fn create(State(s): State<AppState>, input: Input) -> ApiResult<Response> {
    let mut c = s.conn();
    let values = drf::validate(&mut c, &PROJECT_TAG, &input, &Mode::Create, &[], &[]).await?;
    let projects = projects_field(&mut c, &input).await?;
    check_unique(&mut c, &values, None).await?;
    let row = records::insert(&mut c, &PROJECT_TAG, values).await?;
    if let Some(p) = projects {
        relations::set_tag_projects(&mut c, row.pk().as_i64().unwrap_or_default(), &p).await?;
    }
    let body = tags_json(&mut c, std::slice::from_ref(&row))
        .await?
        .pop()
        .unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn retrieve(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let row = crud::fetch(&s, &PROJECT_TAG, &id).await?;
    Ok(Json(
        tags_json(&mut s.conn(), std::slice::from_ref(&row))
            .await?
            .pop()
            .unwrap_or(Value::Null),
    ))
}

async fn update(s: AppState, id: String, input: Input, partial: bool) -> ApiResult<Json<Value>> {
    let existing = crud::fetch(&s, &PROJECT_TAG, &id).await?;
    let mut c = s.conn();
    let mode = if partial {
        Mode::Partial(existing.clone())
    } else {
        Mode::Replace(existing.clone())
    };
    let values = drf::validate(&mut c, &PROJECT_TAG, &input, &mode, &[], &[]).await?;
    let projects = projects_field(&mut c, &input).await?;
    check_unique(&mut c, &values, Some(&existing)).await?;
    let row = records::update(&mut c, &PROJECT_TAG, drf::cell_arg(existing.pk()), values).await?;
    if let Some(p) = projects {
        relations::set_tag_projects(&mut c, row.pk().as_i64().unwrap_or_default(), &p).await?;
    }
    Ok(Json(
        tags_json(&mut c, std::slice::from_ref(&row))
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
    let row = crud::fetch(&s, &PROJECT_TAG, &id).await?;
    let mut tx = s.db.begin().await?;
    relations::delete_tag(&mut tx, row.pk().as_i64().unwrap_or_default()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
