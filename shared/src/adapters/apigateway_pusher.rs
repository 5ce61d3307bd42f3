//! The production [`ConnectionPusher`]: API Gateway's management API `PostToConnection`.

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;

use super::aws::SdkConfig;
use crate::error::AppResult;
use crate::ports::{ConnectionPusher, Push};

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
