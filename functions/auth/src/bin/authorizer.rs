//! Lambda: the REST API's TOKEN authorizer.

use festa::wiring::LambdaEnv;
use lambda_http::aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequest;
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_auth::AuthState::new(&env, None, Some(env.token_keys()?))?;
    let state = &state;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayCustomAuthorizerRequest>| async move {
            festa_auth::authorizer::authorize(state, event.payload).await
        },
    ))
    .await
}
