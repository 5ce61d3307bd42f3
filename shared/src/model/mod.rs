//! The festival domain's records.

mod account;
pub mod calendar_date;
mod chat;
mod festival;
mod reminder;
mod reservation;
pub mod timestamp;

pub use account::{Account, AccountStatus, PendingConfirmation, Role, Session};
pub use chat::{
    ChatMessage, ChatRoom, Connection, Membership, RoomActivity, RoomJoined, RoomList, RoomSummary,
    RoomView,
};
pub use festival::{Festival, TicketStock};
pub use reminder::{
    Device, FestivalDay, Platform, PushMessage, ReminderJob, ReminderTask, SentPush,
};
pub use reservation::{BookingRequest, Reservation, ReservationStatus};
