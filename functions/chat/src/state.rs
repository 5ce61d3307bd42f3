use std::sync::Arc;

use festa::adapters::apigateway_pusher::ApiGatewayPusher;
use festa::adapters::dynamodb::{DynamoChat, DynamoConnections};
use festa::adapters::redis_presence::RedisPresence;
use festa::adapters::refusing::NoPusher;
use festa::adapters::system::{RandomIds, SystemClock};
use festa::config::Config;
use festa::ports::{Clock, ConnectionPusher, SessionStore};
use festa::prefetch::Prefetched;
use festa::services::accounts::authenticate;
use festa::services::chat::{Chat, RoomTurns};
use festa::services::directory::FestivalDirectory;
use festa::services::tokens::{Identity, TokenKeys};
use festa::wiring::LambdaEnv;
use festa::{AppError, AppResult};

/// Checks the access token a WebSocket client connects with, as the REST authorizer checks
/// bearer tokens: a valid signature and a live login.
#[derive(Clone)]
pub struct TokenGate {
    /// In AWS possibly still on its way from Secrets Manager when the first upgrade arrives.
    pub keys: Prefetched<TokenKeys>,
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
            self.keys.get().await?,
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
    /// (`CONNECTIONS_TABLE`), Redis for presence and read markers (`REDIS_URL`), plus what the
    /// binary's route uses: the pusher for the frame routes (the REST routes, `$connect` and
    /// `$disconnect` push nothing), the token keys for `$connect`.
    pub async fn new(
        env: &LambdaEnv,
        pusher: Option<Arc<dyn ConnectionPusher>>,
        keys: Option<Prefetched<TokenKeys>>,
    ) -> AppResult<Self> {
        let records_table = Config::require(&env.config.records_table, "RECORDS_TABLE")?;
        let messages_table = Config::require(&env.config.messages_table, "MESSAGES_TABLE")?;
        let connections_table =
            Config::require(&env.config.connections_table, "CONNECTIONS_TABLE")?;
        let presence = Arc::new(RedisPresence::new(env.redis().await?.connection()));
        let dynamodb = env.dynamodb();
        let records = env.records()?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let gate = keys.map(|keys| TokenGate {
            keys,
            sessions: records.clone(),
            clock: clock.clone(),
        });
        Ok(ChatState {
            chat: Chat {
                store: Arc::new(DynamoChat::new(
                    dynamodb.clone(),
                    records_table,
                    messages_table,
                )),
                connections: Arc::new(DynamoConnections::new(dynamodb, connections_table)),
                presence,
                pusher: pusher.unwrap_or_else(|| Arc::new(NoPusher)),
                festivals: FestivalDirectory::new(records.clone()),
                sessions: records,
                clock,
                ids: Arc::new(RandomIds::default()),
                turns: RoomTurns::default(),
            },
            gate,
        })
    }
}

/// Pushes to connections through API Gateway's management API of the chat stage
/// (`CHAT_CALLBACK_URL`).
pub fn pusher(env: &LambdaEnv) -> AppResult<Arc<dyn ConnectionPusher>> {
    let callback_url = Config::require(&env.config.chat_callback_url, "CHAT_CALLBACK_URL")?;
    Ok(Arc::new(ApiGatewayPusher::new(&env.aws, &callback_url)))
}
