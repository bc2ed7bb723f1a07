//! Every route of the API, in one place, grouped as upstream's URL tree; then the layers.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;
use crate::crud;
use crate::error::ApiError;
use crate::routelist::Routes;
use crate::routes::{
    digests, exports, files, groups, jobs, misc, projects, reports, runs, tags, tasks, uploads,
};

pub const PREFIX: &str = "/api/ccp4i2";

/// The API routes, relative to [`PREFIX`].
fn api_routes() -> Routes<AppState> {
    Routes::new()
        // Service
        .route("/health/", get(misc::health).post(misc::health_post))
        .route("/version/", get(misc::version))
        .route("/active_jobs/", get(runs::active_jobs))
        .route("/task_lookup/", get(tasks::task_lookup))
        .route("/monomer-info/{code}/", get(misc::monomer_info))
        .route("/events/", get(crate::events::events))
        // Projects
        .route("/projects/", get(projects::list).post(projects::create))
        .route(
            "/projects/{id}/",
            get(projects::retrieve)
                .put(projects::put)
                .patch(projects::patch)
                .delete(projects::destroy),
        )
        .route("/projects/{id}/job_tree/", get(projects::job_tree))
        .route("/projects/{id}/file_uses/", get(projects::file_uses))
        .route(
            "/projects/{id}/job_float_values/",
            get(projects::job_float_values),
        )
        .route(
            "/projects/{id}/job_char_values/",
            get(projects::job_char_values),
        )
        .route(
            "/projects/{id}/tags/",
            get(projects::tags_list).post(projects::tags_add),
        )
        .route(
            "/projects/{id}/tags/{tag_id}/",
            axum::routing::delete(projects::tags_remove),
        )
        .route(
            "/projects/{id}/add_tag_by_text/",
            post(projects::add_tag_by_text),
        )
        .route("/projects/{id}/directory/", get(projects::directory))
        .route("/projects/{id}/project_file/", get(projects::project_file))
        .route(
            "/projects/{id}/files_by_path/{*path}",
            get(projects::files_by_path),
        )
        .route("/projects/{id}/exports/", get(projects::exports))
        .route("/projects/{id}/export/", post(exports::export))
        // Project archives are routinely larger than the body limit meant for forms and
        // single files; they stream to disk (as upstream's file uploads do, unlimited).
        .route(
            "/projects/import_project/",
            post(exports::import_project).layer(DefaultBodyLimit::disable()),
        )
        .route("/projects/{id}/create_task/", post(tasks::create_task))
        .route("/projecttags/", get(tags::list).post(tags::create))
        .route(
            "/projecttags/{id}/",
            get(tags::retrieve)
                .put(tags::put)
                .patch(tags::patch)
                .delete(tags::destroy),
        )
        .route("/projectexports/", crud::collection(&misc::PROJECT_EXPORTS))
        .route(
            "/projectexports/{id}/",
            crud::member(&misc::PROJECT_EXPORTS),
        )
        .route("/projectexports/{id}/download/", get(exports::download))
        // Project groups (campaigns)
        .route("/projectgroups/", get(groups::list).post(groups::create))
        .route(
            "/projectgroups/project_campaigns/",
            get(groups::campaigns_get).post(groups::campaigns_post),
        )
        .route(
            "/projectgroups/{id}/",
            get(groups::retrieve)
                .put(groups::put)
                .patch(groups::patch)
                .delete(groups::destroy),
        )
        .route(
            "/projectgroupmemberships/",
            crud::collection(&misc::MEMBERSHIPS),
        )
        .route(
            "/projectgroupmemberships/{id}/",
            crud::member(&misc::MEMBERSHIPS),
        )
        // Jobs
        .route("/jobs/", get(jobs::list).post(jobs::create))
        .route(
            "/jobs/bulk_dependent_jobs/",
            post(jobs::bulk_dependent_jobs),
        )
        .route("/jobs/bulk_delete/", post(jobs::bulk_delete))
        .route(
            "/jobs/{id}/",
            get(jobs::retrieve)
                .put(jobs::put)
                .patch(jobs::patch)
                .delete(jobs::destroy),
        )
        .route("/jobs/{id}/dependent_jobs/", get(jobs::dependent_jobs))
        .route("/jobs/{id}/run/", post(jobs::run))
        .route("/jobs/{id}/run_local/", post(runs::run_local))
        .route(
            "/jobs/{id}/regenerate_report/",
            post(runs::regenerate_report),
        )
        .route("/jobs/{id}/clone/", post(tasks::clone))
        .route("/jobs/{id}/report_xml/", get(reports::report_xml))
        .route("/jobs/{id}/diagnostic_xml/", get(reports::diagnostic_xml))
        .route(
            "/jobs/{id}/export_job_file_menu/",
            get(jobs::export_job_file_menu),
        )
        .route("/jobs/{id}/export_job_file/", get(jobs::export_job_file))
        .route("/jobs/{id}/export_job/", get(exports::export_job))
        .route("/jobs/{id}/preview/", post(exports::preview_job))
        .route("/jobs/{id}/container/", get(tasks::container))
        .route("/jobs/{id}/def_xml/", get(tasks::def_xml))
        .route(
            "/jobs/{id}/params_xml/",
            get(tasks::params_xml).put(tasks::put_params_xml),
        )
        .route("/jobs/{id}/set_parameter/", post(tasks::set_parameter))
        .route("/jobs/{id}/get_parameter/", get(tasks::get_parameter))
        .route("/jobs/{id}/validation/", get(tasks::validation))
        .route("/jobs/{id}/what_next/", get(tasks::what_next))
        .route("/jobs/{id}/object_method/", post(tasks::object_method))
        .route("/jobs/{id}/plugin_method/", post(tasks::plugin_method))
        .route("/jobs/{id}/i2run_command/", get(tasks::i2run_command))
        .route("/jobs/{id}/set_context_job/", post(tasks::set_context_job))
        .route(
            "/jobs/{id}/run_time_validation/",
            get(tasks::run_time_validation),
        )
        .route(
            "/jobs/{id}/upload_file_param/",
            post(uploads::upload_file_param),
        )
        .route("/jobs/{id}/cancel/", post(jobs::cancel))
        .route("/jobs/{id}/digest/", get(digests::job_digest))
        .route(
            "/jobs/{id}/digest_param_file/",
            get(digests::job_digest_param_file),
        )
        // Files
        .route("/files/", get(files::list).post(files::create))
        .route(
            "/files/{id}/",
            get(files::retrieve)
                .put(files::put)
                .patch(files::patch)
                .delete(files::destroy),
        )
        .route("/files/{id}/download/", get(files::download))
        .route("/files/{id}/digest/", get(digests::file_digest))
        .route("/files/{id}/file_path/", get(files::path_of_file))
        .route("/files/{id}/molblock/", get(exports::molblock))
        .route("/files/{id}/preview/", post(exports::preview_file))
        .route("/files_by_uuid/", get(files::list_by_uuid))
        .route("/files_by_uuid/{uuid}/", get(files::retrieve_by_uuid))
        .route(
            "/files_by_uuid/{uuid}/download/",
            get(files::download_by_uuid),
        )
        .route(
            "/files_by_uuid/{uuid}/digest/",
            get(digests::file_digest_by_uuid),
        )
        .route("/filetypes/", crud::collection(&misc::FILE_TYPES))
        .route("/filetypes/{name}/", crud::member(&misc::FILE_TYPES))
        .route("/fileimports/", crud::collection(&misc::FILE_IMPORTS))
        .route("/fileimports/{id}/", crud::member(&misc::FILE_IMPORTS))
        .route("/fileuses/", crud::collection(&misc::FILE_USES))
        .route("/fileuses/{id}/", crud::member(&misc::FILE_USES))
}

/// Upstream appends a slash to API paths that lack one (301 for GET and HEAD; other
/// methods cannot be redirected without losing their body, so they get a 404 that says
/// what to do); anything else unknown is an HTML 404.
async fn fallback(req: Request) -> Response {
    let path = req.uri().path();
    if path.starts_with(PREFIX) && !path.ends_with('/') && !path.contains("/files_by_path/") {
        let target = match req.uri().query() {
            Some(q) => format!("{path}/?{q}"),
            None => format!("{path}/"),
        };
        if req.method() == Method::GET || req.method() == Method::HEAD {
            // Django answers 301 here (not 308).
            return (
                StatusCode::MOVED_PERMANENTLY,
                [
                    (header::LOCATION, target),
                    (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                ],
            )
                .into_response();
        }
        return ApiError::Detail(
            StatusCode::NOT_FOUND,
            format!(
                "{} {path} does not exist; this route needs a trailing slash: {path}/",
                req.method()
            ),
        )
        .into_response();
    }
    ApiError::HtmlNotFound.into_response()
}

/// Every route of the application (the router and [`route_paths`] are built from it).
fn all_routes(ui: Router<AppState>) -> Routes<AppState> {
    Routes::new()
        .route("/api/ccp4i2/", get(misc::api_root))
        // Prometheus scrape target (an i2server addition, outside the upstream API tree).
        .route("/metrics", get(crate::metrics::metrics))
        .nest(PREFIX, api_routes())
        .route(
            crate::auth::LOGIN_PATH,
            get(crate::auth::login_page::page).post(crate::auth::login_page::submit),
        )
        .merge_listed(i2_ui::ROUTES, ui)
}

/// The path of every route, with `{param}` placeholders.
pub fn route_paths() -> Vec<String> {
    all_routes(Router::new()).paths().to_vec()
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let config = state.config.clone();
    let auth = state.auth.clone();
    let metrics_state = state.clone();
    let ui = i2_ui::router(i2_ui::UiState::new(state.db.clone(), state.tasks.clone()));
    all_routes(ui)
        .into_router()
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(
            crate::middleware::method_not_allowed,
        ))
        // Inside CORS: preflights are answered without credentials, refusals carry CORS headers.
        .layer(axum::middleware::from_fn_with_state(
            auth,
            crate::auth::require,
        ))
        .layer(axum::middleware::from_fn_with_state(
            config,
            crate::middleware::cors,
        ))
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        // Outermost, so the time and status counted are what the client gets.
        .layer(axum::middleware::from_fn_with_state(
            metrics_state,
            crate::metrics::track,
        ))
        .with_state(state)
}
