//! In-memory reminder adapters: the festival calendar and rosters over the records, the
//! device registry, the sent-marker ledger and the two queues.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::records::MemoryRecords;
use crate::error::AppResult;
use crate::model::{Device, FestivalDay, ReminderJob, ReminderTask, ReservationStatus};
use crate::ports::{
    Claim, DeviceRegistry, FestivalCalendar, ReminderJobs, ReminderKey, ReminderLedger,
    ReminderTasks, ReservationRoster, ReservationStore, RosterPage,
};

#[async_trait]
impl FestivalCalendar for MemoryRecords {
    async fn festival_days(&self, date: NaiveDate) -> AppResult<Vec<FestivalDay>> {
        let festivals = self.festivals.lock().unwrap();
        Ok(festivals
            .values()
            .filter(|f| f.tickets.iter().any(|t| t.date == date))
            .map(|f| FestivalDay {
                festival_id: f.festival_id.clone(),
                festival_name: f.name.clone(),
                time_zone: f.time_zone.clone(),
                date,
            })
            .collect())
    }
}

#[async_trait]
impl ReservationRoster for MemoryRecords {
    async fn confirmed(
        &self,
        festival_id: &str,
        date: NaiveDate,
        after: Option<&str>,
        limit: usize,
    ) -> AppResult<RosterPage> {
        let book = self.reservations.lock().unwrap();
        let Some(roster) = book.rosters.get(&(festival_id.to_string(), date)) else {
            return Ok(RosterPage::default());
        };
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut ids = roster.range::<str, _>((lower, Bound::Unbounded));
        let reservations: Vec<_> = ids
            .by_ref()
            .take(limit)
            .filter_map(|(id, email)| book.reservation(email, id))
            .collect();
        let next = match ids.next() {
            Some(_) => reservations.last().map(|r| r.reservation_id.clone()),
            None => None,
        };
        Ok(RosterPage { reservations, next })
    }

    async fn still_confirmed(&self, email: &str, reservation_id: &str) -> AppResult<bool> {
        let reservation = self.get_reservation(email, reservation_id).await?;
        Ok(reservation.is_some_and(|r| r.status == ReservationStatus::Confirmed))
    }
}

/// Devices by owner, and each token's owner.
#[derive(Default)]
pub struct MemoryDevices {
    state: Mutex<DeviceBook>,
}

#[derive(Default)]
struct DeviceBook {
    owner_of: HashMap<String, String>,
    /// Owner → token → device (tokens sorted, so listings are stable).
    devices: HashMap<String, BTreeMap<String, Device>>,
}

impl DeviceBook {
    fn remove(&mut self, email: &str, token: &str) {
        if let Some(mine) = self.devices.get_mut(email) {
            mine.remove(token);
            if mine.is_empty() {
                self.devices.remove(email);
            }
        }
    }
}

impl MemoryDevices {
    /// No devices.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl DeviceRegistry for MemoryDevices {
    async fn activate(&self, email: &str, device: &Device) -> AppResult<()> {
        let mut book = self.state.lock().unwrap();
        if let Some(previous) = book
            .owner_of
            .insert(device.token.clone(), email.to_string())
        {
            book.remove(&previous, &device.token);
        }
        book.devices
            .entry(email.to_string())
            .or_default()
            .insert(device.token.clone(), device.clone());
        Ok(())
    }

    async fn deactivate(&self, email: &str, token: &str) -> AppResult<bool> {
        let mut book = self.state.lock().unwrap();
        if book.owner_of.get(token).map(String::as_str) != Some(email) {
            return Ok(false);
        }
        book.owner_of.remove(token);
        book.remove(email, token);
        Ok(true)
    }

    async fn forget(&self, token: &str) -> AppResult<()> {
        let mut book = self.state.lock().unwrap();
        if let Some(owner) = book.owner_of.remove(token) {
            book.remove(&owner, token);
        }
        Ok(())
    }

    async fn devices_of(&self, email: &str) -> AppResult<Vec<Device>> {
        let book = self.state.lock().unwrap();
        Ok(book
            .devices
            .get(email)
            .map(|mine| mine.values().cloned().collect())
            .unwrap_or_default())
    }
}

/// Where a push stands in the memory ledger.
#[derive(Clone, Copy)]
enum Mark {
    Held(DateTime<Utc>),
    Settled,
}

/// Sent markers in a map.
#[derive(Default)]
pub struct MemoryReminderLedger {
    marks: Mutex<HashMap<ReminderKey, Mark>>,
}

impl MemoryReminderLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ReminderLedger for MemoryReminderLedger {
    async fn claim(
        &self,
        key: &ReminderKey,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> AppResult<Claim> {
        let mut marks = self.marks.lock().unwrap();
        match marks.get(key) {
            Some(Mark::Settled) => return Ok(Claim::Settled),
            Some(Mark::Held(until)) if *until > now => return Ok(Claim::Held { until: *until }),
            _ => {}
        }
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        marks.insert(key.clone(), Mark::Held(until));
        Ok(Claim::Claimed)
    }

    async fn settle(&self, key: &ReminderKey, _now: DateTime<Utc>) -> AppResult<()> {
        self.marks
            .lock()
            .unwrap()
            .insert(key.clone(), Mark::Settled);
        Ok(())
    }

    async fn release(&self, key: &ReminderKey) -> AppResult<()> {
        let mut marks = self.marks.lock().unwrap();
        if let Some(Mark::Held(_)) = marks.get(key) {
            marks.remove(key);
        }
        Ok(())
    }
}

/// The planner's tasks and the push jobs, queued in process for the local platform to drain.
#[derive(Default)]
pub struct MemoryReminderQueue {
    tasks: Mutex<VecDeque<ReminderTask>>,
    jobs: Mutex<VecDeque<ReminderJob>>,
}

impl MemoryReminderQueue {
    /// Empty queues.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes every queued task.
    pub fn take_tasks(&self) -> Vec<ReminderTask> {
        self.tasks.lock().unwrap().drain(..).collect()
    }

    /// Takes every queued job.
    pub fn take_jobs(&self) -> Vec<ReminderJob> {
        self.jobs.lock().unwrap().drain(..).collect()
    }
}

#[async_trait]
impl ReminderTasks for MemoryReminderQueue {
    async fn enqueue_tasks(&self, tasks: &[ReminderTask]) -> AppResult<()> {
        self.tasks.lock().unwrap().extend(tasks.iter().cloned());
        Ok(())
    }
}

#[async_trait]
impl ReminderJobs for MemoryReminderQueue {
    async fn enqueue_jobs(&self, jobs: &[ReminderJob]) -> AppResult<()> {
        self.jobs.lock().unwrap().extend(jobs.iter().cloned());
        Ok(())
    }
}
