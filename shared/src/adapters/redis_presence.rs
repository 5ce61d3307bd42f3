//! The production [`RoomPresence`]: chat presence, read markers and send rates in Redis,
//! where they change on every message and need not outlive a restart of the sockets.
//!
//! Keys (the `{…}` hash tag keeps a room's keys, and a connection's counters, in one cluster
//! slot):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `festa:chat:{roomId}:online` | hash | attached connection → its user |
//! | `festa:chat:{roomId}:viewing` | set | connections viewing the room |
//! | `festa:chat:{roomId}:read` | hash | user → read marker (decimal `seq`) |
//! | `festa:chat:rate:{userId}:<epochSecond>` | string | messages the user sent in that second (all connections), expiring after 2 s |
//! | `festa:chat:user:{userId}:live` | sorted set | the user's open connections, scored by when each expires (epoch ms); the key expires with its last connection |
//!
//! (`live` replaced a plain set at `…:connections`: a new name, so a rollout never meets a key
//! of the old type; the old keys expire on their own within 3 hours.)
//!
//! Every call is one round trip and atomic on the server (a Lua script, one command or a
//! MULTI), except [`RoomPresence::read_markers`], which pipelines one `HGET` per room: rooms
//! live in different slots, and nothing needs a snapshot across rooms.
//!
//! Read markers only move forward. The scripts compare them as decimal strings (length, then
//! digits), never as Lua numbers, so every `u64` is exact, even past 2^53.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use redis::{Script, Value};

use crate::error::{AppError, AppResult};
use crate::ports::{Recipient, RoomPresence};

/// Moves a user's marker forward; shared by the scripts that move markers.
const ADVANCE_LUA: &str = r#"
local function advance(read_key, user, seq)
  local marker = redis.call('HGET', read_key, user)
  if not marker or #seq > #marker or (#seq == #marker and seq > marker) then
    redis.call('HSET', read_key, user, seq)
    return seq
  end
  return marker
end
"#;

/// KEYS: online, viewing, read. ARGV: connection, user, seq. Returns the marker.
const VIEW_LUA: &str = r#"
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return advance(KEYS[3], ARGV[2], ARGV[3])
"#;

/// KEYS: online, viewing, read. ARGV: user. Forgets the user's marker and detaches every
/// connection of theirs (one pass over the room's attachments; leaving is rare).
const FORGET_MEMBER_LUA: &str = r#"
redis.call('HDEL', KEYS[3], ARGV[1])
local online = redis.call('HGETALL', KEYS[1])
for i = 1, #online, 2 do
  if online[i + 1] == ARGV[1] then
    redis.call('HDEL', KEYS[1], online[i])
    redis.call('SREM', KEYS[2], online[i])
  end
end
return 0
"#;

/// KEYS: read. ARGV: user, seq. Returns the marker.
const MARK_READ_LUA: &str = r#"
return advance(KEYS[1], ARGV[1], ARGV[2])
"#;

/// KEYS: online, viewing, read. ARGV: seq. Moves every viewing user's marker to `seq`, then
/// returns `connection, user, viewing (0/1), marker` for each attached connection, flat.
const DELIVER_LUA: &str = r#"
local online = redis.call('HGETALL', KEYS[1])
if #online == 0 then return {} end
local viewing = {}
for _, c in ipairs(redis.call('SMEMBERS', KEYS[2])) do viewing[c] = true end
local moved = {}
for i = 1, #online, 2 do
  local user = online[i + 1]
  if viewing[online[i]] and not moved[user] then
    moved[user] = advance(KEYS[3], user, ARGV[1])
  end
end
local out = {}
for i = 1, #online, 2 do
  local c, user = online[i], online[i + 1]
  local marker = moved[user]
  if not marker then
    marker = redis.call('HGET', KEYS[3], user) or '0'
    moved[user] = marker
  end
  out[#out + 1] = c
  out[#out + 1] = user
  out[#out + 1] = viewing[c] and '1' or '0'
  out[#out + 1] = marker
end
return out
"#;

/// KEYS: the user's live set. ARGV: connection, now (ms), expires (ms), max. Forgets expired
/// connections, then adds this one unless the user already holds `max` others; 1 when held.
const TRACK_LUA: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not held and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
-- GT adds a new member too; an existing one only ever moves later.
redis.call('ZADD', KEYS[1], 'GT', ARGV[3], ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], math.floor(tonumber(last[2])))
return 1
"#;

/// KEYS: the user's live set. Answers every connection in it and deletes it.
const EVICT_LUA: &str = r#"
local all = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return all
"#;

/// How long a send-rate counter outlives its second, so a late call still finds it.
const RATE_TTL_SECONDS: u64 = 2;

/// Presence, read markers and send rates in Redis, shared by every chat handler of a process;
/// cloning shares the connection.
#[derive(Clone)]
pub struct RedisPresence {
    conn: ConnectionManager,
    view: Script,
    mark_read: Script,
    deliver: Script,
    forget_member: Script,
    track: Script,
    evict: Script,
}

impl RedisPresence {
    /// Presence on this connection (see [`super::redis_cache::RedisCache::connection`]), so
    /// a process shares one connection among its Redis adapters.
    pub fn new(conn: ConnectionManager) -> Self {
        RedisPresence {
            conn,
            view: Script::new(&format!("{ADVANCE_LUA}\n{VIEW_LUA}")),
            mark_read: Script::new(&format!("{ADVANCE_LUA}\n{MARK_READ_LUA}")),
            deliver: Script::new(&format!("{ADVANCE_LUA}\n{DELIVER_LUA}")),
            forget_member: Script::new(FORGET_MEMBER_LUA),
            track: Script::new(TRACK_LUA),
            evict: Script::new(EVICT_LUA),
        }
    }
}

/// The key of one part of a room's presence.
fn key(chat_room_id: &str, part: &str) -> String {
    format!("festa:chat:{{{chat_room_id}}}:{part}")
}

/// The key of the user's open connections (a sorted set scored by expiry).
fn devices_key(user_id: &str) -> String {
    format!("festa:chat:user:{{{user_id}}}:live")
}

/// The key counting the user's messages in one second.
fn rate_key(user_id: &str, second: i64) -> String {
    format!("festa:chat:rate:{{{user_id}}}:{second}")
}

/// A failed command: an outage answers `503`, anything else is internal; type errors, whose
/// text quotes the reply (which may hold ids), keep only their kind (see
/// [`super::redis_conn::redis_error`]).
fn redis_error(what: &'static str) -> impl FnOnce(redis::RedisError) -> AppError {
    super::redis_conn::redis_error("presence", what)
}

/// A reply that is not what the script or command returns; never quotes the reply.
fn bad_reply(what: &'static str) -> AppError {
    AppError::internal(format!("Redis presence {what}: unexpected reply"))
}

/// A non-negative number as Redis answers it: an integer or its decimal text.
fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Int(n) => u64::try_from(*n).ok(),
        Value::BulkString(bytes) => std::str::from_utf8(bytes).ok()?.trim().parse().ok(),
        Value::SimpleString(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// A read marker: a number, or nil for a user without one.
fn marker(value: &Value) -> Option<u64> {
    match value {
        Value::Nil => Some(0),
        other => number(other),
    }
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes).ok(),
        Value::SimpleString(text) => Some(text),
        _ => None,
    }
}

/// The delivery script's flat answer as recipients.
fn recipients(reply: Value) -> Option<Vec<Recipient>> {
    let Value::Array(items) = reply else {
        return None;
    };
    if items.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(items.len() / 4);
    let mut items = items.into_iter();
    while let (Some(connection), Some(user), Some(viewing), Some(read)) =
        (items.next(), items.next(), items.next(), items.next())
    {
        out.push(Recipient {
            connection_id: text(connection)?,
            user_id: text(user)?,
            viewing: match number(&viewing)? {
                0 => false,
                1 => true,
                _ => return None,
            },
            read_seq: number(&read)?,
        });
    }
    Some(out)
}

impl RedisPresence {
    /// Runs a marker-moving script and reads the marker it answers.
    async fn run_marker_script(
        &self,
        what: &'static str,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> AppResult<u64> {
        let mut conn = self.conn.clone();
        let reply: Value = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error(what))?;
        number(&reply).ok_or_else(|| bad_reply(what))
    }
}

#[async_trait]
impl RoomPresence for RedisPresence {
    async fn attach(
        &self,
        chat_room_id: &str,
        connection_id: &str,
        user_id: &str,
    ) -> AppResult<()> {
        let mut conn = self.conn.clone();
        redis::cmd("HSET")
            .arg(key(chat_room_id, "online"))
            .arg(connection_id)
            .arg(user_id)
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_error("attach"))
    }

    async fn detach(&self, chat_room_id: &str, connection_id: &str) -> AppResult<()> {
        let mut conn = self.conn.clone();
        redis::pipe()
            .atomic()
            .cmd("HDEL")
            .arg(key(chat_room_id, "online"))
            .arg(connection_id)
            .ignore()
            .cmd("SREM")
            .arg(key(chat_room_id, "viewing"))
            .arg(connection_id)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_error("detach"))
    }

    async fn view(
        &self,
        chat_room_id: &str,
        connection_id: &str,
        user_id: &str,
        seq: u64,
    ) -> AppResult<u64> {
        let mut invocation = self.view.prepare_invoke();
        invocation
            .key(key(chat_room_id, "online"))
            .key(key(chat_room_id, "viewing"))
            .key(key(chat_room_id, "read"))
            .arg(connection_id)
            .arg(user_id)
            .arg(seq.to_string());
        self.run_marker_script("view", &invocation).await
    }

    async fn unview(
        &self,
        chat_room_id: &str,
        connection_id: &str,
        user_id: &str,
    ) -> AppResult<u64> {
        let mut conn = self.conn.clone();
        let reply: Vec<Value> = redis::pipe()
            .atomic()
            .cmd("SREM")
            .arg(key(chat_room_id, "viewing"))
            .arg(connection_id)
            .ignore()
            .cmd("HGET")
            .arg(key(chat_room_id, "read"))
            .arg(user_id)
            .query_async(&mut conn)
            .await
            .map_err(redis_error("unview"))?;
        match reply.as_slice() {
            [read] => marker(read),
            _ => None,
        }
        .ok_or_else(|| bad_reply("unview"))
    }

    async fn mark_read(&self, chat_room_id: &str, user_id: &str, seq: u64) -> AppResult<u64> {
        let mut invocation = self.mark_read.prepare_invoke();
        invocation
            .key(key(chat_room_id, "read"))
            .arg(user_id)
            .arg(seq.to_string());
        self.run_marker_script("mark_read", &invocation).await
    }

    async fn forget_member(&self, chat_room_id: &str, user_id: &str) -> AppResult<()> {
        let mut conn = self.conn.clone();
        self.forget_member
            .key(key(chat_room_id, "online"))
            .key(key(chat_room_id, "viewing"))
            .key(key(chat_room_id, "read"))
            .arg(user_id)
            .invoke_async::<()>(&mut conn)
            .await
            .map_err(redis_error("forget_member"))
    }

    async fn read_markers(&self, chat_room_ids: &[String], user_id: &str) -> AppResult<Vec<u64>> {
        if chat_room_ids.is_empty() {
            return Ok(Vec::new());
        }
        // Not atomic across rooms (they live in different slots); each marker is current.
        let mut pipe = redis::pipe();
        for id in chat_room_ids {
            pipe.cmd("HGET").arg(key(id, "read")).arg(user_id);
        }
        let mut conn = self.conn.clone();
        let reply: Vec<Value> = pipe
            .query_async(&mut conn)
            .await
            .map_err(redis_error("read_markers"))?;
        if reply.len() != chat_room_ids.len() {
            return Err(bad_reply("read_markers"));
        }
        reply
            .iter()
            .map(|v| marker(v).ok_or_else(|| bad_reply("read_markers")))
            .collect()
    }

    async fn deliver(&self, chat_room_id: &str, seq: u64) -> AppResult<Vec<Recipient>> {
        let mut conn = self.conn.clone();
        let reply: Value = self
            .deliver
            .key(key(chat_room_id, "online"))
            .key(key(chat_room_id, "viewing"))
            .key(key(chat_room_id, "read"))
            .arg(seq.to_string())
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("deliver"))?;
        recipients(reply).ok_or_else(|| bad_reply("deliver"))
    }

    async fn track(
        &self,
        user_id: &str,
        connection_id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        max: usize,
    ) -> AppResult<bool> {
        let mut conn = self.conn.clone();
        let reply: Value = self
            .track
            .key(devices_key(user_id))
            .arg(connection_id)
            .arg(now.timestamp_millis())
            .arg(expires_at.timestamp_millis())
            .arg(max)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("track"))?;
        match number(&reply) {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            _ => Err(bad_reply("track")),
        }
    }

    async fn untrack(&self, user_id: &str, connection_id: &str) -> AppResult<()> {
        let mut conn = self.conn.clone();
        redis::cmd("ZREM")
            .arg(devices_key(user_id))
            .arg(connection_id)
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_error("untrack"))
    }

    async fn connections_of(&self, user_id: &str) -> AppResult<Vec<String>> {
        let mut conn = self.conn.clone();
        redis::cmd("ZRANGE")
            .arg(devices_key(user_id))
            .arg(0)
            .arg(-1)
            .query_async::<Vec<String>>(&mut conn)
            .await
            .map_err(redis_error("connections_of"))
    }

    async fn holds(
        &self,
        user_id: &str,
        connection_id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<bool> {
        let mut conn = self.conn.clone();
        let reply: Value = redis::cmd("ZSCORE")
            .arg(devices_key(user_id))
            .arg(connection_id)
            .query_async(&mut conn)
            .await
            .map_err(redis_error("holds"))?;
        let expires_ms = match reply {
            Value::Nil => return Ok(false),
            Value::Double(score) => score,
            other => text(other)
                .and_then(|t| t.trim().parse::<f64>().ok())
                .ok_or_else(|| bad_reply("holds"))?,
        };
        Ok(expires_ms > now.timestamp_millis() as f64)
    }

    async fn evict(&self, user_id: &str) -> AppResult<Vec<String>> {
        let mut conn = self.conn.clone();
        self.evict
            .key(devices_key(user_id))
            .invoke_async::<Vec<String>>(&mut conn)
            .await
            .map_err(redis_error("evict"))
    }

    async fn allow_message(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
        per_second: u32,
    ) -> AppResult<bool> {
        let key = rate_key(user_id, now.timestamp());
        let mut conn = self.conn.clone();
        let reply: Vec<Value> = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(RATE_TTL_SECONDS)
            .ignore()
            .query_async(&mut conn)
            .await
            .map_err(redis_error("allow_message"))?;
        let count = match reply.as_slice() {
            [count] => number(count),
            _ => None,
        }
        .ok_or_else(|| bad_reply("allow_message"))?;
        Ok(count <= u64::from(per_second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_a_slot_per_room_and_per_user() {
        assert_eq!(key("r1", "online"), "festa:chat:{r1}:online");
        assert_eq!(
            rate_key("u1", 1_700_000_000),
            "festa:chat:rate:{u1}:1700000000"
        );
        assert_eq!(devices_key("u1"), "festa:chat:user:{u1}:live");
    }

    #[test]
    fn numbers_parse_from_integers_and_text() {
        assert_eq!(number(&Value::Int(7)), Some(7));
        assert_eq!(number(&Value::Int(-1)), None);
        assert_eq!(
            number(&Value::BulkString(u64::MAX.to_string().into_bytes())),
            Some(u64::MAX)
        );
        assert_eq!(number(&Value::BulkString(b"x".to_vec())), None);
        assert_eq!(number(&Value::Nil), None);
        assert_eq!(marker(&Value::Nil), Some(0));
    }

    #[test]
    fn recipients_reject_ragged_or_odd_replies() {
        let s = |t: &str| Value::BulkString(t.as_bytes().to_vec());
        let good = Value::Array(vec![s("c1"), s("u1"), s("1"), s("5")]);
        assert_eq!(
            recipients(good),
            Some(vec![Recipient {
                connection_id: "c1".into(),
                user_id: "u1".into(),
                viewing: true,
                read_seq: 5,
            }])
        );
        assert_eq!(recipients(Value::Array(vec![s("c1"), s("u1")])), None);
        assert_eq!(
            recipients(Value::Array(vec![s("c1"), s("u1"), s("2"), s("5")])),
            None
        );
        assert_eq!(recipients(Value::Nil), None);
    }
}
