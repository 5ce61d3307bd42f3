//! The narrow traits through which the domain reaches the outside world.
//!
//! Each has a production adapter and an in-memory one with the same semantics; the contract
//! tests in `tests/` run the same cases against both.

mod accounts;
mod cache;
mod chat;
mod clock;
mod festivals;
mod ids;
mod limits;
mod mailer;
mod reminders;
mod reservations;
mod search;
mod sessions;
mod waiting_room;

pub use accounts::AccountStore;
pub use cache::{Cache, CacheBudget};
pub use chat::{
    Appended, ChatStore, ConnectionPusher, ConnectionStore, MessageDraft, Push, Recipient,
    RoomPresence, SocketEviction,
};
pub use clock::Clock;
pub use festivals::FestivalStore;
pub use ids::IdSource;
pub use limits::{Hit, RateLimits};
pub use mailer::{Mail, Mailer};
pub use reminders::{
    Claim, DeviceRegistry, FestivalCalendar, JobBackoff, PushGateway, PushOutcome, ReminderJobs,
    ReminderKey, ReminderLedger, ReminderTasks, ReservationRoster, RosterPage,
};
pub use reservations::{
    Booking, Cancellation, IdempotentBooking, ReservationEvent, ReservationEventDetail,
    ReservationEvents, ReservationStore,
};
pub use search::{GramSignature, Posting, PostingBound, SearchIndex};
pub use sessions::SessionStore;
pub use waiting_room::{AdmitPolicy, AdmitTick, AdmitTicks, LineView, TickOutcome, WaitingRoom};
