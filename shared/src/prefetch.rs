//! A value a function needs from the network once per cold start (a key from Secrets Manager),
//! fetched in the background so the fetch never holds up the runtime loop: the function asks
//! Lambda for its first event at once, and the first request that needs the value waits for
//! the fetch already under way. An attempt that failed is made again by the next request.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::OnceCell;

use crate::error::{AppError, AppResult};

type Fetch<T> = Arc<dyn Fn() -> BoxFuture<'static, AppResult<T>> + Send + Sync>;

/// A value that is either ready or on its way.
pub struct Prefetched<T> {
    cell: Arc<OnceCell<T>>,
    fetch: Option<Fetch<T>>,
}

impl<T> Clone for Prefetched<T> {
    fn clone(&self) -> Self {
        Prefetched {
            cell: self.cell.clone(),
            fetch: self.fetch.clone(),
        }
    }
}

impl<T: Send + Sync + 'static> Prefetched<T> {
    /// A value known at start-up (the local platform, tests, a key given directly).
    pub fn ready(value: T) -> Self {
        Prefetched {
            cell: Arc::new(OnceCell::new_with(Some(value))),
            fetch: None,
        }
    }

    /// Starts fetching now, on the current Tokio runtime, and keeps the first value fetched.
    pub fn fetch<F, Fut>(fetch: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = AppResult<T>> + Send + 'static,
    {
        let prefetched = Prefetched {
            cell: Arc::new(OnceCell::new()),
            fetch: Some(Arc::new(move || -> BoxFuture<'static, AppResult<T>> {
                Box::pin(fetch())
            })),
        };
        let early = prefetched.clone();
        tokio::spawn(async move {
            if let Err(err) = early.get().await {
                tracing::error!(error = %err, "fetch at cold start failed; the next request tries again");
            }
        });
        prefetched
    }

    /// The value, waiting for the fetch under way (or making a new one after a failure).
    pub async fn get(&self) -> AppResult<&T> {
        match &self.fetch {
            None => self
                .cell
                .get()
                .ok_or_else(|| AppError::internal("a ready value is missing")),
            Some(fetch) => self.cell.get_or_try_init(|| fetch()).await,
        }
    }
}

#[async_trait::async_trait]
impl<G: crate::ports::PushGateway + 'static> crate::ports::PushGateway for Prefetched<G> {
    async fn send(&self, push: &crate::model::PushMessage) -> AppResult<crate::ports::PushOutcome> {
        self.get().await?.send(push).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn the_fetch_starts_at_once_runs_once_and_is_retried_after_a_failure() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let value = Prefetched::fetch(move || {
            let attempt = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                match attempt {
                    0 => Err(AppError::internal("Secrets Manager is slow today")),
                    _ => Ok(format!("key after {} attempts", attempt + 1)),
                }
            }
        });
        // Started without anyone asking.
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(40)).await;
        // The background attempt failed; the first request fetches again and keeps the value.
        let (a, b) = tokio::join!(value.get(), value.get());
        assert_eq!(a.unwrap(), "key after 2 attempts");
        assert_eq!(b.unwrap(), "key after 2 attempts");
        assert_eq!(value.get().await.unwrap(), "key after 2 attempts");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_ready_value_needs_no_runtime_work() {
        let value = Prefetched::ready(7);
        assert_eq!(*value.get().await.unwrap(), 7);
        assert_eq!(*value.clone().get().await.unwrap(), 7);
    }
}
