//! Stopping a run early (Ctrl-C, SIGTERM) without losing it: the run stops sending, and the
//! report is still written from what finished, with verdict `incomplete`.

use std::future::Future;

use tokio::sync::watch;

/// Becomes set, with a reason, when the run is to stop.
#[derive(Debug, Clone)]
pub struct Interrupt(watch::Receiver<Option<String>>);

impl Interrupt {
    /// An interrupt and the switch that sets it (`send(Some(reason))`).
    pub fn channel() -> (watch::Sender<Option<String>>, Self) {
        let (sender, receiver) = watch::channel(None);
        (sender, Self(receiver))
    }

    /// One that never fires.
    pub fn never() -> Self {
        Self::channel().1
    }

    /// Waits until the interrupt is set; never returns if it cannot be set any more.
    pub async fn wait(&self) -> String {
        let mut receiver = self.0.clone();
        loop {
            if let Some(reason) = receiver.borrow_and_update().clone() {
                return reason;
            }
            if receiver.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Runs `work` unless the interrupt comes first: `Err(reason)` then, and `work` is dropped
    /// (its requests cancelled).
    pub async fn guard<F: Future>(&self, work: F) -> Result<F::Output, String> {
        tokio::select! {
            output = work => Ok(output),
            reason = self.wait() => Err(reason),
        }
    }

    /// `work`'s output, unless the run was interrupted before it (`interrupted` holds why) or
    /// while it ran (then `interrupted` says why): nothing, then.
    pub async fn unless_interrupted<F>(
        &self,
        interrupted: &mut Option<String>,
        work: F,
    ) -> F::Output
    where
        F: Future,
        F::Output: Default,
    {
        if interrupted.is_some() {
            return F::Output::default();
        }
        self.guard(work).await.unwrap_or_else(|reason| {
            *interrupted = Some(reason);
            F::Output::default()
        })
    }
}

impl Default for Interrupt {
    fn default() -> Self {
        Self::never()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_to_the_end_unless_interrupted() {
        let (switch, interrupt) = Interrupt::channel();
        assert_eq!(interrupt.guard(async { 7 }).await, Ok(7));
        switch.send(Some("SIGINT".into())).unwrap();
        let stalled = interrupt.guard(std::future::pending::<()>()).await;
        assert_eq!(stalled, Err("SIGINT".to_owned()));
        assert_eq!(Interrupt::never().guard(async { "done" }).await, Ok("done"));
    }
}
