//! What a Lambda function builds at cold start. Each adapter is built only when the binary's
//! `main` asks for it, so a function links only the clients it uses: a route that sends no
//! mail has no SES client in its bootstrap, one outside the VPC no Redis client.

use std::sync::Arc;

use crate::adapters::aws::SdkConfig;
use crate::config::{CacheTarget, Config};
use crate::error::{AppError, AppResult};
#[cfg(feature = "secretsmanager")]
use crate::prefetch::Prefetched;

/// The configuration and AWS settings of this function, read once per cold start.
pub struct LambdaEnv {
    pub config: Config,
    pub aws: SdkConfig,
}

impl LambdaEnv {
    /// The environment Lambda gives the function (see `docs/deployment-contract.md`).
    pub fn load() -> AppResult<Self> {
        Ok(LambdaEnv {
            config: Config::from_env()?,
            aws: crate::adapters::aws::from_lambda_env()?,
        })
    }

    /// The records table (`RECORDS_TABLE`).
    #[cfg(feature = "dynamodb")]
    pub fn records(&self) -> AppResult<Arc<crate::adapters::dynamodb::DynamoRecords>> {
        let table = Config::require(&self.config.records_table, "RECORDS_TABLE")?;
        Ok(Arc::new(crate::adapters::dynamodb::DynamoRecords::new(
            self.dynamodb(),
            table,
        )))
    }

    /// A DynamoDB client; every client shares the one HTTPS connection pool of [`Self::aws`].
    #[cfg(feature = "dynamodb")]
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        crate::adapters::aws::dynamodb(&self.aws)
    }

    /// Redis at `REDIS_URL`, connected on the first command and reconnected after a drop, so
    /// a cold start never fails (or waits) because Redis is unreachable: each request then
    /// answers `503` until Redis is back. A deployed function never looks Redis up through
    /// the ElastiCache API (its subnets cannot reach it, and it would link that SDK into every
    /// function): the stack gives the URL.
    #[cfg(feature = "redis")]
    pub async fn redis(&self) -> AppResult<crate::adapters::redis_cache::RedisCache> {
        crate::adapters::redis_cache::RedisCache::connect(&self.redis_url()?).await
    }

    /// The waiting lines and admissions in Redis at `REDIS_URL`: the admitter's, and the
    /// booking route's, which spends an admission.
    #[cfg(feature = "redis")]
    pub async fn waiting_room(&self) -> AppResult<Arc<dyn crate::ports::WaitingRoom>> {
        let redis = self.redis().await?;
        Ok(Arc::new(
            crate::adapters::redis_waiting_room::RedisWaitingRoom::new(redis.connection()),
        ))
    }

    /// The search cache: Redis at `REDIS_URL`, or a cache that misses on every call when Redis
    /// cannot be reached at cold start (the search then answers from its index).
    #[cfg(feature = "redis")]
    pub async fn search_cache(&self) -> AppResult<Arc<dyn crate::ports::Cache>> {
        super::cache_at(&self.redis_url()?).await
    }

    /// Closes a user's chat connections when their logins end (sign-out, the password reset):
    /// the chat presence in Redis at `REDIS_URL` lists them, API Gateway's management API of
    /// the chat stage at `CHAT_CALLBACK_URL` closes them. Connects to Redis now.
    #[cfg(all(feature = "redis", feature = "apigateway"))]
    pub async fn socket_eviction(&self) -> AppResult<Arc<dyn crate::ports::SocketEviction>> {
        let callback_url = Config::require(&self.config.chat_callback_url, "CHAT_CALLBACK_URL")?;
        let presence = Arc::new(crate::adapters::redis_presence::RedisPresence::new(
            self.redis().await?.connection(),
        ));
        Ok(Arc::new(
            crate::adapters::apigateway_pusher::ApiGatewayEviction::new(
                &self.aws,
                &callback_url,
                presence,
            ),
        ))
    }

    /// `REDIS_URL`, which every function that keeps state in Redis needs.
    pub fn redis_url(&self) -> AppResult<String> {
        match &self.config.cache {
            CacheTarget::Url(url) => Ok(url.clone()),
            CacheTarget::ReplicationGroup(_) => Err(AppError::internal(
                "a Lambda function needs REDIS_URL; CACHE_REPLICATION_GROUP_ID is for the local \
                 platform and admin tools",
            )),
            CacheTarget::InProcess => Err(AppError::internal(
                "REDIS_URL is not set: state kept by one Lambda instance would be invisible to \
                 the others",
            )),
        }
    }

    /// The access-token keys: `JWT_SECRET` itself where it is set (local runs), else the
    /// Secrets Manager secret `JWT_SECRET_ARN`, read once, in the background from cold start
    /// (the first request that checks a token waits for it), and never logged. A function
    /// given neither refuses to start.
    #[cfg(feature = "secretsmanager")]
    pub fn token_keys(&self) -> AppResult<Prefetched<crate::services::tokens::TokenKeys>> {
        use crate::services::tokens::TokenKeys;
        if let Some(secret) = &self.config.jwt_secret {
            return Ok(Prefetched::ready(TokenKeys::from_secret(secret)?));
        }
        let arn = Config::require(&self.config.jwt_secret_arn, "JWT_SECRET_ARN")?;
        Ok(self.secret_then(arn, |secret| {
            TokenKeys::from_secret(secret.trim().as_bytes())
        }))
    }

    /// What `make` builds from the string of the Secrets Manager secret `arn`, fetched in the
    /// background from now on (see [`Prefetched`]).
    #[cfg(feature = "secretsmanager")]
    pub fn secret_then<T, F>(&self, arn: String, make: F) -> Prefetched<T>
    where
        T: Send + Sync + 'static,
        F: Fn(String) -> AppResult<T> + Send + Sync + 'static,
    {
        let client = crate::adapters::aws::secretsmanager(&self.aws);
        let make = Arc::new(make);
        Prefetched::fetch(move || {
            let (client, arn, make) = (client.clone(), arn.clone(), make.clone());
            async move { make(crate::adapters::secrets::secret_string(&client, &arn).await?) }
        })
    }

    /// SQS, for the functions that send to or postpone messages on a queue.
    #[cfg(feature = "sqs")]
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        crate::adapters::aws::sqs(&self.aws)
    }

    /// The mailer of `signup`: SES from `MAIL_FROM`; without it, codes are not delivered (a
    /// stack without SES), which is said once at cold start.
    #[cfg(feature = "ses")]
    pub fn mailer(&self) -> Arc<dyn crate::ports::Mailer> {
        match &self.config.mail_from {
            Some(from) => Arc::new(crate::adapters::ses::SesMailer::new(
                crate::adapters::aws::sesv2(&self.aws),
                from.clone(),
            )),
            None => {
                tracing::warn!(
                    "MAIL_FROM is not set: confirmation codes are not delivered by e-mail"
                );
                Arc::new(crate::adapters::outbox::Outbox::new())
            }
        }
    }
}
