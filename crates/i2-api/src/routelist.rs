//! A router builder that remembers every path it registers, so the route table can be
//! walked (the auth test checks that every route but the public ones needs credentials).

use axum::Router;
use axum::routing::MethodRouter;

pub struct Routes<S> {
    router: Router<S>,
    paths: Vec<String>,
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    pub fn new() -> Self {
        Routes {
            router: Router::new(),
            paths: Vec::new(),
        }
    }

    /// As [`Router::route`].
    pub fn route(mut self, path: &str, method_router: MethodRouter<S>) -> Self {
        self.paths.push(path.to_string());
        self.router = self.router.route(path, method_router);
        self
    }

    /// As [`Router::nest`]: the inner paths are listed under `prefix`.
    pub fn nest(mut self, prefix: &str, inner: Routes<S>) -> Self {
        self.paths
            .extend(inner.paths.iter().map(|p| format!("{prefix}{p}")));
        self.router = self.router.nest(prefix, inner.router);
        self
    }

    /// As [`Router::merge`], for a router built elsewhere that lists its own `paths`.
    pub fn merge_listed(mut self, paths: &[&str], other: Router<S>) -> Self {
        self.paths.extend(paths.iter().map(|p| p.to_string()));
        self.router = self.router.merge(other);
        self
    }

    /// Every registered path, in registration order (with `{param}` placeholders).
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    pub fn into_router(self) -> Router<S> {
        self.router
    }
}
