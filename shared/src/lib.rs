//! Festa's domain crate: the model, the rules, the ports the rules need and the adapters that
//! implement them. Function crates stay thin: they parse, call one service, and answer.

pub mod adapters;
pub mod api;
pub mod config;
pub mod error;
pub mod model;
pub mod observability;
pub mod ports;
pub mod prefetch;
pub mod services;
pub mod wiring;

pub use error::{AppError, AppResult, Problem};
