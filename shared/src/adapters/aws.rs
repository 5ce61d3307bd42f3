//! The AWS SDK configuration, loaded once per cold start, and the clients built from it.
//! `AWS_ENDPOINT_URL` points every client at an emulator in tests and local runs.

pub use aws_config::SdkConfig;

use crate::error::AppError;

/// A failed AWS call as an internal error that names the call and gives the SDK's whole error
/// chain (which carries no request payloads, so no secret reaches the log).
pub fn call_failed(
    what: impl std::fmt::Display,
    err: &(impl std::error::Error + 'static),
) -> AppError {
    AppError::internal(format!(
        "{what} failed: {}",
        aws_smithy_types::error::display::DisplayErrorContext(err)
    ))
}

/// Region, credentials and endpoint from the environment, as the SDK resolves them.
pub async fn load() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

/// A DynamoDB client.
#[cfg(feature = "dynamodb")]
pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// An SES v2 client.
#[cfg(feature = "ses")]
pub fn sesv2(config: &SdkConfig) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(config)
}

/// An ElastiCache client.
#[cfg(feature = "elasticache")]
pub fn elasticache(config: &SdkConfig) -> aws_sdk_elasticache::Client {
    aws_sdk_elasticache::Client::new(config)
}

/// An SQS client.
#[cfg(feature = "sqs")]
pub fn sqs(config: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}

/// An EventBridge client.
#[cfg(feature = "eventbridge")]
pub fn eventbridge(config: &SdkConfig) -> aws_sdk_eventbridge::Client {
    aws_sdk_eventbridge::Client::new(config)
}

/// A Secrets Manager client.
#[cfg(feature = "secretsmanager")]
pub fn secretsmanager(config: &SdkConfig) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(config)
}

/// An API Gateway management API client for one WebSocket API stage.
///
/// That API is served by the stage itself
/// (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`, `CHAT_CALLBACK_URL`), so
/// `callback_url` replaces any endpoint the configuration holds, a global `AWS_ENDPOINT_URL`
/// included.
#[cfg(feature = "apigateway")]
pub fn apigateway_management(
    config: &SdkConfig,
    callback_url: &str,
) -> aws_sdk_apigatewaymanagement::Client {
    // One stuck push must not hold a whole fan-out until the Lambda times out.
    let timeouts = aws_smithy_types::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(std::time::Duration::from_secs(2))
        .operation_timeout(std::time::Duration::from_secs(4))
        .build();
    let conf = aws_sdk_apigatewaymanagement::config::Builder::from(config)
        .endpoint_url(callback_url)
        .timeout_config(timeouts)
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(conf)
}
