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
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use std::time::Duration;

use crate::error::{AppError, AppResult};

/// A failed AWS call as an error that names the call and gives the SDK's whole error chain
/// (which carries no request payloads, so no secret reaches the log). An outage of the service
/// (see [`is_outage`]) is a `503 SERVICE_UNAVAILABLE` the caller may retry; anything else
/// (a refused request, a missing table, a malformed answer) stays an internal error.
pub fn call_failed<E>(what: impl std::fmt::Display, err: &SdkError<E, HttpResponse>) -> AppError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    let text = format!(
        "{what} failed: {}",
        aws_smithy_types::error::display::DisplayErrorContext(err)
    );
    if is_outage(err) {
        AppError::unavailable(text)
    } else {
        AppError::internal(text)
    }
}

/// Service error codes that mean "not now" rather than "not this request": throttling,
/// capacity, and the service's own faults, across the APIs the platform calls.
const OUTAGE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "SlowDown",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalServerError",
    "InternalServerErrorException",
    "InternalFailure",
    "InternalError",
    "InternalException",
    "TransactionInProgressException",
    "TransactionConflictException",
];

/// Whether a failed call says the service is down, slow or overloaded, so that trying again
/// later can succeed: the request never got an answer (connection refused or dropped, DNS,
/// TLS), timed out (see [`TimeoutConfig`] in [`bounded`]), got an unreadable answer (a server
/// dying mid-response), or was answered with a 5xx, a 429 or a throttling code. A
/// conditional-check failure or a validation error is an answer, not an outage.
pub fn is_outage<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
    R: HasStatus,
{
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status_code();
            status >= 500
                || status == 429
                || service
                    .err()
                    .code()
                    .is_some_and(|code| OUTAGE_CODES.contains(&code))
        }
        // A request we could not build (a bug, or missing credentials) is ours to fix.
        _ => false,
    }
}

/// The HTTP status of a raw answer, so [`is_outage`] can be tested without a live SDK call.
pub trait HasStatus {
    /// The answer's HTTP status code.
    fn status_code(&self) -> u16;
}

impl HasStatus for HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// How long one connection attempt to an AWS endpoint may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one attempt of an operation (request sent, answer read) may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long an operation may take with its retries: the bound within which a request that
/// needs a service that is down answers `503` (API.md: "promptly, never a hang"), kept under
/// the 2 s the contract promises so the handler's own work still fits in it.
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(1800);
/// Attempts per operation: one retry for a blip (a throttle, a dropped connection); a real
/// outage is answered `503` with `Retry-After` and the client retries, not us.
pub const MAX_ATTEMPTS: u32 = 2;

/// Bounds every call of a client built from `config`: [`CONNECT_TIMEOUT`],
/// [`ATTEMPT_TIMEOUT`], [`OPERATION_TIMEOUT`] and [`MAX_ATTEMPTS`] with a short back-off, so
/// that an unreachable or stalled AWS endpoint fails a request within the bound instead of
/// holding it until the Lambda (or the browser) gives up. Without this the SDK's defaults
/// allow a 3.1 s connect per attempt and no overall limit.
fn bounded(config: SdkConfig) -> SdkConfig {
    config
        .into_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(50))
                .with_max_backoff(Duration::from_millis(400)),
        )
        .build()
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
/// Every call is bounded as for a Lambda (see [`bounded`]).
pub async fn load() -> SdkConfig {
    let loaded = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await;
    bounded(loaded)
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
    Ok(bounded(builder.build()))
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

#[cfg(all(test, feature = "dynamodb"))]
mod outage_tests {
    use super::*;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn answered(status: u16, code: &str) -> SdkError<GetItemError, HttpResponse> {
        let err = GetItemError::generic(ErrorMetadata::builder().code(code).build());
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    #[test]
    fn outages_answer_503_and_refusals_keep_their_meaning() {
        let refused = SdkError::<GetItemError, HttpResponse>::dispatch_failure(ConnectorError::io(
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into(),
        ));
        let timed_out = SdkError::<GetItemError, HttpResponse>::timeout_error("attempt timeout");
        for err in [
            refused,
            timed_out,
            answered(400, "ThrottlingException"),
            answered(400, "ProvisionedThroughputExceededException"),
            answered(500, "InternalServerError"),
            answered(503, "ServiceUnavailable"),
            answered(429, "TooManyRequestsException"),
        ] {
            let app = call_failed("DynamoDB GetItem", &err);
            assert!(matches!(app, AppError::ServiceUnavailable(_)), "{app}");
            assert_eq!(app.status(), 503);
        }
        for err in [
            answered(400, "ConditionalCheckFailedException"),
            answered(400, "ResourceNotFoundException"),
            answered(400, "ValidationException"),
        ] {
            let app = call_failed("DynamoDB GetItem", &err);
            assert!(matches!(app, AppError::Internal(_)), "{app}");
        }
    }

    #[test]
    fn every_client_is_bounded_in_time() {
        let config =
            from_lambda_lookup(|name| (name == "AWS_REGION").then(|| "us-east-1".into())).unwrap();
        let timeouts = config.timeout_config().expect("timeouts set");
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
        assert_eq!(config.retry_config().unwrap().max_attempts(), MAX_ATTEMPTS);
    }
}
