//! Waking idle workers when a job is queued by another process (PostgreSQL
//! `LISTEN i2_job_queue`). Each wake-up lets one idle worker of this process claim at once;
//! the poll interval stays as the fallback for lost connections and expired leases.

use std::sync::Arc;
use std::time::Duration;

use i2_store::Db;
use i2_store::queue::EnqueueListener;
use tokio::sync::watch;

use crate::dispatch::Dispatch;

/// Forward enqueue announcements to the workers of `dispatch` until `shutdown` turns true. Returns at once on
/// SQLite. A lost listener is reconnected after a pause.
pub async fn forward_enqueues(
    db: Db,
    dispatch: Arc<Dispatch>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let mut listener = match EnqueueListener::connect(&db).await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for queued jobs; polling only, retrying in 5 s");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(5)) => continue,
                    _ = shutdown.changed() => return,
                }
            }
        };
        tracing::debug!("listening for queued jobs");
        loop {
            tokio::select! {
                r = listener.recv() => match r {
                    Ok(()) => dispatch.wake(),
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for queued jobs failed; reconnecting");
                        break;
                    }
                },
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }
}
