//! The contract suite against the DynamoDB adapters on an emulator (moto) or real DynamoDB at
//! `AWS_ENDPOINT_URL`. Each run creates its own uniquely named pair of tables.
//!
//! Without `AWS_ENDPOINT_URL` the cases are skipped, unless `FESTA_REQUIRE_REAL=1` (CI), which
//! makes a missing endpoint a failure.
//!
//! The emulator must isolate transactions as DynamoDB does: moto's stock server runs requests
//! on parallel threads without locking, and its TransactWriteItems, on a failed condition,
//! puts back a copy of the whole table taken before, undoing what other requests wrote
//! meanwhile. `scripts/test.sh` therefore runs moto one request at a time
//! (`scripts/moto_serial.py`); the adapter's calls still interleave freely between requests.

#![cfg(feature = "dynamodb")]

#[macro_use]
mod contract;
mod emulator;

use festa::adapters::dynamodb::{ensure_tables, Client, DynamoRecords, DynamoSearchIndex};
use tokio::sync::OnceCell;

/// The table names of this run, created once and shared by every case.
static TABLES: OnceCell<(String, String)> = OnceCell::const_new();
/// The reservation cases' records table, apart from the others (see the module docs).
static RESERVATION_TABLE: OnceCell<String> = OnceCell::const_new();

/// Stores on this run's tables, or `None` (after a note) when no endpoint is configured.
///
/// Every test has its own runtime, so every test gets its own client; only the tables are
/// shared.
async fn stores() -> Option<(DynamoRecords, DynamoSearchIndex)> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        if std::env::var("FESTA_REQUIRE_REAL").as_deref() == Ok("1") {
            panic!("FESTA_REQUIRE_REAL=1 but AWS_ENDPOINT_URL is not set");
        }
        eprintln!("skipped: set AWS_ENDPOINT_URL to run the DynamoDB contract suite");
        return None;
    }
    let client = Client::new(&emulator::config_without_deadlines().await);
    let (records, search) = TABLES
        .get_or_init(|| async {
            let run = ulid::Ulid::generate().to_string().to_lowercase();
            let records = format!("festa-contract-records-{run}");
            let search = format!("festa-contract-search-{run}");
            ensure_tables(&client, &records, &search)
                .await
                .expect("create the contract tables");
            // A second call finds them and changes nothing.
            ensure_tables(&client, &records, &search)
                .await
                .expect("ensure_tables is idempotent");
            (records, search)
        })
        .await;
    Some((
        DynamoRecords::new(client.clone(), records.as_str()),
        DynamoSearchIndex::new(client, search.as_str()),
    ))
}

/// A store on the reservation cases' own table, so the thousand-booking rush does not slow
/// the other cases' table. The emulator must isolate transactions as DynamoDB does:
/// `scripts/test.sh` runs moto one request at a time (`scripts/moto_serial.py`).
async fn reservation_store() -> Option<DynamoRecords> {
    stores().await?;
    let client = Client::new(&emulator::config_without_deadlines().await);
    let table = RESERVATION_TABLE
        .get_or_init(|| async {
            let run = ulid::Ulid::generate().to_string().to_lowercase();
            let records = format!("festa-contract-reservations-{run}");
            ensure_tables(&client, &records, &format!("{records}-search"))
                .await
                .expect("create the reservation cases' tables");
            records
        })
        .await;
    Some(DynamoRecords::new(client, table.as_str()))
}

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
                let Some((records, _)) = stores().await else { return };
                contract::$records(&records).await;
            }
        )*
        $(
            #[tokio::test]
            async fn $search() {
                let Some((_, index)) = stores().await else { return };
                contract::$search(&index).await;
            }
        )*
        $(
            #[tokio::test]
            async fn $reservations() {
                let Some(records) = reservation_store().await else { return };
                contract::$reservations(&records).await;
            }
        )*
        $(
            #[tokio::test]
            async fn $devices() {
                let Some((records, _)) = stores().await else { return };
                contract::$devices(&records).await;
            }
        )*
        $(
            #[tokio::test]
            async fn $ledger() {
                let Some((records, _)) = stores().await else { return };
                contract::$ledger(&records).await;
            }
        )*
    };
}

all_cases!(cases);

#[tokio::test]
async fn revoke_all_sessions_leaves_the_account() {
    let Some((records, _)) = stores().await else {
        return;
    };
    contract::revoke_all_sessions_leaves_the_account(&records, &records).await;
}
