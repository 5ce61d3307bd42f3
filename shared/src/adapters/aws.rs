//! The AWS SDK configuration, loaded once per cold start, and the clients built from it.
//! `AWS_ENDPOINT_URL` points every client at an emulator in tests and local runs.
//!
//! Every client talks HTTPS through [`https_client`]: rustls on ring with the system's roots,
//! the TLS stack Redis and FCM use too, so a binary links one crypto library.

pub use aws_config::SdkConfig;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use crate::error::{AppError, AppResult};

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

/// The HTTP client every SDK client shares; it opens TLS sessions only when first used, so
/// building it costs a cold start nothing.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// For a developer's machine and admin tools: region, credentials and endpoint resolved the
/// way the AWS CLI does (environment, profiles, SSO, instance roles).
pub async fn load() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await
}

/// For a Lambda function: the region, credentials and endpoint override that Lambda (or a test
/// standing in for it) puts in the environment, and nothing else. Lambda always sets
/// `AWS_REGION` and the role's credentials there, so the profile, SSO and STS providers of
/// [`load`] would never be asked; leaving them out keeps each bootstrap small.
pub fn from_lambda_env() -> AppResult<SdkConfig> {
    from_lambda_lookup(|name| std::env::var(name).ok())
}

fn from_lambda_lookup(lookup: impl Fn(&str) -> Option<String>) -> AppResult<SdkConfig> {
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let region = get("AWS_REGION")
        .or_else(|| get("AWS_DEFAULT_REGION"))
        .ok_or_else(|| AppError::internal("AWS_REGION is not set"))?;
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .http_client(https_client());
    if let Some(endpoint) = get("AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(endpoint);
    }
    Ok(builder.build())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lambda_config_comes_from_the_environment_lambda_sets() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let config = from_lambda_lookup(vars(&[
            ("AWS_REGION", "ap-northeast-2"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]))
        .unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("ap-northeast-2"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5000"));
        assert!(config.credentials_provider().is_some());

        let config = from_lambda_lookup(vars(&[("AWS_DEFAULT_REGION", "us-east-1")])).unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(config.endpoint_url(), None);

        assert!(from_lambda_lookup(vars(&[("AWS_REGION", " ")])).is_err());
    }
}
