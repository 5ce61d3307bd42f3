//! One function per account route; each Lambda binary runs exactly one of them.

use std::sync::Arc;

use festa::api::{Access, ApiRequest, ApiResponse, Route};
use festa::services::accounts::{
    ConfirmRequest, ConfirmResponse, LoginRequest, RefreshRequest, SignupRequest, SignupResponse,
    TokenPair, VerifyResponse,
};
use festa::{AppResult, Problem};
use http::{Method, StatusCode};
use utoipa::OpenApi;

use crate::AuthState;

/// Every account route, for the local platform.
pub fn routes(state: Arc<AuthState>) -> Vec<Route> {
    vec![
        signup_route(state.clone()),
        confirm_signup_route(state.clone()),
        login_route(state.clone()),
        signout_route(state.clone()),
        verify_token_route(),
        refresh_token_route(state),
    ]
}

/// `POST /signup`.
pub fn signup_route(state: Arc<AuthState>) -> Route {
    Route::new(Method::POST, "/signup", Access::Public, state, signup)
}

/// `POST /confirm-signup`.
pub fn confirm_signup_route(state: Arc<AuthState>) -> Route {
    Route::new(
        Method::POST,
        "/confirm-signup",
        Access::Public,
        state,
        confirm_signup,
    )
}

/// `POST /login`.
pub fn login_route(state: Arc<AuthState>) -> Route {
    Route::new(Method::POST, "/login", Access::Public, state, login)
}

/// `POST /signout`.
pub fn signout_route(state: Arc<AuthState>) -> Route {
    Route::new(
        Method::POST,
        "/signout",
        Access::Authenticated,
        state,
        signout,
    )
}

/// `GET /verify-token`: needs nothing but the identity the authorizer established.
pub fn verify_token_route() -> Route {
    Route::new(
        Method::GET,
        "/verify-token",
        Access::Authenticated,
        Arc::new(()),
        verify_token,
    )
}

/// `POST /refresh-token`.
pub fn refresh_token_route(state: Arc<AuthState>) -> Route {
    Route::new(
        Method::POST,
        "/refresh-token",
        Access::Public,
        state,
        refresh_token,
    )
}

/// The OpenAPI description of these routes, generated from the handlers below.
pub fn openapi() -> utoipa::openapi::OpenApi {
    AccountsDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(paths(signup, confirm_signup, login, signout, verify_token, refresh_token))]
struct AccountsDoc;

/// Registers an account and mails a 6-digit confirmation code.
#[utoipa::path(post, path = "/signup", tag = "accounts", request_body = SignupRequest,
    responses(
        (status = 201, body = SignupResponse),
        (status = 400, description = "invalid e-mail, short password, bad name", body = Problem),
        (status = 409, description = "EMAIL_TAKEN", body = Problem)))]
pub async fn signup(state: Arc<AuthState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let created = state.accounts.signup(req.json()?).await?;
    ApiResponse::json(StatusCode::CREATED, &created)
}

/// Confirms an account with the mailed code.
#[utoipa::path(post, path = "/confirm-signup", tag = "accounts", request_body = ConfirmRequest,
    responses(
        (status = 200, body = ConfirmResponse),
        (status = 400, description = "CODE_MISMATCH, CODE_EXPIRED or VALIDATION_FAILED", body = Problem),
        (status = 429, description = "TOO_MANY_ATTEMPTS", body = Problem)))]
pub async fn confirm_signup(state: Arc<AuthState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let confirmed: ConfirmResponse = state
        .accounts
        .confirm(req.json::<ConfirmRequest>()?)
        .await?;
    ApiResponse::json(StatusCode::OK, &confirmed)
}

/// Opens a login: a 15-minute access token and a 14-day rotating refresh token.
#[utoipa::path(post, path = "/login", tag = "accounts", request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 400, description = "VALIDATION_FAILED: missing or malformed body", body = Problem),
        (status = 401, description = "INVALID_CREDENTIALS", body = Problem),
        (status = 403, description = "USER_NOT_CONFIRMED", body = Problem)))]
pub async fn login(state: Arc<AuthState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let tokens = state.accounts.login(req.json::<LoginRequest>()?).await?;
    ApiResponse::json(StatusCode::OK, &tokens)
}

/// Ends every login of the caller; their tokens are refused from then on.
#[utoipa::path(post, path = "/signout", tag = "accounts", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn signout(state: Arc<AuthState>, req: ApiRequest) -> AppResult<ApiResponse> {
    state.accounts.signout(req.identity()?).await?;
    Ok(ApiResponse::no_content())
}

/// Describes the caller's token.
#[utoipa::path(get, path = "/verify-token", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = VerifyResponse), (status = 401, body = Problem)))]
pub async fn verify_token(_: Arc<()>, req: ApiRequest) -> AppResult<ApiResponse> {
    ApiResponse::json(StatusCode::OK, &VerifyResponse::from(req.identity()?))
}

/// Spends a refresh token for a new pair; a spent one revokes its login.
#[utoipa::path(post, path = "/refresh-token", tag = "accounts", request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 400, description = "VALIDATION_FAILED: missing or malformed body", body = Problem),
        (status = 401, body = Problem)))]
pub async fn refresh_token(state: Arc<AuthState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let tokens = state
        .accounts
        .refresh(req.json::<RefreshRequest>()?)
        .await?;
    ApiResponse::json(StatusCode::OK, &tokens)
}
