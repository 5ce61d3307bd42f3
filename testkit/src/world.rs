//! The local world one function instance runs in: every variable the template gives the
//! function resolved by NAME to a local stand-in (fresh moto tables, queues, bus and secrets
//! with unique names, the test Redis, an HTTP stub for API Gateway's management API and
//! Google's token endpoint, a generated JWT key), plus the domain's real adapters and services
//! over the same stand-ins, so scenarios seed exactly what their event needs.
//!
//! A variable this module does not know fails: the template and the tests cannot drift apart
//! silently (teach [`World::resolve`] the new name instead).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use festa::adapters::aws::SdkConfig;
use festa::adapters::dynamodb::{
    ensure_chat_tables, ensure_tables, DynamoChat, DynamoConnections, DynamoRecords,
    DynamoSearchIndex,
};
use festa::adapters::memory::{RecordedEvents, RecordedFrames};
use festa::adapters::outbox::Outbox;
use festa::adapters::system::{RandomIds, SystemClock};
use festa::config::Config;
use festa::model::{Festival, Reservation, Role};
use festa::ports::{AdmitPolicy, Clock, IdSource, WaitingRoom};
use festa::services::accounts::{
    Accounts, ConfirmRequest, EmailRequest, LoginRequest, SignupRequest,
};
use festa::services::chat::{Chat, RoomTurns};
use festa::services::directory::FestivalDirectory;
use festa::services::festivals::{CreateFestivalRequest, Festivals};
use festa::services::reminders::Devices;
use festa::services::reservations::{BookRequest, Reservations};
use festa::services::tokens::{Identity, TokenKeys, ACCESS_TTL};
use rand::RngExt;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::launcher::Launch;
use crate::template::{Function, Raw, Template};

/// The API stage in `CHAT_CALLBACK_URL`, as the template's `${Stage}` default.
const STAGE: &str = "prod";
/// Where the stub answers Google's OAuth token grant (the FCM key's `token_uri`).
const TOKEN_PATH: &str = "/token";
/// The origin the SPA is served from in these tests (`CORS_ALLOWED_ORIGINS`).
pub const TEST_ORIGIN: &str = "https://app.festa.example";

/// Redis and the AWS emulator, as `scripts/test.sh` (or `scripts/coldstart.sh`) started them.
#[derive(Debug, Clone)]
pub struct Services {
    pub redis_url: String,
    pub aws_endpoint_url: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Services {
    /// The services named by `REDIS_URL` and `AWS_ENDPOINT_URL`; `None` (the test is skipped)
    /// when either is unset, unless `FESTA_REQUIRE_REAL=1` makes that a failure.
    pub fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        match (var("REDIS_URL"), var("AWS_ENDPOINT_URL")) {
            (Some(redis_url), Some(aws_endpoint_url)) => Some(Self {
                redis_url,
                aws_endpoint_url,
                region: var("AWS_REGION").unwrap_or_else(|| "ap-northeast-2".into()),
                access_key_id: var("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "testing".into()),
                secret_access_key: var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "testing".into()),
            }),
            _ => {
                assert!(
                    std::env::var("FESTA_REQUIRE_REAL").as_deref() != Ok("1"),
                    "FESTA_REQUIRE_REAL=1 but REDIS_URL or AWS_ENDPOINT_URL is not set"
                );
                eprintln!("skipped: set REDIS_URL and AWS_ENDPOINT_URL (scripts/test.sh does)");
                None
            }
        }
    }
}

/// A user the sample events speak for or about.
#[derive(Debug, Clone, Copy)]
pub struct User {
    pub email: &'static str,
    pub name: &'static str,
    pub password: &'static str,
}

/// The caller of every sample event (its address, name and password are in the fixtures).
pub const FAN: User = User {
    email: "fan@festa.example",
    name: "김페스타",
    password: "festival-pass",
};
/// A second festival-goer, for rosters of more than one.
pub const LEE: User = User {
    email: "lee@festa.example",
    name: "이축제",
    password: "festival-pass",
};

/// A real login: the identity its access token carries and both tokens.
#[derive(Debug, Clone)]
pub struct Login {
    pub identity: Identity,
    pub access_token: String,
    pub refresh_token: String,
}

/// One function instance's local world.
pub struct World {
    pub services: Services,
    pub function: Function,
    pub aws: SdkConfig,
    /// The function's variables as the process gets them (unset ones are absent).
    pub variables: BTreeMap<String, String>,
    /// The generated HS256 key (`JWT_SECRET`, or the secret behind `JWT_SECRET_ARN`).
    jwt_secret: String,
    stub: MockServer,
    /// Makes every resource name of this world unique.
    tag: String,
    ids: RandomIds,
}

impl World {
    /// Resolves every variable of `function` to a fresh local stand-in.
    pub async fn new(
        services: &Services,
        function: &Function,
        template: &Template,
    ) -> Result<Self, String> {
        let aws = festa::adapters::aws::load().await;
        let stub = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(TOKEN_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"access_token": "ya29.festa-testkit", "expires_in": 3599, "token_type": "Bearer"}),
            ))
            .mount(&stub)
            .await;
        let connections = format!("^/{STAGE}/@connections/");
        Mock::given(method("POST"))
            .and(path_regex(connections.clone()))
            .respond_with(ResponseTemplate::new(200))
            .mount(&stub)
            .await;
        Mock::given(method("DELETE"))
            .and(path_regex(connections))
            .respond_with(ResponseTemplate::new(204))
            .mount(&stub)
            .await;
        let secret: [u8; 32] = rand::rng().random();
        let mut world = Self {
            services: services.clone(),
            function: function.clone(),
            aws,
            variables: BTreeMap::new(),
            jwt_secret: festa_hex(&secret),
            stub,
            tag: RandomIds::default().new_id().to_lowercase(),
            ids: RandomIds::default(),
        };
        for (name, raw) in &function.variables {
            if let Some(value) = world.resolve(name, raw, template).await? {
                world.variables.insert(name.clone(), value);
            }
        }
        Ok(world)
    }

    /// The local value of one variable, chosen by its NAME; `None` leaves it unset.
    async fn resolve(
        &mut self,
        name: &str,
        raw: &Raw,
        template: &Template,
    ) -> Result<Option<String>, String> {
        let value = match name {
            "LOG_FORMAT" | "RUST_LOG" => match raw {
                Raw::Text(text) => text.clone(),
                other => return Err(self.unknown(name, other)),
            },
            "RECORDS_TABLE" | "SEARCH_TABLE" => {
                let (records, search) = (self.name("records"), self.name("search"));
                ensure_tables(&self.dynamodb(), &records, &search)
                    .await
                    .map_err(|e| format!("creating {records}: {e}"))?;
                if name == "RECORDS_TABLE" {
                    records
                } else {
                    search
                }
            }
            "MESSAGES_TABLE" | "CONNECTIONS_TABLE" => {
                let (messages, connections) = (self.name("messages"), self.name("connections"));
                ensure_chat_tables(&self.dynamodb(), &messages, &connections)
                    .await
                    .map_err(|e| format!("creating {messages}: {e}"))?;
                if name == "MESSAGES_TABLE" {
                    messages
                } else {
                    connections
                }
            }
            "REDIS_URL" => self.services.redis_url.clone(),
            "ADMIT_QUEUE_URL" | "REMINDER_QUEUE_URL" | "PUSH_QUEUE_URL" => {
                let queue = self.name(&name.to_lowercase().replace('_', "-"));
                self.sqs()
                    .create_queue()
                    .queue_name(&queue)
                    .send()
                    .await
                    .map_err(|e| format!("creating the queue {queue}: {e:?}"))?
                    .queue_url()
                    .ok_or("CreateQueue answered no URL")?
                    .to_string()
            }
            // Stack parameters with a default: the default, as a stack deployed with it gets.
            "ADMIT_RATE_PER_SECOND" | "MAIL_HOURLY_LIMIT" => match raw {
                Raw::Text(text) => text.clone(),
                Raw::Ref(parameter) => template
                    .parameter_defaults
                    .get(parameter)
                    .cloned()
                    .ok_or_else(|| format!("the parameter {parameter} has no default"))?,
                other => return Err(self.unknown(name, other)),
            },
            "EVENT_BUS_NAME" => {
                let bus = self.name("bus");
                aws_sdk_eventbridge::Client::new(&self.aws)
                    .create_event_bus()
                    .name(&bus)
                    .send()
                    .await
                    .map_err(|e| format!("creating the bus {bus}: {e:?}"))?;
                bus
            }
            "CHAT_CALLBACK_URL" => format!("{}/{STAGE}", self.stub.uri()),
            "FCM_SERVICE_ACCOUNT_SECRET_ARN" => {
                let key = fcm_service_account(&format!("{}{TOKEN_PATH}", self.stub.uri()));
                self.secret("fcm", &key).await?
            }
            "JWT_SECRET" => self.jwt_secret.clone(),
            "JWT_SECRET_ARN" => {
                let key = self.jwt_secret.clone();
                self.secret("jwt", &key).await?
            }
            "CORS_ALLOWED_ORIGINS" => TEST_ORIGIN.to_string(),
            // Optional in the template (`!If [HasX, ..., !Ref AWS::NoValue]`): left unset, so
            // mail stays in the function's outbox and the admin list is empty.
            "MAIL_FROM" | "ADMIN_EMAILS" => match raw {
                Raw::If { otherwise, .. } if **otherwise == Raw::NoValue => return Ok(None),
                other => return Err(self.unknown(name, other)),
            },
            _ => return Err(self.unknown(name, raw)),
        };
        Ok(Some(value))
    }

    fn unknown(&self, name: &str, raw: &Raw) -> String {
        format!(
            "{}: the template gives {name} = {raw}, which the testkit has no local stand-in \
             for; teach festa_testkit::world::World::resolve this variable",
            self.function.logical_id
        )
    }

    /// A unique resource name of this world.
    fn name(&self, what: &str) -> String {
        format!("festa-rt-{}-{what}", self.tag)
    }

    async fn secret(&self, what: &str, value: &str) -> Result<String, String> {
        let name = self.name(what);
        let created = aws_sdk_secretsmanager::Client::new(&self.aws)
            .create_secret()
            .name(&name)
            .secret_string(value)
            .send()
            .await
            .map_err(|e| format!("creating the secret {name}: {e:?}"))?;
        created
            .arn()
            .map(str::to_string)
            .ok_or_else(|| "CreateSecret answered no ARN".into())
    }

    /// How the launcher starts `binary` for this function.
    pub fn launch(&self, binary: &std::path::Path) -> Launch {
        Launch {
            binary: binary.to_path_buf(),
            function_name: format!("festa-{}", self.function.logical_id),
            variables: self.variables.clone(),
            memory_mb: self.function.memory_mb,
            timeout: Duration::from_secs(u64::from(self.function.timeout_s)),
            handler: self.function.handler.clone(),
            region: self.services.region.clone(),
            access_key_id: self.services.access_key_id.clone(),
            secret_access_key: self.services.secret_access_key.clone(),
            aws_endpoint_url: self.services.aws_endpoint_url.clone(),
        }
    }

    /// A variable the function has, or an error naming it.
    pub fn var(&self, name: &str) -> Result<&str, String> {
        self.variables.get(name).map(String::as_str).ok_or_else(|| {
            format!(
                "{} has no {name}, which its scenario needs",
                self.function.logical_id
            )
        })
    }

    // ----- clients and adapters over the stand-ins -----

    /// A DynamoDB client for moto.
    pub fn dynamodb(&self) -> festa::adapters::dynamodb::Client {
        festa::adapters::aws::dynamodb(&self.aws)
    }

    /// An SQS client for moto, to read what a function queued.
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        festa::adapters::aws::sqs(&self.aws)
    }

    /// The records table of this function, through the domain's adapter.
    pub fn records(&self) -> Result<Arc<DynamoRecords>, String> {
        Ok(Arc::new(DynamoRecords::new(
            self.dynamodb(),
            self.var("RECORDS_TABLE")?,
        )))
    }

    /// The domain's ports kept in the test Redis (whether or not the function itself has
    /// `REDIS_URL`: seeding may need the waiting room).
    async fn redis(&self) -> Result<festa::wiring::Live, String> {
        let url = self.services.redis_url.clone();
        let config = Config::from_lookup(|name| (name == "REDIS_URL").then(|| url.clone()))
            .map_err(|e| e.to_string())?;
        festa::wiring::live(&config)
            .await
            .map_err(|e| format!("the test Redis: {e}"))
    }

    /// The waiting room in the test Redis, through the domain's adapter.
    pub async fn room(&self) -> Result<Arc<dyn WaitingRoom>, String> {
        Ok(self.redis().await?.waiting_room)
    }

    /// The admission policy the function runs with.
    pub fn policy(&self) -> AdmitPolicy {
        let rate = self
            .variables
            .get("ADMIT_RATE_PER_SECOND")
            .and_then(|r| r.parse().ok())
            .unwrap_or(festa::config::DEFAULT_ADMIT_RATE);
        AdmitPolicy::at_rate(rate)
    }

    /// The key the function signs and checks tokens with.
    pub fn keys(&self) -> Result<TokenKeys, String> {
        TokenKeys::from_secret(self.jwt_secret.as_bytes()).map_err(|e| e.to_string())
    }

    /// Now, by the clock the binaries run on.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        SystemClock.now()
    }

    /// A fresh ULID, as the domain makes ids.
    pub fn new_id(&self) -> String {
        self.ids.new_id()
    }

    // ----- accounts -----

    fn accounts(&self, outbox: Arc<Outbox>) -> Result<Accounts, String> {
        let records = self.records()?;
        Ok(Accounts {
            accounts: records.clone(),
            sessions: records.clone(),
            limits: records,
            mail_hourly_limit: festa::config::DEFAULT_MAIL_HOURLY_LIMIT,
            mailer: outbox,
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::default()),
            keys: Some(festa::prefetch::Prefetched::ready(self.keys()?)),
            admins: Arc::new(HashSet::new()),
            // Seeding never signs anyone out; only the function under test closes sockets.
            eviction: Arc::new(festa::adapters::refusing::NoEviction),
        })
    }

    /// Signs `user` up through the account service; answers the code it mailed.
    pub async fn sign_up(&self, user: User) -> Result<String, String> {
        let outbox = Arc::new(Outbox::new());
        self.accounts(outbox.clone())?
            .signup(SignupRequest {
                email: user.email.into(),
                password: user.password.into(),
                name: user.name.into(),
            })
            .await
            .map_err(|e| format!("signing up {}: {e}", user.email))?;
        let mail = outbox
            .mails(Some(user.email))
            .into_iter()
            .next()
            .ok_or("the sign-up mailed nothing")?;
        let at = mail.body.find("code is ").ok_or("the mail names no code")? + "code is ".len();
        Ok(mail.body[at..at + 6].to_string())
    }

    /// A confirmed account for `user`.
    pub async fn confirmed(&self, user: User) -> Result<(), String> {
        let code = self.sign_up(user).await?;
        self.accounts(Arc::new(Outbox::new()))?
            .confirm(ConfirmRequest {
                email: user.email.into(),
                code,
            })
            .await
            .map_err(|e| format!("confirming {}: {e}", user.email))?;
        Ok(())
    }

    /// Asks for a password reset of `user` through the account service; answers the code it
    /// mailed.
    pub async fn reset_code(&self, user: User) -> Result<String, String> {
        let outbox = Arc::new(Outbox::new());
        self.accounts(outbox.clone())?
            .forgot_password(EmailRequest {
                email: user.email.into(),
            })
            .await
            .map_err(|e| format!("asking a reset code for {}: {e}", user.email))?;
        let mail = outbox
            .mails(Some(user.email))
            .into_iter()
            .next()
            .ok_or("the reset mailed nothing")?;
        let at = mail.body.find("code is ").ok_or("the mail names no code")? + "code is ".len();
        Ok(mail.body[at..at + 6].to_string())
    }

    /// A confirmed account for `user`, logged in: a live session and its tokens.
    pub async fn login(&self, user: User) -> Result<Login, String> {
        self.confirmed(user).await?;
        let pair = self
            .accounts(Arc::new(Outbox::new()))?
            .login(LoginRequest {
                email: user.email.into(),
                password: user.password.into(),
            })
            .await
            .map_err(|e| format!("logging {} in: {e}", user.email))?;
        let identity = self
            .keys()?
            .decode(&pair.access_token, self.now())
            .map_err(|e| e.to_string())?;
        Ok(Login {
            identity,
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
        })
    }

    /// Who `user` is to a route behind the authorizer (no login needed: routes trust the
    /// authorizer's context).
    /// Stores a live login (session) for `identity`, as logging in would, so what checks the
    /// login (a WebSocket connect) finds it.
    pub async fn live_login(&self, identity: &Identity) -> Result<(), String> {
        let now = self.now();
        festa::ports::SessionStore::create_session(
            self.records()?.as_ref(),
            &festa::model::Session {
                session_id: identity.session_id.clone(),
                user_id: identity.user_id.clone(),
                email: identity.email.clone(),
                name: identity.name.clone(),
                refresh_hash: String::new(),
                spent_hashes: Vec::new(),
                revoked: false,
                created_at: now,
                expires_at: now + chrono::Duration::days(14),
            },
        )
        .await
        .map_err(|e| format!("storing a login: {e}"))
    }

    /// An identity as an access token of `user` carries (no login stored; see
    /// [`Self::live_login`]).
    pub fn identity(&self, user: User, role: Role) -> Identity {
        Identity {
            user_id: self.new_id(),
            email: user.email.into(),
            name: user.name.into(),
            role,
            session_id: self.new_id(),
            expires_at: self.now() + ACCESS_TTL,
        }
    }

    // ----- festivals, the waiting room, reservations -----

    /// The sample festival (as `create-festival.json` creates it: 2027-10-02 to 10-03, 5,000
    /// tickets a day), created through the catalogue service; its id is fresh.
    pub async fn festival(&self) -> Result<Festival, String> {
        let records = self.records()?;
        let festivals = Festivals {
            store: records,
            index: Arc::new(DynamoSearchIndex::new(
                self.dynamodb(),
                self.var("SEARCH_TABLE")?,
            )),
            cache: self.redis().await?.cache,
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::default()),
        };
        let request: CreateFestivalRequest = serde_json::from_value(json!({
            "name": "서울 세계 불꽃축제 2027",
            "description": "한강의 밤하늘을 수놓는 세계 각국의 불꽃 쇼",
            "location": "서울 영등포구 여의도 한강공원",
            "startDate": "2027-10-02",
            "endDate": "2027-10-03",
            "ticketsPerDay": 5000,
            "price": 30000,
            "timeZone": "Asia/Seoul"
        }))
        .map_err(|e| e.to_string())?;
        festivals
            .create(&self.identity(FAN, Role::Admin), request)
            .await
            .map_err(|e| format!("creating the festival: {e}"))
    }

    /// `email` joins the festival's line; answers the chain the join started, if it did.
    pub async fn join_line(
        &self,
        festival_id: &str,
        email: &str,
    ) -> Result<Option<String>, String> {
        let view = self
            .room()
            .await?
            .join(
                festival_id,
                email,
                self.now(),
                &self.new_id(),
                &self.policy(),
            )
            .await
            .map_err(|e| format!("joining the line: {e}"))?;
        Ok(view.started_chain.map(|tick| tick.chain))
    }

    /// Lets `email` through the line as the admitter does: a join and one tick of its chain.
    pub async fn admit(&self, festival_id: &str, email: &str) -> Result<(), String> {
        let room = self.room().await?;
        let view = room
            .join(
                festival_id,
                email,
                self.now(),
                &self.new_id(),
                &self.policy(),
            )
            .await
            .map_err(|e| format!("joining the line: {e}"))?;
        let tick = view
            .started_chain
            .ok_or("the join started no admitter chain")?;
        room.admit(&tick, self.now(), &self.policy())
            .await
            .map_err(|e| format!("admitting: {e}"))?;
        self.admission(festival_id, email)
            .await?
            .map(|_| ())
            .ok_or_else(|| format!("{email} was not admitted"))
    }

    /// When `email`'s admission ends, if they hold one.
    pub async fn admission(
        &self,
        festival_id: &str,
        email: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
        self.room()
            .await?
            .admission(festival_id, email, self.now())
            .await
            .map_err(|e| e.to_string())
    }

    /// `caller` books one ticket for `date` through the reservation service, admitted first.
    pub async fn book(
        &self,
        caller: &Identity,
        festival_id: &str,
        date: NaiveDate,
    ) -> Result<Reservation, String> {
        self.admit(festival_id, &caller.email).await?;
        let records = self.records()?;
        let reservations = Reservations {
            store: records.clone(),
            room: self.room().await?,
            festivals: FestivalDirectory::new(records),
            // Seeding publishes nowhere: only the function under test talks to the bus.
            events: Arc::new(RecordedEvents::default()),
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::default()),
        };
        let request = BookRequest {
            festival_id: festival_id.into(),
            festival_date: date,
            quantity: Some(1),
        };
        reservations
            .book(caller, request, None)
            .await
            .map_err(|e| format!("booking: {e}"))
    }

    // ----- chat and devices -----

    /// The chat service over this world's tables and Redis; its own pushes are only recorded,
    /// so the stub sees nothing but what the function under test pushes.
    pub async fn chat(&self) -> Result<Chat, String> {
        let records = self.records()?;
        let dynamodb = self.dynamodb();
        Ok(Chat {
            store: Arc::new(DynamoChat::new(
                dynamodb.clone(),
                self.var("RECORDS_TABLE")?.to_string(),
                self.var("MESSAGES_TABLE")?.to_string(),
            )),
            connections: Arc::new(DynamoConnections::new(
                dynamodb,
                self.var("CONNECTIONS_TABLE")?,
            )),
            presence: self.redis().await?.presence,
            pusher: Arc::new(RecordedFrames::new()),
            festivals: FestivalDirectory::new(records.clone()),
            sessions: records,
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::default()),
            turns: RoomTurns::default(),
        })
    }

    /// The device service over this function's records table.
    pub fn devices(&self) -> Result<Devices, String> {
        Ok(Devices {
            registry: self.records()?,
            clock: Arc::new(SystemClock),
        })
    }

    // ----- what the function did -----

    /// The frames the function pushed to `connection_id` through the management API stub.
    pub async fn pushed_frames(&self, connection_id: &str) -> Vec<Value> {
        let prefix = format!("/{STAGE}/@connections/");
        self.stub
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method.as_str() == "POST")
            .filter(|r| {
                r.url.path().strip_prefix(&prefix).is_some_and(|id| {
                    percent_encoding::percent_decode_str(id).decode_utf8_lossy() == connection_id
                })
            })
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }

    /// The bodies of the messages now on the queue named by the variable `queue_var`.
    pub async fn queued(&self, queue_var: &str) -> Result<Vec<Value>, String> {
        let url = self.var(queue_var)?.to_string();
        let mut bodies = Vec::new();
        loop {
            let got = self
                .sqs()
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .send()
                .await
                .map_err(|e| format!("reading {queue_var}: {e:?}"))?;
            if got.messages().is_empty() {
                return Ok(bodies);
            }
            for message in got.messages() {
                let body = message.body().unwrap_or_default();
                bodies.push(serde_json::from_str(body).unwrap_or(Value::String(body.into())));
            }
        }
    }
}

/// The test service-account key (shared with the domain's FCM tests) with its token endpoint
/// on the stub, so a cold start's key parsing and any token grant stay local.
fn fcm_service_account(token_uri: &str) -> String {
    let text = include_str!("../../shared/tests/fixtures/fcm-test-service-account.json");
    let mut key: Value = serde_json::from_str(text).expect("the test key is JSON");
    key["token_uri"] = json!(token_uri);
    key.to_string()
}

fn festa_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
