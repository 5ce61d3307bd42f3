//! The production [`WaitingRoom`]: one Redis sorted set per festival line, one per
//! admissions, and a Lua script per move, so each step is atomic on the server.
//!
//! Keys (the `{festivalId}` hash tag keeps a festival's keys in one cluster slot):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `festa:queue:{id}:line` | sorted set | user → arrival number (from `:seq`), so the head is the lowest score |
//! | `festa:queue:{id}:seq` | string | the last arrival number handed out |
//! | `festa:queue:{id}:admitted` | sorted set | user → end of admission (ms); expires as a whole after its last member |
//! | `festa:queue:{id}:lease` | string | `chain:tick` of the admitter chain allowed to tick, with a TTL |
//! | `festa:queue:{id}:stats` | hash | token bucket (`tokens`, `refilledMs`), `lastTickMs`, measured `rate` |
//! | `festa:queue:{id}:spent:<email>` | hash | a spent admission: `until` (ms) and the booking attempt's `claim`; expires when the admission would have |
//!
//! Arrival numbers come from `INCR` inside the join script, so the order is the order in which
//! Redis ran the joins: first come, first served, with no ties to break. Ranks are `ZRANK`
//! (O(log n)); every call is one round trip.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use redis::Script;

use crate::error::{AppError, AppResult};
use crate::ports::{AdmitPolicy, AdmitTick, LineView, TickOutcome, WaitingRoom};

/// Shared by join and position: the caller's view plus a chain start when one is needed.
/// KEYS: line, admitted, lease, stats. ARGV: user, now, first tick's lease holder, lease ms.
const VIEW_LUA: &str = r#"
local function view(user, now, first_holder, lease_ms)
  local rank = redis.call('ZRANK', KEYS[1], user)
  local waiting = redis.call('ZCARD', KEYS[1])
  local until_ms = redis.call('ZSCORE', KEYS[2], user)
  if until_ms and tonumber(until_ms) <= now then until_ms = false end
  local started = 0
  if waiting > 0 and redis.call('SET', KEYS[3], first_holder, 'NX', 'PX', lease_ms) then
    started = 1
  end
  local rate = redis.call('HGET', KEYS[4], 'rate')
  return {rank and (rank + 1) or 0, waiting, until_ms or '', started, rate or ''}
end
"#;

/// KEYS: line, admitted, lease, stats, seq. ARGV: as for the view.
const JOIN_LUA: &str = r#"
local user, now = ARGV[1], tonumber(ARGV[2])
local until_ms = redis.call('ZSCORE', KEYS[2], user)
if not (until_ms and tonumber(until_ms) > now) and not redis.call('ZSCORE', KEYS[1], user) then
  redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[5]), user)
end
return view(user, now, ARGV[3], ARGV[4])
"#;

/// KEYS: line, admitted, lease, stats. ARGV: as for the view.
const POSITION_LUA: &str = r#"
return view(ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4])
"#;

/// KEYS: line, admitted, lease, stats. ARGV: tick's lease holder, next's, now, rate, admission ms,
/// lease ms, measure window ms. Returns {-1} when stale, else {admitted, waiting}.
const ADMIT_LUA: &str = r#"
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return {-1, 0} end
local now, rate = tonumber(ARGV[3]), tonumber(ARGV[4])
local burst = rate * 2
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local s = redis.call('HMGET', KEYS[4], 'tokens', 'refilledMs', 'lastTickMs', 'rate')
local tokens = tonumber(s[1])
if tokens then
  local elapsed = math.max(0, now - tonumber(s[2]))
  tokens = math.min(burst, tokens + elapsed * rate / 1000)
else
  tokens = rate
end
local admitted = 0
local n = math.floor(tokens)
if n > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[1], n)
  local until_ms = now + tonumber(ARGV[5])
  for i = 1, #popped, 2 do
    redis.call('ZADD', KEYS[2], until_ms, popped[i])
    admitted = admitted + 1
  end
  if admitted > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
end
tokens = tokens - admitted
local waiting = redis.call('ZCARD', KEYS[1])
local measured = tonumber(s[4])
local last = tonumber(s[3])
if admitted > 0 and waiting > 0 and last then
  local elapsed = now - last
  if elapsed > 0 and elapsed <= tonumber(ARGV[7]) then
    local instant = admitted * 1000 / elapsed
    if measured then measured = measured * 0.8 + instant * 0.2 else measured = instant end
  end
end
redis.call('HSET', KEYS[4], 'tokens', string.format('%.17g', tokens), 'refilledMs', now,
  'lastTickMs', now, 'rate', measured and string.format('%.17g', measured) or '')
redis.call('PEXPIRE', KEYS[4], 86400000)
if waiting > 0 then
  redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[6])
else
  redis.call('DEL', KEYS[3])
end
return {admitted, waiting}
"#;

/// KEYS: admitted, the user's spent record. ARGV: user, now, claim. Moves an unexpired
/// admission to the spent record under `claim` (kept until the admission would have ended),
/// or finds one `claim` spent already; returns its end (ms), or nil when there is none.
const SPEND_LUA: &str = r#"
local now = tonumber(ARGV[2])
local until_ms = redis.call('ZSCORE', KEYS[1], ARGV[1])
if until_ms and tonumber(until_ms) > now then
  until_ms = tonumber(until_ms)
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HSET', KEYS[2], 'until', string.format('%.0f', until_ms), 'claim', ARGV[3])
  redis.call('PEXPIRE', KEYS[2], string.format('%.0f', until_ms - now))
  return string.format('%.0f', until_ms)
end
local spent = redis.call('HMGET', KEYS[2], 'until', 'claim')
if spent[2] == ARGV[3] and tonumber(spent[1]) > now then return spent[1] end
return false
"#;

/// KEYS: admitted, the user's spent record, line. ARGV: user, now, claim. Gives the admission
/// `claim` spent back, if it has not ended; returns 1 when it did.
const RETURN_LUA: &str = r#"
local spent = redis.call('HMGET', KEYS[2], 'until', 'claim')
if spent[2] ~= ARGV[3] then return 0 end
redis.call('DEL', KEYS[2])
local until_ms, now = tonumber(spent[1]), tonumber(ARGV[2])
if until_ms <= now then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[1], until_ms, ARGV[1])
if redis.call('PTTL', KEYS[1]) < until_ms - now then
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', until_ms - now))
end
return 1
"#;

/// KEYS: lease. ARGV: a tick's lease holder. Deletes the lease only if that tick still holds it.
const RELEASE_LUA: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// Waiting lines in Redis.
#[derive(Clone)]
pub struct RedisWaitingRoom {
    conn: ConnectionManager,
    join: Script,
    position: Script,
    admit: Script,
    release: Script,
    spend: Script,
    give_back: Script,
}

impl RedisWaitingRoom {
    /// The waiting room on this connection (see [`super::redis_cache::RedisCache::connection`]).
    pub fn new(conn: ConnectionManager) -> Self {
        RedisWaitingRoom {
            conn,
            join: Script::new(&format!("{VIEW_LUA}\n{JOIN_LUA}")),
            position: Script::new(&format!("{VIEW_LUA}\n{POSITION_LUA}")),
            admit: Script::new(ADMIT_LUA),
            release: Script::new(RELEASE_LUA),
            spend: Script::new(SPEND_LUA),
            give_back: Script::new(RETURN_LUA),
        }
    }
}

/// The key of one part of a festival's line.
fn key(festival_id: &str, part: &str) -> String {
    format!("festa:queue:{{{festival_id}}}:{part}")
}

/// The key of the user's spent admission for a festival (in the festival's slot).
fn spent_key(festival_id: &str, email: &str) -> String {
    key(festival_id, &format!("spent:{email}"))
}

/// A failed command: an outage answers `503`, anything else is internal (see
/// [`super::redis_conn::redis_error`]).
fn redis_error(what: &'static str) -> impl FnOnce(redis::RedisError) -> AppError {
    super::redis_conn::redis_error("waiting room", what)
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

type RawView = (u64, u64, String, u8, String);

fn to_view(raw: RawView, first: AdmitTick) -> LineView {
    let (rank, waiting, until_ms, started, rate) = raw;
    LineView {
        rank: (rank > 0).then_some(rank),
        waiting,
        admitted_until: until_ms
            .parse::<f64>()
            .ok()
            .and_then(|ms| DateTime::from_timestamp_millis(ms as i64)),
        measured_rate: rate
            .parse::<f64>()
            .ok()
            .filter(|r| r.is_finite() && *r > 0.0),
        started_chain: (started == 1).then_some(first),
    }
}

impl RedisWaitingRoom {
    /// Runs the join script (`joining`) or the position script.
    async fn view(
        &self,
        joining: bool,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        chain: &str,
        policy: &AdmitPolicy,
    ) -> AppResult<LineView> {
        let script = if joining { &self.join } else { &self.position };
        let first = AdmitTick::first(festival_id, chain);
        let mut invocation = script.prepare_invoke();
        invocation
            .key(key(festival_id, "line"))
            .key(key(festival_id, "admitted"))
            .key(key(festival_id, "lease"))
            .key(key(festival_id, "stats"));
        if joining {
            invocation.key(key(festival_id, "seq"));
        }
        invocation
            .arg(email)
            .arg(now.timestamp_millis())
            .arg(first.lease_holder())
            .arg(millis(policy.lease_ttl));
        let mut conn = self.conn.clone();
        let raw: RawView = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("read"))?;
        Ok(to_view(raw, first))
    }
}

#[async_trait]
impl WaitingRoom for RedisWaitingRoom {
    async fn join(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        chain: &str,
        policy: &AdmitPolicy,
    ) -> AppResult<LineView> {
        self.view(true, festival_id, email, now, chain, policy)
            .await
    }

    async fn position(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        chain: &str,
        policy: &AdmitPolicy,
    ) -> AppResult<LineView> {
        self.view(false, festival_id, email, now, chain, policy)
            .await
    }

    async fn admission(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<DateTime<Utc>>> {
        let mut conn = self.conn.clone();
        let until: Option<f64> = redis::cmd("ZSCORE")
            .arg(key(festival_id, "admitted"))
            .arg(email)
            .query_async(&mut conn)
            .await
            .map_err(redis_error("ZSCORE"))?;
        Ok(until
            .map(|ms| ms as i64)
            .filter(|&ms| ms > now.timestamp_millis())
            .and_then(DateTime::from_timestamp_millis))
    }

    async fn leave_line(&self, festival_id: &str, email: &str) -> AppResult<()> {
        let mut conn = self.conn.clone();
        redis::cmd("ZREM")
            .arg(key(festival_id, "line"))
            .arg(email)
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_error("ZREM"))
    }

    async fn give_up_admission(&self, festival_id: &str, email: &str) -> AppResult<()> {
        let mut conn = self.conn.clone();
        redis::pipe()
            .atomic()
            .cmd("ZREM")
            .arg(key(festival_id, "admitted"))
            .arg(email)
            .ignore()
            .cmd("DEL")
            .arg(spent_key(festival_id, email))
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_error("ZREM"))
    }

    async fn spend_admission(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        claim: &str,
    ) -> AppResult<Option<DateTime<Utc>>> {
        let mut conn = self.conn.clone();
        let until: Option<String> = self
            .spend
            .key(key(festival_id, "admitted"))
            .key(spent_key(festival_id, email))
            .arg(email)
            .arg(now.timestamp_millis())
            .arg(claim)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("spend"))?;
        Ok(until
            .and_then(|ms| ms.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_millis))
    }

    async fn return_admission(
        &self,
        festival_id: &str,
        email: &str,
        now: DateTime<Utc>,
        claim: &str,
    ) -> AppResult<bool> {
        let mut conn = self.conn.clone();
        let returned: i64 = self
            .give_back
            .key(key(festival_id, "admitted"))
            .key(spent_key(festival_id, email))
            .key(key(festival_id, "line"))
            .arg(email)
            .arg(now.timestamp_millis())
            .arg(claim)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("return"))?;
        Ok(returned == 1)
    }

    async fn release_chain(&self, next: &AdmitTick) -> AppResult<()> {
        let mut conn = self.conn.clone();
        self.release
            .key(key(&next.festival_id, "lease"))
            .arg(next.lease_holder())
            .invoke_async::<i64>(&mut conn)
            .await
            .map_err(redis_error("release"))?;
        Ok(())
    }

    async fn admit(
        &self,
        tick: &AdmitTick,
        now: DateTime<Utc>,
        policy: &AdmitPolicy,
    ) -> AppResult<TickOutcome> {
        let id = &tick.festival_id;
        let next = tick.next();
        let mut conn = self.conn.clone();
        let (admitted, waiting): (i64, u64) = self
            .admit
            .key(key(id, "line"))
            .key(key(id, "admitted"))
            .key(key(id, "lease"))
            .key(key(id, "stats"))
            .arg(tick.lease_holder())
            .arg(next.lease_holder())
            .arg(now.timestamp_millis())
            .arg(policy.rate_per_second.max(1))
            .arg(millis(policy.admission_ttl))
            .arg(millis(policy.lease_ttl))
            .arg(millis(AdmitPolicy::MEASURE_WINDOW))
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error("admit"))?;
        let Ok(admitted) = u64::try_from(admitted) else {
            return Ok(TickOutcome::Stale);
        };
        Ok(if waiting > 0 {
            TickOutcome::Continue { admitted, next }
        } else {
            TickOutcome::Drained { admitted }
        })
    }
}
