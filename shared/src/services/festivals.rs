//! The festival catalogue: creation by admins, listing, lookup and cached search.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::search;
use super::tokens::Identity;
use super::validate::{text_field, Page, PageRequest};
use crate::error::{AppError, AppResult};
use crate::model::{Festival, TicketStock};
use crate::ports::{Cache, Clock, FestivalStore, GramSignature, IdSource, SearchIndex};

/// The time zone of a festival that names none.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Seoul";
/// The longest festival, in days.
pub const MAX_DAYS: i64 = 31;
/// The most tickets a single date may have.
pub const MAX_TICKETS_PER_DAY: u64 = 1_000_000;
/// Festival dates are four-digit years of this platform's era (API dates are `YYYY-MM-DD`).
pub const EARLIEST_YEAR: i32 = 2000;
/// See [`EARLIEST_YEAR`].
pub const LATEST_YEAR: i32 = 9999;
/// How long a search answer is served from the cache.
pub const SEARCH_CACHE_TTL: Duration = Duration::from_secs(600);
/// Bumped by every festival creation; cached answers are keyed by it, so old ones die unread.
const SEARCH_GENERATION_KEY: &str = "festa:search:generation";

/// `POST /festivals/create` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateFestivalRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: String,
    #[schema(min_length = 1, max_length = 200)]
    pub location: String,
    #[serde(with = "crate::model::calendar_date")]
    #[schema(value_type = String, format = Date, example = "2026-10-03")]
    pub start_date: NaiveDate,
    #[serde(with = "crate::model::calendar_date")]
    #[schema(value_type = String, format = Date, example = "2026-10-04")]
    pub end_date: NaiveDate,
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub tickets_per_day: u64,
    #[serde(default)]
    #[schema(maximum = 100_000_000)]
    pub price: Option<u64>,
    #[serde(default)]
    #[schema(max_length = 2048, pattern = "^https?://")]
    pub image_url: Option<String>,
    /// IANA name; `Asia/Seoul` when absent.
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// Everything the catalogue rules need.
#[derive(Clone)]
pub struct Festivals {
    pub store: Arc<dyn FestivalStore>,
    pub index: Arc<dyn SearchIndex>,
    pub cache: Arc<dyn Cache>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

impl Festivals {
    /// Who may add festivals: checked before the request body is even read.
    pub fn authorize_create(caller: &Identity) -> AppResult<()> {
        if caller.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only administrators may create festivals".into(),
            ))
        }
    }

    /// Adds a festival with its ticket stock; only admins may.
    pub async fn create(
        &self,
        caller: &Identity,
        req: CreateFestivalRequest,
    ) -> AppResult<Festival> {
        Self::authorize_create(caller)?;
        let festival = self.validated(req)?;
        // Index first: a posting without its festival is skipped by search, never shown.
        let grams = search::festival_grams(&festival);
        self.index
            .add_postings(&festival.festival_id, &grams, &GramSignature::of(&grams))
            .await?;
        self.store.create_festival(&festival).await?;
        if let Err(err) = self.cache.incr(SEARCH_GENERATION_KEY).await {
            tracing::error!(error = %err, "could not invalidate cached searches; they expire within 10 minutes");
        }
        Ok(festival)
    }

    /// One festival with its live remaining tickets.
    pub async fn get(&self, festival_id: &str) -> AppResult<Festival> {
        if ulid::Ulid::from_string(festival_id).is_err() {
            return Err(AppError::FestivalNotFound);
        }
        self.store
            .get_festival(festival_id)
            .await?
            .ok_or(AppError::FestivalNotFound)
    }

    /// The catalogue, newest first.
    pub async fn list(&self, page: PageRequest) -> AppResult<Page<Festival>> {
        let probe = self
            .store
            .list_festivals(page.after.as_deref(), page.limit + 1)
            .await?;
        Ok(Page::from_probe(probe, page.limit, |f| &f.festival_id))
    }

    /// Festivals containing every word of the keyword, answered from the cache when it can be.
    pub async fn search(&self, keyword: &str, page: PageRequest) -> AppResult<Page<Festival>> {
        let keyword = text_field("keyword", keyword, 1, 100, false)?;
        let words = search::query_words(&keyword);
        let cache_key = self.search_cache_key(&words, &page).await;
        if let Some(key) = &cache_key {
            match self.cache.get(key).await {
                Ok(Some(hit)) => match serde_json::from_str(&hit) {
                    Ok(page) => return Ok(page),
                    Err(err) => tracing::warn!(error = %err, "unreadable cached search answer"),
                },
                Ok(None) => {}
                Err(err) => tracing::warn!(error = %err, "search cache unavailable"),
            }
        }
        let found = search::find(
            self.index.as_ref(),
            self.store.as_ref(),
            &words,
            page.after.as_deref(),
            page.limit + 1,
            search::READ_BUDGET,
        )
        .await?;
        // A search that spent its read budget ends the page early; its cursor goes on from there.
        let answer = match found.resume_below {
            Some(resume) => Page::resuming(found.festivals, &resume),
            None => Page::from_probe(found.festivals, page.limit, |f| &f.festival_id),
        };
        if let Some(key) = &cache_key {
            let body = serde_json::to_string(&answer).map_err(AppError::internal)?;
            if let Err(err) = self.cache.set(key, &body, SEARCH_CACHE_TTL).await {
                tracing::warn!(error = %err, "could not cache a search answer");
            }
        }
        Ok(answer)
    }

    /// The cache key of this query under the current catalogue generation; none if the cache
    /// cannot be read (search then goes to the index).
    async fn search_cache_key(&self, words: &[String], page: &PageRequest) -> Option<String> {
        let generation = match self.cache.get(SEARCH_GENERATION_KEY).await {
            Ok(g) => g.unwrap_or_else(|| "0".into()),
            Err(err) => {
                tracing::warn!(error = %err, "search cache unavailable");
                return None;
            }
        };
        // JSON keeps the words apart whatever they contain, so two queries never share a key.
        let query = serde_json::to_string(&(words, page.limit, &page.after)).ok()?;
        Some(format!("festa:search:{generation}:{query}"))
    }

    fn validated(&self, req: CreateFestivalRequest) -> AppResult<Festival> {
        let name = text_field("name", &req.name, 1, 100, false)?;
        let description = text_field("description", &req.description, 0, 5000, true)?;
        let location = text_field("location", &req.location, 1, 200, false)?;
        let in_range = |d: NaiveDate| (EARLIEST_YEAR..=LATEST_YEAR).contains(&d.year());
        if !in_range(req.start_date) || !in_range(req.end_date) {
            return Err(AppError::validation(format!(
                "startDate and endDate must be in the years {EARLIEST_YEAR} to {LATEST_YEAR}"
            )));
        }
        if req.end_date < req.start_date {
            return Err(AppError::validation("endDate must not be before startDate"));
        }
        let days = (req.end_date - req.start_date).num_days() + 1;
        if days > MAX_DAYS {
            return Err(AppError::validation("a festival may last at most 31 days"));
        }
        if !(1..=MAX_TICKETS_PER_DAY).contains(&req.tickets_per_day) {
            return Err(AppError::validation(
                "ticketsPerDay must be from 1 to 1,000,000",
            ));
        }
        let price = req.price.unwrap_or(0);
        if price > 100_000_000 {
            return Err(AppError::validation("price must be at most 100,000,000"));
        }
        let image_url = match req.image_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url)
                if url.len() <= 2048
                    && (url.starts_with("https://") || url.starts_with("http://"))
                    && url.len() > "https://".len()
                    && !url.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                Some(url.to_string())
            }
            Some(_) => {
                return Err(AppError::validation(
                    "imageUrl must be an http(s) URL of at most 2048 characters",
                ))
            }
        };
        let time_zone = match req.time_zone.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_TIME_ZONE.to_string(),
            Some(tz) => tz
                .parse::<chrono_tz::Tz>()
                .map(|tz| tz.name().to_string())
                .map_err(|_| {
                    AppError::validation("timeZone must be an IANA time zone such as Asia/Seoul")
                })?,
        };
        let total = req.tickets_per_day as u32;
        let tickets = req
            .start_date
            .iter_days()
            .take(days as usize)
            .map(|date| TicketStock {
                date,
                total,
                remaining: total,
            })
            .collect();
        // A festival has exactly one chat room, named by the festival's own id, so the chat
        // finds a room's festival through the festival directory with no mapping to keep.
        let festival_id = self.ids.new_id();
        Ok(Festival {
            chat_room_id: festival_id.clone(),
            festival_id,
            name,
            description,
            location,
            start_date: req.start_date,
            end_date: req.end_date,
            time_zone,
            price,
            image_url,
            tickets,
            created_at: self.clock.now(),
        })
    }
}
