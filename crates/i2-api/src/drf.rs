//! Upstream's record JSON and validation rules (Django REST Framework model serializers),
//! reproduced for the tables in `i2_store::tables`: the same field names, value forms,
//! defaults and error messages, so clients see no difference.

use i2_store::cells::Cell;
use i2_store::records::{self, Filter, RecordRow};
use i2_store::tables::{Column, Default, Table};
use i2_store::{Arg, Conn, Kind};
use serde_json::{Map, Value, json};

use crate::body::Input;
use crate::error::{ApiError, ApiResult};

/// JSON of one cell as DRF renders it.
pub fn cell_json(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Int(v) => json!(v),
        Cell::Float(v) => json!(v),
        Cell::Text(v) => json!(v),
        Cell::Bool(v) => json!(v),
        Cell::Uuid(v) => json!(v.hyphenated().to_string()),
        Cell::Time(t) => json!(i2_core::time::to_json(t)),
        Cell::Json(v) => v.clone(),
    }
}

/// All fields of a row, in spec order.
pub fn render(t: &Table, row: &RecordRow) -> Map<String, Value> {
    t.columns
        .iter()
        .zip(row.0.iter())
        .map(|(c, v)| (c.field.to_string(), cell_json(v)))
        .collect()
}

/// Which kind of write is being validated.
#[derive(Debug, Clone)]
pub enum Mode {
    Create,
    /// PUT: required fields must be present again.
    Replace(RecordRow),
    /// PATCH: only what is given.
    Partial(RecordRow),
}

impl Mode {
    fn instance(&self) -> Option<&RecordRow> {
        match self {
            Mode::Create => None,
            Mode::Replace(r) | Mode::Partial(r) => Some(r),
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's `str()` of a JSON value, for messages that quote the input.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

fn parse_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0 && f.is_finite())
                    .map(|f| f as i64)
            })
        }
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// Parse one supplied value for a column. `Err` is the DRF message.
async fn parse_value(c: &mut impl Conn, col: &Column, v: &Value) -> Result<Arg, String> {
    if v.is_null() || (v.as_str() == Some("") && col.nullable && col.kind != Kind::Text) {
        return if col.nullable {
            Ok(Arg::Null(col.kind))
        } else {
            Err("This field may not be null.".into())
        };
    }
    if let Some(table) = col.fk {
        let pk = match (col.kind, v) {
            (Kind::Int, _) => match parse_int(v) {
                Some(i) if !matches!(v, Value::Bool(_)) => Arg::Int(i),
                _ => {
                    return Err(format!(
                        "Incorrect type. Expected pk value, received {}.",
                        type_name(v)
                    ));
                }
            },
            (_, Value::String(s)) => Arg::Text(s.clone()),
            (_, Value::Number(n)) => Arg::Text(n.to_string()),
            _ => {
                return Err(format!(
                    "Incorrect type. Expected pk value, received {}.",
                    type_name(v)
                ));
            }
        };
        return match records::exists(c, table, pk.clone()).await {
            Ok(true) => Ok(pk),
            Ok(false) => Err(format!(
                "Invalid pk \"{}\" - object does not exist.",
                py_str(v)
            )),
            Err(e) => Err(format!("could not check the reference: {e}")),
        };
    }
    if !col.int_choices.is_empty() {
        return match parse_int(v).filter(|i| col.int_choices.contains(i)) {
            Some(i) if v.is_number() || v.is_string() => Ok(Arg::Int(i)),
            _ => Err(format!("\"{}\" is not a valid choice.", py_str(v))),
        };
    }
    if !col.text_choices.is_empty() {
        let s = py_str(v);
        return if col.text_choices.contains(&s.as_str()) {
            Ok(Arg::Text(s))
        } else {
            Err(format!("\"{s}\" is not a valid choice."))
        };
    }
    match col.kind {
        Kind::Int => match (v, parse_int(v)) {
            (Value::Bool(_), _) | (_, None) => Err("A valid integer is required.".into()),
            (_, Some(i)) if i.unsigned_abs() > i32::MAX as u64 && col.column != "id" => {
                Err(format!("Ensure this value is less than or equal to {}.", i32::MAX))
            }
            (_, Some(i)) => Ok(Arg::Int(i)),
        },
        Kind::Float => {
            let f = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            f.filter(|f| f.is_finite())
                .map(Arg::Float)
                .ok_or_else(|| "A valid number is required.".into())
        }
        Kind::Text => {
            let s = match v {
                Value::String(s) => s.trim().to_string(),
                Value::Number(n) => n.to_string(),
                _ => return Err("Not a valid string.".into()),
            };
            if s.is_empty() && !col.blank {
                return Err("This field may not be blank.".into());
            }
            if let Some(n) = col.max_len
                && s.chars().count() > n
            {
                return Err(format!("Ensure this field has no more than {n} characters."));
            }
            Ok(Arg::Text(s))
        }
        Kind::Bool => match v {
            Value::Bool(b) => Ok(Arg::Bool(*b)),
            Value::String(s) if ["true", "1", "True"].contains(&s.as_str()) => Ok(Arg::Bool(true)),
            Value::String(s) if ["false", "0", "False"].contains(&s.as_str()) => {
                Ok(Arg::Bool(false))
            }
            _ => Err("Must be a valid boolean.".into()),
        },
        Kind::Uuid => v
            .as_str()
            .and_then(|s| uuid::Uuid::parse_str(s.trim()).ok())
            .map(Arg::Uuid)
            .ok_or_else(|| "Must be a valid UUID.".into()),
        Kind::Time => v
            .as_str()
            .and_then(i2_core::time::from_sqlite)
            .map(Arg::Time)
            .ok_or_else(|| {
                "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].".into()
            }),
        Kind::Json => Ok(Arg::Json(v.clone())),
    }
}

fn default_arg(col: &Column, runtime: &[(&str, Arg)]) -> Option<Arg> {
    match col.default {
        Default::Required => None,
        Default::Null => Some(Arg::Null(col.kind)),
        Default::Int(i) => Some(Arg::Int(i)),
        Default::Text(s) => Some(Arg::Text(s.to_string())),
        Default::Now => Some(Arg::Time(i2_core::time::now())),
        Default::NewUuid => Some(Arg::Uuid(uuid::Uuid::new_v4())),
        Default::EmptyJsonList => Some(Arg::Json(json!([]))),
        Default::Runtime => runtime
            .iter()
            .find(|(f, _)| *f == col.field)
            .map(|(_, a)| a.clone()),
    }
}

fn add_error(errors: &mut Map<String, Value>, field: &str, msg: String) {
    match errors.get_mut(field) {
        Some(Value::Array(a)) => a.push(json!(msg)),
        _ => {
            errors.insert(field.to_string(), json!([msg]));
        }
    }
}

/// Validate a write against the table's rules. Returns the columns to store, or the DRF
/// field-error body. `skip` lists fields the route handles itself (read-only extras);
/// `runtime` supplies values for [`Default::Runtime`] columns.
pub async fn validate(
    c: &mut impl Conn,
    t: &Table,
    input: &Input,
    mode: &Mode,
    skip: &[&str],
    runtime: &[(&str, Arg)],
) -> ApiResult<Vec<(&'static str, Arg)>> {
    input.require_object()?;
    let mut errors = Map::new();
    let mut out: Vec<(&'static str, Arg)> = Vec::new();
    for col in t
        .columns
        .iter()
        .filter(|c| !c.auto && !skip.contains(&c.field))
    {
        match input.get(col.field) {
            Some(v) => match parse_value(c, col, v).await {
                Ok(a) => out.push((col.column, a)),
                Err(m) => add_error(&mut errors, col.field, m),
            },
            None => match mode {
                Mode::Partial(_) => {}
                Mode::Replace(_) if col.default != Default::Required => {}
                Mode::Create if col.default != Default::Required => {
                    if let Some(a) = default_arg(col, runtime) {
                        out.push((col.column, a));
                    }
                }
                _ => add_error(&mut errors, col.field, "This field is required.".into()),
            },
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    check_unique(c, t, &out, mode).await?;
    Ok(out)
}

/// DRF's unique and unique-together validators, run before the write.
async fn check_unique(
    c: &mut impl Conn,
    t: &Table,
    values: &[(&'static str, Arg)],
    mode: &Mode,
) -> ApiResult<()> {
    let except = mode.instance().map(|r| cell_arg(r.pk()));
    let mut errors = Map::new();
    for col in t.columns.iter().filter(|c| c.unique && !c.auto) {
        if let Some((_, v)) = values.iter().find(|(c2, _)| *c2 == col.column) {
            let n = records::count_matching(
                c,
                t,
                &[Filter {
                    column: col.column,
                    value: v.clone(),
                }],
                except.clone(),
            )
            .await?;
            if n > 0 {
                add_error(
                    &mut errors,
                    col.field,
                    format!(
                        "{} with this {} already exists.",
                        t.verbose,
                        col.field.replace('_', " ")
                    ),
                );
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    for set in t.unique_together {
        let mut filters = Vec::new();
        let mut touched = false;
        for field in set.iter() {
            let Some(col) = t.column(field) else { continue };
            let given = values.iter().find(|(c2, _)| *c2 == col.column);
            touched |= given.is_some();
            let v = match (given, mode.instance()) {
                (Some((_, v)), _) => v.clone(),
                (None, Some(inst)) => cell_arg(inst.get(t, field)),
                (None, None) => Arg::Null(col.kind),
            };
            filters.push(Filter {
                column: col.column,
                value: v,
            });
        }
        if touched && records::count_matching(c, t, &filters, except.clone()).await? > 0 {
            return Err(ApiError::field(
                "non_field_errors",
                format!("The fields {} must make a unique set.", set.join(", ")),
            ));
        }
    }
    Ok(())
}

/// A stored cell as a parameter again (for comparisons against other rows).
pub fn cell_arg(c: &Cell) -> Arg {
    match c {
        Cell::Null => Arg::Null(Kind::Text),
        Cell::Int(v) => Arg::Int(*v),
        Cell::Float(v) => Arg::Float(*v),
        Cell::Text(v) => Arg::Text(v.clone()),
        Cell::Bool(v) => Arg::Bool(*v),
        Cell::Uuid(v) => Arg::Uuid(*v),
        Cell::Time(v) => Arg::Time(*v),
        Cell::Json(v) => Arg::Json(v.clone()),
    }
}
