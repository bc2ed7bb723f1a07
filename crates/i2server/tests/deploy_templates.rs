//! The Azure deployment (`deploy/`) checked against the binary it deploys:
//! - every variable the server and the worker need is set by the app templates, secrets only
//!   through Key Vault references, and every variable the templates set is one i2server reads
//!   (the sources are scanned, so a new setting cannot be missed by the list);
//! - every probe path (templates and Dockerfile) is a real route that answers 200;
//! - every secret reference names a secret the templates create;
//! - the worker scaler's query runs on a migrated database (SQLite and PostgreSQL) and counts
//!   exactly the jobs that need a worker, as the queue's claim sees them;
//! - the Dockerfiles run the binary as a non-root user, with subcommands that exist;
//! - the deploy scripts pass the parameters the templates declare and read outputs they produce;
//! - `/metrics` and JSON logs;
//! - the local rehearsal (deploy/rehearse.sh: PostgreSQL, serve --workers 0, two workers,
//!   verify.sh with a real freerflag job) passes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use i2_store::Conn;
use i2_store::queue::{self, Outcome};
use i2server::variables::{self, Deploy, Reader};

fn deploy_file(rel: &str) -> String {
    let p = workspace_root().join("deploy").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The lines of `var NAME = …` up to its closing bracket line.
fn var_block<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let start = format!("var {name} =");
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with(&start) {
            inside = true;
            continue;
        }
        if inside {
            if matches!(line, "]" | "])" | "] : [])") {
                return out;
            }
            out.push(line);
        }
    }
    assert!(inside, "var {name} not found");
    out
}

#[derive(Debug, Clone)]
struct EnvEntry {
    name: String,
    /// `value` or `secretRef`.
    kind: String,
    expr: String,
}

/// `{ name: 'X', value: … }` and `{ name: 'X', secretRef: 'y' }` entries, one per line.
fn env_entries(lines: &[&str]) -> Vec<EnvEntry> {
    lines
        .iter()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("{ name: '")?.strip_suffix(" }")?;
            let (name, rest) = rest.split_once("', ")?;
            let (kind, expr) = rest.split_once(": ")?;
            Some(EnvEntry {
                name: name.to_string(),
                kind: kind.to_string(),
                expr: expr.to_string(),
            })
        })
        .collect()
}

/// The environment of each deployed process, as applications.bicep composes it.
fn app_envs(text: &str) -> BTreeMap<&'static str, Vec<EnvEntry>> {
    // The composition this function mirrors.
    for line in [
        "var serverEnv = concat(dbEnv, [",
        "var workerEnv = concat(dbEnv, [",
        "var migrateEnv = dbEnv",
        "          env: serverEnv",
        "          env: workerEnv",
        "          env: migrateEnv",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "applications.bicep no longer has {line:?}: update this test's reading of it"
        );
    }
    let db = env_entries(&var_block(text, "dbEnv"));
    let mut m = BTreeMap::new();
    for (app, var) in [("server", "serverEnv"), ("worker", "workerEnv")] {
        let mut all = db.clone();
        all.extend(env_entries(&var_block(text, var)));
        m.insert(app, all);
    }
    m.insert("migrate", db);
    m
}

fn is_runner_pass_through(name: &str) -> bool {
    i2_jobs::runner::PASS_THROUGH.contains(&name)
}

#[test]
fn every_variable_the_binary_needs_is_set_and_secrets_come_from_key_vault() {
    let text = deploy_file("azure/applications.bicep");
    let envs = app_envs(&text);
    let secure_params: Vec<String> = text
        .lines()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0].trim() == "@secure()")
        .filter_map(|w| w[1].split_whitespace().nth(1).map(str::to_string))
        .collect();
    let mut problems = Vec::new();
    for (app, entries) in &envs {
        let mut seen = BTreeSet::new();
        for e in entries {
            if !seen.insert(e.name.clone()) {
                problems.push(format!("{app}: {} set twice", e.name));
            }
            let known = variables::find(&e.name);
            if known.is_none() && !is_runner_pass_through(&e.name) {
                problems.push(format!(
                    "{app}: {} is not a variable i2server or its runner reads (typo?)",
                    e.name
                ));
            }
            if let Some(v) = known {
                let secret = matches!(v.deploy, Deploy::Secret | Deploy::OptionalSecret);
                if secret && e.kind != "secretRef" {
                    problems.push(format!("{app}: {} must be a secretRef", e.name));
                }
            }
            if e.kind == "value" && secure_params.iter().any(|p| e.expr.contains(p.as_str())) {
                problems.push(format!(
                    "{app}: {} puts a @secure() parameter in a value",
                    e.name
                ));
            }
            if !matches!(e.kind.as_str(), "value" | "secretRef") {
                problems.push(format!("{app}: {} has {}", e.name, e.kind));
            }
        }
    }
    let required = |reader: Reader| {
        variables::VARIABLES
            .iter()
            .filter(move |v| v.read_by(reader))
            .filter(|v| matches!(v.deploy, Deploy::Required | Deploy::Secret))
    };
    for (app, reader) in [("server", Reader::Server), ("worker", Reader::Worker)] {
        for v in required(reader) {
            if !envs[app].iter().any(|e| e.name == v.name) {
                problems.push(format!(
                    "{app}: {} ({}) is required and not set",
                    v.name, v.meaning
                ));
            }
        }
    }
    // The migrate job needs the database and nothing else.
    for name in [
        "DB_HOST",
        "DB_USER",
        "DB_NAME",
        "DB_SSL_MODE",
        "DB_PASSWORD",
    ] {
        if !envs["migrate"].iter().any(|e| e.name == name) {
            problems.push(format!("migrate: {name} is not set"));
        }
    }
    // The deployed server is authenticated (i2server refuses an open non-loopback bind).
    let server = &envs["server"];
    let value = |n: &str| server.iter().find(|e| e.name == n).map(|e| e.expr.clone());
    assert_eq!(value("CCP4I2_REQUIRE_AUTH").as_deref(), Some("'true'"));
    assert_eq!(value("I2SERVER_WORKERS").as_deref(), Some("'0'"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// String literals in the workspace's sources that look like settings.
#[test]
fn the_sources_read_no_variable_missing_from_the_list() {
    const PREFIXES: &[&str] = &[
        "CCP4I2_",
        "I2SERVER_",
        "DB_",
        "DATABASE_URL",
        "AZURE_AD_",
        "ALLOWED_",
        "CORS_",
        "DATA_UPLOAD_",
        "BUILD_TIMESTAMP",
        "GIT_COMMIT",
        "SECRET_KEY",
    ];
    let mut files = Vec::new();
    let crates = workspace_root().join("crates");
    let mut stack: Vec<PathBuf> = std::fs::read_dir(&crates)
        .expect("crates/")
        .filter_map(|e| e.ok().map(|e| e.path().join("src")))
        .collect();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 20, "sources found: {}", files.len());
    let mut unknown = BTreeSet::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("source");
        for piece in text.split('"').skip(1).step_by(2) {
            let is_name = !piece.is_empty()
                && piece
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if is_name
                && PREFIXES.iter().any(|p| piece.starts_with(p))
                && variables::find(piece).is_none()
                && !variables::NOT_CONFIGURATION
                    .iter()
                    .any(|(n, _)| *n == piece)
                && !is_runner_pass_through(piece)
            {
                unknown.insert(format!("{piece} ({})", f.display()));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "settings read by the code but missing from i2server::variables::VARIABLES \
         (add them there, and to deploy/azure/applications.bicep if a deployment needs them):\n{}",
        unknown.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// `param NAME TYPE [= default]` lines of a template: name → has a default.
fn template_params(text: &str) -> BTreeMap<String, bool> {
    text.lines()
        .filter_map(|l| l.strip_prefix("param "))
        .filter_map(|rest| {
            let name = rest.split_whitespace().next()?;
            Some((name.to_string(), rest.contains(" = ")))
        })
        .collect()
}

/// `NAME=` words in a script's text from `start` up to the first line starting with `end`.
fn assigned_names(text: &str, start: &str, end: &str) -> BTreeSet<String> {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not found"));
    let rest = &text[from + start.len()..];
    let until = rest
        .lines()
        .position(|l| l.trim().starts_with(end))
        .unwrap_or_else(|| panic!("{end:?} after {start:?} not found"));
    rest.lines()
        .take(until + 1)
        .flat_map(|l| l.split_whitespace())
        .filter_map(|w| w.split_once('=').map(|(k, _)| k))
        .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_string)
        .collect()
}

/// The scripts pass exactly parameters the templates declare (all required ones), and
/// read only outputs infrastructure.bicep produces.
#[test]
fn the_scripts_and_the_templates_agree() {
    let infra = deploy_file("azure/infrastructure.bicep");
    let apps = deploy_file("azure/applications.bicep");
    let infra_sh = deploy_file("azure/deploy-infrastructure.sh");
    let apps_sh = deploy_file("azure/deploy-applications.sh");
    let mut problems = Vec::new();
    for (template, params, passed) in [
        (
            "infrastructure.bicep",
            template_params(&infra),
            assigned_names(&infra_sh, "--parameters", "--query properties.outputs"),
        ),
        ("applications.bicep", template_params(&apps), {
            let mut p = assigned_names(&apps_sh, "params=(", ")");
            p.insert("deployApps".into());
            assert!(
                apps_sh.contains("deployApps=\"$1\""),
                "deployApps is passed"
            );
            p
        }),
    ] {
        for name in &passed {
            if !params.contains_key(name) {
                problems.push(format!(
                    "the script passes {name}, which {template} does not declare"
                ));
            }
        }
        for (name, has_default) in &params {
            if !has_default && !passed.contains(name) {
                problems.push(format!(
                    "{template} requires {name}; the script does not pass it"
                ));
            }
        }
    }
    let outputs: BTreeSet<&str> = infra
        .lines()
        .filter_map(|l| l.strip_prefix("output "))
        .filter_map(|r| r.split_whitespace().next())
        .collect();
    let read: BTreeSet<&str> = apps_sh
        .split("$(out ")
        .skip(1)
        .filter_map(|r| r.split([')', ' ']).next())
        .collect();
    assert!(read.len() >= 8, "outputs read: {read:?}");
    for name in read {
        if !outputs.contains(name) {
            problems.push(format!("deploy-applications.sh reads output {name}, which infrastructure.bicep does not produce"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `'…'` after `key: ` on a line.
fn quoted_after<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = &line[line.find(key)? + key.len()..];
    let rest = rest.strip_prefix('\'')?;
    rest.split('\'').next()
}

/// Both templates parse with a Bicep grammar (pycep-parser, installed by scripts/peers.sh: no
/// Bicep compiler can be installed here), and declare the resources the deployment needs.
#[test]
fn templates_parse_as_bicep_and_declare_the_resources() {
    let Some(py) = upstream_python() else { return };
    let script = r#"
import json, sys
from pathlib import Path
from pycep import BicepParser
out = {}
for f in sys.argv[1:]:
    tree = BicepParser().parse(file_path=Path(f))
    out[Path(f).stem] = {k: {"type": v.get("type"), "api": v.get("api_version"), "config": v.get("config")}
                         for k, v in tree["resources"].items()}
print(json.dumps(out, default=str))
"#;
    let dir = workspace_root().join("deploy/azure");
    let out = std::process::Command::new(py)
        .arg("-c")
        .arg(script)
        .arg(dir.join("infrastructure.bicep"))
        .arg(dir.join("applications.bicep"))
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "the templates do not parse (or pycep-parser is missing: run scripts/peers.sh):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let types = |file: &str| -> BTreeSet<String> {
        v[file]
            .as_object()
            .expect("resources")
            .values()
            .filter_map(|r| r["type"].as_str().map(str::to_string))
            .collect()
    };
    let infra = types("infrastructure");
    for t in [
        "Microsoft.Network/virtualNetworks",
        "Microsoft.Network/privateEndpoints",
        "Microsoft.Network/privateDnsZones",
        "Microsoft.App/managedEnvironments",
        "Microsoft.App/managedEnvironments/storages",
        "Microsoft.DBforPostgreSQL/flexibleServers",
        "Microsoft.KeyVault/vaults",
        "Microsoft.KeyVault/vaults/secrets",
        "Microsoft.Storage/storageAccounts/fileServices/shares",
        "Microsoft.ServiceBus/namespaces/queues",
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.Authorization/roleAssignments",
    ] {
        assert!(infra.contains(t), "infrastructure.bicep lacks {t}");
    }
    let vault = &v["infrastructure"]["vault"]["config"]["properties"];
    assert_eq!(vault["enableRbacAuthorization"], true);
    assert_eq!(vault["publicNetworkAccess"], "Disabled");
    let pg = &v["infrastructure"]["postgres"]["config"]["properties"];
    assert_eq!(pg["network"]["publicNetworkAccess"], "Disabled");
    let apps = types("applications");
    assert!(apps.contains("Microsoft.App/containerApps") && apps.contains("Microsoft.App/jobs"));
    // A conditional resource (`= if (…) {`) nests its body one level deeper.
    let server = &v["applications"]["server"]["config"];
    assert_eq!(server["condition"], "deployApps");
    let server = &server["config"]["properties"];
    assert_eq!(server["template"]["containers"][0]["env"], "serverEnv");
    assert_eq!(
        server["template"]["containers"][0]["command"],
        serde_json::json!(["/usr/local/bin/i2server"])
    );
    assert_eq!(
        server["template"]["containers"][0]["args"],
        serde_json::json!(["serve"])
    );
    let migrate = &v["applications"]["migrate"]["config"]["properties"];
    assert_eq!(migrate["configuration"]["triggerType"], "Manual");
    assert_eq!(
        migrate["template"]["containers"][0]["args"],
        serde_json::json!(["migrate"])
    );
}

#[tokio::test]
async fn every_probe_path_is_a_route_that_answers_200() {
    let text = deploy_file("azure/applications.bicep");
    let mut paths = BTreeSet::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("var ")
            && let Some((name, value)) = rest.split_once(" = '")
            && name.ends_with("Path")
        {
            paths.insert(value.trim_end_matches('\'').to_string());
        }
        if l.contains("httpGet:") && l.contains("port: 8000") {
            match quoted_after(l, "path: ") {
                Some(p) => {
                    paths.insert(p.to_string());
                }
                None => assert!(
                    l.contains("path: healthPath") || l.contains("path: livenessPath"),
                    "a probe path this test cannot resolve: {l}"
                ),
            }
        }
    }
    // The server image's HEALTHCHECK.
    let docker = deploy_file("docker/server.Dockerfile");
    let hc = docker
        .lines()
        .find(|l| l.contains("\"healthcheck\""))
        .expect("server.Dockerfile has a HEALTHCHECK using i2server healthcheck");
    let hc_path = hc
        .split('"')
        .find(|p| p.starts_with('/') && !p.starts_with("/usr"))
        .expect("HEALTHCHECK path");
    paths.insert(hc_path.to_string());
    assert!(
        paths.contains("/api/ccp4i2/health/") && paths.len() >= 2,
        "{paths:?}"
    );
    let app = TestApp::start(Backend::Sqlite).await.expect("sqlite app");
    for p in &paths {
        let r = app.get(p).await;
        assert_eq!(
            r.status,
            200,
            "probe path {p}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let health = app.get("/api/ccp4i2/health/").await.json();
    assert_eq!(health["database"], "connected");
    app.finish().await;
}

#[test]
fn every_secret_reference_names_a_secret_that_is_created() {
    let apps = deploy_file("azure/applications.bicep");
    let infra = deploy_file("azure/infrastructure.bicep");
    // Key Vault secrets infrastructure.bicep creates.
    let lines: Vec<&str> = infra.lines().collect();
    let mut created = BTreeSet::new();
    for (i, l) in lines.iter().enumerate() {
        if l.contains("'Microsoft.KeyVault/vaults/secrets@") {
            let name = lines[i..]
                .iter()
                .take(4)
                .find_map(|l| quoted_after(l.trim(), "name: "))
                .unwrap_or_else(|| panic!("secret resource without a name: {l}"));
            created.insert(name.to_string());
        }
    }
    assert!(created.contains("db-password"), "{created:?}");
    // App secrets: each a Key Vault reference read with the identity.
    let mut app_secrets = BTreeMap::new();
    for l in apps.lines().map(str::trim) {
        if l.contains("keyVaultUrl:") {
            let name = quoted_after(l, "name: ").expect("secret name");
            let url = l
                .split("secrets/")
                .nth(1)
                .and_then(|r| r.split('\'').next())
                .expect("keyVaultUrl ends in secrets/<name>");
            assert!(
                l.contains("identity: identityId"),
                "secret {name} is not read with the identity: {l}"
            );
            app_secrets.insert(name.to_string(), url.to_string());
        }
        assert!(
            !(l.contains("secrets:") && l.contains("value:")),
            "a secret with a literal value: {l}"
        );
    }
    let mut problems = Vec::new();
    for (name, vault_name) in &app_secrets {
        if !created.contains(vault_name) {
            problems.push(format!(
                "app secret {name} reads Key Vault secret {vault_name}, which infrastructure.bicep does not create"
            ));
        }
    }
    let mut refs = 0;
    for l in apps.lines() {
        if let Some(r) = quoted_after(l, "secretRef: ") {
            refs += 1;
            if !app_secrets.contains_key(r) {
                problems.push(format!("secretRef {r} names no app secret: {}", l.trim()));
            }
        }
    }
    assert!(refs >= 4, "secret references found: {refs}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The scaler's query from the template.
fn scaler_query() -> String {
    let text = deploy_file("azure/applications.bicep");
    assert!(
        text.lines().any(|l| l.trim() == "query: workerDemandQuery"),
        "the postgresql scale rule uses workerDemandQuery"
    );
    assert!(text.lines().any(|l| l.trim() == "type: 'postgresql'"));
    let line = text
        .lines()
        .find(|l| l.starts_with("var workerDemandQuery = '''"))
        .expect("var workerDemandQuery");
    line.trim_start_matches("var workerDemandQuery = '''")
        .trim_end_matches("'''")
        .to_string()
}

async fn demand(app: &TestApp, sql: &str) -> i64 {
    let mut c = app.db.clone();
    let (n,): (i64,) = c
        .fetch_one(sql, vec![])
        .await
        .unwrap_or_else(|e| panic!("the scaler query fails on {}: {e}", app.backend.name()));
    n
}

async fn scaler_counts_jobs_that_need_a_worker(backend: Backend) {
    let sql = scaler_query();
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let db = &app.db;
    assert_eq!(demand(&app, &sql).await, 0, "empty queue");
    let jobs = make_jobs(&app, 4).await;
    for j in &jobs {
        queue::enqueue(db, *j).await.expect("enqueue");
    }
    assert_eq!(demand(&app, &sql).await, 4, "four queued");
    let a = queue::claim(db, "w1", "h", 60)
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(demand(&app, &sql).await, 4, "three queued and one held");
    let queued: Vec<i64> = jobs.iter().copied().filter(|j| *j != a.job_id).collect();
    queue::cancel(db, queued[0]).await.expect("cancel");
    assert_eq!(
        demand(&app, &sql).await,
        3,
        "a cancelled queued job needs no worker"
    );
    // A worker that vanishes: its lease is already over, the row is claimable again.
    let c = queue::claim(db, "w2", "h", -5)
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(demand(&app, &sql).await, 3, "a held job keeps its replica");
    assert!(
        queue::finish(db, a.job_id, a.fence, &Outcome::Succeeded)
            .await
            .expect("finish")
    );
    assert_eq!(
        demand(&app, &sql).await,
        2,
        "a finished job needs no worker"
    );
    // Exactly that many claims succeed: the remaining queued job and the expired lease.
    let mut claimed = Vec::new();
    while let Some(k) = queue::claim(db, "w3", "h", 60).await.expect("claim") {
        claimed.push(k);
    }
    assert_eq!(claimed.len(), 2, "claimable now: {claimed:?}");
    assert!(claimed.iter().any(|k| k.job_id == c.job_id), "recovered");
    assert_eq!(demand(&app, &sql).await, 2, "both held");
    for k in &claimed {
        queue::finish(db, k.job_id, k.fence, &Outcome::Succeeded)
            .await
            .expect("finish");
    }
    assert_eq!(demand(&app, &sql).await, 0, "drained: scale to zero");
    // /metrics reads the same table.
    let m = String::from_utf8_lossy(&app.get("/metrics").await.body).to_string();
    assert!(m.contains("i2server_queue_depth 0\n"), "{m}");
    assert!(m.contains("i2server_lease_recoveries 1\n"), "{m}");
    assert!(
        m.contains("i2server_job_attempts_finished{outcome=\"cancelled\"} 1\n"),
        "{m}"
    );
    app.finish().await;
}

#[tokio::test]
async fn scaler_query_counts_jobs_that_need_a_worker_sqlite() {
    scaler_counts_jobs_that_need_a_worker(Backend::Sqlite).await;
}

#[tokio::test]
async fn scaler_query_counts_jobs_that_need_a_worker_postgres() {
    scaler_counts_jobs_that_need_a_worker(Backend::Postgres).await;
}

/// The last stage of a Dockerfile (after its last FROM).
fn final_stage(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .rposition(|l| l.starts_with("FROM "))
        .expect("FROM");
    lines[start..].iter().map(|l| l.to_string()).collect()
}

#[test]
fn images_run_the_binary_as_a_non_root_user() {
    let bin = env!("CARGO_BIN_EXE_i2server");
    let apps = deploy_file("azure/applications.bicep");
    for (file, cmd) in [
        ("docker/server.Dockerfile", "serve"),
        ("docker/worker.Dockerfile", "worker"),
    ] {
        let text = deploy_file(file);
        let stage = final_stage(&text);
        let user = stage
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix("USER "))
            .unwrap_or_else(|| panic!("{file}: no USER in the final stage"));
        let uid = user.split(':').next().unwrap_or_default();
        assert!(!["root", "0", ""].contains(&uid), "{file}: runs as {user}");
        assert!(
            stage
                .iter()
                .any(|l| l.starts_with("COPY --from=build ")
                    && l.ends_with(" /usr/local/bin/i2server")),
            "{file}: the binary at /usr/local/bin/i2server"
        );
        assert!(
            stage
                .iter()
                .any(|l| l == "ENTRYPOINT [\"/usr/local/bin/i2server\"]"),
            "{file}: ENTRYPOINT"
        );
        assert!(
            stage.iter().any(|l| *l == format!("CMD [\"{cmd}\"]")),
            "{file}: CMD {cmd}"
        );
        assert!(
            stage.iter().any(|l| l.starts_with("HEALTHCHECK")),
            "{file}: HEALTHCHECK"
        );
    }
    // The worker image's CCP4 source matches the template's choice.
    let worker = deploy_file("docker/worker.Dockerfile");
    for source in ["image", "share"] {
        assert!(
            worker
                .lines()
                .any(|l| l.starts_with("FROM ") && l.ends_with(&format!(" AS ccp4-{source}"))),
            "worker.Dockerfile stage ccp4-{source}"
        );
    }
    assert!(worker.lines().any(|l| l == "FROM ccp4-${CCP4_SOURCE}"));
    assert!(apps.contains("@allowed([ 'image', 'share' ])\nparam ccp4Source string"));
    // Every command the templates and images run is a real subcommand.
    let mut subcommands = BTreeSet::from(["serve", "worker", "healthcheck", "doctor"]);
    for l in apps.lines().map(str::trim) {
        if let Some(a) = l.strip_prefix("args: [ '") {
            let sub = a.split('\'').next().unwrap_or_default();
            if !sub.is_empty() && !sub.starts_with('$') && !sub.contains('/') {
                subcommands.insert(sub);
            }
        }
    }
    assert!(subcommands.contains("migrate"), "{subcommands:?}");
    for sub in subcommands {
        let out = std::process::Command::new(bin)
            .args([sub, "--help"])
            .output()
            .expect("run i2server");
        assert!(out.status.success(), "i2server {sub} --help failed");
    }
    assert!(
        apps.lines()
            .filter(|l| l.contains("command: ["))
            .all(|l| l.contains("'/usr/local/bin/i2server'") || l.contains("setup-ccp4-share.sh")),
        "template commands run the binary"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = TestApp::start(Backend::Sqlite).await.expect("sqlite app");
    for _ in 0..3 {
        assert_eq!(app.get("/api/ccp4i2/projects/").await.status, 200);
    }
    assert_eq!(app.get("/api/ccp4i2/projects/99999/").await.status, 404);
    assert_eq!(app.get("/nowhere").await.status, 404);
    let jobs = make_jobs(&app, 1).await;
    queue::enqueue(&app.db, jobs[0]).await.expect("enqueue");
    let r = app.get("/metrics").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let m = String::from_utf8_lossy(&r.body).to_string();
    for want in [
        "i2server_http_requests_total{method=\"GET\",route=\"/api/ccp4i2/projects/\",status=\"200\"} 3\n",
        "i2server_http_requests_total{method=\"GET\",route=\"/api/ccp4i2/projects/{id}/\",status=\"404\"} 1\n",
        "i2server_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n",
        // Three GETs and make_jobs's POST: latency is by route, whatever the method.
        "i2server_http_request_duration_seconds_count{route=\"/api/ccp4i2/projects/\"} 4\n",
        "i2server_http_requests_total{method=\"POST\",route=\"/api/ccp4i2/projects/\",status=\"201\"} 1\n",
        "# TYPE i2server_http_request_duration_seconds histogram\n",
        "i2server_queue_depth 1\n",
        "i2server_jobs_running 0\n",
        "i2server_database_up 1\n",
    ] {
        assert!(m.contains(want), "missing {want:?} in:\n{m}");
    }
    // Every sample line is `name{labels} number`.
    for l in m.lines().filter(|l| !l.starts_with('#')) {
        let (_, v) = l.rsplit_once(' ').expect("sample");
        assert!(v.parse::<f64>().is_ok(), "{l}");
    }
    app.finish().await;
}

/// `I2SERVER_LOG_FORMAT=json`: every log line is a JSON object with a level and a message; and
/// `i2server healthcheck` tells a healthy server from a missing route or no server.
#[test]
fn logs_are_json_lines_when_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |json: bool| {
        let port = free_port();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_i2server"));
        cmd.args(["serve", "--port", &port.to_string(), "--workers", "0"])
            .env("CCP4I2_HOME", dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("DB_HOST")
            .env("I2SERVER_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        if json {
            cmd.env("I2SERVER_LOG_FORMAT", "json");
        } else {
            cmd.env_remove("I2SERVER_LOG_FORMAT");
        }
        let mut child = cmd.spawn().expect("spawn i2server serve");
        let up = wait_healthy(port, "/api/ccp4i2/health/", 30);
        // The images' HEALTHCHECK command, while the server is up and after it is gone.
        let healthcheck = |path: &str| {
            std::process::Command::new(env!("CARGO_BIN_EXE_i2server"))
                .args(["healthcheck", path, "--port", &port.to_string()])
                .output()
                .expect("run i2server healthcheck")
                .status
                .success()
        };
        let (live, missing) = (
            healthcheck("/api/ccp4i2/health/"),
            healthcheck("/api/ccp4i2/no-such-route/"),
        );
        let _ = child.kill();
        let out = child.wait_with_output().expect("output");
        assert!(up, "server up: {}", String::from_utf8_lossy(&out.stderr));
        assert!(live, "healthcheck passes on a healthy server");
        assert!(!missing, "healthcheck fails on a 404");
        assert!(
            !healthcheck("/api/ccp4i2/health/"),
            "healthcheck fails when nothing listens"
        );
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let text = run(true);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "some log lines");
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(
            v["level"].is_string() && v["fields"]["message"].is_string(),
            "{l}"
        );
    }
    assert!(
        lines.iter().any(|l| l.contains("\"message\":\"serving\"")),
        "{text}"
    );
    let plain = run(false);
    assert!(
        plain.lines().any(|l| l.contains("serving")) && !plain.trim_start().starts_with('{'),
        "{plain}"
    );
}

/// deploy/rehearse.sh end to end, bounded in time; its processes are its own to stop.
#[test]
fn the_local_rehearsal_passes() {
    let Some(pg) = pg_admin_url() else { return };
    let Some(py) = upstream_python() else { return };
    let root = ccp4i2_root();
    let script = workspace_root().join("deploy/rehearse.sh");
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(&script)
        .env("I2SERVER_BIN", env!("CARGO_BIN_EXE_i2server"))
        .env("I2_TEST_PG_URL", pg)
        .env("I2_TEST_PYTHON", py)
        .env("I2_CCP4I2_ROOT", root)
        .env("REHEARSAL_SECS", "420")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // Its own process group, so a timeout ends the script and everything it started.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd.spawn().expect("run deploy/rehearse.sh");
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(480);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(out) => break out.expect("rehearsal output"),
            Err(_) if Instant::now() > deadline => {
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &format!("-{pid}")])
                    .status();
                panic!("the rehearsal did not finish in 480 s");
            }
            Err(_) => {}
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "rehearsal failed:\n{stdout}\n{stderr}"
    );
    for want in [
        "ok: health/ 200, database connected",
        "ok: projects/ 200",
        "Finished (statuses seen:",
        ": FREEROUT.mtz registered",
        "ran on: worker-",
        "ok: workers used:",
        "rehearsal passed",
    ] {
        assert!(stdout.contains(want), "missing {want:?}:\n{stdout}");
    }
}
