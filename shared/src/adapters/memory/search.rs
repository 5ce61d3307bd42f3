use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::RwLock;

use async_trait::async_trait;

use crate::error::{AppError, AppResult};
use crate::ports::{GramSignature, Posting, PostingBound, SearchIndex};

/// Posting lists as ordered sets, so a read from any point is a logarithmic range lookup;
/// each festival's signature is kept once and attached to its postings as they are read.
#[derive(Default)]
pub struct MemorySearchIndex {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    lists: HashMap<String, BTreeSet<String>>,
    signatures: HashMap<String, GramSignature>,
}

impl MemorySearchIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SearchIndex for MemorySearchIndex {
    async fn add_postings(
        &self,
        festival_id: &str,
        grams: &[String],
        signature: &GramSignature,
    ) -> AppResult<()> {
        let mut inner = self.inner.write().unwrap();
        inner.signatures.insert(festival_id.to_string(), *signature);
        for gram in grams {
            inner
                .lists
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
    ) -> AppResult<Vec<Posting>> {
        let inner = self.inner.read().unwrap();
        let Some(list) = inner.lists.get(gram) else {
            return Ok(Vec::new());
        };
        let upper: Bound<&str> = match from {
            PostingBound::Newest => Bound::Unbounded,
            PostingBound::AtOrBelow(id) => Bound::Included(id),
            PostingBound::Below(id) => Bound::Excluded(id),
        };
        list.range::<str, _>((Bound::Unbounded, upper))
            .rev()
            .take(limit)
            .map(|id| {
                let signature = inner
                    .signatures
                    .get(id)
                    .ok_or_else(|| AppError::internal("a posting without its signature"))?;
                Ok(Posting {
                    festival_id: id.clone(),
                    signature: *signature,
                })
            })
            .collect()
    }
}
