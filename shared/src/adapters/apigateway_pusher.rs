//! The production [`ConnectionPusher`] (API Gateway's management API `PostToConnection`) and
//! [`SocketEviction`] (`DeleteConnection` of every connection the presence store holds for
//! the user).

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;

use super::aws::SdkConfig;
use crate::error::AppResult;
use crate::ports::{ConnectionPusher, Push, RoomPresence, SocketEviction};

/// Pushes frames to the connections of one WebSocket API stage.
#[derive(Debug, Clone)]
pub struct ApiGatewayPusher {
    client: aws_sdk_apigatewaymanagement::Client,
}

impl ApiGatewayPusher {
    /// A pusher for the stage at `callback_url` (`CHAT_CALLBACK_URL`); build it once per cold
    /// start, as its client keeps the connection pool and credentials cache.
    pub fn new(config: &SdkConfig, callback_url: &str) -> Self {
        Self {
            client: super::aws::apigateway_management(config, callback_url),
        }
    }
}

#[async_trait]
impl ConnectionPusher for ApiGatewayPusher {
    async fn push(&self, connection_id: &str, frame: &str) -> AppResult<Push> {
        match self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(frame))
            .send()
            .await
        {
            Ok(_) => Ok(Push::Delivered),
            // 410: the client went away without API Gateway running `$disconnect` yet; the
            // caller forgets the connection. Anything else (403, throttling, 5xx) is a failure.
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(PostToConnectionError::is_gone_exception) =>
            {
                Ok(Push::Gone)
            }
            // The SDK's error chain holds no request body, so the frame never reaches a log.
            Err(err) => Err(super::aws::call_failed(
                "API Gateway PostToConnection",
                &err,
            )),
        }
    }
}

/// Closes a signed-out user's WebSocket connections: takes them out of the presence store
/// (Redis) at once, so their frames are refused from then on, then asks API Gateway to close
/// each one (`DeleteConnection`), which also runs their `$disconnect`.
#[derive(Clone)]
pub struct ApiGatewayEviction {
    presence: Arc<dyn RoomPresence>,
    client: aws_sdk_apigatewaymanagement::Client,
}

impl ApiGatewayEviction {
    /// An evictor for the stage at `callback_url` (`CHAT_CALLBACK_URL`) that finds the user's
    /// connections in `presence`; build it once per cold start.
    pub fn new(config: &SdkConfig, callback_url: &str, presence: Arc<dyn RoomPresence>) -> Self {
        Self {
            presence,
            client: super::aws::apigateway_management(config, callback_url),
        }
    }
}

#[async_trait]
impl SocketEviction for ApiGatewayEviction {
    async fn close_user_connections(&self, user_id: &str) -> AppResult<()> {
        let connections = self.presence.evict(user_id).await?;
        let mut failure = None;
        for connection_id in connections {
            match self
                .client
                .delete_connection()
                .connection_id(&connection_id)
                .send()
                .await
            {
                Ok(_) => {}
                // 410: closed already (or expired); nothing is left to close.
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(DeleteConnectionError::is_gone_exception) => {}
                // Every other connection is still closed; the first failure is reported (the
                // connection is out of presence already, so its frames stay refused).
                Err(err) => {
                    failure.get_or_insert(super::aws::call_failed(
                        "API Gateway DeleteConnection",
                        &err,
                    ));
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }
}
