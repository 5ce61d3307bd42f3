//! One function per chat REST route; each Lambda binary runs exactly one of them.

use std::sync::Arc;

use festa::api::{Access, ApiRequest, ApiResponse, Route};
use festa::model::{RoomJoined, RoomList, RoomView};
use festa::services::chat::HistoryPage;
use festa::{AppResult, Problem};
use http::{Method, StatusCode};
use utoipa::OpenApi;

use crate::ChatState;

/// Every chat REST route, for the local platform.
pub fn routes(state: Arc<ChatState>) -> Vec<Route> {
    vec![
        join_chat_room_route(state.clone()),
        enter_chat_room_route(state.clone()),
        list_chat_rooms_route(state.clone()),
        leave_chat_room_route(state),
    ]
}

/// `POST /festivals/chatting/{chatRoomId}/join`.
pub fn join_chat_room_route(state: Arc<ChatState>) -> Route {
    Route::new(
        Method::POST,
        "/festivals/chatting/{chatRoomId}/join",
        Access::Authenticated,
        state,
        join_chat_room,
    )
}

/// `GET /festivals/chatting/{chatRoomId}`.
pub fn enter_chat_room_route(state: Arc<ChatState>) -> Route {
    Route::new(
        Method::GET,
        "/festivals/chatting/{chatRoomId}",
        Access::Authenticated,
        state,
        enter_chat_room,
    )
}

/// `GET /festivals/chatting/list`.
pub fn list_chat_rooms_route(state: Arc<ChatState>) -> Route {
    Route::new(
        Method::GET,
        "/festivals/chatting/list",
        Access::Authenticated,
        state,
        list_chat_rooms,
    )
}

/// `DELETE /festivals/chatting/delete`.
pub fn leave_chat_room_route(state: Arc<ChatState>) -> Route {
    Route::new(
        Method::DELETE,
        "/festivals/chatting/delete",
        Access::Authenticated,
        state,
        leave_chat_room,
    )
}

/// The OpenAPI description of these routes, generated from the handlers below.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ChatDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(paths(join_chat_room, enter_chat_room, list_chat_rooms, leave_chat_room))]
struct ChatDoc;

/// Joins a festival's chat room; joining twice is harmless. Messages sent before joining do
/// not count as unread, and the caller's open WebSocket connections start receiving the
/// room's messages.
#[utoipa::path(post, path = "/festivals/chatting/{chatRoomId}/join", tag = "chat",
    security(("bearer" = [])),
    params(("chatRoomId" = String, Path, description = "the festival's chatRoomId")),
    responses(
        (status = 200, body = RoomJoined),
        (status = 401, body = Problem),
        (status = 404, description = "NOT_FOUND: no festival has this chat room", body = Problem)))]
pub async fn join_chat_room(state: Arc<ChatState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let caller = req.identity()?;
    let joined = state
        .chat
        .join(caller, req.path_param("chatRoomId"))
        .await?;
    ApiResponse::json(StatusCode::OK, &joined)
}

/// Enters a room: the newest `limit` messages older than `before`, oldest first, and the
/// unread count before this call, which then marks every message read.
#[utoipa::path(get, path = "/festivals/chatting/{chatRoomId}", tag = "chat",
    security(("bearer" = [])),
    params(
        ("chatRoomId" = String, Path, description = "the festival's chatRoomId"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1 to 100, default 50"),
        ("before" = Option<u64>, Query, minimum = 1, description = "nextBefore of the previous page: only messages with a smaller seq")),
    responses(
        (status = 200, body = RoomView),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, description = "NOT_A_MEMBER", body = Problem),
        (status = 404, description = "NOT_FOUND: no festival has this chat room", body = Problem)))]
pub async fn enter_chat_room(state: Arc<ChatState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let caller = req.identity()?;
    let page = HistoryPage::parse(req.query_param("limit"), req.query_param("before"))?;
    let view = state
        .chat
        .enter(caller, req.path_param("chatRoomId"), page)
        .await?;
    ApiResponse::json(StatusCode::OK, &view)
}

/// The caller's rooms, latest activity first, each with its last message and unread count.
#[utoipa::path(get, path = "/festivals/chatting/list", tag = "chat", security(("bearer" = [])),
    responses((status = 200, body = RoomList), (status = 401, body = Problem)))]
pub async fn list_chat_rooms(state: Arc<ChatState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let caller = req.identity()?;
    ApiResponse::json(StatusCode::OK, &state.chat.rooms(caller).await?)
}

/// Leaves a room: its messages stop reaching the caller.
#[utoipa::path(delete, path = "/festivals/chatting/delete", tag = "chat",
    security(("bearer" = [])),
    params(("chatRoomId" = String, Query, description = "the room to leave")),
    responses(
        (status = 204, description = "left the room"),
        (status = 400, description = "chatRoomId missing", body = Problem),
        (status = 401, body = Problem),
        (status = 404, description = "NOT_FOUND: the caller is not a member of this room", body = Problem)))]
pub async fn leave_chat_room(state: Arc<ChatState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let caller = req.identity()?;
    state
        .chat
        .leave(caller, req.query_param("chatRoomId").unwrap_or_default())
        .await?;
    Ok(ApiResponse::no_content())
}
