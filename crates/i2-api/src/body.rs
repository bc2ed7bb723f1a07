//! Request bodies as upstream accepts them on every route: JSON, URL-encoded form, or
//! multipart form (text fields). All become one JSON object so validation is shared.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The parsed body. `Input(None)` when the JSON body was not an object (DRF refuses it
/// in the serializer, with a message naming what it got).
#[derive(Debug, Default)]
pub struct Input {
    pub fields: Map<String, Value>,
    /// When the JSON body was valid but not an object: its DRF type name ("list", "str"...).
    pub not_object: Option<&'static str>,
}

impl Input {
    pub fn get(&self, k: &str) -> Option<&Value> {
        self.fields.get(k)
    }
    /// A string field, also accepting numbers (form bodies carry everything as text).
    pub fn str(&self, k: &str) -> Option<String> {
        match self.fields.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    /// A string field the action cannot do without: absent, it is upstream's 400 envelope
    /// `"<name> is required"`.
    pub fn required_str(&self, k: &str) -> Result<String, ApiError> {
        self.str(k)
            .ok_or_else(|| ApiError::envelope(StatusCode::BAD_REQUEST, format!("{k} is required")))
    }
    /// An integer field given as a number or a numeric string.
    pub fn int(&self, k: &str) -> Option<i64> {
        match self.fields.get(k)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    /// The DRF refusal for a body that is not an object, if that is the case.
    pub fn require_object(&self) -> Result<(), ApiError> {
        match self.not_object {
            None => Ok(()),
            Some(t) => Err(ApiError::field(
                "non_field_errors",
                format!("Invalid data. Expected a dictionary, but got {t}."),
            )),
        }
    }
}

fn python_type_name(v: &Value) -> &'static str {
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

fn insert_repeated(m: &mut Map<String, Value>, k: String, v: String) {
    match m.get_mut(&k) {
        Some(Value::Array(a)) => a.push(Value::String(v)),
        Some(prev) => {
            let first = prev.take();
            *prev = Value::Array(vec![first, Value::String(v)]);
        }
        None => {
            m.insert(k, Value::String(v));
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for Input {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim().to_string();
        if mime == "multipart/form-data" {
            let mut mp = Multipart::from_request(req, state)
                .await
                .map_err(|e| ApiError::bad_request(format!("Multipart form parse error - {e}")))?;
            let mut fields = Map::new();
            while let Some(field) = mp
                .next_field()
                .await
                .map_err(|e| ApiError::bad_request(format!("Multipart form parse error - {e}")))?
            {
                let Some(name) = field.name().map(str::to_string) else {
                    continue;
                };
                if field.file_name().is_some() {
                    // File parts belong to the upload routes; here they are skipped.
                    continue;
                }
                let text = field.text().await.map_err(|e| {
                    ApiError::bad_request(format!("Multipart form parse error - {e}"))
                })?;
                insert_repeated(&mut fields, name, text);
            }
            return Ok(Input {
                fields,
                not_object: None,
            });
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::Detail(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Request body is too large.".into(),
                )
            } else {
                ApiError::bad_request(format!("Could not read the request body: {e}"))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Input::default());
        }
        match mime.as_str() {
            "application/json" | "" => {
                let v: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| ApiError::bad_request(format!("JSON parse error - {e}")))?;
                Ok(match v {
                    Value::Object(fields) => Input {
                        fields,
                        not_object: None,
                    },
                    other => Input {
                        fields: Map::new(),
                        not_object: Some(python_type_name(&other)),
                    },
                })
            }
            "application/x-www-form-urlencoded" => {
                let mut fields = Map::new();
                for (k, v) in form_urlencoded_pairs(&bytes) {
                    insert_repeated(&mut fields, k, v);
                }
                Ok(Input {
                    fields,
                    not_object: None,
                })
            }
            other => Err(ApiError::Detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported media type \"{other}\" in request."),
            )),
        }
    }
}

/// `a=1&b=x+y` → pairs, percent- and plus-decoded.
pub fn form_urlencoded_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &[u8]| -> String {
        let plus: Vec<u8> = s
            .iter()
            .map(|b| if *b == b'+' { b' ' } else { *b })
            .collect();
        percent_encoding::percent_decode(&plus)
            .decode_utf8_lossy()
            .into_owned()
    };
    bytes
        .split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|b| *b == b'=') {
            Some(i) => (decode(&p[..i]), decode(&p[i + 1..])),
            None => (decode(p), String::new()),
        })
        .collect()
}
