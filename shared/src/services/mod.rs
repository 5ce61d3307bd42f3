//! The business rules: each function takes the ports it needs.

pub mod accounts;
pub mod festivals;
pub mod passwords;
pub mod search;
pub mod tokens;
mod validate;

pub use validate::{normalize_email, text_field, Page, PageRequest};
