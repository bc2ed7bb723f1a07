//! `GET /events/?project=<id>` or `?job=<id>`: live job statuses and log lines as
//! server-sent events (`event: job`, `event: log`), see README "Live events".
//!
//! - [`subscription`]: the per-client poll loop (one query per tick, log sizes).
//! - [`tail`]: following one log file line by line.

pub mod subscription;
pub mod tail;

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use i2_store::Arg;
use i2_store::queue::Scope;
use i2_store::tables::{JOB, PROJECT};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::crud;
use crate::error::{ApiError, ApiResult};
use subscription::Subscription;

/// Limits and pace of live-event subscriptions (shared by all requests of a server).
#[derive(Clone)]
pub struct EventSettings {
    /// How often each subscription polls the database and the log sizes.
    pub tick: Duration,
    /// How often an idle stream sends a comment so proxies keep it open.
    pub keep_alive: Duration,
    /// One permit per open stream; none left answers 503.
    pub slots: Arc<Semaphore>,
    /// Cancelled when the server shuts down: open streams end, so a graceful shutdown
    /// (which waits for every response to finish) is not held up by them.
    pub closing: CancellationToken,
}

impl EventSettings {
    pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 256;

    pub fn new(tick: Duration, max_subscriptions: usize) -> Self {
        EventSettings {
            tick,
            keep_alive: Duration::from_secs(15),
            slots: Arc::new(Semaphore::new(max_subscriptions)),
            closing: CancellationToken::new(),
        }
    }
}

impl Default for EventSettings {
    fn default() -> Self {
        EventSettings::new(Duration::from_millis(250), Self::DEFAULT_MAX_SUBSCRIPTIONS)
    }
}

fn flag(v: Option<&String>) -> bool {
    v.is_some_and(|v| matches!(v.trim(), "1" | "true" | "True" | "yes"))
}

/// What to watch, and the project directory the job directories are under.
async fn resolve(s: &AppState, q: &HashMap<String, String>) -> ApiResult<(Scope, PathBuf)> {
    let project_q = q.get("project").filter(|v| !v.is_empty());
    let (scope, project_id) = match (q.get("job").filter(|v| !v.is_empty()), project_q) {
        (Some(job), _) => {
            let row = crud::fetch(s, &JOB, job.trim()).await?;
            let id = row.pk().as_i64().unwrap_or_default();
            let project = row.get(&JOB, "project").as_i64().unwrap_or_default();
            // A job outside the named project is not found, as a filtered list would say.
            if project_q.is_some_and(|p| p.trim().parse::<i64>().ok() != Some(project)) {
                return Err(ApiError::NotFound(JOB.model));
            }
            (Scope::Job(id), project.to_string())
        }
        (None, Some(p)) => {
            let Arg::Int(id) = crud::pk_arg(&PROJECT, p.trim())? else {
                return Err(ApiError::NotFoundPlain);
            };
            (Scope::Project(id), id.to_string())
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "Say what to watch: ?project=<id> or ?job=<id>",
            ));
        }
    };
    let project = crud::fetch(s, &PROJECT, &project_id).await?;
    let dir = project
        .get(&PROJECT, "directory")
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok((scope, PathBuf::from(dir)))
}

pub async fn events(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let (scope, project_dir) = resolve(&s, &q).await?;
    let Ok(slot) = s.events.slots.clone().try_acquire_owned() else {
        return Err(ApiError::Detail(
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many live event streams are open; try again later.".into(),
        ));
    };
    let sub = Subscription::new(
        s.conn(),
        scope,
        project_dir,
        flag(q.get("from_start")),
        s.events.tick,
        slot,
    );
    let mut resp = Sse::new(stream(sub, s.events.closing.clone()))
        .keep_alive(KeepAlive::new().interval(s.events.keep_alive))
        .into_response();
    // Reverse proxies (nginx) must not hold events back in a buffer.
    resp.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
}

/// The events of a subscription, produced only as fast as the client reads them; dropping
/// the stream (the client went away) ends the polling and frees the slot.
fn stream(
    sub: Subscription,
    closing: CancellationToken,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(sub, move |mut sub| {
        let closing = closing.clone();
        async move {
            loop {
                if let Some(ev) = sub.pending.pop_front() {
                    return Some((Ok(ev), sub));
                }
                if sub.ended {
                    return None;
                }
                tokio::select! {
                    _ = sub.tick.tick() => {}
                    _ = closing.cancelled() => return None,
                }
                sub.poll().await;
            }
        }
    })
}
