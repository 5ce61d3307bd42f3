//! Festival search: an n-gram inverted index whose postings carry signatures.
//!
//! Every festival is indexed under each distinct character and each pair of adjacent characters
//! of the whitespace-separated words of its lower-cased name, description and location, and
//! each posting carries a 1,024-bit signature of all those grams. A query word of one character
//! needs that character; a longer word needs its pairs. A search reads one page of a few of the
//! query's lists at once (the first and last pair of each word), picks the sparsest, and scans
//! only that list: a posting whose signature lacks one of the query's grams is skipped without a
//! read, and the survivors are checked against the real text. A search therefore costs reads in
//! proportion to the smallest list it needs, and never more than [`READ_BUDGET`]: past that the
//! page ends early and its cursor resumes strictly further on, so nothing is skipped or repeated.

use std::collections::BTreeSet;

use futures_util::future::try_join_all;

use crate::error::AppResult;
use crate::model::Festival;
use crate::ports::{FestivalStore, GramSignature, Posting, PostingBound, SearchIndex};

/// How many postings one read fetches: a DynamoDB query costs about one round trip whether it
/// returns 100 or 500 keys with their signatures (well under its 1 MB page).
const POSTINGS_PER_READ: usize = 512;
/// Candidates checked against their text per read (DynamoDB's BatchGetItem takes 100 keys).
const CANDIDATES_PER_READ: usize = 100;
/// The most lists probed to choose the one to scan; they are read at once, in one round trip.
const MAX_PROBES: usize = 8;
/// The most reads one search request may make: posting pages (probes included) and batches
/// of candidates. Past it the page ends early and its cursor resumes where the scan stopped.
pub const READ_BUDGET: usize = 32;

/// What one search request found.
#[derive(Debug)]
pub struct Found {
    /// Matches, newest first.
    pub festivals: Vec<Festival>,
    /// Set when the read budget ran out first: the search goes on strictly below this id.
    pub resume_below: Option<String>,
}

/// The grams a festival is indexed under.
pub fn festival_grams(festival: &Festival) -> Vec<String> {
    let mut grams = BTreeSet::new();
    for field in [&festival.name, &festival.description, &festival.location] {
        for word in field.to_lowercase().split_whitespace() {
            let chars: Vec<char> = word.chars().collect();
            grams.extend(chars.iter().map(|c| c.to_string()));
            grams.extend(chars.windows(2).map(|w| w.iter().collect::<String>()));
        }
    }
    grams.into_iter().collect()
}

/// The query words of a keyword: lower-cased, whitespace-separated, without repeats.
pub fn query_words(keyword: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in keyword.to_lowercase().split_whitespace() {
        if !words.iter().any(|w| w == word) {
            words.push(word.to_string());
        }
    }
    words
}

/// Every gram a match must hold: a one-character word's character, else each pair of a word.
fn query_grams(words: &[String]) -> Vec<String> {
    let mut grams = BTreeSet::new();
    for word in words {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() == 1 {
            grams.insert(word.clone());
        } else {
            grams.extend(chars.windows(2).map(|w| w.iter().collect::<String>()));
        }
    }
    grams.into_iter().collect()
}

/// The lists worth probing: each word's first and last gram (its rarest are often at the ends,
/// and the pairs of one word travel together), at most [`MAX_PROBES`].
fn probe_grams(words: &[String]) -> Vec<String> {
    let mut probes: Vec<String> = Vec::new();
    for word in words {
        let chars: Vec<char> = word.chars().collect();
        let ends = if chars.len() == 1 {
            vec![word.clone()]
        } else {
            vec![
                chars[..2].iter().collect(),
                chars[chars.len() - 2..].iter().collect(),
            ]
        };
        for gram in ends {
            if !probes.contains(&gram) {
                probes.push(gram);
            }
        }
    }
    probes.truncate(MAX_PROBES);
    probes
}

/// Whether every word occurs in the festival's name, description or location.
pub fn matches(festival: &Festival, words: &[String]) -> bool {
    let fields = [
        festival.name.to_lowercase(),
        festival.description.to_lowercase(),
        festival.location.to_lowercase(),
    ];
    words
        .iter()
        .all(|w| fields.iter().any(|f| f.contains(w.as_str())))
}

/// Up to `want` matching festivals, newest first, strictly older than `after`, using at most
/// `budget` reads (posting pages and batches of candidates alike).
pub async fn find(
    index: &dyn SearchIndex,
    store: &dyn FestivalStore,
    words: &[String],
    after: Option<&str>,
    want: usize,
    budget: usize,
) -> AppResult<Found> {
    if words.is_empty() || want == 0 {
        return Ok(Found {
            festivals: Vec::new(),
            resume_below: None,
        });
    }
    let signature = GramSignature::of(&query_grams(words));
    let probes = probe_grams(words);
    let from = after.map_or(PostingBound::Newest, PostingBound::Below);
    let mut firsts = try_join_all(
        probes
            .iter()
            .map(|gram| index.postings(gram, from, POSTINGS_PER_READ)),
    )
    .await?;
    let mut reads = firsts.len();
    // A gram no festival below the cursor holds: nothing can match.
    if firsts.iter().any(Vec::is_empty) {
        return Ok(Found {
            festivals: Vec::new(),
            resume_below: None,
        });
    }
    let driver = (0..firsts.len())
        .min_by(|a, b| {
            let (a, b) = (sparsity(&firsts[*a]), sparsity(&firsts[*b]));
            a.0.cmp(&b.0).then(a.1.total_cmp(&b.1))
        })
        .unwrap_or(0);
    let gram = &probes[driver];
    let mut page = firsts.swap_remove(driver);
    // Matching ids, newest first, and the oldest id up to which everything is decided.
    let mut matched: Vec<String> = Vec::with_capacity(want);
    let mut decided: Option<String> = None;
    let resume_below = 'scan: loop {
        let drained = page.len() < POSTINGS_PER_READ;
        let last = page.last().map(|p| p.festival_id.clone());
        let candidates: Vec<String> = page
            .into_iter()
            .filter(|p| p.signature.covers(&signature))
            .map(|p| p.festival_id)
            .collect();
        for batch in candidates.chunks(CANDIDATES_PER_READ) {
            // Every request decides something before it may stop, so paging always ends.
            if reads >= budget && decided.is_some() {
                break 'scan decided;
            }
            reads += 1;
            let records = store.get_festivals(batch, false).await?;
            matched.extend(
                records
                    .iter()
                    .filter(|f| matches(f, words))
                    .map(|f| f.festival_id.clone()),
            );
            if matched.len() >= want {
                matched.truncate(want);
                break 'scan None;
            }
            decided = batch.last().cloned();
        }
        match last {
            Some(last) if !drained => decided = Some(last),
            _ => break 'scan None,
        }
        if reads >= budget {
            break 'scan decided;
        }
        let below = decided.as_deref().unwrap_or_default();
        page = index
            .postings(gram, PostingBound::Below(below), POSTINGS_PER_READ)
            .await?;
        reads += 1;
    };
    // Live stock only for the festivals answered.
    let festivals = store.get_festivals(&matched, true).await?;
    Ok(Found {
        festivals,
        resume_below,
    })
}

/// How sparse a list looks from its first page, smaller first. A short page is the whole rest
/// of the list, so it ranks before any full page, by length; a full page ranks by density: its
/// length over the span of ids it covers (ULIDs, so a span is a stretch of the catalogue).
fn sparsity(page: &[Posting]) -> (bool, f64) {
    if page.len() < POSTINGS_PER_READ {
        return (false, page.len() as f64);
    }
    let value = |p: Option<&Posting>| {
        p.and_then(|p| ulid::Ulid::from_string(&p.festival_id).ok())
            .map_or(0.0, |u| u.0 as f64)
    };
    let span = value(page.first()) - value(page.last());
    let density = if span > 0.0 {
        page.len() as f64 / span
    } else {
        f64::MAX
    };
    (true, density)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::{MemoryRecords, MemorySearchIndex};
    use crate::ports::GramSignature;
    use chrono::{NaiveDate, Utc};

    fn festival(id: &str, name: &str, description: &str, location: &str) -> Festival {
        Festival {
            festival_id: id.into(),
            name: name.into(),
            description: description.into(),
            location: location.into(),
            start_date: NaiveDate::from_ymd_opt(2026, 10, 3).unwrap(),
            end_date: NaiveDate::from_ymd_opt(2026, 10, 3).unwrap(),
            time_zone: "Asia/Seoul".into(),
            price: 0,
            image_url: None,
            chat_room_id: format!("room-{id}"),
            tickets: vec![],
            created_at: Utc::now(),
        }
    }

    fn grams(f: &Festival) -> Vec<String> {
        festival_grams(f)
    }

    async fn catalogue(festivals: &[Festival]) -> (MemorySearchIndex, MemoryRecords) {
        let (index, store) = (MemorySearchIndex::new(), MemoryRecords::new());
        for f in festivals {
            index
                .add_postings(&f.festival_id, &grams(f), &GramSignature::of(&grams(f)))
                .await
                .unwrap();
            store.create_festival(f).await.unwrap();
        }
        (index, store)
    }

    async fn ids(
        index: &MemorySearchIndex,
        store: &MemoryRecords,
        keyword: &str,
        after: Option<&str>,
        want: usize,
    ) -> Vec<String> {
        find(
            index,
            store,
            &query_words(keyword),
            after,
            want,
            READ_BUDGET,
        )
        .await
        .unwrap()
        .festivals
        .into_iter()
        .map(|f| f.festival_id)
        .collect()
    }

    #[tokio::test]
    async fn korean_substrings_match_and_every_word_must_occur() {
        let (index, store) = catalogue(&[
            festival("01A", "서울 세계 불꽃축제", "한강의 밤", "여의도"),
            festival("01B", "Busan Rock Festival", "불꽃 없는 록", "부산"),
            festival("01C", "Jazz Night", "smooth", "Seoul Forest"),
        ])
        .await;
        assert_eq!(ids(&index, &store, "불꽃", None, 10).await, ["01B", "01A"]);
        assert_eq!(ids(&index, &store, "불꽃 여의도", None, 10).await, ["01A"]);
        assert_eq!(ids(&index, &store, "ROCK  busan", None, 10).await, ["01B"]);
        assert_eq!(ids(&index, &store, "seoul", None, 10).await, ["01C"]);
        assert_eq!(ids(&index, &store, "z", None, 10).await, ["01C"]);
        assert!(ids(&index, &store, "불꽃 jazz", None, 10).await.is_empty());
        assert!(ids(&index, &store, "없음", None, 10).await.is_empty());
    }

    #[tokio::test]
    async fn grams_present_apart_are_not_a_match() {
        // "abca" holds the pairs of "bcab"'s... only the real text decides.
        let (index, store) = catalogue(&[festival("01A", "abcab", "", "x")]).await;
        assert_eq!(ids(&index, &store, "bca", None, 10).await, ["01A"]);
        let (index, store) = catalogue(&[festival("01A", "ab ba", "", "x")]).await;
        assert!(ids(&index, &store, "aba", None, 10).await.is_empty());
    }

    #[tokio::test]
    async fn a_spent_budget_ends_the_page_early_and_its_cursor_loses_nothing() {
        // "ab" marks every second festival, "cd" every third: both lists are longer than one
        // read, so a budget smaller than the probes stops after every scanned page.
        let festivals: Vec<Festival> = (1..=3000u64)
            .map(|i| {
                let id = ulid::Ulid::from_parts(i, 0).to_string();
                let name = match (i % 2 == 0, i % 3 == 0) {
                    (true, true) => "ab cd",
                    (true, false) => "ab",
                    (false, true) => "cd",
                    (false, false) => "zz",
                };
                festival(&id, name, "", "x")
            })
            .collect();
        let (index, store) = catalogue(&festivals).await;
        let expected: Vec<String> = (1..=3000u64)
            .rev()
            .filter(|i| i % 6 == 0)
            .map(|i| ulid::Ulid::from_parts(i, 0).to_string())
            .collect();
        let words = query_words("ab cd");
        for (budget, want) in [(1, 7), (2, 7), (1, 400), (READ_BUDGET, 400)] {
            let (mut seen, mut after, mut early_stops) = (Vec::new(), None::<String>, 0);
            loop {
                let found = find(&index, &store, &words, after.as_deref(), want, budget)
                    .await
                    .unwrap();
                let ids: Vec<String> = found
                    .festivals
                    .iter()
                    .map(|f| f.festival_id.clone())
                    .collect();
                seen.extend(ids.iter().cloned());
                after = match found.resume_below {
                    Some(resume) => {
                        early_stops += 1;
                        Some(resume)
                    }
                    None if ids.len() == want => ids.last().cloned(),
                    None => break,
                };
            }
            assert_eq!(seen, expected, "budget {budget}, pages of {want}");
            assert_eq!(
                early_stops > 0,
                budget == 1 && want == 400,
                "budget {budget}, pages of {want}: {early_stops} early stops"
            );
        }
    }

    #[tokio::test]
    async fn a_query_gram_no_festival_has_answers_at_once() {
        let (index, store) = catalogue(&[festival("01A", "서울 불꽃축제", "", "여의도")]).await;
        let found = find(&index, &store, &query_words("불꽃 재즈"), None, 10, 1)
            .await
            .unwrap();
        assert!(found.festivals.is_empty());
        assert_eq!(found.resume_below, None);
    }

    #[tokio::test]
    async fn pages_walk_the_matches_newest_first() {
        let festivals: Vec<Festival> = (0..250)
            .map(|i| {
                let name = if i % 3 == 0 {
                    format!("불꽃 {i}")
                } else {
                    format!("음악 {i}")
                };
                festival(&format!("{i:05}"), &name, "축제", "서울")
            })
            .collect();
        let (index, store) = catalogue(&festivals).await;
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = ids(&index, &store, "불꽃 축제", after.as_deref(), 7).await;
            if page.is_empty() {
                break;
            }
            after = page.last().cloned();
            seen.extend(page);
        }
        let expected: Vec<String> = (0..250)
            .rev()
            .filter(|i| i % 3 == 0)
            .map(|i| format!("{i:05}"))
            .collect();
        assert_eq!(seen, expected);
    }
}
