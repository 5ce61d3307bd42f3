//! Writes the festival calendar (`FESTIVAL_DAY#<date>` items) of festivals created before
//! reminders existed, which the reminder planner would otherwise never find.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::reminders::calendar_item;
use super::{build_error, sdk_error, transact, DynamoRecords};
use crate::error::AppResult;
use crate::model::Festival;
use crate::ports::FestivalStore;

/// Festivals read per page of the newest-first listing.
const PAGE: usize = 100;
/// Festivals written at once.
const IN_FLIGHT: usize = 8;

impl DynamoRecords {
    /// Puts the calendar items of every festival in the table, exactly as creating it does
    /// now, so running it again (or over festivals that have them) changes nothing. Reads the
    /// festival listing index, never the whole table. Answers how many festivals it covered.
    pub async fn backfill_calendar(&self) -> AppResult<usize> {
        let mut covered = 0;
        let mut before: Option<String> = None;
        loop {
            let page = self.list_festivals(before.as_deref(), PAGE).await?;
            stream::iter(&page)
                .map(|festival| self.put_calendar(festival))
                .buffer_unordered(IN_FLIGHT)
                .try_collect::<()>()
                .await?;
            covered += page.len();
            match page.last() {
                Some(last) if page.len() == PAGE => before = Some(last.festival_id.clone()),
                _ => return Ok(covered),
            }
        }
    }

    /// One festival's calendar items, in one transaction (a festival has at most 31 dates).
    async fn put_calendar(&self, festival: &Festival) -> AppResult<()> {
        let items = festival
            .tickets
            .iter()
            .map(|stock| {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(calendar_item(festival, stock.date)))
                    .build()
                    .map_err(|e| build_error("calendar day put", e))?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect::<AppResult<Vec<_>>>()?;
        if items.is_empty() {
            return Ok(());
        }
        transact(&self.client, "calendar backfill", items)
            .await
            .map_err(|e| sdk_error("TransactWriteItems (calendar backfill)", &self.table, e))
    }
}
