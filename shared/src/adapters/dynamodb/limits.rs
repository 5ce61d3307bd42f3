//! Abuse counters: pk `<key>` (`LOGINFAIL#<email>`, `MAILTO#<email>`, `MAILHOUR#<hour>`),
//! sk `LIMIT`, with `hits`, `windowEnds` (epoch milliseconds) and `ttl` (epoch seconds, a
//! minute after the window ends, so DynamoDB sweeps ended windows; the conditions never rely on
//! the sweep, which may lag by days).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Duration, Utc};

use super::attrs::{self, Item};
use super::{condition_failed, sdk_error, DynamoRecords};
use crate::error::{AppError, AppResult};
use crate::ports::{Hit, RateLimits};

const LIMIT_SK: &str = "LIMIT";
/// Rounds of "count / open a window / read" a hit may take when racing other hits.
const HIT_ROUNDS: u32 = 5;

fn limit_key(key: &str) -> Item {
    attrs::key(key, LIMIT_SK)
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(ms: i64) -> AppResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| AppError::internal("stored rate-limit window end is out of range"))
}

impl DynamoRecords {
    /// Counts one more event in a window that is still open and below the limit; `None` when
    /// the condition does not hold (no window, an ended one, or a full one).
    async fn count_in_window(
        &self,
        key: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> AppResult<Option<Hit>> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(limit_key(key)))
            .update_expression("ADD hits :one")
            .condition_expression("windowEnds > :now AND hits < :limit")
            .expression_attribute_values(":one", attrs::n(1))
            .expression_attribute_values(":now", attrs::n(millis(now)))
            .expression_attribute_values(":limit", attrs::n(limit))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out.attributes().cloned().unwrap_or_default();
                Ok(Some(Hit::Counted {
                    count: attrs::req_num(&item, "hits")?,
                    resets_at: from_millis(attrs::req_num(&item, "windowEnds")?)?,
                }))
            }
            Err(err) if condition_failed(&err) => Ok(None),
            Err(err) => Err(sdk_error("UpdateItem (rate limit)", &self.table, err)),
        }
    }

    /// Opens a new window holding this one event, if there is no window or it has ended;
    /// `None` when a live window is there.
    async fn open_window(
        &self,
        key: &str,
        window: Duration,
        now: DateTime<Utc>,
    ) -> AppResult<Option<Hit>> {
        let ends = now + window;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(limit_key(key)))
            .update_expression("SET hits = :one, windowEnds = :ends, #ttl = :ttl")
            .condition_expression("attribute_not_exists(pk) OR windowEnds <= :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", attrs::n(1))
            .expression_attribute_values(":ends", attrs::n(millis(ends)))
            .expression_attribute_values(":ttl", attrs::n(ends.timestamp() + 60))
            .expression_attribute_values(":now", attrs::n(millis(now)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Some(Hit::Counted {
                count: 1,
                resets_at: from_millis(millis(ends))?,
            })),
            Err(err) if condition_failed(&err) => Ok(None),
            Err(err) => Err(sdk_error(
                "UpdateItem (rate limit window)",
                &self.table,
                err,
            )),
        }
    }

    /// The end of the key's live window if it is full; `None` if it is not (any more).
    async fn full_window(
        &self,
        key: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> AppResult<Option<DateTime<Utc>>> {
        let item = super::get_item(
            &self.client,
            &self.table,
            limit_key(key),
            "GetItem (rate limit)",
        )
        .await?;
        let Some(item) = item else { return Ok(None) };
        let hits: u32 = attrs::req_num(&item, "hits")?;
        let ends = from_millis(attrs::req_num(&item, "windowEnds")?)?;
        Ok((ends > now && hits >= limit).then_some(ends))
    }
}

#[async_trait]
impl RateLimits for DynamoRecords {
    async fn hit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: DateTime<Utc>,
    ) -> AppResult<Hit> {
        if limit == 0 {
            return Ok(Hit::Limited {
                resets_at: now + window,
            });
        }
        // Each round fails only because another hit changed the item in between, so a few
        // rounds settle any realistic race.
        for _ in 0..HIT_ROUNDS {
            if let Some(hit) = self.count_in_window(key, limit, now).await? {
                return Ok(hit);
            }
            if let Some(hit) = self.open_window(key, window, now).await? {
                return Ok(hit);
            }
            if let Some(resets_at) = self.full_window(key, limit, now).await? {
                return Ok(Hit::Limited { resets_at });
            }
        }
        Err(AppError::unavailable(format!(
            "rate limit on table {} stayed contended for {HIT_ROUNDS} rounds",
            self.table
        )))
    }

    async fn undo(&self, key: &str, now: DateTime<Utc>) -> AppResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(limit_key(key)))
            .update_expression("ADD hits :minus")
            .condition_expression("windowEnds > :now AND hits > :zero")
            .expression_attribute_values(":minus", attrs::n(-1))
            .expression_attribute_values(":zero", attrs::n(0))
            .expression_attribute_values(":now", attrs::n(millis(now)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(sdk_error("UpdateItem (rate limit undo)", &self.table, err)),
        }
    }

    async fn clear(&self, key: &str) -> AppResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(limit_key(key)))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem (rate limit)", &self.table, e))?;
        Ok(())
    }
}
