use std::sync::Arc;

use festa::adapters::dynamodb::DynamoSearchIndex;
use festa::adapters::refusing::NoCache;
use festa::adapters::system::{RandomIds, SystemClock};
use festa::config::Config;
use festa::ports::Cache;
use festa::services::festivals::Festivals;
use festa::wiring::LambdaEnv;
use festa::AppResult;

/// What every festival route needs, built once per cold start.
#[derive(Clone)]
pub struct FestivalsState {
    pub festivals: Festivals,
}

impl FestivalsState {
    /// Production wiring: DynamoDB records and search index (`RECORDS_TABLE`,
    /// `SEARCH_TABLE`), and the Redis search cache for the routes that use it (creating a
    /// festival invalidates it, searching fills it); listing and reading one festival run
    /// outside the VPC without Redis.
    pub fn new(env: &LambdaEnv, cache: Option<Arc<dyn Cache>>) -> AppResult<Self> {
        let search_table = Config::require(&env.config.search_table, "SEARCH_TABLE")?;
        Ok(FestivalsState {
            festivals: Festivals {
                store: env.records()?,
                index: Arc::new(DynamoSearchIndex::new(env.dynamodb(), search_table)),
                cache: cache.unwrap_or_else(|| Arc::new(NoCache)),
                clock: Arc::new(SystemClock),
                ids: Arc::new(RandomIds::default()),
            },
        })
    }
}
