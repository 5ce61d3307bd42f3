//! In-memory adapters with the same semantics as the production ones.

mod cache;
mod clock;
mod records;
mod search;

pub use cache::MemoryCache;
pub use clock::ManualClock;
pub use records::MemoryRecords;
pub use search::MemorySearchIndex;
