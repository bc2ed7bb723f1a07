//! Start-up: open the database, check or create the schema, build the router, serve.

use std::future::Future;

use anyhow::{Context, bail};
use i2_api::{AppState, router};
use i2_store::migrate::{self, SchemaState};
use i2_store::{Db, DbTarget};
use tokio::net::TcpListener;

use crate::config::Settings;

/// Connect, and make sure the schema is one this binary can serve. An empty database is
/// created (the embedded default must work with nothing set up); any other mismatch is
/// refused with what to run.
pub async fn open_database(target: &DbTarget, create_if_empty: bool) -> anyhow::Result<Db> {
    let db = Db::connect(target, 10)
        .await
        .with_context(|| format!("cannot open the database {target:?}"))?;
    let state = migrate::state(&db)
        .await
        .context("cannot inspect the database schema")?;
    match state {
        SchemaState::Current { .. } => {}
        SchemaState::Empty if create_if_empty => {
            let r = migrate::migrate(&db).await.context("creating the schema")?;
            tracing::info!(version = r.version, "created the database schema");
        }
        other => bail!("{}", other.explain()),
    }
    Ok(db)
}

/// Serve on `listener` until `shutdown` resolves.
pub async fn serve(
    settings: Settings,
    db: Db,
    listener: TcpListener,
    dispatch: std::sync::Arc<i2_jobs::Dispatch>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let hosts = settings.allowed_hosts.clone();
    let mut state = AppState::new(db, settings.api.clone()).with_dispatch(dispatch);
    if let Some(rb) = crate::workers::report_builder(&settings) {
        state = state.with_reports(rb);
    }
    let closing = state.events.closing.clone();
    let shutdown = async move {
        shutdown.await;
        // Live event streams never finish by themselves; end them so shutdown can.
        closing.cancel();
    };
    // The catalogue loads in the background: health and projects answer at once.
    let slot = state.tasks.clone();
    let cache = settings.home.join("cache");
    tokio::task::spawn_blocking(move || {
        let python = crate::catalogue::installation_python();
        let tasks = crate::catalogue::load(None, &cache, Some(&python));
        match &tasks {
            Ok(c) => {
                tracing::info!(tasks = c.tasks().len(), root = %c.root().display(), "task catalogue loaded")
            }
            Err(e) => {
                tracing::warn!(reason = %e, "task catalogue unavailable: task routes answer 503")
            }
        }
        let _ = slot.set(tasks);
    });
    let mut app = router(state);
    if let Some(hosts) = hosts {
        app = app.layer(axum::middleware::from_fn(move |req, next| {
            let hosts = hosts.clone();
            async move { host_check(hosts, req, next).await }
        }));
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("the HTTP server stopped with an error")?;
    Ok(())
}

/// `ALLOWED_HOSTS`: refuse requests for other host names, as upstream does (400).
async fn host_check(
    hosts: Vec<String>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map(|(n, _)| n).unwrap_or(h).to_string())
        .unwrap_or_default();
    let ok = hosts.iter().any(|allowed| {
        allowed == &host
            || (allowed.starts_with('.')
                && (host.ends_with(allowed.as_str()) || host == allowed[1..]))
    });
    if ok {
        next.run(req).await
    } else {
        (
            axum::http::StatusCode::BAD_REQUEST,
            [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<h1>Bad Request (400)</h1>",
        )
            .into_response()
    }
}
