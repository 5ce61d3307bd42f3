//! Festival search: an n-gram inverted index intersected by leapfrogging.
//!
//! Every festival is indexed under each distinct character and each pair of adjacent characters
//! of the whitespace-separated words of its lower-cased name, description and location. A query
//! word of one character reads that character's list; a longer word reads the lists of its
//! pairs. The lists of all words are intersected by seeking each to the newest id the others
//! allow (leapfrog), which costs a number of index reads proportional to the matches and the
//! misses near them, not to the catalogue. Survivors are checked against the real text, so a
//! word whose pairs appear apart never matches.

use std::collections::{BTreeSet, VecDeque};

use crate::error::AppResult;
use crate::model::Festival;
use crate::ports::{FestivalStore, PostingBound, SearchIndex};

/// How many ids one posting read fetches: enough to amortise a round trip.
const POSTINGS_PER_READ: usize = 128;
/// The most posting reads one search request may make. A keyword whose grams are each common
/// but rare together (a festival number, say) can need many seeks; past this budget the page
/// ends early and its cursor resumes exactly where the search stopped, so latency stays bounded
/// (each read is a round trip to DynamoDB) and no match is skipped or repeated.
pub const READ_BUDGET: usize = 64;

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

/// The grams whose lists must all hold a festival for it to match every word.
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
/// `budget` posting reads.
pub async fn find(
    index: &dyn SearchIndex,
    store: &dyn FestivalStore,
    words: &[String],
    after: Option<&str>,
    want: usize,
    budget: usize,
) -> AppResult<Found> {
    let mut found = Vec::with_capacity(want);
    if words.is_empty() || want == 0 {
        return Ok(Found {
            festivals: found,
            resume_below: None,
        });
    }
    let mut leapfrog = Leapfrog::new(query_grams(words), after, budget);
    loop {
        let mut candidates = Vec::new();
        let mut stopped = None;
        while candidates.len() < want - found.len() {
            match leapfrog.next(index).await? {
                Step::Match(id) => candidates.push(id),
                Step::Exhausted => {
                    stopped = Some(None);
                    break;
                }
                Step::OutOfBudget(resume) => {
                    stopped = Some(Some(resume));
                    break;
                }
            }
        }
        if !candidates.is_empty() {
            let festivals = store.get_festivals(&candidates).await?;
            found.extend(festivals.into_iter().filter(|f| matches(f, words)));
        }
        if found.len() >= want {
            found.truncate(want);
            return Ok(Found {
                festivals: found,
                resume_below: None,
            });
        }
        if let Some(resume_below) = stopped {
            return Ok(Found {
                festivals: found,
                resume_below,
            });
        }
    }
}

/// Where the intersection stands: every list is read only at or below this point.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Newest,
    AtOrBelow(String),
    Below(String),
}

impl Target {
    fn admits(&self, id: &str) -> bool {
        match self {
            Target::Newest => true,
            Target::AtOrBelow(t) => id <= t.as_str(),
            Target::Below(t) => id < t.as_str(),
        }
    }

    /// The exclusive cursor that continues from here: everything newer is decided.
    fn resume_below(&self) -> Option<String> {
        match self {
            Target::Newest => None,
            Target::Below(t) => Some(t.clone()),
            // "At or below t" is "below the id right after t"; ids are ULIDs.
            Target::AtOrBelow(t) => {
                let id = ulid::Ulid::from_string(t).ok()?;
                Some(ulid::Ulid(id.0.checked_add(1)?).to_string())
            }
        }
    }

    fn bound(&self) -> PostingBound<'_> {
        match self {
            Target::Newest => PostingBound::Newest,
            Target::AtOrBelow(t) => PostingBound::AtOrBelow(t),
            Target::Below(t) => PostingBound::Below(t),
        }
    }
}

/// One gram's posting list, read lazily in pages from wherever the target is.
struct PostingCursor {
    gram: String,
    buffered: VecDeque<String>,
    /// The last read returned a short page: nothing lies below what is buffered.
    drained: bool,
}

/// What a seek found in one list.
enum Seek {
    Front(String),
    End,
    /// The next id needs a read, the budget is spent: resume strictly below this id.
    Stopped(String),
}

impl PostingCursor {
    /// The newest id of this list that the target admits; `reads` counts index round trips,
    /// and `stop` (set once the budget is spent) ends the search instead of reading.
    async fn seek(
        &mut self,
        index: &dyn SearchIndex,
        target: &Target,
        reads: &mut usize,
        stop: Option<&String>,
    ) -> AppResult<Seek> {
        loop {
            while let Some(front) = self.buffered.front() {
                if target.admits(front) {
                    return Ok(Seek::Front(front.clone()));
                }
                self.buffered.pop_front();
            }
            if self.drained {
                return Ok(Seek::End);
            }
            if let Some(resume) = stop {
                return Ok(Seek::Stopped(resume.clone()));
            }
            *reads += 1;
            let page = index
                .postings(&self.gram, target.bound(), POSTINGS_PER_READ)
                .await?;
            self.drained = page.len() < POSTINGS_PER_READ;
            if page.is_empty() {
                return Ok(Seek::End);
            }
            self.buffered = page.into();
        }
    }
}

/// One move of the intersection.
enum Step {
    Match(String),
    Exhausted,
    /// The budget ran out; the search resumes strictly below this id.
    OutOfBudget(String),
}

/// Yields the ids present in every list, newest first.
struct Leapfrog {
    cursors: Vec<PostingCursor>,
    target: Target,
    done: bool,
    reads: usize,
    budget: usize,
    /// Where this request started; a stop must resume strictly below it, so every request
    /// makes progress and following cursors always ends.
    start: Option<String>,
}

impl Leapfrog {
    fn new(grams: Vec<String>, after: Option<&str>, budget: usize) -> Self {
        Leapfrog {
            done: grams.is_empty(),
            cursors: grams
                .into_iter()
                .map(|gram| PostingCursor {
                    gram,
                    buffered: VecDeque::new(),
                    drained: false,
                })
                .collect(),
            target: after.map_or(Target::Newest, |a| Target::Below(a.to_string())),
            reads: 0,
            budget,
            start: after.map(str::to_string),
        }
    }

    async fn next(&mut self, index: &dyn SearchIndex) -> AppResult<Step> {
        if self.done {
            return Ok(Step::Exhausted);
        }
        let lists = self.cursors.len();
        let (mut agreeing, mut i) = (0, 0);
        loop {
            // The budget binds only once there is a point to resume from.
            let stop = if self.reads >= self.budget {
                self.target
                    .resume_below()
                    .filter(|r| self.start.as_ref().is_none_or(|start| r < start))
            } else {
                None
            };
            let seek = self.cursors[i]
                .seek(index, &self.target, &mut self.reads, stop.as_ref())
                .await?;
            let front = match seek {
                Seek::Front(front) => front,
                Seek::End => {
                    self.done = true;
                    return Ok(Step::Exhausted);
                }
                Seek::Stopped(resume) => return Ok(Step::OutOfBudget(resume)),
            };
            if self.target == Target::AtOrBelow(front.clone()) {
                agreeing += 1;
            } else {
                self.target = Target::AtOrBelow(front.clone());
                agreeing = 1;
            }
            if agreeing == lists {
                self.target = Target::Below(front.clone());
                return Ok(Step::Match(front));
            }
            i = (i + 1) % lists;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::{MemoryRecords, MemorySearchIndex};
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

    async fn catalogue(festivals: &[Festival]) -> (MemorySearchIndex, MemoryRecords) {
        let (index, store) = (MemorySearchIndex::new(), MemoryRecords::new());
        for f in festivals {
            index
                .add_postings(&f.festival_id, &festival_grams(f))
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
        // "ab" marks every second festival, "cd" every third: each list is long, and their
        // intersection needs several reads of each, so small budgets stop mid-way.
        let festivals: Vec<Festival> = (1..=1200u64)
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
        let expected: Vec<String> = (1..=1200u64)
            .rev()
            .filter(|i| i % 6 == 0)
            .map(|i| ulid::Ulid::from_parts(i, 0).to_string())
            .collect();
        let words = query_words("ab cd");
        for budget in [1, 2, 3, READ_BUDGET] {
            let (mut seen, mut after, mut early_stops) = (Vec::new(), None::<String>, 0);
            loop {
                let found = find(&index, &store, &words, after.as_deref(), 7, budget)
                    .await
                    .unwrap();
                let ids: Vec<String> = found
                    .festivals
                    .iter()
                    .map(|f| f.festival_id.clone())
                    .collect();
                seen.extend(ids.iter().cloned());
                after = match (found.resume_below, ids.len()) {
                    (Some(resume), _) => {
                        early_stops += 1;
                        Some(resume)
                    }
                    (None, 7) => ids.last().cloned(),
                    (None, _) => break,
                };
            }
            assert_eq!(seen, expected, "budget {budget}");
            // One read cannot reach both lists: every request stops early yet still progresses.
            if budget == 1 {
                assert!(early_stops > 0, "budget 1 never stopped early");
            }
            if budget == READ_BUDGET {
                assert_eq!(
                    early_stops, 0,
                    "the real budget suffices for this catalogue"
                );
            }
        }
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
