//! In-memory adapters with the same semantics as the production ones.

mod cache;
mod chat;
mod clock;
mod connections;
mod events;
mod eviction;
mod frames;
mod ids;
mod limits;
mod presence;
mod records;
mod reminders;
mod reservations;
mod search;
mod ticks;
mod waiting_room;

pub use cache::MemoryCache;
pub use chat::MemoryChat;
pub use clock::ManualClock;
pub use connections::MemoryConnections;
pub use events::RecordedEvents;
pub use eviction::RecordedEvictions;
pub use frames::RecordedFrames;
pub use ids::SequentialIds;
pub use presence::MemoryPresence;
pub use records::MemoryRecords;
pub use reminders::{MemoryDevices, MemoryReminderLedger, MemoryReminderQueue};
pub use search::MemorySearchIndex;
pub use ticks::{DueTick, InProcessTicks};
pub use waiting_room::MemoryWaitingRoom;
