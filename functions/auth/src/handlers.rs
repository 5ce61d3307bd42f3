//! One function per account route; each Lambda binary runs exactly one of them.

use std::sync::Arc;

use festa::api::{Access, ApiRequest, ApiResponse, Route};
use festa::services::accounts::{
    AcceptedResponse, ConfirmForgotPasswordRequest, ConfirmRequest, ConfirmResponse, EmailRequest,
    LoginRequest, RefreshRequest, SignupRequest, SignupResponse, TokenPair, VerifyResponse,
};
use festa::{AppResult, Problem};
use http::{Method, StatusCode};
use utoipa::OpenApi;

use crate::AuthState;

/// Every account route, for the local platform.
pub fn routes(state: Arc<AuthState>) -> Vec<Route> {
    vec![
        signup_route(state.clone()),
        resend_confirmation_route(state.clone()),
        confirm_signup_route(state.clone()),
        forgot_password_route(state.clone()),
        confirm_forgot_password_route(state.clone()),
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

/// `POST /resend-confirmation`.
pub fn resend_confirmation_route(state: Arc<AuthState>) -> Route {
    Route::new(
        Method::POST,
        "/resend-confirmation",
        Access::Public,
        state,
        resend_confirmation,
    )
}

/// `POST /forgot-password`.
pub fn forgot_password_route(state: Arc<AuthState>) -> Route {
    Route::new(
        Method::POST,
        "/forgot-password",
        Access::Public,
        state,
        forgot_password,
    )
}

/// `POST /confirm-forgot-password`.
pub fn confirm_forgot_password_route(state: Arc<AuthState>) -> Route {
    Route::new(
        Method::POST,
        "/confirm-forgot-password",
        Access::Public,
        state,
        confirm_forgot_password,
    )
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
#[openapi(paths(
    signup,
    resend_confirmation,
    confirm_signup,
    forgot_password,
    confirm_forgot_password,
    login,
    signout,
    verify_token,
    refresh_token
))]
struct AccountsDoc;

/// Registers an account and mails a 6-digit confirmation code (the mail names no one).
///
/// A pending sign-up younger than 24 hours is never replaced (its password stays): the owner
/// confirms it, asks for the code again, or resets the password; an older one is replaced.
/// Each address gets at most 5 code mails a day (sign-up, resend and reset together); the
/// deployment sends at most `MAIL_HOURLY_LIMIT` mails an hour.
#[utoipa::path(post, path = "/signup", tag = "accounts", request_body = SignupRequest,
    responses(
        (status = 201, body = SignupResponse),
        (status = 400, description = "invalid e-mail, short password, bad name", body = Problem),
        (status = 409, description = "EMAIL_TAKEN (a confirmed account) or SIGNUP_PENDING (an unconfirmed sign-up younger than 24 h)", body = Problem),
        (status = 429, description = "TOO_MANY_ATTEMPTS: the address had its 5 code mails today; `Retry-After` says when one frees", body = Problem,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 503, description = "SERVICE_UNAVAILABLE: the deployment's hourly mail cap is reached (nothing is stored or counted for the address), or a store is down", body = Problem,
            headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn signup(state: Arc<AuthState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let created = state.accounts.signup(req.json()?).await?;
    ApiResponse::json(StatusCode::CREATED, &created)
}

/// Mails a fresh code for the address's pending sign-up (the same sign-up: its password
/// stays).
///
/// Always `202`, whether or not the address has a pending sign-up. Past the address's 5 code
/// mails a day it still answers `202` and mails nothing, so the answer never tells whether the
/// address has an account.
#[utoipa::path(post, path = "/resend-confirmation", tag = "accounts", request_body = EmailRequest,
    responses(
        (status = 202, body = AcceptedResponse),
        (status = 400, description = "VALIDATION_FAILED: invalid e-mail", body = Problem),
        (status = 503, description = "SERVICE_UNAVAILABLE: the deployment's hourly mail cap is reached, or a store is down", body = Problem,
            headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn resend_confirmation(state: Arc<AuthState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let accepted = state
        .accounts
        .resend_confirmation(req.json::<EmailRequest>()?)
        .await?;
    ApiResponse::json(StatusCode::ACCEPTED, &accepted)
}

/// Mails a 6-digit password reset code, valid 1 hour, if the address has an account (pending
/// or confirmed); the mail names no one.
///
/// Always `202`, whether or not the address has an account. Requests are counted per address
/// whether or not it has one, so the `429` past 5 codes a day reveals nothing.
#[utoipa::path(post, path = "/forgot-password", tag = "accounts", request_body = EmailRequest,
    responses(
        (status = 202, body = AcceptedResponse),
        (status = 400, description = "VALIDATION_FAILED: invalid e-mail", body = Problem),
        (status = 429, description = "TOO_MANY_ATTEMPTS: 5 codes were asked for this address today", body = Problem,
            headers(("Retry-After" = u64, description = "seconds until a code frees"))),
        (status = 503, description = "SERVICE_UNAVAILABLE: the deployment's hourly mail cap is reached, or a store is down", body = Problem,
            headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn forgot_password(state: Arc<AuthState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let accepted = state
        .accounts
        .forgot_password(req.json::<EmailRequest>()?)
        .await?;
    ApiResponse::json(StatusCode::ACCEPTED, &accepted)
}

/// Sets a new password with the mailed reset code: a pending account is confirmed (the code
/// proves the mailbox), every login of the user is revoked, and the address's failed logins
/// are forgotten.
#[utoipa::path(post, path = "/confirm-forgot-password", tag = "accounts",
    request_body = ConfirmForgotPasswordRequest,
    responses(
        (status = 200, body = ConfirmResponse),
        (status = 400, description = "CODE_MISMATCH, CODE_EXPIRED (after 1 hour) or VALIDATION_FAILED (weak password, malformed code)", body = Problem),
        (status = 429, description = "TOO_MANY_ATTEMPTS: 5 wrong codes; ask for a new one", body = Problem,
            headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn confirm_forgot_password(
    state: Arc<AuthState>,
    req: ApiRequest,
) -> AppResult<ApiResponse> {
    let confirmed = state
        .accounts
        .confirm_forgot_password(req.json::<ConfirmForgotPasswordRequest>()?)
        .await?;
    ApiResponse::json(StatusCode::OK, &confirmed)
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

/// Opens a login: a 15-minute access token and a 14-day rotating refresh token. Every
/// attempt counts against the address before the password is checked; a successful login
/// clears the count.
#[utoipa::path(post, path = "/login", tag = "accounts", request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 400, description = "VALIDATION_FAILED: missing or malformed body", body = Problem),
        (status = 401, description = "INVALID_CREDENTIALS (the same for an unknown address)", body = Problem),
        (status = 403, description = "USER_NOT_CONFIRMED", body = Problem),
        (status = 429, description = "TOO_MANY_ATTEMPTS: 5 failed logins for this address within 15 minutes; refused even with the right password until the window ends (unknown addresses are counted alike)", body = Problem,
            headers(("Retry-After" = u64, description = "seconds until the window frees")))))]
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
