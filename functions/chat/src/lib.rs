//! Festival chat: four REST routes (join, enter, list, leave) and the WebSocket routes
//! (`$connect`, `$disconnect` and the frame actions). Handlers are thin: parse, call
//! `festa::services::chat`, answer.

mod handlers;
pub mod socket;
mod state;

pub use handlers::{
    enter_chat_room_route, join_chat_room_route, leave_chat_room_route, list_chat_rooms_route,
    openapi, routes,
};
pub use state::{pusher, ChatState, TokenGate};
