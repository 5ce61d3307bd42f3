//! The AWS settings the emulator suites run with: the platform's own (`adapters::aws::load`),
//! without its deadlines. These suites check what the adapters store and deliver, not how
//! fast: moto answers one request at a time, so under the other suites' load an attempt can
//! outlive its production deadline after the emulator took it, and the retry would turn into
//! a `503` or a second delivery that says nothing about the adapter. The production bound
//! (`festa::adapters::aws::OPERATION_TIMEOUT`) is held by `functions/local/tests/outage.rs`.

/// The platform's SDK configuration for `AWS_ENDPOINT_URL`, with no timeouts and the SDK's
/// standard retries.
pub async fn config_without_deadlines() -> festa::adapters::aws::SdkConfig {
    festa::adapters::aws::load()
        .await
        .into_builder()
        .timeout_config(aws_smithy_types::timeout::TimeoutConfig::disabled())
        .retry_config(aws_smithy_types::retry::RetryConfig::standard())
        .build()
}
