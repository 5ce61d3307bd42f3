//! Festivals (listed through GSI `gsi1`), their stock and their calendar days:
//!
//! | item | pk | sk |
//! |---|---|---|
//! | festival | `FESTIVAL#<id>` | `META` (gsi1pk `FESTIVALS`, gsi1sk `<id>`) |
//! | ticket stock | `FESTIVAL#<id>` | `STOCK#<YYYY-MM-DD>` |
//! | calendar day | `FESTIVAL_DAY#<YYYY-MM-DD>` | `<id>` (`festivalId`, `name`, `timeZone`, `date`) |
//!
//! A festival is created in one transaction with its stock and its calendar days (one per
//! ticketed date, read by the reminder planner; see `reminders.rs`), so the planner never
//! misses a festival that exists nor finds one that does not.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::attrs::{self, Item};
use super::reminders::calendar_item;
use super::{build_error, query_limit, query_partition, sdk_error, DynamoRecords};
use crate::error::{AppError, AppResult};
use crate::model::{Festival, TicketStock};
use crate::ports::FestivalStore;

const META: &str = "META";
const STOCK_PREFIX: &str = "STOCK#";
const LIST_PK: &str = "FESTIVALS";
const LIST_INDEX: &str = "gsi1";
/// TransactWriteItems' limit on items per transaction.
const TRANSACTION_ITEMS: usize = 100;

fn festival_pk(festival_id: &str) -> String {
    format!("FESTIVAL#{festival_id}")
}

fn stock_sk(date: chrono::NaiveDate) -> String {
    format!("{STOCK_PREFIX}{}", date.format("%Y-%m-%d"))
}

fn meta_item(f: &Festival) -> Item {
    let mut item = attrs::key(festival_pk(&f.festival_id), META);
    item.insert("festivalId".into(), attrs::s(&f.festival_id));
    item.insert("name".into(), attrs::s(&f.name));
    item.insert("description".into(), attrs::s(&f.description));
    item.insert("location".into(), attrs::s(&f.location));
    item.insert("startDate".into(), attrs::date(f.start_date));
    item.insert("endDate".into(), attrs::date(f.end_date));
    item.insert("timeZone".into(), attrs::s(&f.time_zone));
    item.insert("price".into(), attrs::n(f.price));
    if let Some(url) = &f.image_url {
        item.insert("imageUrl".into(), attrs::s(url));
    }
    item.insert("chatRoomId".into(), attrs::s(&f.chat_room_id));
    item.insert("createdAt".into(), attrs::time(&f.created_at));
    item.insert("gsi1pk".into(), attrs::s(LIST_PK));
    item.insert("gsi1sk".into(), attrs::s(&f.festival_id));
    item
}

fn stock_item(festival_id: &str, stock: &TicketStock) -> Item {
    let mut item = attrs::key(festival_pk(festival_id), stock_sk(stock.date));
    item.insert("date".into(), attrs::date(stock.date));
    item.insert("total".into(), attrs::n(stock.total));
    item.insert("remaining".into(), attrs::n(stock.remaining));
    item
}

/// A festival from its META item, without tickets.
fn festival_from(item: &Item) -> AppResult<Festival> {
    Ok(Festival {
        festival_id: attrs::req_string(item, "festivalId")?,
        name: attrs::req_string(item, "name")?,
        description: attrs::req_string(item, "description")?,
        location: attrs::req_string(item, "location")?,
        start_date: attrs::req_date(item, "startDate")?,
        end_date: attrs::req_date(item, "endDate")?,
        time_zone: attrs::req_string(item, "timeZone")?,
        price: attrs::req_num(item, "price")?,
        image_url: attrs::opt_str(item, "imageUrl")?.map(str::to_string),
        chat_room_id: attrs::req_string(item, "chatRoomId")?,
        tickets: Vec::new(),
        created_at: attrs::req_time(item, "createdAt")?,
    })
}

fn stock_from(item: &Item) -> AppResult<TicketStock> {
    Ok(TicketStock {
        date: attrs::req_date(item, "date")?,
        total: attrs::req_num(item, "total")?,
        remaining: attrs::req_num(item, "remaining")?,
    })
}

/// The festival id of a META or STOCK item's partition key.
fn festival_id_of(item: &Item) -> AppResult<&str> {
    attrs::req_str(item, "pk")?
        .strip_prefix("FESTIVAL#")
        .ok_or_else(|| AppError::internal("stored festival item has a foreign partition key"))
}

fn is_conditional_cancel(err: &TransactWriteItemsError) -> bool {
    match err {
        TransactWriteItemsError::TransactionCanceledException(e) => e
            .cancellation_reasons()
            .iter()
            .any(|r| r.code() == Some("ConditionalCheckFailed")),
        _ => false,
    }
}

impl DynamoRecords {
    /// Every item of these keys that exists, in no particular order: BatchGetItem in chunks
    /// of 100, a few at once, retrying unprocessed keys with back-off.
    async fn batch_get(&self, keys: Vec<Item>) -> AppResult<Vec<Item>> {
        super::batch_get(&self.client, &self.table, keys).await
    }

    /// Fills every festival's tickets with its live stock, one item per date of its span.
    async fn attach_stock(&self, festivals: &mut [Festival]) -> AppResult<()> {
        let mut keys = Vec::new();
        let mut seen = HashSet::new();
        for f in festivals.iter() {
            if !seen.insert(f.festival_id.clone()) {
                continue;
            }
            let mut day = f.start_date;
            while day <= f.end_date {
                keys.push(attrs::key(festival_pk(&f.festival_id), stock_sk(day)));
                match day.succ_opt() {
                    Some(next) => day = next,
                    None => break,
                }
            }
        }
        let mut stock: HashMap<String, Vec<TicketStock>> = HashMap::new();
        for item in self.batch_get(keys).await? {
            let id = festival_id_of(&item)?.to_string();
            stock.entry(id).or_default().push(stock_from(&item)?);
        }
        for tickets in stock.values_mut() {
            tickets.sort_by_key(|t| t.date);
        }
        for f in festivals.iter_mut() {
            f.tickets = stock.get(&f.festival_id).cloned().unwrap_or_default();
        }
        Ok(())
    }
}

#[async_trait]
impl FestivalStore for DynamoRecords {
    async fn create_festival(&self, festival: &Festival) -> AppResult<()> {
        // The META item, and a stock item and a calendar item per date.
        if 1 + 2 * festival.tickets.len() > TRANSACTION_ITEMS {
            return Err(AppError::internal(format!(
                "a festival with {} ticket dates does not fit in one transaction",
                festival.tickets.len()
            )));
        }
        let meta = Put::builder()
            .table_name(&self.table)
            .set_item(Some(meta_item(festival)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| build_error("festival put", e))?;
        let mut items = vec![TransactWriteItem::builder().put(meta).build()];
        for stock in &festival.tickets {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(stock_item(&festival.festival_id, stock)))
                .build()
                .map_err(|e| build_error("stock put", e))?;
            items.push(TransactWriteItem::builder().put(put).build());
            let day = Put::builder()
                .table_name(&self.table)
                .set_item(Some(calendar_item(festival, stock.date)))
                .build()
                .map_err(|e| build_error("calendar day put", e))?;
            items.push(TransactWriteItem::builder().put(day).build());
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(is_conditional_cancel) => {
                Err(AppError::internal("festival id collision"))
            }
            Err(err) => Err(sdk_error("TransactWriteItems (festival)", &self.table, err)),
        }
    }

    async fn get_festival(&self, festival_id: &str) -> AppResult<Option<Festival>> {
        let mut meta = None;
        let mut tickets = Vec::new();
        let items = query_partition(
            &self.client,
            &self.table,
            festival_pk(festival_id),
            None,
            "Query (festival)",
        )
        .await?;
        for item in &items {
            let sk = attrs::req_str(item, "sk")?;
            if sk == META {
                meta = Some(festival_from(item)?);
            } else if sk.starts_with(STOCK_PREFIX) {
                tickets.push(stock_from(item)?);
            }
        }
        Ok(meta.map(|mut f| {
            tickets.sort_by_key(|t| t.date);
            f.tickets = tickets;
            f
        }))
    }

    async fn get_festivals(&self, ids: &[String], with_stock: bool) -> AppResult<Vec<Festival>> {
        // BatchGetItem refuses duplicate keys, so each id is fetched once.
        let mut unique = HashSet::new();
        let keys: Vec<Item> = ids
            .iter()
            .filter(|id| unique.insert(id.as_str()))
            .map(|id| attrs::key(festival_pk(id), META))
            .collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut found: Vec<Festival> = self
            .batch_get(keys)
            .await?
            .iter()
            .map(festival_from)
            .collect::<AppResult<_>>()?;
        if with_stock {
            self.attach_stock(&mut found).await?;
        }
        let by_id: HashMap<&str, &Festival> =
            found.iter().map(|f| (f.festival_id.as_str(), f)).collect();
        Ok(ids
            .iter()
            .filter_map(|id| by_id.get(id.as_str()).map(|f| (*f).clone()))
            .collect())
    }

    async fn list_festivals(&self, before: Option<&str>, limit: usize) -> AppResult<Vec<Festival>> {
        let mut festivals = Vec::new();
        let mut start: Option<Item> = None;
        while festivals.len() < limit {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(LIST_INDEX)
                .expression_attribute_values(":pk", attrs::s(LIST_PK))
                .scan_index_forward(false)
                .limit(query_limit(limit - festivals.len()))
                .set_exclusive_start_key(start.take());
            query = match before {
                Some(id) => query
                    .key_condition_expression("gsi1pk = :pk AND gsi1sk < :before")
                    .expression_attribute_values(":before", attrs::s(id)),
                None => query.key_condition_expression("gsi1pk = :pk"),
            };
            let out = query
                .send()
                .await
                .map_err(|e| sdk_error("Query (festival list)", &self.table, e))?;
            for item in out.items() {
                if festivals.len() < limit {
                    festivals.push(festival_from(item)?);
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        self.attach_stock(&mut festivals).await?;
        Ok(festivals)
    }
}
