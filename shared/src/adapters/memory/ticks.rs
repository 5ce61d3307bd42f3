use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::error::{AppError, AppResult};
use crate::ports::{AdmitTick, AdmitTicks};

/// A tick and the moment it becomes due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTick {
    pub tick: AdmitTick,
    pub due: Instant,
}

/// Admitter ticks handed to an in-process scheduler over a channel: the embedded platform's
/// stand-in for the admit queue. The receiving end decides when and how to run them.
#[derive(Clone)]
pub struct InProcessTicks {
    sender: mpsc::UnboundedSender<DueTick>,
}

impl InProcessTicks {
    /// The sender for the ports, and the receiver a scheduler drains.
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<DueTick>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (InProcessTicks { sender }, receiver)
    }
}

#[async_trait]
impl AdmitTicks for InProcessTicks {
    async fn schedule(&self, tick: &AdmitTick, delay: Duration) -> AppResult<()> {
        self.sender
            .send(DueTick {
                tick: tick.clone(),
                due: Instant::now() + delay,
            })
            .map_err(|_| AppError::internal("the in-process admitter has stopped"))
    }
}
