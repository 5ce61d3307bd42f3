//! The business rules: each function takes the ports it needs.

pub mod accounts;
pub mod chat;
pub mod directory;
pub mod festival_days;
pub mod festivals;
mod hs256;
pub mod passwords;
pub mod queue;
pub mod reminders;
pub mod reservations;
pub mod search;
pub mod tokens;
mod validate;

pub use validate::{normalize_email, text_field, Page, PageRequest};
