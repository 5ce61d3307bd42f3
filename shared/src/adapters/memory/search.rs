use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::RwLock;

use async_trait::async_trait;

use crate::error::AppResult;
use crate::ports::{PostingBound, SearchIndex};

/// Posting lists as ordered sets, so a seek is a logarithmic range lookup.
#[derive(Default)]
pub struct MemorySearchIndex {
    postings: RwLock<HashMap<String, BTreeSet<String>>>,
}

impl MemorySearchIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SearchIndex for MemorySearchIndex {
    async fn add_postings(&self, festival_id: &str, grams: &[String]) -> AppResult<()> {
        let mut postings = self.postings.write().unwrap();
        for gram in grams {
            postings
                .entry(gram.clone())
                .or_default()
                .insert(festival_id.to_string());
        }
        Ok(())
    }

    async fn postings(
        &self,
        gram: &str,
        from: PostingBound<'_>,
        limit: usize,
    ) -> AppResult<Vec<String>> {
        let postings = self.postings.read().unwrap();
        let Some(list) = postings.get(gram) else {
            return Ok(Vec::new());
        };
        let upper: Bound<&str> = match from {
            PostingBound::Newest => Bound::Unbounded,
            PostingBound::AtOrBelow(id) => Bound::Included(id),
            PostingBound::Below(id) => Bound::Excluded(id),
        };
        Ok(list
            .range::<str, _>((Bound::Unbounded, upper))
            .rev()
            .take(limit)
            .cloned()
            .collect())
    }
}
