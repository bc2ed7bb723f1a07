//! `GET /metrics`: Prometheus text exposition (format 0.0.4), written by hand (a few
//! counters and one histogram do not need a metrics framework).
//!
//! - Requests by method, route template (`/api/ccp4i2/jobs/{id}/`, never the raw path, so the
//!   series stay few) and status; `unmatched` for paths no route knows.
//! - Request latency histogram by route template.
//! - Queue depth, running jobs, finished attempts by outcome and lease recoveries, read from
//!   the database at scrape time: workers run in other processes, and the queue table is
//!   the one place that knows all of them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    /// Non-cumulative counts per bucket; the last slot is +Inf.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        let i = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        self.counts[i] += 1;
        self.sum += secs;
        self.count += 1;
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

/// The HTTP metrics of this process.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, secs: f64) {
        // A poisoned lock only means another request panicked mid-update: keep counting.
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *m.requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        m.latency
            .entry(route.to_string())
            .or_default()
            .observe(secs);
    }

    fn render_http(&self, out: &mut String) {
        let m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str("# HELP i2server_http_requests_total HTTP requests answered, by route template and status.\n");
        out.push_str("# TYPE i2server_http_requests_total counter\n");
        for ((method, route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "i2server_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(method),
                escape(route)
            );
        }
        out.push_str("# HELP i2server_http_request_duration_seconds Time to answer HTTP requests, by route template.\n");
        out.push_str("# TYPE i2server_http_request_duration_seconds histogram\n");
        for (route, h) in &m.latency {
            let route = escape(route);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += h.counts[i];
                let _ = writeln!(
                    out,
                    "i2server_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            cumulative += h.counts[BUCKETS.len()];
            let _ = writeln!(
                out,
                "i2server_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cumulative}"
            );
            let _ = writeln!(
                out,
                "i2server_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "i2server_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
    }
}

/// Label values escape backslash, quote and newline.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The layer: time every request and count it under its route template.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let resp = next.run(req).await;
    state.metrics.record(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    state.metrics.render_http(&mut out);
    match i2_store::queue::stats(&state.db).await {
        Ok(q) => {
            gauge(
                &mut out,
                "i2server_queue_depth",
                "Jobs waiting to be claimed by a worker.",
                &[("", q.queued)],
            );
            gauge(
                &mut out,
                "i2server_jobs_running",
                "Jobs held by a worker (any process).",
                &[("", q.running)],
            );
            let outcomes: Vec<(String, i64)> = q
                .outcomes
                .iter()
                .map(|(o, n)| (format!("outcome=\"{}\"", escape(o)), *n))
                .collect();
            let outcomes: Vec<(&str, i64)> =
                outcomes.iter().map(|(l, n)| (l.as_str(), *n)).collect();
            gauge(
                &mut out,
                "i2server_job_attempts_finished",
                "Finished job attempts in the queue table, by outcome.",
                &outcomes,
            );
            gauge(
                &mut out,
                "i2server_lease_recoveries",
                "Claims of jobs whose previous worker lost its lease.",
                &[("", q.lease_recoveries)],
            );
            gauge(
                &mut out,
                "i2server_database_up",
                "1 when the database answered this scrape.",
                &[("", 1)],
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the job queue");
            gauge(
                &mut out,
                "i2server_database_up",
                "1 when the database answered this scrape.",
                &[("", 0)],
            );
        }
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

fn gauge(out: &mut String, name: &str, help: &str, values: &[(&str, i64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (labels, v) in values {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {v}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.record("GET", "/a/{id}/", 200, 0.0005);
        m.record("GET", "/a/{id}/", 404, 0.3);
        m.record("GET", "/a/{id}/", 200, 60.0);
        let mut out = String::new();
        m.render_http(&mut out);
        assert!(out.contains(
            "i2server_http_requests_total{method=\"GET\",route=\"/a/{id}/\",status=\"200\"} 2"
        ));
        assert!(out.contains("le=\"0.001\"} 1\n"), "{out}");
        assert!(out.contains("le=\"0.5\"} 2\n"), "{out}");
        assert!(out.contains("le=\"10\"} 2\n"), "{out}");
        assert!(out.contains("le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("_count{route=\"/a/{id}/\"} 3\n"), "{out}");
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
