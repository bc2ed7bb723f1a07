//! Generic reads and writes of one table by its [`Table`] spec: what upstream's plain
//! model viewsets do. Column names come from the static specs only; every value is bound.

use crate::cells::Cell;
use crate::db::Conn;
use crate::error::StoreError;
use crate::tables::{Table, pk_of};
use crate::types::Arg;

/// One row, cells in the table spec's column order.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRow(pub Vec<Cell>);

impl RecordRow {
    pub fn get(&self, table: &Table, field: &str) -> &Cell {
        table
            .columns
            .iter()
            .position(|c| c.field == field)
            .and_then(|i| self.0.get(i))
            .unwrap_or(&Cell::Null)
    }
    pub fn pk(&self) -> &Cell {
        self.0.first().unwrap_or(&Cell::Null)
    }
}

/// A filter `column = value` (or `column IS NULL` when the value is `Arg::Null`).
#[derive(Debug, Clone)]
pub struct Filter {
    pub column: &'static str,
    pub value: Arg,
}

/// Paging for list routes; `None` keeps upstream's unbounded list.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

fn where_clause(filters: &[Filter], args: &mut Vec<Arg>) -> String {
    let mut parts = Vec::new();
    for f in filters {
        if let Arg::Null(_) = f.value {
            parts.push(format!("\"{}\" IS NULL", f.column));
        } else {
            args.push(f.value.clone());
            parts.push(format!("\"{}\" = ${}", f.column, args.len()));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", parts.join(" AND "))
    }
}

fn page_clause(page: Page, args: &mut Vec<Arg>) -> String {
    let mut s = String::new();
    if let Some(l) = page.limit {
        args.push(Arg::Int(l));
        s.push_str(&format!(" LIMIT ${}", args.len()));
    }
    if let Some(o) = page.offset {
        if page.limit.is_none() {
            // Both engines need a LIMIT before OFFSET; -1 / ALL mean "no limit".
            s.push_str(" LIMIT -1");
        }
        args.push(Arg::Int(o));
        s.push_str(&format!(" OFFSET ${}", args.len()));
    }
    s
}

/// Rows matching all `filters`, ordered by `order_by` (a static SQL fragment).
pub async fn list(
    c: &mut impl Conn,
    t: &Table,
    filters: &[Filter],
    order_by: &str,
    page: Page,
) -> Result<Vec<RecordRow>, StoreError> {
    list_where(c, t, filters, &[], order_by, page).await
}

/// A static condition with `{}` where its arguments go, e.g.
/// `job_id IN (SELECT id FROM ccp4i2_job WHERE project_id = {})`.
pub struct Condition {
    pub sql: &'static str,
    pub args: Vec<Arg>,
}

/// [`list`] with extra static conditions.
pub async fn list_where(
    c: &mut impl Conn,
    t: &Table,
    filters: &[Filter],
    conditions: &[Condition],
    order_by: &str,
    page: Page,
) -> Result<Vec<RecordRow>, StoreError> {
    let mut args = Vec::new();
    let mut w = where_clause(filters, &mut args);
    for cond in conditions {
        let mut frag = String::new();
        let mut rest = cond.sql;
        let mut it = cond.args.iter();
        while let Some(i) = rest.find("{}") {
            frag.push_str(&rest[..i]);
            if let Some(a) = it.next() {
                args.push(a.clone());
                frag.push_str(&format!("${}", args.len()));
            }
            rest = &rest[i + 2..];
        }
        frag.push_str(rest);
        w = if w.is_empty() {
            format!(" WHERE {frag}")
        } else {
            format!("{w} AND {frag}")
        };
    }
    let p = page_clause(page, &mut args);
    let order = if order_by.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {order_by}")
    };
    let sql = format!(
        "SELECT {} FROM {}{w}{order}{}",
        t.select_list(""),
        t.name,
        p.replace("LIMIT -1", limit_all(c))
    );
    let rows = c.fetch_cells(&sql, args, &t.kinds()).await?;
    Ok(rows.into_iter().map(RecordRow).collect())
}

fn limit_all(c: &impl Conn) -> &'static str {
    match c.backend() {
        crate::Backend::Sqlite => "LIMIT -1",
        crate::Backend::Postgres => "LIMIT ALL",
    }
}

/// Rows whose `column` is one of `values` (an empty list gives no rows).
pub async fn list_in(
    c: &mut impl Conn,
    t: &Table,
    column: &'static str,
    values: Vec<Arg>,
    order_by: &str,
) -> Result<Vec<RecordRow>, StoreError> {
    if values.is_empty() {
        return Ok(vec![]);
    }
    let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {} FROM {} WHERE \"{column}\" IN ({}) ORDER BY {order_by}",
        t.select_list(""),
        t.name,
        placeholders.join(", ")
    );
    let rows = c.fetch_cells(&sql, values, &t.kinds()).await?;
    Ok(rows.into_iter().map(RecordRow).collect())
}

pub async fn get(c: &mut impl Conn, t: &Table, pk: Arg) -> Result<Option<RecordRow>, StoreError> {
    let sql = format!(
        "SELECT {} FROM {} WHERE \"{}\" = $1",
        t.select_list(""),
        t.name,
        t.pk().column
    );
    let mut rows = c.fetch_cells(&sql, vec![pk], &t.kinds()).await?;
    Ok(rows.pop().map(RecordRow))
}

/// Whether a row with this primary key exists in `table` (a table name from the specs).
pub async fn exists(c: &mut impl Conn, table: &'static str, pk: Arg) -> Result<bool, StoreError> {
    let sql = format!("SELECT 1 FROM {table} WHERE \"{}\" = $1", pk_of(table));
    Ok(!c
        .fetch_cells(&sql, vec![pk], &[crate::Kind::Int])
        .await?
        .is_empty())
}

/// Count rows matching `filters`, ignoring the row whose primary key is `except`.
pub async fn count_matching(
    c: &mut impl Conn,
    t: &Table,
    filters: &[Filter],
    except: Option<Arg>,
) -> Result<i64, StoreError> {
    let mut args = Vec::new();
    let mut w = where_clause(filters, &mut args);
    if let Some(pk) = except {
        args.push(pk);
        let cond = format!("\"{}\" <> ${}", t.pk().column, args.len());
        w = if w.is_empty() {
            format!(" WHERE {cond}")
        } else {
            format!("{w} AND {cond}")
        };
    }
    let sql = format!("SELECT COUNT(*) FROM {}{w}", t.name);
    let rows = c.fetch_cells(&sql, args, &[crate::Kind::Int]).await?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(Cell::as_i64)
        .unwrap_or(0))
}

/// Insert `values` (column, value) and return the stored row.
pub async fn insert(
    c: &mut impl Conn,
    t: &Table,
    values: Vec<(&'static str, Arg)>,
) -> Result<RecordRow, StoreError> {
    let cols: Vec<String> = values.iter().map(|(c, _)| format!("\"{c}\"")).collect();
    let ph: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
    let args: Vec<Arg> = values.into_iter().map(|(_, v)| v).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) RETURNING {}",
        t.name,
        cols.join(", "),
        ph.join(", "),
        t.select_list("")
    );
    let mut rows = c.fetch_cells(&sql, args, &t.kinds()).await?;
    rows.pop().map(RecordRow).ok_or(StoreError::NotFound)
}

/// Update the given columns of one row and return it; `NotFound` if it is gone.
pub async fn update(
    c: &mut impl Conn,
    t: &Table,
    pk: Arg,
    values: Vec<(&'static str, Arg)>,
) -> Result<RecordRow, StoreError> {
    if values.is_empty() {
        return get(c, t, pk).await?.ok_or(StoreError::NotFound);
    }
    let sets: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, (c, _))| format!("\"{c}\" = ${}", i + 1))
        .collect();
    let mut args: Vec<Arg> = values.into_iter().map(|(_, v)| v).collect();
    args.push(pk);
    let sql = format!(
        "UPDATE {} SET {} WHERE \"{}\" = ${} RETURNING {}",
        t.name,
        sets.join(", "),
        t.pk().column,
        args.len(),
        t.select_list("")
    );
    let mut rows = c.fetch_cells(&sql, args, &t.kinds()).await?;
    rows.pop().map(RecordRow).ok_or(StoreError::NotFound)
}

/// Delete one row by primary key; returns whether it existed.
pub async fn delete(c: &mut impl Conn, t: &Table, pk: Arg) -> Result<bool, StoreError> {
    let sql = format!("DELETE FROM {} WHERE \"{}\" = $1", t.name, t.pk().column);
    Ok(c.execute(&sql, vec![pk]).await? > 0)
}
