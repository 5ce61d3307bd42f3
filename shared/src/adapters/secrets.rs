//! Secrets read from AWS Secrets Manager (the FCM service-account key), once per cold start.

use crate::error::{AppError, AppResult};

/// The current string value of the secret `secret_id` (a name or an ARN).
///
/// Errors name the secret and give the SDK's error chain, which carries no secret value; the
/// value itself is only ever returned.
pub async fn secret_string(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> AppResult<String> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|err| {
            super::aws::call_failed(
                format_args!("Secrets Manager GetSecretValue of {secret_id:?}"),
                &err,
            )
        })?;
    output.secret_string.ok_or_else(|| {
        AppError::internal(format!(
            "the secret {secret_id:?} holds no string (is it a binary secret?)"
        ))
    })
}
