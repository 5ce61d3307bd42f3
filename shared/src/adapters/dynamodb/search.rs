//! The n-gram index: one item per posting, pk `<gram>`, sk `<festivalId>`, and `sig` (B): the
//! festival's 128-byte gram signature.

use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::attrs::{self, Item};
use super::{backoff, build_error, query_limit, sdk_error, DynamoSearchIndex, BATCH_ATTEMPTS};
use crate::error::{AppError, AppResult};
use crate::ports::{GramSignature, Posting, PostingBound, SearchIndex};

/// BatchWriteItem's limit on items per request.
const BATCH_WRITE_ITEMS: usize = 25;
/// How many BatchWriteItem requests run at once.
const BATCH_WRITE_CONCURRENCY: usize = 4;
/// The attribute holding a posting's festival signature.
const SIGNATURE: &str = "sig";

/// A queried posting item back as a `Posting`; errors name the attribute, never its value.
fn posting(item: &Item) -> AppResult<Posting> {
    let festival_id = attrs::req_string(item, "sk")?;
    let signature =
        GramSignature::from_bytes(attrs::req_bytes(item, SIGNATURE)?).ok_or_else(|| {
            AppError::internal(format!(
                "stored item has a malformed {SIGNATURE} attribute (expected {} bytes)",
                GramSignature::BYTES
            ))
        })?;
    Ok(Posting {
        festival_id,
        signature,
    })
}

impl DynamoSearchIndex {
    async fn write_chunk(&self, mut pending: Vec<WriteRequest>) -> AppResult<()> {
        for attempt in 0..BATCH_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let mut out = self
                .client
                .batch_write_item()
                .request_items(&self.table, pending)
                .send()
                .await
                .map_err(|e| sdk_error("BatchWriteItem (postings)", &self.table, e))?;
            match out
                .unprocessed_items
                .take()
                .and_then(|mut u| u.remove(&self.table))
            {
                Some(rest) if !rest.is_empty() => pending = rest,
                _ => return Ok(()),
            }
        }
        // Postings left unprocessed attempt after attempt: the table is throttled.
        Err(AppError::unavailable(format!(
            "DynamoDB BatchWriteItem on table {} left postings unprocessed after {BATCH_ATTEMPTS} attempts",
            self.table
        )))
    }
}

#[async_trait]
impl SearchIndex for DynamoSearchIndex {
    async fn add_postings(
        &self,
        festival_id: &str,
        grams: &[String],
        signature: &GramSignature,
    ) -> AppResult<()> {
        // BatchWriteItem refuses duplicate keys in one request; a set also makes the chunks
        // deterministic.
        // DynamoDB keys cannot be empty strings, and no query can ask for an empty gram.
        let grams: BTreeSet<&str> = grams
            .iter()
            .map(String::as_str)
            .filter(|g| !g.is_empty())
            .collect();
        let requests = grams
            .into_iter()
            .map(|gram| {
                let mut item = attrs::key(gram, festival_id);
                item.insert(
                    SIGNATURE.to_string(),
                    AttributeValue::B(Blob::new(signature.0.to_vec())),
                );
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| build_error("posting put", e))?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<AppResult<Vec<_>>>()?;
        let chunks: Vec<Vec<WriteRequest>> = requests
            .chunks(BATCH_WRITE_ITEMS)
            .map(<[WriteRequest]>::to_vec)
            .collect();
        stream::iter(chunks)
            .map(|chunk| self.write_chunk(chunk))
            .buffer_unordered(BATCH_WRITE_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn postings(
        &self,
        gram: &str,
        from: PostingBound<'_>,
        limit: usize,
    ) -> AppResult<Vec<Posting>> {
        let mut postings = Vec::new();
        // Keys are never empty strings: an empty gram has no list and nothing sorts below "".
        let empty_bound = matches!(from, PostingBound::AtOrBelow("") | PostingBound::Below(""));
        if gram.is_empty() || empty_bound {
            return Ok(postings);
        }
        let mut start: Option<Item> = None;
        while postings.len() < limit {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":g", attrs::s(gram))
                .scan_index_forward(false)
                .limit(query_limit(limit - postings.len()))
                .projection_expression("#sk, #sig")
                .expression_attribute_names("#sk", "sk")
                .expression_attribute_names("#sig", SIGNATURE)
                .set_exclusive_start_key(start.take());
            let query = match from {
                PostingBound::Newest => query.key_condition_expression("pk = :g"),
                PostingBound::AtOrBelow(id) => query
                    .key_condition_expression("pk = :g AND sk <= :id")
                    .expression_attribute_values(":id", attrs::s(id)),
                PostingBound::Below(id) => query
                    .key_condition_expression("pk = :g AND sk < :id")
                    .expression_attribute_values(":id", attrs::s(id)),
            };
            let out = query
                .send()
                .await
                .map_err(|e| sdk_error("Query (postings)", &self.table, e))?;
            for item in out.items() {
                if postings.len() < limit {
                    postings.push(posting(item)?);
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(postings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postings_read_back_their_signature_and_name_a_bad_one() {
        let signature = GramSignature::of(&["ab".to_string()]);
        let mut item = attrs::key("ab", "01J");
        item.insert(
            SIGNATURE.into(),
            AttributeValue::B(Blob::new(signature.0.to_vec())),
        );
        assert_eq!(
            posting(&item).unwrap(),
            Posting {
                festival_id: "01J".into(),
                signature
            }
        );
        for bad in [
            None,
            Some(AttributeValue::B(Blob::new(vec![7u8; 3]))),
            Some(attrs::s("not-bytes")),
        ] {
            let mut item = attrs::key("ab", "01J");
            if let Some(bad) = bad {
                item.insert(SIGNATURE.into(), bad);
            }
            let err = posting(&item).unwrap_err().to_string();
            assert!(
                err.contains(SIGNATURE) && !err.contains("not-bytes"),
                "{err}"
            );
        }
    }
}
