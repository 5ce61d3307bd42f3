use std::sync::Arc;

use festa::adapters::apigateway_pusher::ApiGatewayPusher;
use festa::adapters::dynamodb::{DynamoChat, DynamoConnections, DynamoRecords};
use festa::adapters::system::{RandomIds, SystemClock};
use festa::config::{CacheTarget, Config};
use festa::ports::{Clock, SessionStore};
use festa::services::accounts::authenticate;
use festa::services::chat::{Chat, RoomTurns};
use festa::services::directory::FestivalDirectory;
use festa::services::tokens::{Identity, TokenKeys};
use festa::{AppError, AppResult};

/// Checks the access token a WebSocket client connects with, as the REST authorizer checks
/// bearer tokens: a valid signature and a live login.
#[derive(Clone)]
pub struct TokenGate {
    pub keys: TokenKeys,
    pub sessions: Arc<dyn SessionStore>,
    pub clock: Arc<dyn Clock>,
}

impl TokenGate {
    /// The caller behind `token`; anything else is `Unauthorized`.
    pub async fn identify(&self, token: Option<&str>) -> AppResult<Identity> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::Unauthorized("connect with ?token=<accessToken>".into()))?;
        authenticate(
            &self.keys,
            self.sessions.as_ref(),
            self.clock.as_ref(),
            Some(&format!("Bearer {token}")),
        )
        .await
    }
}

/// What every chat function needs, built once per cold start.
#[derive(Clone)]
pub struct ChatState {
    pub chat: Chat,
    /// Present where connections are opened (`$connect`, the local platform).
    pub gate: Option<TokenGate>,
}

impl ChatState {
    /// Production wiring: DynamoDB for rooms, messages (`MESSAGES_TABLE`) and connections
    /// (`CONNECTIONS_TABLE`), Redis for presence and read markers, and API Gateway's
    /// management API (`CHAT_CALLBACK_URL`) for pushes. `JWT_SECRET` is read where set.
    pub async fn from_env() -> AppResult<Self> {
        let config = Config::from_env()?;
        let records_table = Config::require(&config.records_table, "RECORDS_TABLE")?;
        let messages_table = Config::require(&config.messages_table, "MESSAGES_TABLE")?;
        let connections_table = Config::require(&config.connections_table, "CONNECTIONS_TABLE")?;
        let callback_url = Config::require(&config.chat_callback_url, "CHAT_CALLBACK_URL")?;
        if config.cache == CacheTarget::InProcess {
            // Presence held by one Lambda instance would be invisible to the others.
            return Err(AppError::internal(
                "chat needs Redis: set REDIS_URL or CACHE_REPLICATION_GROUP_ID",
            ));
        }
        let presence = festa::wiring::presence(&config).await?;
        let aws = festa::adapters::aws::load().await;
        let dynamodb = festa::adapters::aws::dynamodb(&aws);
        let records = Arc::new(DynamoRecords::new(dynamodb.clone(), records_table.clone()));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let gate = match &config.jwt_secret {
            Some(secret) => Some(TokenGate {
                keys: TokenKeys::from_secret(secret)?,
                sessions: records.clone(),
                clock: clock.clone(),
            }),
            None => None,
        };
        Ok(ChatState {
            chat: Chat {
                store: Arc::new(DynamoChat::new(
                    dynamodb.clone(),
                    records_table,
                    messages_table,
                )),
                connections: Arc::new(DynamoConnections::new(dynamodb, connections_table)),
                presence,
                pusher: Arc::new(ApiGatewayPusher::new(&aws, &callback_url)),
                festivals: FestivalDirectory::new(records),
                clock,
                ids: Arc::new(RandomIds::default()),
                turns: RoomTurns::default(),
            },
            gate,
        })
    }

    /// Fails at cold start where connections are opened but no token key is configured.
    pub fn requiring_gate(self) -> AppResult<Self> {
        if self.gate.is_none() {
            return Err(AppError::internal(
                "JWT_SECRET is not configured for this function",
            ));
        }
        Ok(self)
    }
}
