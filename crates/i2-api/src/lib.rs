//! The upstream-compatible CCP4i2 REST API under `/api/ccp4i2/`.
//!
//! - [`auth`]: who may call (desktop token, Entra ID tokens, development on loopback).
//! - [`router`]: every route in one place, plus the layers (CORS, gzip, headers, limits).
//! - [`routes`]: handlers, one module per URL noun (projects, jobs, files, tags, groups…).
//! - [`drf`]: upstream's record JSON and validation messages, shared by the record routes.
//! - [`body`]: JSON / form / multipart bodies as one object; [`error`]: the error policy.
//! - [`events`]: live job statuses and log lines as server-sent events.
//! - [`metrics`]: `/metrics` in Prometheus text format, and the layer that feeds it.
//! - [`paths`]: resolving client-supplied paths inside a project, refusing escapes.

pub mod auth;
pub mod body;
pub mod config;
pub mod crud;
pub mod drf;
pub mod error;
pub mod events;
pub mod metrics;
pub mod middleware;
pub mod paths;
pub mod routelist;
pub mod router;
pub mod routes;

pub use config::ApiConfig;
pub use router::router;

use i2_store::Db;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<ApiConfig>,
    /// Hands jobs queued here to this process's idle workers, or wakes one (workers of
    /// other processes find them by claiming).
    pub dispatch: Arc<i2_jobs::Dispatch>,
    /// The CCP4i2 task catalogue once loaded, or why it is unavailable (task routes
    /// answer 503 until then). Loaded in the background so start-up stays instant.
    pub tasks: Arc<std::sync::OnceLock<Result<i2_tasks::Catalogue, String>>>,
    /// Pace and limits of `/events/` streams.
    pub events: events::EventSettings,
    /// Authentication (mode, key cache, user recording), shared by every request.
    pub auth: Arc<auth::Auth>,
    /// Request counts and latencies for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Rebuilds reports for `regenerate_report/` in a supervised subprocess; `None` on a
    /// server without a runner (the route then answers 503).
    pub reports: Option<Arc<i2_jobs::ReportBuilder>>,
}

impl AppState {
    pub fn new(db: Db, config: ApiConfig) -> Self {
        let auth = Arc::new(auth::Auth::new(&config.auth, db.clone()));
        AppState {
            auth,
            db,
            config: Arc::new(config),
            dispatch: Arc::new(i2_jobs::Dispatch::new()),
            tasks: Arc::new(std::sync::OnceLock::new()),
            events: events::EventSettings::default(),
            metrics: Arc::new(metrics::Metrics::default()),
            reports: None,
        }
    }

    /// Use these `/events/` settings (tests poll faster or allow fewer streams).
    pub fn with_events(mut self, events: events::EventSettings) -> Self {
        self.events = events;
        self
    }
    /// Share the dispatch of this process's workers.
    pub fn with_dispatch(mut self, dispatch: Arc<i2_jobs::Dispatch>) -> Self {
        self.dispatch = dispatch;
        self
    }

    /// Serve task routes from this catalogue (or explain why there is none).
    pub fn with_tasks(self, tasks: Result<i2_tasks::Catalogue, String>) -> Self {
        let _ = self.tasks.set(tasks);
        self
    }

    /// Rebuild reports with this builder (`regenerate_report/`).
    pub fn with_reports(mut self, reports: i2_jobs::ReportBuilder) -> Self {
        self.reports = Some(Arc::new(reports));
        self
    }

    /// A handle to run queries on (the pool is shared; this is a cheap clone).
    pub fn conn(&self) -> Db {
        self.db.clone()
    }
}
