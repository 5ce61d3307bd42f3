use async_trait::async_trait;

use crate::error::AppResult;
use crate::model::Festival;

/// Where festivals and their per-date ticket stock live.
#[async_trait]
pub trait FestivalStore: Send + Sync {
    /// Stores the festival and one stock record per date, all or nothing.
    async fn create_festival(&self, festival: &Festival) -> AppResult<()>;

    /// The festival with the live remaining count of every date.
    async fn get_festival(&self, festival_id: &str) -> AppResult<Option<Festival>>;

    /// The festivals among `ids` that exist, in the order of `ids`; with live stock when
    /// `with_stock`, else with empty `tickets` (search checks text first, stock only for what
    /// it returns).
    async fn get_festivals(&self, ids: &[String], with_stock: bool) -> AppResult<Vec<Festival>>;

    /// Up to `limit` festivals, newest first, strictly older than the festival `before`.
    async fn list_festivals(&self, before: Option<&str>, limit: usize) -> AppResult<Vec<Festival>>;
}
