//! The WebSocket API's Lambda entry point: `$connect`, `$disconnect`, and every frame route
//! (`sendMessage`, `enterRoom`, `leaveRoom`, `markRead`, `$default`) run the chat service;
//! answers to frames are pushed to the connection, so each invocation answers only a status.

use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest,
};
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};

use crate::ChatState;
use festa::AppError;

/// Runs the WebSocket handler as this Lambda until the runtime stops it.
pub async fn serve(state: ChatState) -> Result<(), lambda_runtime::Error> {
    let state = &state;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
            Ok::<_, lambda_runtime::Error>(handle(state, event.payload).await)
        },
    ))
    .await
}

/// One invocation: the same work `serve` does, callable from tests with fixture events.
pub async fn handle(
    state: &ChatState,
    event: ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    let context = &event.request_context;
    let Some(connection_id) = context.connection_id.as_deref() else {
        return answer(400, "the event names no connection");
    };
    let result = match context.route_key.as_deref().unwrap_or("$default") {
        "$connect" => {
            let Some(gate) = &state.gate else {
                tracing::error!("$connect reached a function without JWT_SECRET");
                return answer(500, "");
            };
            match gate
                .identify(event.query_string_parameters.first("token"))
                .await
            {
                Ok(identity) => state.chat.connect(connection_id, &identity).await,
                // API Gateway refuses the upgrade with this status.
                Err(AppError::Internal(detail)) => Err(AppError::Internal(detail)),
                Err(_) => return answer(401, "Unauthorized"),
            }
        }
        "$disconnect" => state.chat.disconnect(connection_id).await,
        _ => {
            if event.is_base64_encoded {
                state.chat.refuse_binary(connection_id).await
            } else {
                state
                    .chat
                    .frame(connection_id, event.body.as_deref().unwrap_or(""))
                    .await
            }
        }
    };
    match result {
        Ok(()) => answer(200, ""),
        Err(err) => {
            if let AppError::Internal(detail) = &err {
                tracing::error!(error = %detail, "chat WebSocket route failed");
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
