//! `i2server`: the CCP4i2 platform in one binary.

use std::collections::HashMap;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use i2_store::migrate;
use i2server::app;
use i2server::config::Settings;

#[derive(Parser)]
#[command(
    name = "i2server",
    version,
    about = "CCP4i2 server: the upstream API over the same database and project directories"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (creates an empty database's schema; refuses an outdated one).
    Serve {
        #[arg(long, default_value = "127.0.0.1", env = "I2SERVER_HOST")]
        host: String,
        #[arg(long, default_value_t = 8000, env = "I2SERVER_PORT")]
        port: u16,
        /// Job workers in this process (0: API only). Default: the number of CPUs.
        #[arg(long, env = "I2SERVER_WORKERS")]
        workers: Option<usize>,
        /// Acknowledge development mode: no authentication, loopback addresses only
        /// (also `I2SERVER_DEV_MODE=1`).
        #[arg(long)]
        dev: bool,
    },
    /// Run jobs only (no HTTP): claims from the shared database's queue.
    Worker {
        /// Concurrent jobs in this process.
        #[arg(long, default_value_t = 1, env = "I2SERVER_WORKERS")]
        workers: usize,
    },
    /// Create or upgrade the database schema (safe to run from several replicas at once).
    Migrate,
    /// Print the version.
    Version,
    /// Exit 0 when this host's server answers 200 on PATH (default the health route): a
    /// container health check for images without curl.
    Healthcheck {
        #[arg(default_value = "/api/ccp4i2/health/")]
        path: String,
        #[arg(long, default_value_t = 8000, env = "I2SERVER_PORT")]
        port: u16,
    },
    /// Check the installation: database and schema, projects directory, runner Python
    /// (ccp4i2, NumPy, pathlib), CCP4. Exit status 1 when something must be fixed.
    Doctor,
    /// List the CCP4i2 tasks (optionally filtered), or show one; `--refresh` rebuilds the
    /// class cache from the installation.
    Tasks {
        /// A task name to show, or a filter on names and titles.
        filter: Option<String>,
        #[arg(long)]
        refresh: bool,
    },
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("I2SERVER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("I2SERVER_LOG_FORMAT").is_ok_and(|v| v == "json");
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

fn settings() -> Result<Settings, ExitCode> {
    let env: HashMap<String, String> = std::env::vars().collect();
    Settings::from_env(&env).map_err(|e| {
        eprintln!("i2server: configuration error: {e}");
        ExitCode::from(2)
    })
}

/// A watch channel that turns true on SIGTERM or Ctrl-C.
fn shutdown_channel() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = tx.send(true);
    });
    rx
}

fn worker_settings(s: &Settings) -> Result<i2server::workers::WorkerSettings, ExitCode> {
    let env: HashMap<String, String> = std::env::vars().collect();
    i2server::workers::WorkerSettings::from_env(&env, &s.api.host).map_err(|e| {
        eprintln!("i2server: configuration error: {e}");
        ExitCode::from(2)
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn run(cli: Cli) -> Result<(), ExitCode> {
    match cli.command {
        Command::Tasks { filter, refresh } => {
            let s = settings()?;
            let cache = s.home.join("cache");
            let python = i2server::catalogue::installation_python();
            if refresh {
                let root = i2_tasks::find_installation().map_err(|e| {
                    eprintln!("i2server: {e}");
                    ExitCode::FAILURE
                })?;
                let p = i2_tasks::classes::generate_cache(&python, &root, &cache).map_err(|e| {
                    eprintln!("i2server: {e}");
                    ExitCode::FAILURE
                })?;
                println!("class cache written: {}", p.display());
            }
            let cat = i2server::catalogue::load(None, &cache, Some(&python)).map_err(|e| {
                eprintln!("i2server: {e}");
                ExitCode::FAILURE
            })?;
            match filter.as_deref().and_then(|f| cat.task(f)) {
                Some(t) => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&cat.task_lookup()[&t.name])
                            .unwrap_or_default()
                    );
                    if let Ok(p) = cat.def_xml_path(&t.name) {
                        println!("definition: {}", p.display());
                    }
                }
                None => {
                    let f = filter.unwrap_or_default().to_lowercase();
                    for t in cat.tasks() {
                        let title = t.title.clone().unwrap_or_default();
                        if f.is_empty()
                            || t.name.to_lowercase().contains(&f)
                            || title.to_lowercase().contains(&f)
                        {
                            println!("{:<32} {}", t.name, title);
                        }
                    }
                }
            }
            Ok(())
        }
        Command::Doctor => {
            let s = settings()?;
            let python = i2server::catalogue::installation_python();
            let findings = i2server::doctor::run(&s, &python).await;
            for f in &findings {
                println!("{}", f.line());
            }
            if findings
                .iter()
                .any(|f| f.level == i2server::doctor::Level::Fail)
            {
                return Err(ExitCode::FAILURE);
            }
            Ok(())
        }
        Command::Healthcheck { path, port } => match i2server::healthcheck::get(port, &path) {
            Ok(200) => Ok(()),
            Ok(status) => {
                eprintln!("i2server: {path} answered {status}");
                Err(ExitCode::FAILURE)
            }
            Err(e) => {
                eprintln!("i2server: {path}: {e}");
                Err(ExitCode::FAILURE)
            }
        },
        Command::Version => {
            println!("i2server {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Migrate => {
            let s = settings()?;
            let fail = |e: anyhow::Error| {
                eprintln!("i2server: migrate failed: {e:#}");
                ExitCode::FAILURE
            };
            let db = i2_store::Db::connect(&s.database, 2).await.map_err(|e| {
                fail(anyhow::anyhow!(
                    "cannot open the database {:?}: {e}",
                    s.database
                ))
            })?;
            let r = migrate::migrate(&db).await.map_err(|e| fail(e.into()))?;
            println!(
                "schema at version {} (applied {:?}, adopted from upstream {:?})",
                r.version, r.applied, r.adopted
            );
            db.close().await;
            Ok(())
        }
        Command::Worker { workers } => {
            let s = settings()?;
            let ws = worker_settings(&s)?;
            let db = app::open_database(&s.database, false).await.map_err(|e| {
                eprintln!("i2server: {e:#}");
                ExitCode::FAILURE
            })?;
            let shutdown = shutdown_channel();
            let dispatch = std::sync::Arc::new(i2_jobs::Dispatch::new());
            let handles =
                i2server::workers::spawn_workers(workers.max(1), &db, &s, &ws, dispatch, shutdown);
            for h in handles {
                let _ = h.await;
            }
            db.close().await;
            Ok(())
        }
        Command::Serve {
            host,
            port,
            workers,
            dev,
        } => {
            let s = settings()?;
            let dev = dev || s.dev_mode;
            i2server::config::check_bind(&s.api.auth, dev, &host, port).map_err(|e| {
                eprintln!("i2server: configuration error: {e}");
                ExitCode::from(2)
            })?;
            if s.api.auth.is_development() {
                let how = if dev {
                    ""
                } else {
                    " (pass --dev or set I2SERVER_DEV_MODE=1 to acknowledge)"
                };
                tracing::warn!(
                    "development mode: no authentication, every request is served as dev_admin; \
                     loopback only. Set CCP4I2_LOCAL_SESSION_TOKEN or CCP4I2_REQUIRE_AUTH to \
                     require credentials{how}"
                );
            } else {
                tracing::info!(mode = s.api.auth.mode_name(), "authentication");
            }
            let ws = worker_settings(&s)?;
            s.prepare_dirs().map_err(|e| {
                eprintln!("i2server: configuration error: {e}");
                ExitCode::from(2)
            })?;
            let db = app::open_database(&s.database, true).await.map_err(|e| {
                eprintln!("i2server: {e:#}");
                ExitCode::FAILURE
            })?;
            let listener = tokio::net::TcpListener::bind((host.as_str(), port))
                .await
                .map_err(|e| {
                    eprintln!("i2server: cannot listen on {host}:{port}: {e}");
                    ExitCode::FAILURE
                })?;
            tracing::info!(
                address = %format!("http://{host}:{port}/api/ccp4i2/"),
                database = ?s.database,
                projects = %s.api.projects_dir.display(),
                "serving"
            );
            let n = workers.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            });
            let shutdown = shutdown_channel();
            let dispatch = std::sync::Arc::new(i2_jobs::Dispatch::new());
            let handles = i2server::workers::spawn_workers(
                n,
                &db,
                &s,
                &ws,
                dispatch.clone(),
                shutdown.clone(),
            );
            let mut stop = shutdown.clone();
            let served = app::serve(s, db.clone(), listener, dispatch, async move {
                let _ = stop.wait_for(|v| *v).await;
            })
            .await;
            // Workers hand back or finish their jobs before the pool closes.
            for h in handles {
                let _ = h.await;
            }
            db.close().await;
            served.map_err(|e| {
                eprintln!("i2server: {e:#}");
                ExitCode::FAILURE
            })
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("i2server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
