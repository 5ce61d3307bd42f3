//! In-memory adapters with the same semantics as the production ones.

mod cache;
mod clock;
mod ids;
mod records;
mod search;

pub use cache::MemoryCache;
pub use clock::ManualClock;
pub use ids::SequentialIds;
pub use records::MemoryRecords;
pub use search::MemorySearchIndex;
