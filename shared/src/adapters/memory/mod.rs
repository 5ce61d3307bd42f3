//! In-memory adapters with the same semantics as the production ones.

mod cache;
mod clock;
mod events;
mod ids;
mod records;
mod reservations;
mod search;
mod ticks;
mod waiting_room;

pub use cache::MemoryCache;
pub use clock::ManualClock;
pub use events::RecordedEvents;
pub use ids::SequentialIds;
pub use records::MemoryRecords;
pub use search::MemorySearchIndex;
pub use ticks::{DueTick, InProcessTicks};
pub use waiting_room::MemoryWaitingRoom;
