use std::sync::Arc;

use festa::adapters::dynamodb::{DynamoRecords, DynamoSearchIndex};
use festa::adapters::system::{RandomIds, SystemClock};
use festa::config::Config;
use festa::services::festivals::Festivals;
use festa::AppResult;

/// What every festival route needs, built once per cold start.
#[derive(Clone)]
pub struct FestivalsState {
    pub festivals: Festivals,
}

impl FestivalsState {
    /// Production wiring: DynamoDB records and search index, and the Redis cache
    /// (`REDIS_URL`, or looked up by `CACHE_REPLICATION_GROUP_ID`).
    pub async fn from_env() -> AppResult<Self> {
        let config = Config::from_env()?;
        let aws = festa::adapters::aws::load().await;
        let dynamodb = festa::adapters::aws::dynamodb(&aws);
        let records_table = Config::require(&config.records_table, "RECORDS_TABLE")?;
        let search_table = Config::require(&config.search_table, "SEARCH_TABLE")?;
        Ok(FestivalsState {
            festivals: Festivals {
                store: Arc::new(DynamoRecords::new(dynamodb.clone(), records_table)),
                index: Arc::new(DynamoSearchIndex::new(dynamodb, search_table)),
                cache: festa::wiring::cache(&config).await?,
                clock: Arc::new(SystemClock),
                ids: Arc::new(RandomIds::default()),
            },
        })
    }
}
