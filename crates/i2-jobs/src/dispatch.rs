//! How a job queued in this process reaches one of its workers.
//!
//! An idle worker leaves a slot here. `run/` takes a slot when there is one, queues the job
//! already claimed by that worker (`queue::hand_to_worker`, one transaction) and hands
//! the claim over in memory, so the runner starts without a wake-up, a search of the queue
//! or a second commit. With no idle worker the job is simply queued and a worker woken
//! ([`Dispatch::wake`]); workers in other processes find it by claiming, as always. The
//! queue row stays the truth: a hand-over that never arrives leaves a claim whose lease
//! expires and is recovered like any lost worker's.

use std::sync::Mutex;

use i2_store::queue::{Claim, JobToRun};
use tokio::sync::{Notify, oneshot};

/// A job claimed for a worker, with what it needs to start it.
#[derive(Debug)]
pub struct Handoff {
    pub claim: Claim,
    pub job: JobToRun,
}

/// An idle worker's offer to take the next job.
#[derive(Debug)]
pub struct IdleSlot {
    /// The worker id and host its claims are recorded under, and its lease length.
    pub worker: String,
    pub host: String,
    pub lease_secs: i64,
    ticket: u64,
    to_worker: oneshot::Sender<Handoff>,
}

impl IdleSlot {
    /// Give the worker its job. Fails, returning the claim to undo, if the worker stopped
    /// meanwhile.
    pub fn hand_over(self, h: Handoff) -> Result<(), Claim> {
        self.to_worker.send(h).map_err(|h| h.claim)
    }
}

/// What a worker holds while it is idle: the other end of its slot.
#[derive(Debug)]
pub struct IdleTicket {
    ticket: u64,
    pub from_dispatch: oneshot::Receiver<Handoff>,
}

/// Idle workers of this process and the wake-up for those that are not waiting in a slot.
#[derive(Debug, Default)]
pub struct Dispatch {
    wake: Notify,
    idle: Mutex<IdleList>,
}

#[derive(Debug, Default)]
struct IdleList {
    next_ticket: u64,
    slots: Vec<IdleSlot>,
}

impl Dispatch {
    pub fn new() -> Dispatch {
        Dispatch::default()
    }

    /// Let one worker look at the queue now (the job was queued without a taker).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves when [`Dispatch::wake`] is called (or was, since the last wake-up taken).
    pub async fn woken(&self) {
        self.wake.notified().await
    }

    /// Offer `worker` for the next job.
    pub fn offer(&self, worker: &str, host: &str, lease_secs: i64) -> IdleTicket {
        let (to_worker, from_dispatch) = oneshot::channel();
        let mut idle = self.lock();
        idle.next_ticket += 1;
        let ticket = idle.next_ticket;
        idle.slots.push(IdleSlot {
            worker: worker.to_string(),
            host: host.to_string(),
            lease_secs,
            ticket,
            to_worker,
        });
        IdleTicket {
            ticket,
            from_dispatch,
        }
    }

    /// Take back an offer. `false` when a job is already on its way to the worker: it must
    /// then wait on its ticket for the hand-over (or for the sender to give up).
    pub fn withdraw(&self, t: &IdleTicket) -> bool {
        let mut idle = self.lock();
        match idle.slots.iter().position(|s| s.ticket == t.ticket) {
            Some(i) => {
                idle.slots.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// How many workers are waiting for a job right now.
    pub fn idle_workers(&self) -> usize {
        self.lock().slots.len()
    }

    /// The idle worker that has waited longest, if any.
    pub fn take_idle(&self) -> Option<IdleSlot> {
        let mut idle = self.lock();
        if idle.slots.is_empty() {
            None
        } else {
            Some(idle.slots.remove(0))
        }
    }

    /// The list is only ever pushed to and removed from; a panic while holding the lock
    /// cannot leave it half-changed, so a poisoned lock is still usable.
    fn lock(&self) -> std::sync::MutexGuard<'_, IdleList> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handoff(job_id: i64) -> Handoff {
        Handoff {
            claim: Claim {
                job_id,
                fence: 1,
                attempts: 1,
                max_attempts: 3,
                prev_pid: None,
                prev_host: None,
            },
            job: JobToRun {
                uuid: i2_store::DbUuid(uuid::Uuid::nil()),
                task_name: "t".into(),
                number: "1".into(),
                status: 3,
                project_dir: "/p".into(),
            },
        }
    }

    #[tokio::test]
    async fn the_longest_idle_worker_is_handed_the_job() {
        let d = Dispatch::new();
        let mut a = d.offer("a", "h", 30);
        let _b = d.offer("b", "h", 30);
        let slot = d.take_idle().expect("an idle worker");
        assert_eq!(slot.worker, "a");
        assert!(slot.hand_over(handoff(7)).is_ok());
        let got = (&mut a.from_dispatch).await.expect("handed over");
        assert_eq!(got.claim.job_id, 7);
        // a's offer is gone; b's is still there.
        assert!(!d.withdraw(&a));
        assert_eq!(d.take_idle().map(|s| s.worker).as_deref(), Some("b"));
        assert!(d.take_idle().is_none());
    }

    #[tokio::test]
    async fn a_withdrawn_offer_is_not_taken_and_a_stopped_worker_gives_the_job_back() {
        let d = Dispatch::new();
        let a = d.offer("a", "h", 30);
        assert!(d.withdraw(&a));
        assert!(d.take_idle().is_none());
        let b = d.offer("b", "h", 30);
        let slot = d.take_idle().expect("b");
        drop(b);
        let back = slot.hand_over(handoff(9)).expect_err("b stopped");
        assert_eq!(back.job_id, 9);
    }
}
