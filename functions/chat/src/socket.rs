//! The WebSocket API's Lambda entry point: `$connect`, `$disconnect`, and every frame route
//! (`sendMessage`, `enterRoom`, `leaveRoom`, `markRead`, `$default`) run the chat service;
//! answers to frames are pushed to the connection, so each invocation answers only a status.

use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest,
};
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};

use crate::ChatState;
use festa::{AppError, AppResult};

/// Runs `$connect` as this Lambda until the runtime stops it: checks the token, opens the
/// connection.
pub async fn serve_connect(state: ChatState) -> Result<(), lambda_runtime::Error> {
    serve(state, connect).await
}

/// Runs `$disconnect` as this Lambda until the runtime stops it.
pub async fn serve_disconnect(state: ChatState) -> Result<(), lambda_runtime::Error> {
    serve(state, disconnect).await
}

/// Runs a frame route (`sendMessage`, `enterRoom`, `leaveRoom`, `markRead`, `$default`) as
/// this Lambda until the runtime stops it.
pub async fn serve_frames(state: ChatState) -> Result<(), lambda_runtime::Error> {
    serve(state, frame).await
}

/// Runs one kind of route. Generic over it, so each binary links only its own: a frame route
/// has no token checking, `$connect` no frame handling. The state lives as long as the
/// process, as a Lambda's does.
async fn serve<F, Fut>(state: ChatState, route: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(&'static ChatState, ApiGatewayWebsocketProxyRequest) -> Fut,
    Fut: std::future::Future<Output = Outcome>,
{
    let state: &'static ChatState = Box::leak(Box::new(state));
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| {
            let outcome = route(state, event.payload);
            async move { Ok::<_, lambda_runtime::Error>(answer_for(outcome.await)) }
        },
    ))
    .await
}

/// One invocation of whichever route the event names, as the three `serve_*` entry points
/// answer it; for tests that replay every WebSocket sample through one state.
pub async fn handle(
    state: &ChatState,
    event: ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    let outcome = match event
        .request_context
        .route_key
        .as_deref()
        .unwrap_or("$default")
    {
        "$connect" => connect(state, event).await,
        "$disconnect" => disconnect(state, event).await,
        _ => frame(state, event).await,
    };
    answer_for(outcome)
}

/// What a route did: done, refused with a status for API Gateway, or failed.
enum Outcome {
    Done(AppResult<()>),
    Refused(i64, &'static str),
}

fn connection(event: &ApiGatewayWebsocketProxyRequest) -> Option<&str> {
    event.request_context.connection_id.as_deref()
}

async fn connect(state: &ChatState, event: ApiGatewayWebsocketProxyRequest) -> Outcome {
    let Some(connection_id) = connection(&event) else {
        return Outcome::Refused(400, "the event names no connection");
    };
    let Some(gate) = &state.gate else {
        tracing::error!("$connect reached a function without token keys (JWT_SECRET_ARN)");
        return Outcome::Refused(500, "");
    };
    match gate
        .identify(event.query_string_parameters.first("token"))
        .await
    {
        Ok(identity) => Outcome::Done(state.chat.connect(connection_id, &identity).await),
        Err(AppError::Internal(detail)) => Outcome::Done(Err(AppError::Internal(detail))),
        // The session store is down: API Gateway refuses the upgrade with 503, so the client
        // retries rather than treating its token as bad.
        Err(err @ AppError::ServiceUnavailable(_)) => Outcome::Done(Err(err)),
        // API Gateway refuses the upgrade with this status.
        Err(_) => Outcome::Refused(401, "Unauthorized"),
    }
}

async fn disconnect(state: &ChatState, event: ApiGatewayWebsocketProxyRequest) -> Outcome {
    match connection(&event) {
        Some(connection_id) => Outcome::Done(state.chat.disconnect(connection_id).await),
        None => Outcome::Refused(400, "the event names no connection"),
    }
}

async fn frame(state: &ChatState, event: ApiGatewayWebsocketProxyRequest) -> Outcome {
    let Some(connection_id) = connection(&event) else {
        return Outcome::Refused(400, "the event names no connection");
    };
    Outcome::Done(if event.is_base64_encoded {
        state.chat.refuse_binary(connection_id).await
    } else {
        state
            .chat
            .frame(connection_id, event.body.as_deref().unwrap_or(""))
            .await
    })
}

/// The status API Gateway gets; everything a client sees went through `@connections`.
fn answer_for(outcome: Outcome) -> ApiGatewayProxyResponse {
    match outcome {
        Outcome::Refused(status, body) => answer(status, body),
        Outcome::Done(Ok(())) => answer(200, ""),
        Outcome::Done(Err(err)) => {
            match &err {
                AppError::Internal(detail) => {
                    tracing::error!(error = %detail, "chat WebSocket route failed")
                }
                AppError::ServiceUnavailable(detail) => {
                    tracing::warn!(error = %detail, "chat WebSocket route: a store is unavailable")
                }
                _ => {}
            }
            answer(err.status().as_u16() as i64, "")
        }
    }
}

fn answer(status: i64, body: &str) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    if !body.is_empty() {
        response.body = Some(body.to_string().into());
    }
    response
}
