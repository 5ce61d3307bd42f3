//! The contract suite against the in-memory adapters.

#[macro_use]
mod contract;

use festa::adapters::memory::{
    MemoryDevices, MemoryRecords, MemoryReminderLedger, MemorySearchIndex,
};

macro_rules! cases {
    (
        records: [$($records:ident),* $(,)?],
        search: [$($search:ident),* $(,)?],
        reservations: [$($reservations:ident),* $(,)?],
        devices: [$($devices:ident),* $(,)?],
        ledger: [$($ledger:ident),* $(,)?] $(,)?
    ) => {
        $(
            #[tokio::test]
            async fn $records() {
                contract::$records(&MemoryRecords::new()).await;
            }
        )*
        $(
            #[tokio::test]
            async fn $search() {
                contract::$search(&MemorySearchIndex::new()).await;
            }
        )*
        $(
            #[tokio::test]
            async fn $reservations() {
                contract::$reservations(&MemoryRecords::new()).await;
            }
        )*
        $(
            #[tokio::test]
            async fn $devices() {
                contract::$devices(&MemoryDevices::new()).await;
            }
        )*
        $(
            #[tokio::test]
            async fn $ledger() {
                contract::$ledger(&MemoryReminderLedger::new()).await;
            }
        )*
    };
}

all_cases!(cases);

#[tokio::test]
async fn revoke_all_sessions_leaves_the_account() {
    let records = MemoryRecords::new();
    contract::revoke_all_sessions_leaves_the_account(&records, &records).await;
}
