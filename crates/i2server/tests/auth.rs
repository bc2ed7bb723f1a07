//! Authentication, end to end: real RS256 keys made here, a JWKS server on loopback started
//! here, and the application's router. Every protected route is refused without
//! credentials (the route table is walked, so a new route cannot be forgotten), and the
//! binary refuses to serve without authentication anywhere but loopback.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use i2_api::auth::{AuthConfig, EntraConfig};
use i2_store::{Conn, Kind};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

const TENANT: &str = "test-tenant";
const CLIENT: &str = "client-app-1";

// ---------------------------------------------------------------------------------------
// Keys and tokens

struct Key {
    kid: String,
    enc: EncodingKey,
    jwk: Value,
    public_pem: String,
}

fn make_key(kid: &str) -> Key {
    let mut rng = rsa::rand_core::OsRng;
    let private = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation");
    let der = private.to_pkcs1_der().expect("PKCS#1 DER");
    let public = private.to_public_key();
    let b64 = |n: &rsa::BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
    Key {
        kid: kid.to_string(),
        enc: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk: json!({"kty": "RSA", "use": "sig", "kid": kid, "n": b64(public.n()), "e": b64(public.e())}),
        public_pem: public
            .to_public_key_pem(LineEnding::LF)
            .expect("public PEM"),
    }
}

/// Three keys, made once for the whole file (2048-bit generation is not free).
fn keys() -> &'static [Key; 3] {
    static KEYS: OnceLock<[Key; 3]> = OnceLock::new();
    KEYS.get_or_init(|| [make_key("k1"), make_key("k2"), make_key("k3")])
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn issuer() -> String {
    format!("https://login.microsoftonline.com/{TENANT}/v2.0")
}

/// Claims of a valid token for this app, with `extra` merged in (null removes a claim).
/// Every token is distinct (`jti`), so none is answered from the verified-token cache
/// unless a test sends the same one twice.
fn claims(extra: Value) -> Value {
    let mut c = json!({
        "jti": uuid::Uuid::new_v4().to_string(),
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ-extra",
        "aud": CLIENT,
        "iss": issuer(),
        "iat": now() - 10,
        "nbf": now() - 10,
        "exp": now() + 3600,
        "preferred_username": "Ann.Smith@Lab.example",
        "name": "Ann Marie Smith",
    });
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            if v.is_null() {
                c.remove(k);
            } else {
                c.insert(k.clone(), v.clone());
            }
        }
    }
    c
}

fn sign(key: &Key, kid: &str, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(kid.to_string());
    jsonwebtoken::encode(&h, claims, &key.enc).expect("sign")
}

fn token(extra: Value) -> String {
    let k = &keys()[0];
    sign(k, &k.kid, &claims(extra))
}

// ---------------------------------------------------------------------------------------
// A JWKS server on loopback

struct KeyServer {
    url: String,
    keys: Arc<Mutex<Vec<Value>>>,
    hits: Arc<AtomicUsize>,
    up: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl KeyServer {
    async fn start(keys: Vec<Value>) -> KeyServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind key server");
        let addr = listener.local_addr().expect("address");
        let keys = Arc::new(Mutex::new(keys));
        let hits = Arc::new(AtomicUsize::new(0));
        let up = Arc::new(AtomicBool::new(true));
        let (k, h, u) = (keys.clone(), hits.clone(), up.clone());
        let app = axum::Router::new().route(
            "/discovery/v2.0/keys",
            axum::routing::get(move || {
                let (k, h, u) = (k.clone(), h.clone(), u.clone());
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    if !u.load(Ordering::SeqCst) {
                        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
                    }
                    let keys = k.lock().map(|g| g.clone()).unwrap_or_default();
                    axum::Json(json!({"keys": keys})).into_response()
                }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        KeyServer {
            url: format!("http://{addr}/discovery/v2.0/keys"),
            keys,
            hits,
            up,
            task,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn publish(&self, keys: Vec<Value>) {
        if let Ok(mut g) = self.keys.lock() {
            *g = keys;
        }
    }
}

impl Drop for KeyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

use axum::response::IntoResponse;

fn entra(url: &str) -> EntraConfig {
    let mut e = EntraConfig::for_tenant(TENANT, CLIENT);
    e.jwks_url = url.to_string();
    e.jwks_min_refresh = Duration::ZERO;
    e
}

async fn app_with(backend: Backend, auth: AuthConfig) -> Option<TestApp> {
    TestApp::start_with(backend, move |c| c.auth = auth).await
}

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut b = Request::get(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    app.request(b.body(Body::empty()).expect("request")).await
}

async fn bearer(app: &TestApp, path: &str, token: &str) -> Reply {
    get_with(app, path, &[("authorization", &format!("Bearer {token}"))]).await
}

/// A 401 with upstream's exact body shape, whose message contains `needle`.
fn assert_401(r: &Reply, needle: &str) {
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let v = r.json();
    let obj = v.as_object().expect("object body");
    assert_eq!(obj.len(), 2, "only success and error: {v}");
    assert_eq!(v["success"], json!(false));
    let e = v["error"].as_str().expect("error text");
    assert!(e.starts_with("Authentication failed: "), "{e}");
    assert!(e.contains(needle), "{e:?} should mention {needle:?}");
}

fn assert_403(r: &Reply, needle: &str) {
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let v = r.json();
    assert_eq!(v.as_object().map(|o| o.len()), Some(2), "{v}");
    assert_eq!(v["success"], json!(false));
    let e = v["error"].as_str().expect("error text");
    assert!(e.starts_with("Access denied: "), "{e}");
    assert!(e.contains(needle), "{e:?} should mention {needle:?}");
}

const PROJECTS: &str = "/api/ccp4i2/projects/";

// ---------------------------------------------------------------------------------------
// Entra ID tokens

#[tokio::test]
async fn entra_token_matrix() {
    let [k1, k2, _] = keys();
    let server = KeyServer::start(vec![k1.jwk.clone()]).await;
    let app = app_with(Backend::Sqlite, AuthConfig::Entra(entra(&server.url)))
        .await
        .expect("sqlite app");

    // Valid, from each accepted place.
    let r = bearer(&app, PROJECTS, &token(json!({}))).await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, json!([])));
    let r = get_with(
        &app,
        PROJECTS,
        &[("x-ms-token-aad-access-token", &token(json!({})))],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);

    // The exact body upstream sends.
    let r = bearer(&app, PROJECTS, &token(json!({"exp": now() - 3600}))).await;
    assert_eq!(
        r.json(),
        json!({"success": false, "error": "Authentication failed: Token has expired"})
    );
    assert_eq!(r.content_type(), "application/json");

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "not yet valid",
            token(json!({"nbf": now() + 3600})),
            "not yet valid",
        ),
        (
            "wrong audience",
            token(json!({"aud": "someone-else"})),
            "Invalid token audience",
        ),
        (
            "wrong issuer",
            token(json!({"iss": "https://login.microsoftonline.com/other/v2.0"})),
            "Invalid token issuer",
        ),
        (
            "v1 issuer",
            token(json!({"iss": format!("https://sts.windows.net/{TENANT}/")})),
            "Invalid token issuer",
        ),
        ("no expiry", token(json!({"exp": null})), "exp"),
        (
            "signed by another key under k1's kid",
            sign(k2, "k1", &claims(json!({}))),
            "Invalid token signature",
        ),
        (
            "no kid",
            {
                let mut h = Header::new(Algorithm::RS256);
                h.kid = None;
                jsonwebtoken::encode(&h, &claims(json!({})), &k1.enc).expect("sign")
            },
            "kid",
        ),
    ];
    for (what, t, needle) in &cases {
        let r = bearer(&app, PROJECTS, t).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_401(&r, needle);
    }

    // A valid token whose payload was edited after signing.
    let good = token(json!({}));
    let parts: Vec<&str> = good.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(claims(json!({"sub": "mallory"})).to_string());
    let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
    assert_401(
        &bearer(&app, PROJECTS, &tampered).await,
        "Invalid token signature",
    );

    // alg none, with and without a kid, with and without a signature.
    let body = URL_SAFE_NO_PAD.encode(claims(json!({})).to_string());
    for header in [
        json!({"alg": "none", "typ": "JWT"}),
        json!({"alg": "none", "kid": "k1"}),
        json!({"alg": "None", "kid": "k1"}),
    ] {
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        for sig in ["", "AAAA"] {
            let t = format!("{h}.{body}.{sig}");
            assert_401(
                &bearer(&app, PROJECTS, &t).await,
                "algorithm is not allowed",
            );
        }
    }

    // HS256 keyed with the published public key (the classic key-confusion attack).
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("k1".into());
    let confused = jsonwebtoken::encode(
        &h,
        &claims(json!({})),
        &EncodingKey::from_secret(k1.public_pem.as_bytes()),
    )
    .expect("sign HS256");
    assert_401(
        &bearer(&app, PROJECTS, &confused).await,
        "algorithm is not allowed",
    );

    // Missing and malformed credentials.
    assert_401(
        &get_with(&app, PROJECTS, &[]).await,
        "Authentication required",
    );
    for (name, value, needle) in [
        (
            "authorization",
            "Basic dXNlcjpwYXNz".to_string(),
            "Authentication required",
        ),
        (
            "authorization",
            "bearer ".to_string() + &token(json!({})),
            "Authentication required",
        ),
        (
            "authorization",
            "Bearer".to_string(),
            "Authentication required",
        ),
        (
            "authorization",
            "Bearer ".to_string(),
            "Authentication required",
        ),
        (
            "authorization",
            "Bearer not-a-jwt".to_string(),
            "Token decode error",
        ),
        (
            "authorization",
            "Bearer a.b.c".to_string(),
            "Token decode error",
        ),
        (
            "authorization",
            "Bearer e30.e30.e30".to_string(),
            "algorithm is not allowed",
        ),
        (
            "x-ms-token-aad-access-token",
            "junk".to_string(),
            "Token decode error",
        ),
    ] {
        let r = get_with(&app, PROJECTS, &[(name, &value)]).await;
        assert_401(&r, needle);
    }

    // ?access_token= only on download routes.
    let q = format!("{PROJECTS}?access_token={}", token(json!({})));
    assert_401(&get_with(&app, &q, &[]).await, "Authentication required");
    let dl = format!(
        "/api/ccp4i2/files/999999/download/?access_token={}",
        token(json!({}))
    );
    let r = get_with(&app, &dl, &[]).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "authenticated, then no such file"
    );
    let dl = format!(
        "/api/ccp4i2/files_by_uuid/{}/download/?access_token={}",
        uuid::Uuid::new_v4(),
        token(json!({"exp": now() - 3600}))
    );
    assert_401(&get_with(&app, &dl, &[]).await, "Token has expired");

    // Health and version stay public.
    assert_eq!(app.get("/api/ccp4i2/health/").await.status, StatusCode::OK);
    assert_eq!(app.get("/api/ccp4i2/version/").await.status, StatusCode::OK);
    assert!(server.hits() >= 1);
    app.finish().await;
}

#[tokio::test]
async fn unknown_kid_refreshes_the_keys_and_finds_a_rotated_one() {
    let [k1, k2, k3] = keys();
    let server = KeyServer::start(vec![k1.jwk.clone()]).await;
    let app = app_with(Backend::Sqlite, AuthConfig::Entra(entra(&server.url)))
        .await
        .expect("sqlite app");
    assert_eq!(
        bearer(&app, PROJECTS, &token(json!({}))).await.status,
        StatusCode::OK
    );
    assert_eq!(server.hits(), 1);
    // Cached: no fetch for a known key.
    assert_eq!(
        bearer(&app, PROJECTS, &token(json!({}))).await.status,
        StatusCode::OK
    );
    assert_eq!(server.hits(), 1);

    // The tenant rotates to k2: a k2 token makes the server fetch again and succeed.
    server.publish(vec![k1.jwk.clone(), k2.jwk.clone()]);
    let t2 = sign(k2, "k2", &claims(json!({})));
    assert_eq!(bearer(&app, PROJECTS, &t2).await.status, StatusCode::OK);
    assert_eq!(server.hits(), 2);

    // A kid that is nowhere: refused, naming it.
    let t3 = sign(k3, "k3", &claims(json!({})));
    assert_401(
        &bearer(&app, PROJECTS, &t3).await,
        "Unknown signing key: k3",
    );
    app.finish().await;

    // With a refresh interval, unknown kids cannot make the server hammer the endpoint.
    let mut cfg = entra(&server.url);
    cfg.jwks_min_refresh = Duration::from_secs(3600);
    let app = app_with(Backend::Sqlite, AuthConfig::Entra(cfg))
        .await
        .expect("sqlite app");
    let before = server.hits();
    assert_eq!(
        bearer(&app, PROJECTS, &token(json!({}))).await.status,
        StatusCode::OK
    );
    for _ in 0..5 {
        assert_401(&bearer(&app, PROJECTS, &t3).await, "Unknown signing key");
    }
    assert_eq!(server.hits(), before + 1, "one fetch, then rate-limited");
    app.finish().await;
}

#[tokio::test]
async fn key_server_down_keeps_the_last_good_keys() {
    let [k1, ..] = keys();
    let server = KeyServer::start(vec![k1.jwk.clone()]).await;
    // A zero TTL: every request tries to refresh, so a failing refresh is exercised.
    let mut cfg = entra(&server.url);
    cfg.jwks_ttl = Duration::ZERO;
    let app = app_with(Backend::Sqlite, AuthConfig::Entra(cfg))
        .await
        .expect("sqlite app");
    assert_eq!(
        bearer(&app, PROJECTS, &token(json!({}))).await.status,
        StatusCode::OK
    );
    server.up.store(false, Ordering::SeqCst);
    let before = server.hits();
    let r = bearer(&app, PROJECTS, &token(json!({}))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert!(server.hits() > before, "a refresh was attempted and failed");
    // Expired tokens are still refused with stale keys.
    assert_401(
        &bearer(&app, PROJECTS, &token(json!({"exp": now() - 3600}))).await,
        "Token has expired",
    );
    app.finish().await;

    // No key set ever fetched, and nothing listening: refused, not let through.
    let dead = format!("http://127.0.0.1:{}/keys", free_port());
    let app = app_with(Backend::Sqlite, AuthConfig::Entra(entra(&dead)))
        .await
        .expect("sqlite app");
    assert_401(
        &bearer(&app, PROJECTS, &token(json!({}))).await,
        "signing keys are unavailable",
    );
    app.finish().await;
}

#[tokio::test]
async fn a_verified_token_still_expires() {
    let [k1, ..] = keys();
    let server = KeyServer::start(vec![k1.jwk.clone()]).await;
    let mut cfg = entra(&server.url);
    cfg.leeway = Duration::ZERO;
    let app = app_with(Backend::Sqlite, AuthConfig::Entra(cfg))
        .await
        .expect("sqlite app");
    let t = token(json!({"exp": now() + 1}));
    assert_eq!(bearer(&app, PROJECTS, &t).await.status, StatusCode::OK);
    assert_eq!(bearer(&app, PROJECTS, &t).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_401(&bearer(&app, PROJECTS, &t).await, "Token has expired");
    app.finish().await;
}

#[tokio::test]
async fn group_allow_list() {
    let [k1, ..] = keys();
    let server = KeyServer::start(vec![k1.jwk.clone()]).await;
    let mut cfg = entra(&server.url);
    cfg.allowed_groups = vec!["g-allowed".into(), "g-other".into()];
    let app = app_with(Backend::Sqlite, AuthConfig::Entra(cfg))
        .await
        .expect("sqlite app");
    let ok = token(json!({"groups": ["g-unrelated", "g-other"]}));
    assert_eq!(bearer(&app, PROJECTS, &ok).await.status, StatusCode::OK);
    let r = bearer(&app, PROJECTS, &token(json!({"groups": ["g-unrelated"]}))).await;
    assert_403(&r, "not a member");
    assert_403(
        &bearer(&app, PROJECTS, &token(json!({}))).await,
        "not a member",
    );
    let overage = token(json!({
        "groups": ["g-allowed"],
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}
    }));
    assert_403(&bearer(&app, PROJECTS, &overage).await, "too many groups");
    // An invalid token is still a 401, not a 403.
    assert_401(
        &bearer(
            &app,
            PROJECTS,
            &token(json!({"groups": ["g-allowed"], "aud": "x"})),
        )
        .await,
        "audience",
    );
    app.finish().await;
}

#[tokio::test]
async fn entra_with_a_session_token_accepts_either() {
    let [k1, ..] = keys();
    let server = KeyServer::start(vec![k1.jwk.clone()]).await;
    let app = app_with(
        Backend::Sqlite,
        AuthConfig::EntraAndLocalToken {
            entra: entra(&server.url),
            token: "automation-s3cret".into(),
            email: "robot@ops.invalid".into(),
        },
    )
    .await
    .expect("sqlite app");
    assert_eq!(
        bearer(&app, PROJECTS, "automation-s3cret").await.status,
        StatusCode::OK
    );
    assert_eq!(
        bearer(&app, PROJECTS, &token(json!({}))).await.status,
        StatusCode::OK
    );
    assert_401(
        &bearer(&app, PROJECTS, "automation-s3cre").await,
        "Token decode error",
    );
    assert_401(
        &get_with(&app, PROJECTS, &[]).await,
        "Authentication required",
    );
    // The session token is only ever a bearer header, never the query.
    let dl = "/api/ccp4i2/files/1/download/?access_token=automation-s3cret";
    assert_401(&get_with(&app, dl, &[]).await, "Token decode error");
    assert!(user_row(&app, "robot").await.is_some());
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// The desktop token

#[tokio::test]
async fn local_session_token() {
    let app = app_with(
        Backend::Sqlite,
        AuthConfig::LocalToken {
            token: "launch-s3cret".into(),
            email: "me@desktop.invalid".into(),
        },
    )
    .await
    .expect("sqlite app");
    assert_401(&get_with(&app, PROJECTS, &[]).await, "Missing Bearer token");
    for wrong in ["launch-s3cre", "launch-s3cret ", "LAUNCH-S3CRET", "x"] {
        assert_401(
            &bearer(&app, PROJECTS, wrong).await,
            "Invalid local-session token",
        );
    }
    // The desktop token is not accepted from the Easy Auth header or the query.
    assert_401(
        &get_with(
            &app,
            PROJECTS,
            &[("x-ms-token-aad-access-token", "launch-s3cret")],
        )
        .await,
        "Missing Bearer token",
    );
    let r = bearer(&app, PROJECTS, "launch-s3cret").await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, json!([])));
    assert_eq!(app.get("/api/ccp4i2/health/").await.status, StatusCode::OK);
    assert_eq!(app.get("/api/ccp4i2/version/").await.status, StatusCode::OK);

    // CORS: a preflight needs no credentials; a refusal carries the CORS header so the
    // browser can read it.
    let pre = app
        .request(
            Request::builder()
                .method("OPTIONS")
                .uri(PROJECTS)
                .header("origin", "http://localhost:3000")
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "authorization")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(pre.status, StatusCode::OK);
    assert!(pre.headers.contains_key("access-control-allow-origin"));
    assert!(
        pre.headers
            .get("access-control-allow-headers")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("authorization"))
    );
    let r = get_with(&app, PROJECTS, &[("origin", "http://localhost:3000")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.contains_key("access-control-allow-origin"));
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// Users recorded as upstream records them

async fn user_row(app: &TestApp, username: &str) -> Option<Vec<String>> {
    let mut db = app.db.clone();
    let rows = db
        .fetch_cells(
            "SELECT username, email, first_name, last_name, is_staff, is_superuser, is_active, password \
             FROM auth_user WHERE username = $1",
            vec![i2_store::Arg::Text(username.into())],
            &[Kind::Text, Kind::Text, Kind::Text, Kind::Text, Kind::Bool, Kind::Bool, Kind::Bool, Kind::Text],
        )
        .await
        .expect("query auth_user");
    rows.first().map(|r| {
        r.iter()
            .map(|c| match c {
                i2_store::cells::Cell::Text(s) => s.clone(),
                i2_store::cells::Cell::Bool(b) => b.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    })
}

async fn count_users(app: &TestApp) -> i64 {
    let mut db = app.db.clone();
    let rows = db
        .fetch_cells("SELECT COUNT(*) FROM auth_user", vec![], &[Kind::Int])
        .await
        .expect("count");
    rows[0][0].as_i64().expect("count")
}

#[tokio::test]
async fn users_are_recorded_from_claims() {
    let [k1, ..] = keys();
    let server = KeyServer::start(vec![k1.jwk.clone()]).await;
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = app_with(backend, AuthConfig::Entra(entra(&server.url))).await else {
            eprintln!("PostgreSQL not configured (I2_TEST_PG_URL): skipping the postgres leg");
            continue;
        };
        let sub = "0123456789abcdef0123456789abcdef-tail";
        let t = token(json!({"sub": sub}));
        for _ in 0..3 {
            assert_eq!(bearer(&app, PROJECTS, &t).await.status, StatusCode::OK);
        }
        let username = "aad_0123456789abcdef0123456789abcdef";
        let row = user_row(&app, username).await.expect("recorded");
        assert_eq!(
            row,
            vec![
                username,
                "ann.smith@lab.example",
                "Ann",
                "Marie Smith",
                "false",
                "false",
                "true",
                ""
            ],
            "{}",
            backend.name()
        );
        assert_eq!(count_users(&app).await, 1);
        // The name changes in the directory: the row follows; a missing family name keeps
        // the old one, as upstream.
        let t = token(
            json!({"sub": sub, "given_name": "Annie", "name": null, "email": "annie@lab.example"}),
        );
        assert_eq!(bearer(&app, PROJECTS, &t).await.status, StatusCode::OK);
        let row = user_row(&app, username).await.expect("recorded");
        assert_eq!(&row[1..4], &["annie@lab.example", "Annie", "Marie Smith"]);
        // No email claim at all: the client's X-User-Email header, then a placeholder.
        let t = token(json!({"sub": "other-subject", "preferred_username": null, "name": null}));
        let r = get_with(
            &app,
            PROJECTS,
            &[
                ("authorization", &format!("Bearer {t}")),
                ("x-user-email", "Bob@Lab.example"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let row = user_row(&app, "aad_other-subject").await.expect("recorded");
        assert_eq!(row[1], "bob@lab.example");
        assert_eq!(count_users(&app).await, 2);
        app.finish().await;

        // The desktop user: by email, a superuser named after the mailbox.
        let Some(app) = app_with(
            backend,
            AuthConfig::LocalToken {
                token: "t".into(),
                email: "me@desktop.invalid".into(),
            },
        )
        .await
        else {
            continue;
        };
        assert_eq!(bearer(&app, PROJECTS, "t").await.status, StatusCode::OK);
        assert_eq!(bearer(&app, PROJECTS, "t").await.status, StatusCode::OK);
        let row = user_row(&app, "me").await.expect("recorded");
        assert_eq!(&row[1..6], &["me@desktop.invalid", "", "", "true", "true"]);
        assert_eq!(count_users(&app).await, 1);
        app.finish().await;

        // Development mode: upstream's dev_admin.
        let Some(app) = app_with(backend, AuthConfig::Development).await else {
            continue;
        };
        assert_eq!(app.get(PROJECTS).await.status, StatusCode::OK);
        let row = user_row(&app, "dev_admin").await.expect("recorded");
        assert_eq!(
            &row[1..6],
            &["dev_admin@localhost", "Dev", "Admin", "true", "true"]
        );
        app.finish().await;
    }
}

// ---------------------------------------------------------------------------------------
// Every route

/// A concrete path for a route pattern: `{id}` → 1, `{uuid}` → a UUID, `{*rest}` → x.
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|seg| {
            if seg.starts_with("{*") {
                "x".to_string()
            } else if seg.contains("uuid") && seg.starts_with('{') {
                "0c4e2a3b-7f3e-4c1a-9d2e-1f2a3b4c5d6e".to_string()
            } else if seg.starts_with('{') {
                "1".to_string()
            } else {
                seg.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_route_but_the_public_ones_needs_credentials() {
    let routes = i2_api::router::route_paths();
    assert!(
        routes.iter().any(|r| r == "/api/ccp4i2/projects/"),
        "{routes:?}"
    );
    assert!(
        routes
            .iter()
            .any(|r| r == "/api/ccp4i2/files/{id}/download/")
    );
    assert!(routes.len() > 40, "the whole table: {}", routes.len());
    let dead_keys = format!("http://127.0.0.1:{}/keys", free_port());
    let modes = [
        AuthConfig::LocalToken {
            token: "t".into(),
            email: "e@x.invalid".into(),
        },
        AuthConfig::Entra(entra(&dead_keys)),
        AuthConfig::EntraAndLocalToken {
            entra: entra(&dead_keys),
            token: "t".into(),
            email: "e@x.invalid".into(),
        },
    ];
    for mode in modes {
        let name = mode.mode_name();
        let app = app_with(Backend::Sqlite, mode).await.expect("sqlite app");
        let mut public = 0;
        for route in &routes {
            let path = concrete(route);
            let is_public = i2_api::auth::is_public(&path);
            for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] {
                let r = app
                    .request(
                        Request::builder()
                            .method(method)
                            .uri(&path)
                            .header("content-type", "application/json")
                            .body(Body::from("{}"))
                            .expect("request"),
                    )
                    .await;
                if is_public {
                    assert_ne!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
                } else {
                    assert_eq!(
                        r.status,
                        StatusCode::UNAUTHORIZED,
                        "{name}: {method} {path} answered without credentials"
                    );
                    if method != "HEAD" {
                        assert_eq!(r.json()["success"], json!(false), "{method} {path}");
                    }
                }
            }
            if is_public {
                public += 1;
                assert_eq!(app.get(&path).await.status, StatusCode::OK, "{path}");
            }
        }
        assert_eq!(
            public,
            i2_api::auth::PUBLIC_PATHS.len(),
            "exactly health, version and the UI's sign-in page with its two static files are public"
        );
        assert_eq!(public, 5);
        // Unknown paths too: nothing is learnt about the route table without credentials.
        assert_eq!(
            app.get("/api/ccp4i2/nonexistent/").await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(app.get("/").await.status, StatusCode::UNAUTHORIZED);
        app.finish().await;
    }
}

// ---------------------------------------------------------------------------------------
// The binary

fn bare_command(home: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_i2server"));
    c.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

#[test]
fn no_authentication_off_loopback_refuses_to_start() {
    let home = tempfile::tempdir().expect("tempdir");
    for host in ["0.0.0.0", "::"] {
        for extra in [&[][..], &["--dev"][..]] {
            let out = bare_command(home.path())
                .args(["serve", "--host", host, "--port", &free_port().to_string()])
                .args(extra)
                .output()
                .expect("run i2server");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{host} {extra:?}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
            for needle in [
                host,
                "not a loopback",
                "CCP4I2_REQUIRE_AUTH=true",
                "AZURE_AD_TENANT_ID",
                "AZURE_AD_CLIENT_ID",
                "CCP4I2_LOCAL_SESSION_TOKEN",
                "127.0.0.1",
            ] {
                assert!(err.contains(needle), "{needle:?} missing from: {err}");
            }
        }
    }
    // REQUIRE_AUTH without its ids is a configuration error too, not an open server.
    let out = bare_command(home.path())
        .env("CCP4I2_REQUIRE_AUTH", "true")
        .args([
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            &free_port().to_string(),
        ])
        .output()
        .expect("run i2server");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AZURE_AD_TENANT_ID"));
}

#[test]
fn token_configured_serves_on_any_address_and_refuses_anonymous_requests() {
    let home = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let child = bare_command(home.path())
        .env("CCP4I2_LOCAL_SESSION_TOKEN", "launch-secret")
        .args([
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            &port.to_string(),
            "--workers",
            "0",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn i2server");
    let _guard = Child(child);
    assert!(wait_healthy(port, "/api/ccp4i2/health/", 30), "not healthy");
    let (status, body) = http_get(port, "/api/ccp4i2/projects/").expect("projects");
    assert_eq!(status, 401, "{body}");
    assert!(
        body.contains("Authentication failed: Missing Bearer token"),
        "{body}"
    );
}

#[test]
fn development_mode_on_loopback_with_the_flag_and_worker_needs_no_auth() {
    let home = tempfile::tempdir().expect("tempdir");
    let log = home.path().join("serve.log");
    let port = free_port();
    let child = bare_command(home.path())
        .args([
            "serve",
            "--dev",
            "--port",
            &port.to_string(),
            "--workers",
            "0",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn i2server");
    let guard = Child(child);
    assert!(wait_healthy(port, "/api/ccp4i2/health/", 30), "not healthy");
    let (status, _) = http_get(port, "/api/ccp4i2/projects/").expect("projects");
    assert_eq!(status, 200);
    drop(guard);
    let err = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        err.contains("development mode"),
        "the warning is logged: {err}"
    );

    // The worker serves nothing, so no authentication is asked of it.
    let log = home.path().join("worker.log");
    let mut worker = Child(
        bare_command(home.path())
            .args(["worker"])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn worker"),
    );
    std::thread::sleep(Duration::from_secs(2));
    let exited = worker.0.try_wait().expect("poll worker");
    drop(worker);
    let err = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        exited.is_none_or(|s| s.code() != Some(2)),
        "worker refused to start: {err}"
    );
    assert!(!err.contains("authentication"), "{err}");
}
