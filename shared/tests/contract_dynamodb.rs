//! The contract suite against the DynamoDB adapters on an emulator (moto) or real DynamoDB at
//! `AWS_ENDPOINT_URL`. Each run creates its own uniquely named pair of tables.
//!
//! Without `AWS_ENDPOINT_URL` the cases are skipped, unless `FESTA_REQUIRE_REAL=1` (CI), which
//! makes a missing endpoint a failure.

#![cfg(feature = "dynamodb")]

#[macro_use]
mod contract;

use festa::adapters::dynamodb::{ensure_tables, Client, DynamoRecords, DynamoSearchIndex};
use tokio::sync::OnceCell;

/// The table names of this run, created once and shared by every case.
static TABLES: OnceCell<(String, String)> = OnceCell::const_new();

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
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let client = Client::new(&config);
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

macro_rules! cases {
    (records: [$($records:ident),* $(,)?], search: [$($search:ident),* $(,)?] $(,)?) => {
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
