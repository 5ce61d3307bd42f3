//! The REST API's TOKEN authorizer: checks the bearer token and the login behind it, and hands
//! the caller's identity to the protected routes in the request context.

use festa::services::accounts::authenticate;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use lambda_http::aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};

use crate::AuthState;

/// The one error API Gateway turns into `401`: its message must be exactly `Unauthorized`.
#[derive(Debug, PartialEq, Eq)]
pub struct Unauthorized;

impl std::fmt::Display for Unauthorized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unauthorized")
    }
}

impl std::error::Error for Unauthorized {}

/// Allows the caller on every route of the stage, so the cached answer (60 s) serves them all;
/// a bad token is `Unauthorized`, a broken or unreachable dependency an error (API Gateway
/// answers `AUTHORIZER_FAILURE`: 503 with `Retry-After`, see the template).
pub async fn authorize(
    state: &AuthState,
    event: ApiGatewayCustomAuthorizerRequest,
) -> Result<ApiGatewayCustomAuthorizerResponse, Box<dyn std::error::Error + Send + Sync>> {
    let accounts = &state.accounts;
    let identity = match authenticate(
        accounts.token_keys().await?,
        accounts.sessions.as_ref(),
        accounts.clock.as_ref(),
        event.authorization_token.as_deref(),
    )
    .await
    {
        Ok(identity) => identity,
        Err(festa::AppError::Internal(detail)) => {
            tracing::error!(error = %detail, "authorizer could not check the login");
            return Err(festa::AppError::Internal(detail).into());
        }
        // The session store is down: erring makes API Gateway answer AUTHORIZER_FAILURE,
        // which the stack turns into 503 SERVICE_UNAVAILABLE with Retry-After (not 401, which
        // would make the client drop a good token).
        Err(err @ festa::AppError::ServiceUnavailable(_)) => {
            tracing::warn!(error = %err, "authorizer could not reach the session store");
            return Err(err.into());
        }
        Err(_) => return Err(Box::new(Unauthorized)),
    };
    let resource =
        stage_wildcard(event.method_arn.as_deref().unwrap_or_default()).ok_or(Unauthorized)?;

    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".into()];
    statement.effect = IamPolicyEffect::Allow;
    statement.resource = vec![resource];
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".into());
    policy.statement = vec![statement];

    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.principal_id = Some(identity.user_id.clone());
    response.policy_document = policy;
    // Flat string values: API Gateway passes them to the routes as `requestContext.authorizer`.
    response.context = serde_json::to_value(&identity)?;
    Ok(response)
}

/// `arn:...:api/stage/GET/festivals` → `arn:...:api/stage/*/*`.
fn stage_wildcard(method_arn: &str) -> Option<String> {
    let (prefix, path) = method_arn.rsplit_once(':')?;
    let mut parts = path.split('/');
    let (api, stage) = (parts.next()?, parts.next()?);
    if api.is_empty() || stage.is_empty() {
        return None;
    }
    Some(format!("{prefix}:{api}/{stage}/*/*"))
}

#[cfg(test)]
mod tests {
    use super::stage_wildcard;

    #[test]
    fn the_policy_covers_the_whole_stage() {
        assert_eq!(
            stage_wildcard(
                "arn:aws:execute-api:ap-northeast-2:123456789012:abc123/prod/GET/festivals/01J"
            )
            .as_deref(),
            Some("arn:aws:execute-api:ap-northeast-2:123456789012:abc123/prod/*/*")
        );
        assert_eq!(stage_wildcard("garbage"), None);
    }
}
