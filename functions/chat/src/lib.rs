//! Festival chat: four REST routes (join, enter, list, leave) and the WebSocket routes
//! (`$connect`, `$disconnect` and the frame actions). Handlers are thin: parse, call
//! `festa::services::chat`, answer.

mod handlers;
pub mod socket;
mod state;

pub use handlers::{openapi, routes};
pub use state::{ChatState, TokenGate};
