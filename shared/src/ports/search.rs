use async_trait::async_trait;

use crate::error::AppResult;

/// Where a posting-list read starts, walking from newest to oldest festival id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostingBound<'a> {
    /// From the newest festival.
    Newest,
    /// From this id, including it.
    AtOrBelow(&'a str),
    /// From the first id older than this one.
    Below(&'a str),
}

/// An inverted index from n-grams to festival ids, each posting list sorted by id.
///
/// The search service intersects lists by seeking (leapfrog), so a read costs what it returns,
/// never a scan of the catalogue.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// Adds the festival to the posting list of every gram.
    async fn add_postings(&self, festival_id: &str, grams: &[String]) -> AppResult<()>;

    /// Up to `limit` festival ids of `gram`'s list from `from`, newest first.
    async fn postings(
        &self,
        gram: &str,
        from: PostingBound<'_>,
        limit: usize,
    ) -> AppResult<Vec<String>>;
}
