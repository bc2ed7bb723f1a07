//! Plain record routes (upstream's model viewsets): list with equality filters, retrieve,
//! create, PUT, PATCH, DELETE, for any table spec. Routes with extra behaviour build on
//! the same helpers.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use i2_store::records::{self, Filter, Page, RecordRow};
use i2_store::tables::Table;
use i2_store::{Arg, Kind};
use serde_json::{Map, Value};

use crate::AppState;
use crate::body::Input;
use crate::drf::{self, Mode};
use crate::error::{ApiError, ApiResult};

/// A table served as a plain record collection.
pub struct Resource {
    pub table: &'static Table,
    /// `ORDER BY` fragment for lists.
    pub order_by: &'static str,
    /// Query parameter → column, for equality filters.
    pub filters: &'static [(&'static str, &'static str)],
}

/// The `?limit=&offset=` extension; absent parameters keep upstream's full list.
pub fn page_of(q: &HashMap<String, String>) -> ApiResult<Page> {
    let num = |k: &str| -> ApiResult<Option<i64>> {
        match q.get(k) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if n >= 0 => Ok(Some(n)),
                _ => Err(ApiError::field(
                    k,
                    "Enter a whole number that is zero or more.",
                )),
            },
        }
    };
    Ok(Page {
        limit: num("limit")?,
        offset: num("offset")?,
    })
}

/// Equality filters from the query string, typed by the column.
pub fn filters_of(
    t: &Table,
    spec: &[(&'static str, &'static str)],
    q: &HashMap<String, String>,
) -> ApiResult<Vec<Filter>> {
    let mut out = Vec::new();
    for (param, column) in spec {
        let Some(raw) = q.get(*param) else { continue };
        let kind = t
            .columns
            .iter()
            .find(|c| c.column == *column)
            .map(|c| c.kind)
            .unwrap_or(Kind::Text);
        let value = match kind {
            Kind::Int => match raw.trim().parse::<i64>() {
                Ok(i) => Arg::Int(i),
                Err(_) if raw.is_empty() => continue,
                Err(_) => return Err(ApiError::field(param, "Enter a whole number.")),
            },
            Kind::Uuid => match uuid::Uuid::parse_str(raw.trim()) {
                Ok(u) => Arg::Uuid(u),
                Err(_) if raw.is_empty() => continue,
                Err(_) => return Err(ApiError::field(param, "Enter a valid UUID.")),
            },
            _ => Arg::Text(raw.clone()),
        };
        out.push(Filter { column, value });
    }
    Ok(out)
}

/// Filters on a foreign key must name an existing row (django-filter's choice check).
pub async fn check_choice_filters(
    c: &mut impl i2_store::Conn,
    t: &Table,
    spec: &[(&'static str, &'static str)],
    filters: &[Filter],
) -> ApiResult<()> {
    for f in filters {
        let Some(col) = t.columns.iter().find(|c| c.column == f.column) else {
            continue;
        };
        let Some(target) = col.fk else { continue };
        if !records::exists(c, target, f.value.clone()).await? {
            let param = spec
                .iter()
                .find(|(_, c2)| *c2 == f.column)
                .map(|(p, _)| *p)
                .unwrap_or(col.field);
            return Err(ApiError::field(
                param,
                "Select a valid choice. That choice is not one of the available choices.",
            ));
        }
    }
    Ok(())
}

/// Parse a path id for a table; an unparsable id is simply not found (as upstream).
pub fn pk_arg(t: &Table, raw: &str) -> ApiResult<Arg> {
    match t.pk().kind {
        // A malformed id never reaches the query: DRF's plain "Not found."
        Kind::Int => raw
            .parse::<i64>()
            .map(Arg::Int)
            .map_err(|_| ApiError::NotFoundPlain),
        // Upstream decodes `%2F` before routing, so a key with a slash matches no route.
        _ if raw.contains('/') => Err(ApiError::HtmlNotFound),
        _ => Ok(Arg::Text(raw.to_string())),
    }
}

pub async fn fetch(state: &AppState, t: &'static Table, raw_pk: &str) -> ApiResult<RecordRow> {
    fetch_in(&mut state.conn(), t, raw_pk).await
}

/// [`fetch`] on a given connection or transaction.
pub async fn fetch_in(
    c: &mut impl i2_store::Conn,
    t: &'static Table,
    raw_pk: &str,
) -> ApiResult<RecordRow> {
    let pk = pk_arg(t, raw_pk)?;
    records::get(c, t, pk)
        .await?
        .ok_or(ApiError::NotFound(t.model))
}

pub fn json_list(t: &Table, rows: &[RecordRow]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| Value::Object(drf::render(t, r)))
            .collect(),
    )
}

async fn list(
    state: AppState,
    r: &'static Resource,
    q: HashMap<String, String>,
) -> ApiResult<Json<Value>> {
    let filters = filters_of(r.table, r.filters, &q)?;
    check_choice_filters(&mut state.conn(), r.table, r.filters, &filters).await?;
    let rows = records::list(
        &mut state.conn(),
        r.table,
        &filters,
        r.order_by,
        page_of(&q)?,
    )
    .await?;
    Ok(Json(json_list(r.table, &rows)))
}

async fn retrieve(
    state: AppState,
    r: &'static Resource,
    pk: String,
) -> ApiResult<Json<Map<String, Value>>> {
    let row = fetch(&state, r.table, &pk).await?;
    Ok(Json(drf::render(r.table, &row)))
}

pub async fn create_row(
    state: &AppState,
    t: &'static Table,
    input: &Input,
) -> ApiResult<RecordRow> {
    let mut c = state.conn();
    let values = drf::validate(&mut c, t, input, &Mode::Create, &[], &[]).await?;
    Ok(records::insert(&mut c, t, values).await?)
}

async fn create(state: AppState, r: &'static Resource, input: Input) -> ApiResult<Response> {
    let row = create_row(&state, r.table, &input).await?;
    Ok((StatusCode::CREATED, Json(drf::render(r.table, &row))).into_response())
}

pub async fn update_row(
    state: &AppState,
    t: &'static Table,
    pk: &str,
    input: &Input,
    partial: bool,
    skip: &[&str],
) -> ApiResult<RecordRow> {
    let existing = fetch(state, t, pk).await?;
    let mode = if partial {
        Mode::Partial(existing.clone())
    } else {
        Mode::Replace(existing.clone())
    };
    let mut c = state.conn();
    let values = drf::validate(&mut c, t, input, &mode, skip, &[]).await?;
    Ok(records::update(&mut c, t, drf::cell_arg(existing.pk()), values).await?)
}

async fn update(
    state: AppState,
    r: &'static Resource,
    pk: String,
    input: Input,
    partial: bool,
) -> ApiResult<Json<Map<String, Value>>> {
    let row = update_row(&state, r.table, &pk, &input, partial, &[]).await?;
    Ok(Json(drf::render(r.table, &row)))
}

async fn destroy(state: AppState, r: &'static Resource, pk: String) -> ApiResult<StatusCode> {
    let row = fetch(&state, r.table, &pk).await?;
    records::delete(&mut state.conn(), r.table, drf::cell_arg(row.pk())).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The collection route (`GET` list, `POST` create).
pub fn collection(r: &'static Resource) -> MethodRouter<AppState> {
    get(move |State(s): State<AppState>, Query(q): Query<HashMap<String, String>>| list(s, r, q))
        .post(move |State(s): State<AppState>, input: Input| create(s, r, input))
}

/// The member route (`GET`, `PUT`, `PATCH`, `DELETE` by primary key).
pub fn member(r: &'static Resource) -> MethodRouter<AppState> {
    get(move |State(s): State<AppState>, Path(pk): Path<String>| retrieve(s, r, pk))
        .put(
            move |State(s): State<AppState>, Path(pk): Path<String>, input: Input| {
                update(s, r, pk, input, false)
            },
        )
        .patch(
            move |State(s): State<AppState>, Path(pk): Path<String>, input: Input| {
                update(s, r, pk, input, true)
            },
        )
        .delete(move |State(s): State<AppState>, Path(pk): Path<String>| destroy(s, r, pk))
}
