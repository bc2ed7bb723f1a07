//! Values that the two backends store differently, behind one Rust type each.
//!
//! Upstream (Django) keeps UUIDs as `char(32)` hex on SQLite and as `uuid` on PostgreSQL,
//! datetimes as naive UTC text on SQLite and `timestamptz` on PostgreSQL, and JSON as text
//! on SQLite and `jsonb` on PostgreSQL. [`DbUuid`], [`DbTime`] and [`DbJson`] decode both
//! forms; [`Arg`] binds a query parameter in whichever form the backend expects.

use chrono::{DateTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteTypeInfo, SqliteValueRef};
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};
use uuid::Uuid;

/// A UUID column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DbUuid(pub Uuid);

/// A datetime column (always UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DbTime(pub DateTime<Utc>);

/// A JSON column.
#[derive(Debug, Clone, PartialEq)]
pub struct DbJson(pub serde_json::Value);

impl Type<Sqlite> for DbUuid {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}
impl<'r> Decode<'r, Sqlite> for DbUuid {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let s = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(DbUuid(Uuid::parse_str(s.trim())?))
    }
}
impl Type<Postgres> for DbUuid {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }
}
impl<'r> Decode<'r, Postgres> for DbUuid {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(DbUuid(<Uuid as Decode<Postgres>>::decode(value)?))
    }
}

impl Type<Sqlite> for DbTime {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}
impl<'r> Decode<'r, Sqlite> for DbTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let s = <&str as Decode<Sqlite>>::decode(value)?;
        i2_core::time::from_sqlite(s)
            .map(DbTime)
            .ok_or_else(|| format!("unrecognised datetime text {s:?}").into())
    }
}
impl Type<Postgres> for DbTime {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}
impl<'r> Decode<'r, Postgres> for DbTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(DbTime(<DateTime<Utc> as Decode<Postgres>>::decode(value)?))
    }
}

impl Type<Sqlite> for DbJson {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}
impl<'r> Decode<'r, Sqlite> for DbJson {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let s = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(DbJson(serde_json::from_str(s)?))
    }
}
impl Type<Postgres> for DbJson {
    fn type_info() -> PgTypeInfo {
        <serde_json::Value as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <serde_json::Value as Type<Postgres>>::compatible(ty)
    }
}
impl<'r> Decode<'r, Postgres> for DbJson {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(DbJson(<serde_json::Value as Decode<Postgres>>::decode(
            value,
        )?))
    }
}

/// The SQL type of a NULL parameter (PostgreSQL needs it to plan the statement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Float,
    Text,
    Bool,
    Uuid,
    Time,
    Json,
}

/// One bound query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    Uuid(Uuid),
    Time(DateTime<Utc>),
    Json(serde_json::Value),
    Null(Kind),
}

impl Arg {
    fn kind(&self) -> Kind {
        match self {
            Arg::Int(_) => Kind::Int,
            Arg::Float(_) => Kind::Float,
            Arg::Text(_) => Kind::Text,
            Arg::Bool(_) => Kind::Bool,
            Arg::Uuid(_) => Kind::Uuid,
            Arg::Time(_) => Kind::Time,
            Arg::Json(_) => Kind::Json,
            Arg::Null(k) => *k,
        }
    }
}

impl Type<Sqlite> for Arg {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}
impl Encode<'_, Sqlite> for Arg {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        match self {
            Arg::Int(v) => <i64 as Encode<Sqlite>>::encode_by_ref(v, buf),
            Arg::Float(v) => <f64 as Encode<Sqlite>>::encode_by_ref(v, buf),
            Arg::Text(v) => <String as Encode<Sqlite>>::encode_by_ref(v, buf),
            Arg::Bool(v) => <bool as Encode<Sqlite>>::encode_by_ref(v, buf),
            Arg::Uuid(v) => <String as Encode<Sqlite>>::encode(v.simple().to_string(), buf),
            Arg::Time(v) => <String as Encode<Sqlite>>::encode(i2_core::time::to_sqlite(v), buf),
            Arg::Json(v) => <String as Encode<Sqlite>>::encode(v.to_string(), buf),
            Arg::Null(_) => Ok(IsNull::Yes),
        }
    }
    fn produces(&self) -> Option<SqliteTypeInfo> {
        Some(match self.kind() {
            Kind::Int => <i64 as Type<Sqlite>>::type_info(),
            Kind::Float => <f64 as Type<Sqlite>>::type_info(),
            Kind::Bool => <bool as Type<Sqlite>>::type_info(),
            Kind::Text | Kind::Uuid | Kind::Time | Kind::Json => {
                <String as Type<Sqlite>>::type_info()
            }
        })
    }
}

impl Type<Postgres> for Arg {
    fn type_info() -> PgTypeInfo {
        <String as Type<Postgres>>::type_info()
    }
}
impl Encode<'_, Postgres> for Arg {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        match self {
            Arg::Int(v) => <i64 as Encode<Postgres>>::encode_by_ref(v, buf),
            Arg::Float(v) => <f64 as Encode<Postgres>>::encode_by_ref(v, buf),
            Arg::Text(v) => <String as Encode<Postgres>>::encode_by_ref(v, buf),
            Arg::Bool(v) => <bool as Encode<Postgres>>::encode_by_ref(v, buf),
            Arg::Uuid(v) => <Uuid as Encode<Postgres>>::encode_by_ref(v, buf),
            Arg::Time(v) => <DateTime<Utc> as Encode<Postgres>>::encode_by_ref(v, buf),
            Arg::Json(v) => <serde_json::Value as Encode<Postgres>>::encode_by_ref(v, buf),
            Arg::Null(_) => Ok(IsNull::Yes),
        }
    }
    fn produces(&self) -> Option<PgTypeInfo> {
        Some(match self.kind() {
            Kind::Int => <i64 as Type<Postgres>>::type_info(),
            Kind::Float => <f64 as Type<Postgres>>::type_info(),
            Kind::Text => <String as Type<Postgres>>::type_info(),
            Kind::Bool => <bool as Type<Postgres>>::type_info(),
            Kind::Uuid => <Uuid as Type<Postgres>>::type_info(),
            Kind::Time => <DateTime<Utc> as Type<Postgres>>::type_info(),
            Kind::Json => <serde_json::Value as Type<Postgres>>::type_info(),
        })
    }
}

/// Conversions so call sites can write `args![id, name, maybe_parent]`.
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<i32> for Arg {
    fn from(v: i32) -> Self {
        Arg::Int(v.into())
    }
}
impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::Float(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Uuid> for Arg {
    fn from(v: Uuid) -> Self {
        Arg::Uuid(v)
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Arg::Time(v)
    }
}
impl From<serde_json::Value> for Arg {
    fn from(v: serde_json::Value) -> Self {
        Arg::Json(v)
    }
}

/// `None` needs to know its SQL type; these cover the optional columns we write.
pub trait NullKind {
    const KIND: Kind;
}
impl NullKind for i64 {
    const KIND: Kind = Kind::Int;
}
impl NullKind for i32 {
    const KIND: Kind = Kind::Int;
}
impl NullKind for f64 {
    const KIND: Kind = Kind::Float;
}
impl NullKind for String {
    const KIND: Kind = Kind::Text;
}
impl NullKind for DateTime<Utc> {
    const KIND: Kind = Kind::Time;
}
impl NullKind for Uuid {
    const KIND: Kind = Kind::Uuid;
}
impl<T: NullKind + Into<Arg>> From<Option<T>> for Arg {
    fn from(v: Option<T>) -> Self {
        match v {
            Some(v) => v.into(),
            None => Arg::Null(T::KIND),
        }
    }
}

/// Build a `Vec<Arg>` from heterogeneous values.
#[macro_export]
macro_rules! args {
    () => { Vec::<$crate::Arg>::new() };
    ($($v:expr),+ $(,)?) => { vec![$($crate::Arg::from($v)),+] };
}
