//! The WebSocket side of chat: connections come and go, frames arrive one at a time.

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};

use super::frames::{self, ClientFrame, ServerFrame};
use super::{
    connection_lifetime, plausible_room_id, resend_window, unread, Chat, FANOUT_CONCURRENCY,
    MAX_CLIENT_MSG_ID, MAX_CONNECTIONS_PER_USER, MAX_CONTENT_CHARS, MAX_ROOM_ID,
    MESSAGES_PER_SECOND,
};
use crate::error::{AppError, AppResult};
use crate::model::{ChatMessage, Connection};
use crate::ports::{Appended, MessageDraft, Push, Recipient};
use crate::services::tokens::Identity;
use crate::services::validate::refuse_unsafe_text;

impl Chat {
    /// Records an authenticated connection and routes the user's rooms to it.
    ///
    /// Refused with `RateLimited` (429) when the user already holds
    /// [`MAX_CONNECTIONS_PER_USER`] open connections, counted atomically in the presence store
    /// so every instance sees the same count; a connection whose record is gone (its
    /// `$disconnect` ran but did not finish) is forgotten first, and one whose `$disconnect`
    /// never came stops counting when it expires. Refused with `Unauthorized` when the login
    /// ended while the connection was being registered: sign-out closes the connections it
    /// finds, so the login is read again once this one can be found.
    pub async fn connect(&self, connection_id: &str, caller: &Identity) -> AppResult<()> {
        let now = self.clock.now();
        let connection = Connection {
            connection_id: connection_id.to_string(),
            user_id: caller.user_id.clone(),
            name: caller.name.clone(),
            session_id: caller.session_id.clone(),
            connected_at: now,
            expires_at: now + connection_lifetime(),
        };
        // The record goes first: a connection is only ever tracked once its record exists, so
        // pruning tracked connections without a record never drops one still being opened.
        self.connections.open(&connection).await?;
        let held = match self.hold_place(&connection, now).await {
            Ok(held) => held,
            Err(err) => {
                self.connections.close(connection_id).await?;
                return Err(err);
            }
        };
        if !held {
            self.connections.close(connection_id).await?;
            return Err(AppError::RateLimited(format!(
                "at most {MAX_CONNECTIONS_PER_USER} open chat connections per user; close one first"
            )));
        }
        // Tracked before the rooms are read: a join racing this connect either is among the
        // rooms read here, or finds this connection when it looks for the user's devices.
        for membership in self.store.memberships_of(&caller.user_id).await? {
            self.presence
                .attach(&membership.chat_room_id, connection_id, &caller.user_id)
                .await?;
        }
        // A sign-out that revoked the login after the token was checked but before the
        // connection was tracked did not see it: now that it is tracked, either the login is
        // still live here, or a sign-out will find (or already found) this connection.
        let live = self
            .sessions
            .get_session(&caller.email, &caller.session_id)
            .await?
            .is_some_and(|s| !s.revoked && s.expires_at > self.clock.now());
        if !live {
            self.disconnect(connection_id).await?;
            return Err(AppError::Unauthorized(
                "the login has ended; log in again".into(),
            ));
        }
        Ok(())
    }

    /// Tracks the connection among its user's, within [`MAX_CONNECTIONS_PER_USER`]; at the
    /// limit, first forgets tracked connections whose record is gone, then tries once more.
    async fn hold_place(&self, connection: &Connection, now: DateTime<Utc>) -> AppResult<bool> {
        let track = || {
            self.presence.track(
                &connection.user_id,
                &connection.connection_id,
                now,
                connection.expires_at,
                MAX_CONNECTIONS_PER_USER,
            )
        };
        if track().await? {
            return Ok(true);
        }
        let mut pruned = false;
        for other in self.presence.connections_of(&connection.user_id).await? {
            if other != connection.connection_id
                && self.connections.get(&other, now).await?.is_none()
            {
                self.presence.untrack(&connection.user_id, &other).await?;
                pruned = true;
            }
        }
        if pruned {
            track().await
        } else {
            Ok(false)
        }
    }

    /// Forgets a closed connection; an unknown one (already cleaned up) is fine.
    pub async fn disconnect(&self, connection_id: &str) -> AppResult<()> {
        let Some(connection) = self.connections.close(connection_id).await? else {
            return Ok(());
        };
        self.presence
            .untrack(&connection.user_id, connection_id)
            .await?;
        for membership in self.store.memberships_of(&connection.user_id).await? {
            self.presence
                .detach(&membership.chat_room_id, connection_id)
                .await?;
        }
        Ok(())
    }

    /// Carries out one frame from a connection. Answers (acks, unread counts, errors) are
    /// pushed to that connection; a failure never closes it or touches anyone else's.
    pub async fn frame(&self, connection_id: &str, text: &str) -> AppResult<()> {
        let outcome = match frames::parse(text) {
            Ok(frame) => {
                let client_msg_id = match &frame {
                    ClientFrame::SendMessage { client_msg_id, .. } => Some(client_msg_id.clone()),
                    _ => None,
                };
                self.carry_out(connection_id, frame)
                    .await
                    .map_err(|err| (err, client_msg_id))
            }
            Err(failure) => Err(failure),
        };
        match outcome {
            Ok(()) => Ok(()),
            Err((err, client_msg_id)) => self.tell_error(connection_id, &err, client_msg_id).await,
        }
    }

    /// Answers a binary frame, which chat does not speak, with an error frame.
    pub async fn refuse_binary(&self, connection_id: &str) -> AppResult<()> {
        let err = AppError::validation("frames must be JSON text, not binary");
        self.tell_error(connection_id, &err, None).await
    }

    async fn carry_out(&self, connection_id: &str, frame: ClientFrame) -> AppResult<()> {
        let now = self.clock.now();
        let connection = self
            .connections
            .get(connection_id, now)
            .await?
            .ok_or_else(|| {
                AppError::Unauthorized("this connection has ended; connect again".into())
            })?;
        // Sign-out forgets the user's connections in presence before closing them: a frame
        // that arrives on one in between is refused here and acts on nothing.
        if !self
            .presence
            .holds(&connection.user_id, connection_id, now)
            .await?
        {
            return Err(AppError::Unauthorized(
                "the login of this connection has ended; log in and connect again".into(),
            ));
        }
        let room = match &frame {
            ClientFrame::SendMessage { chat_room_id, .. }
            | ClientFrame::EnterRoom { chat_room_id }
            | ClientFrame::LeaveRoom { chat_room_id }
            | ClientFrame::MarkRead { chat_room_id, .. } => chat_room_id,
        };
        if !plausible_room_id(room) {
            return Err(AppError::validation(format!(
                "chatRoomId must be 1 to {MAX_ROOM_ID} visible ASCII characters"
            )));
        }
        match frame {
            ClientFrame::SendMessage {
                chat_room_id,
                content,
                client_msg_id,
            } => {
                self.send(&connection, chat_room_id, content, client_msg_id)
                    .await
            }
            ClientFrame::EnterRoom { chat_room_id } => {
                let membership = self.member_of(&connection, &chat_room_id).await?;
                let last_seq = self.last_seq(&chat_room_id).await?;
                let mut read = self
                    .presence
                    .view(&chat_room_id, connection_id, &connection.user_id, last_seq)
                    .await?;
                // A message delivered between reading `last_seq` and viewing did not see
                // this connection as a viewer: mark it read too.
                let newest = self.last_seq(&chat_room_id).await?;
                if newest > last_seq {
                    read = self
                        .presence
                        .mark_read(&chat_room_id, &connection.user_id, newest)
                        .await?;
                }
                self.tell_unread(
                    connection_id,
                    &chat_room_id,
                    unread(newest, read, &membership),
                )
                .await
            }
            ClientFrame::LeaveRoom { chat_room_id } => {
                let membership = self.member_of(&connection, &chat_room_id).await?;
                let read = self
                    .presence
                    .unview(&chat_room_id, connection_id, &connection.user_id)
                    .await?;
                let last_seq = self.last_seq(&chat_room_id).await?;
                self.tell_unread(
                    connection_id,
                    &chat_room_id,
                    unread(last_seq, read, &membership),
                )
                .await
            }
            ClientFrame::MarkRead { chat_room_id, seq } => {
                let membership = self.member_of(&connection, &chat_room_id).await?;
                let last_seq = self.last_seq(&chat_room_id).await?;
                // Never past the newest message, or later messages would arrive already read.
                let read = self
                    .presence
                    .mark_read(&chat_room_id, &connection.user_id, seq.min(last_seq))
                    .await?;
                self.tell_unread(
                    connection_id,
                    &chat_room_id,
                    unread(last_seq, read, &membership),
                )
                .await
            }
        }
    }

    async fn member_of(
        &self,
        connection: &Connection,
        chat_room_id: &str,
    ) -> AppResult<crate::model::Membership> {
        self.store
            .membership(chat_room_id, &connection.user_id)
            .await?
            .ok_or(AppError::NotAMember)
    }

    async fn last_seq(&self, chat_room_id: &str) -> AppResult<u64> {
        Ok(self
            .store
            .activity(&[chat_room_id.to_string()])
            .await?
            .first()
            .map_or(0, |a| a.last_seq))
    }

    async fn tell_unread(
        &self,
        connection_id: &str,
        chat_room_id: &str,
        unread_count: u64,
    ) -> AppResult<()> {
        let frame = ServerFrame::Unread {
            chat_room_id: chat_room_id.to_string(),
            unread_count,
        };
        self.pusher.push(connection_id, &frame.to_text()).await?;
        Ok(())
    }

    /// Stores the message once (a resend is acknowledged with its first `seq`), acknowledges
    /// it to the sender, then hands it to every connection of every member. Cheap checks come
    /// first (rate, content), then membership, and only then anything room-wide (the room's
    /// turn, the store's transaction, the fan-out): a stranger's frames cost one read.
    async fn send(
        &self,
        connection: &Connection,
        chat_room_id: String,
        content: String,
        client_msg_id: String,
    ) -> AppResult<()> {
        let now = self.clock.now();
        if !self
            .presence
            .allow_message(&connection.user_id, now, MESSAGES_PER_SECOND)
            .await?
        {
            return Err(AppError::RateLimited(format!(
                "at most {MESSAGES_PER_SECOND} messages a second per user"
            )));
        }
        let chars = content.chars().count();
        if chars == 0 || chars > MAX_CONTENT_CHARS || content.trim().is_empty() {
            return Err(AppError::validation(format!(
                "content must be 1 to {MAX_CONTENT_CHARS} characters, not all blank"
            )));
        }
        // Line breaks stay (multi-line messages); direction overrides and other invisible
        // formatting would make a message read differently from what it says.
        refuse_unsafe_text("content", &content, true)?;
        let id_chars = client_msg_id.chars().count();
        if id_chars == 0
            || id_chars > MAX_CLIENT_MSG_ID
            || client_msg_id.chars().any(char::is_control)
        {
            return Err(AppError::validation(format!(
                "clientMsgId must be 1 to {MAX_CLIENT_MSG_ID} characters"
            )));
        }
        let draft = MessageDraft {
            chat_room_id: chat_room_id.clone(),
            sender_id: connection.user_id.clone(),
            sender_name: connection.name.clone(),
            content,
            client_msg_id,
            message_id: self.ids.new_id(),
            sent_at: now,
            guard_expires_at: now + resend_window(),
        };
        // Membership before anything room-wide; a member's room exists, so turns are kept only
        // for rooms that exist and made-up ids cost no memory.
        self.member_of(connection, &chat_room_id).await?;
        let _turn = self.turns.take(&chat_room_id).await;
        let (message, fresh) = match self.store.append(&draft).await? {
            Appended::Stored(message) => (message, true),
            Appended::Resent(message) => (message, false),
        };
        let ack = ServerFrame::Ack {
            client_msg_id: message.client_msg_id.clone(),
            seq: message.seq,
            message_id: message.message_id.clone(),
        };
        // Once stored, a message is fanned out whatever happens to the ack: a resend is
        // acknowledged but never delivered again, so skipping now would lose it for good.
        if let Err(err) = self
            .pusher
            .push(&connection.connection_id, &ack.to_text())
            .await
        {
            tracing::warn!(error = %err, "could not acknowledge a chat message");
        }
        if fresh {
            // The sender has read their own message.
            if let Err(err) = self
                .presence
                .mark_read(&chat_room_id, &connection.user_id, message.seq)
                .await
            {
                tracing::warn!(error = %err, "could not mark a sender's own message read");
            }
            // Stored and acknowledged: the message stands (history has it). If presence is
            // down now, failing the frame would contradict the ack and invite a resend that
            // is acknowledged but never delivered; live delivery is lost, not the message.
            if let Err(err) = self.fan_out(message).await {
                tracing::warn!(error = %err, "could not fan a stored chat message out");
            }
        }
        Ok(())
    }

    /// Pushes a stored message to every attached connection, a bounded number at a time;
    /// connections not viewing the room also hear their user's unread count. A closed
    /// connection is forgotten and never fails the send.
    async fn fan_out(&self, message: ChatMessage) -> AppResult<()> {
        let recipients = self
            .presence
            .deliver(&message.chat_room_id, message.seq)
            .await?;
        let text = ServerFrame::Message(message.clone()).to_text();
        let message = &message;
        let text = text.as_str();
        stream::iter(recipients)
            .for_each_concurrent(FANOUT_CONCURRENCY, |recipient| async move {
                if let Err(err) = self.push_to(message, text, &recipient).await {
                    tracing::warn!(error = %err, "could not push a chat message to a connection");
                }
            })
            .await;
        Ok(())
    }

    async fn push_to(
        &self,
        message: &ChatMessage,
        text: &str,
        recipient: &Recipient,
    ) -> AppResult<()> {
        let mut pushed = self.pusher.push(&recipient.connection_id, text).await?;
        if pushed == Push::Delivered && !recipient.viewing {
            let unread = ServerFrame::Unread {
                chat_room_id: message.chat_room_id.clone(),
                unread_count: message.seq.saturating_sub(recipient.read_seq),
            };
            pushed = self
                .pusher
                .push(&recipient.connection_id, &unread.to_text())
                .await?;
        }
        if pushed == Push::Gone {
            self.forget(&message.chat_room_id, &recipient.connection_id)
                .await?;
        }
        Ok(())
    }

    /// Forgets a connection API Gateway reports as gone: its record and its places in rooms.
    /// A connection still being opened is left alone: API Gateway answers `GoneException`
    /// until `$connect` has returned, and the socket is about to work.
    async fn forget(&self, chat_room_id: &str, connection_id: &str) -> AppResult<()> {
        let now = self.clock.now();
        let Some(connection) = self.connections.get(connection_id, now).await? else {
            return self.presence.detach(chat_room_id, connection_id).await;
        };
        if now - connection.connected_at < opening_grace() {
            return Ok(());
        }
        self.presence.detach(chat_room_id, connection_id).await?;
        self.disconnect(connection_id).await
    }

    /// Pushes the error frame for a failed frame to its connection.
    async fn tell_error(
        &self,
        connection_id: &str,
        err: &AppError,
        client_msg_id: Option<String>,
    ) -> AppResult<()> {
        let frame = ServerFrame::error(err, client_msg_id);
        self.pusher.push(connection_id, &frame.to_text()).await?;
        Ok(())
    }
}

/// How long after `$connect` a connection may still answer `GoneException` while API Gateway
/// finishes opening it.
fn opening_grace() -> chrono::Duration {
    chrono::Duration::seconds(10)
}
