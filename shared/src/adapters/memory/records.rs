use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::{AppError, AppResult};
use crate::model::{Account, AccountStatus, Festival, PendingConfirmation, Session};
use crate::ports::{AccountStore, FestivalStore, SessionStore};

/// Accounts, sessions and festivals held in process memory.
#[derive(Default)]
pub struct MemoryRecords {
    accounts: Mutex<HashMap<String, Account>>,
    sessions: Mutex<HashMap<(String, String), Session>>,
    pub(super) festivals: Mutex<BTreeMap<String, Festival>>,
    pub(super) reservations: Mutex<super::reservations::ReservationBook>,
    /// Rate-limit windows by key: (count, end of the window).
    pub(super) limits: Mutex<HashMap<String, (u32, DateTime<Utc>)>>,
}

impl MemoryRecords {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl AccountStore for MemoryRecords {
    async fn get_account(&self, email: &str) -> AppResult<Option<Account>> {
        Ok(self.accounts.lock().unwrap().get(email).cloned())
    }

    async fn put_unconfirmed(&self, account: &Account, replaces: Option<&str>) -> AppResult<()> {
        let mut accounts = self.accounts.lock().unwrap();
        // What holds the address: nothing, a pending sign-up (named by its code), or a
        // confirmed account, which no replacement can name.
        let current = accounts.get(&account.email).map(|existing| {
            match (existing.status, &existing.confirmation) {
                (AccountStatus::Unconfirmed, Some(pending)) => pending.code_hash.as_str(),
                _ => "",
            }
        });
        if current != replaces {
            return Err(AppError::EmailTaken);
        }
        accounts.insert(account.email.clone(), account.clone());
        Ok(())
    }

    async fn renew_code(
        &self,
        email: &str,
        replaces: &str,
        code: &PendingConfirmation,
    ) -> AppResult<()> {
        let mut accounts = self.accounts.lock().unwrap();
        let account = accounts
            .get_mut(email)
            .filter(|a| a.status == AccountStatus::Unconfirmed)
            .filter(|a| {
                a.confirmation
                    .as_ref()
                    .is_some_and(|p| p.code_hash == replaces)
            })
            .ok_or(AppError::CodeMismatch)?;
        account.confirmation = Some(code.clone());
        Ok(())
    }

    async fn reserve_code_attempt(&self, email: &str, max: u32) -> AppResult<u32> {
        let mut accounts = self.accounts.lock().unwrap();
        let pending = accounts
            .get_mut(email)
            .and_then(|a| a.confirmation.as_mut())
            .ok_or(AppError::CodeMismatch)?;
        if pending.failed_attempts >= max {
            return Err(AppError::code_attempts_exhausted());
        }
        pending.failed_attempts += 1;
        Ok(pending.failed_attempts)
    }

    async fn mark_confirmed(
        &self,
        email: &str,
        code_hash: &str,
        _at: DateTime<Utc>,
    ) -> AppResult<()> {
        let mut accounts = self.accounts.lock().unwrap();
        let account = accounts.get_mut(email).ok_or(AppError::CodeMismatch)?;
        let live = account.status == AccountStatus::Unconfirmed
            && account
                .confirmation
                .as_ref()
                .is_some_and(|p| p.code_hash == code_hash);
        if !live {
            return Err(AppError::CodeMismatch);
        }
        account.status = AccountStatus::Confirmed;
        account.confirmation = None;
        Ok(())
    }

    async fn put_reset_code(&self, email: &str, reset: &PendingConfirmation) -> AppResult<bool> {
        let mut accounts = self.accounts.lock().unwrap();
        let Some(account) = accounts.get_mut(email) else {
            return Ok(false);
        };
        account.password_reset = Some(reset.clone());
        Ok(true)
    }

    async fn reserve_reset_attempt(&self, email: &str, max: u32) -> AppResult<u32> {
        let mut accounts = self.accounts.lock().unwrap();
        let reset = accounts
            .get_mut(email)
            .and_then(|a| a.password_reset.as_mut())
            .ok_or(AppError::CodeMismatch)?;
        if reset.failed_attempts >= max {
            return Err(AppError::code_attempts_exhausted());
        }
        reset.failed_attempts += 1;
        Ok(reset.failed_attempts)
    }

    async fn reset_password(
        &self,
        email: &str,
        code_hash: &str,
        password_hash: &str,
        _at: DateTime<Utc>,
    ) -> AppResult<()> {
        let mut accounts = self.accounts.lock().unwrap();
        let account = accounts
            .get_mut(email)
            .filter(|a| {
                a.password_reset
                    .as_ref()
                    .is_some_and(|r| r.code_hash == code_hash)
            })
            .ok_or(AppError::CodeMismatch)?;
        account.password_hash = password_hash.to_string();
        account.status = AccountStatus::Confirmed;
        account.confirmation = None;
        account.password_reset = None;
        Ok(())
    }
}

#[async_trait]
impl SessionStore for MemoryRecords {
    async fn create_session(&self, session: &Session) -> AppResult<()> {
        let key = (session.email.clone(), session.session_id.clone());
        self.sessions.lock().unwrap().insert(key, session.clone());
        Ok(())
    }

    async fn get_session(&self, email: &str, session_id: &str) -> AppResult<Option<Session>> {
        let key = (email.to_string(), session_id.to_string());
        Ok(self.sessions.lock().unwrap().get(&key).cloned())
    }

    async fn rotate_refresh(
        &self,
        email: &str,
        session_id: &str,
        current_hash: &str,
        next_hash: &str,
        spent_hashes: &[String],
    ) -> AppResult<bool> {
        let key = (email.to_string(), session_id.to_string());
        let mut sessions = self.sessions.lock().unwrap();
        match sessions.get_mut(&key) {
            Some(s) if !s.revoked && s.refresh_hash == current_hash => {
                s.refresh_hash = next_hash.to_string();
                s.spent_hashes = spent_hashes.to_vec();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_session(&self, email: &str, session_id: &str) -> AppResult<()> {
        let key = (email.to_string(), session_id.to_string());
        if let Some(s) = self.sessions.lock().unwrap().get_mut(&key) {
            s.revoked = true;
        }
        Ok(())
    }

    async fn revoke_all_sessions(&self, email: &str) -> AppResult<u32> {
        let mut revoked = 0;
        for ((owner, _), s) in self.sessions.lock().unwrap().iter_mut() {
            if owner == email && !s.revoked {
                s.revoked = true;
                revoked += 1;
            }
        }
        Ok(revoked)
    }
}

#[async_trait]
impl FestivalStore for MemoryRecords {
    async fn create_festival(&self, festival: &Festival) -> AppResult<()> {
        let mut festivals = self.festivals.lock().unwrap();
        if festivals.contains_key(&festival.festival_id) {
            return Err(AppError::internal("festival id collision"));
        }
        festivals.insert(festival.festival_id.clone(), festival.clone());
        Ok(())
    }

    async fn get_festival(&self, festival_id: &str) -> AppResult<Option<Festival>> {
        Ok(self.festivals.lock().unwrap().get(festival_id).cloned())
    }

    async fn get_festivals(&self, ids: &[String], with_stock: bool) -> AppResult<Vec<Festival>> {
        let festivals = self.festivals.lock().unwrap();
        Ok(ids
            .iter()
            .filter_map(|id| festivals.get(id).cloned())
            .map(|mut f| {
                if !with_stock {
                    f.tickets.clear();
                }
                f
            })
            .collect())
    }

    async fn list_festivals(&self, before: Option<&str>, limit: usize) -> AppResult<Vec<Festival>> {
        let festivals = self.festivals.lock().unwrap();
        let newest_first: Box<dyn Iterator<Item = &Festival>> = match before {
            Some(id) => Box::new(
                festivals
                    .range::<str, _>((Bound::Unbounded, Bound::Excluded(id)))
                    .rev()
                    .map(|(_, f)| f),
            ),
            None => Box::new(festivals.values().rev()),
        };
        Ok(newest_first.take(limit).cloned().collect())
    }
}
