//! The whole platform in one process: the very route handlers the Lambdas run, served over
//! HTTP by axum, with in-memory adapters by default or the real ones when configured.

pub mod chat_client;
mod http_glue;
pub mod reminders;
mod scheduler;
mod seed;
mod sockets;

use std::sync::Arc;

use axum::Router;
use festa::adapters::dynamodb::{
    ensure_chat_tables, ensure_tables, DynamoChat, DynamoConnections, DynamoRecords,
    DynamoSearchIndex,
};
use festa::adapters::eventbridge::EventBridgeEvents;
use festa::adapters::fcm::FcmGateway;
use festa::adapters::memory::{
    InProcessTicks, MemoryChat, MemoryConnections, MemoryDevices, MemoryRecords,
    MemoryReminderLedger, MemoryReminderQueue, MemorySearchIndex, RecordedEvents,
};
use festa::adapters::outbox::Outbox;
use festa::adapters::ses::SesMailer;
use festa::adapters::system::{RandomIds, SystemClock};
use festa::config::{CacheTarget, Config};
use festa::ports::{
    AccountStore, AdmitPolicy, ChatStore, Clock, ConnectionStore, DeviceRegistry, FestivalCalendar,
    FestivalStore, IdSource, Mailer, PushGateway, RateLimits, ReminderLedger, ReservationEvents,
    ReservationRoster, ReservationStore, SearchIndex, SessionStore, WaitingRoom,
};
use festa::prefetch::Prefetched;
use festa::services::accounts::Accounts;
use festa::services::chat::{Chat, RoomTurns};
use festa::services::directory::FestivalDirectory;
use festa::services::festivals::Festivals;
use festa::services::queue::{Admitter, Queue};
use festa::services::reminders::{Devices, Planner, Sender};
use festa::services::reservations::Reservations;
use festa::services::tokens::TokenKeys;
use festa::AppResult;
use festa_auth::AuthState;
use festa_chat::{ChatState, TokenGate};
use festa_festivals::FestivalsState;
use festa_notifications::NotificationsState;
use festa_queue::QueueState;
use festa_reservations::ReservationsState;

pub use seed::seed_festivals;

/// The address every administrator of the embedded platform gets when `ADMIN_EMAILS` is unset.
pub const DEFAULT_LOCAL_ADMIN: &str = "admin@festa.local";

/// Mails per hour the local platform sends when `MAIL_HOURLY_LIMIT` is unset: far above a
/// deployment's default, since the load tests sign thousands of users up from one machine.
pub const LOCAL_MAIL_HOURLY_LIMIT: u32 = 1_000_000;

/// A built platform: its router, plus the handles people and tests inspect.
pub struct Platform {
    pub router: Router,
    /// Present when mail or pushes are kept locally rather than sent through SES or FCM.
    pub outbox: Option<Arc<Outbox>>,
    pub festivals: Festivals,
    /// Present when reservation events are kept locally rather than sent to EventBridge.
    pub events: Option<Arc<RecordedEvents>>,
    /// The waiting room, for tests and tools that look inside the lines.
    pub room: Arc<dyn WaitingRoom>,
    /// The chat service, for tools that fill rooms without going through sockets.
    pub chat: Chat,
    /// The reminder pipeline, run daily and by `POST /_local/reminders/run`.
    pub reminders: reminders::LocalReminders,
    /// One line per adapter choice, for the start-up banner.
    pub description: Vec<String>,
    pub admins: Vec<String>,
}

/// The record-keeping ports, all from one backend.
struct Records {
    accounts: Arc<dyn AccountStore>,
    sessions: Arc<dyn SessionStore>,
    limits: Arc<dyn RateLimits>,
    festivals: Arc<dyn FestivalStore>,
    reservations: Arc<dyn ReservationStore>,
    index: Arc<dyn SearchIndex>,
    chat: Arc<dyn ChatStore>,
    connections: Arc<dyn ConnectionStore>,
    calendar: Arc<dyn FestivalCalendar>,
    roster: Arc<dyn ReservationRoster>,
    devices: Arc<dyn DeviceRegistry>,
    ledger: Arc<dyn ReminderLedger>,
}

/// Builds the platform from the configuration (see README for the variables).
pub async fn build(mut config: Config) -> AppResult<Platform> {
    let mut description = Vec::new();
    if config.admin_emails.is_empty() {
        config.admin_emails.insert(DEFAULT_LOCAL_ADMIN.to_string());
    }
    let keys = match config.jwt_secret.as_deref() {
        Some(secret) => TokenKeys::from_secret(secret)?,
        None => {
            description.push(
                "tokens: signed with a random key (set JWT_SECRET to keep them across restarts)"
                    .into(),
            );
            TokenKeys::from_secret(RandomIds::default().new_secret().as_bytes())?
        }
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ids: Arc<dyn IdSource> = Arc::new(RandomIds::default());

    let needs_aws = config.records_table.is_some()
        || config.mail_from.is_some()
        || config.event_bus_name.is_some();
    let aws = if needs_aws {
        Some(festa::adapters::aws::load().await)
    } else {
        None
    };

    let records = match (&config.records_table, &aws) {
        (Some(records_table), Some(aws)) => {
            let search_table = Config::require(&config.search_table, "SEARCH_TABLE")?;
            let client = festa::adapters::aws::dynamodb(aws);
            // Locally the chat tables default to names beside the records table.
            let messages_table = config
                .messages_table
                .clone()
                .unwrap_or_else(|| format!("{records_table}-messages"));
            let connections_table = config
                .connections_table
                .clone()
                .unwrap_or_else(|| format!("{records_table}-connections"));
            ensure_tables(&client, records_table, &search_table).await?;
            ensure_chat_tables(&client, &messages_table, &connections_table).await?;
            description.push(format!(
                "records: DynamoDB tables {records_table}, {search_table}, {messages_table} and {connections_table}"
            ));
            let records = Arc::new(DynamoRecords::new(client.clone(), records_table.clone()));
            Records {
                accounts: records.clone(),
                sessions: records.clone(),
                limits: records.clone(),
                festivals: records.clone(),
                reservations: records.clone(),
                calendar: records.clone(),
                roster: records.clone(),
                devices: records.clone(),
                ledger: records,
                index: Arc::new(DynamoSearchIndex::new(client.clone(), search_table)),
                chat: Arc::new(DynamoChat::new(
                    client.clone(),
                    records_table.clone(),
                    messages_table,
                )),
                connections: Arc::new(DynamoConnections::new(client, connections_table)),
            }
        }
        _ => {
            description.push(
                "records: in memory (set RECORDS_TABLE and SEARCH_TABLE for DynamoDB)".into(),
            );
            let records = Arc::new(MemoryRecords::new());
            Records {
                accounts: records.clone(),
                sessions: records.clone(),
                limits: records.clone(),
                festivals: records.clone(),
                reservations: records.clone(),
                calendar: records.clone(),
                roster: records,
                devices: Arc::new(MemoryDevices::new()),
                ledger: Arc::new(MemoryReminderLedger::new()),
                index: Arc::new(MemorySearchIndex::new()),
                chat: Arc::new(MemoryChat::new()),
                connections: Arc::new(MemoryConnections::new()),
            }
        }
    };
    let Records {
        accounts,
        sessions,
        limits,
        festivals: store,
        reservations,
        index,
        chat: chat_store,
        connections,
        calendar,
        roster,
        devices,
        ledger,
    } = records;

    let outbox = Arc::new(Outbox::new());
    let mut outbox_used = false;
    let mailer: Arc<dyn Mailer> = match (&config.mail_from, &aws) {
        (Some(from), Some(aws)) => {
            description.push(format!("mail: SES from {from}"));
            Arc::new(SesMailer::new(
                festa::adapters::aws::sesv2(aws),
                from.clone(),
            ))
        }
        _ => {
            description.push("mail: kept in the outbox at /_local/outbox".into());
            outbox_used = true;
            outbox.clone()
        }
    };
    let gateway: Arc<dyn PushGateway> = match &config.fcm_service_account {
        Some(key) => {
            let gateway = FcmGateway::new(key, config.fcm_base_url.as_deref())?;
            description.push("pushes: FCM with FCM_SERVICE_ACCOUNT".into());
            Arc::new(gateway)
        }
        None => {
            description.push(
                "pushes: kept in the outbox (set FCM_SERVICE_ACCOUNT to send through FCM)".into(),
            );
            outbox_used = true;
            outbox.clone()
        }
    };
    let outbox = outbox_used.then_some(outbox);

    description.push(match &config.cache {
        CacheTarget::InProcess => "cache: in memory (set REDIS_URL for Redis)".to_string(),
        CacheTarget::Url(_) => "cache: Redis at REDIS_URL".to_string(),
        CacheTarget::ReplicationGroup(id) => format!("cache: ElastiCache replication group {id}"),
    });
    let festa::wiring::Live {
        cache,
        waiting_room: room,
        presence,
    } = festa::wiring::live(&config).await?;
    let policy = AdmitPolicy::at_rate(config.admit_rate_per_second);
    description.push(format!(
        "waiting room: admits {} a second per festival, ticked in process (ADMIT_RATE_PER_SECOND)",
        policy.rate_per_second
    ));

    let (events, recorded): (Arc<dyn ReservationEvents>, Option<Arc<RecordedEvents>>) =
        match (&config.event_bus_name, &aws) {
            (Some(bus), Some(aws)) => {
                description.push(format!("reservation events: EventBridge bus {bus}"));
                (
                    Arc::new(EventBridgeEvents::new(
                        festa::adapters::aws::eventbridge(aws),
                        bus.clone(),
                    )),
                    None,
                )
            }
            _ => {
                description.push(
                    "reservation events: kept in memory (set EVENT_BUS_NAME for EventBridge)"
                        .into(),
                );
                let recorded = Arc::new(RecordedEvents::new());
                (recorded.clone(), Some(recorded))
            }
        };

    let mail_hourly_limit = config.mail_hourly_limit.unwrap_or(LOCAL_MAIL_HOURLY_LIMIT);
    description.push(format!(
        "mail cap: {mail_hourly_limit} a deployment hour, 5 codes a day per address (MAIL_HOURLY_LIMIT)"
    ));
    let sockets = Arc::new(sockets::LocalSockets::default());
    let auth = Arc::new(AuthState {
        accounts: Accounts {
            accounts,
            sessions: sessions.clone(),
            limits,
            mail_hourly_limit,
            mailer,
            clock: clock.clone(),
            ids: ids.clone(),
            keys: Some(Prefetched::ready(keys.clone())),
            admins: Arc::new(config.admin_emails.clone()),
            // Sign-out closes the user's open sockets here, as DeleteConnection does in AWS.
            eviction: Arc::new(sockets::LocalEviction {
                presence: presence.clone(),
                sockets: sockets.clone(),
            }),
        },
    });
    let directory = FestivalDirectory::new(store.clone());
    let festivals = Festivals {
        store,
        index,
        cache,
        clock: clock.clone(),
        ids: ids.clone(),
    };
    let (ticks, due_ticks) = InProcessTicks::channel();
    let ticks = Arc::new(ticks);
    let admitter = Admitter {
        room: room.clone(),
        ticks: ticks.clone(),
        clock: clock.clone(),
        policy,
    };
    scheduler::spawn(due_ticks, admitter.clone());
    let queue = Arc::new(QueueState {
        queue: Queue {
            room: room.clone(),
            ticks,
            festivals: directory.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            policy,
        },
        admitter,
    });
    let reminder_queue = Arc::new(MemoryReminderQueue::new());
    let reminders = reminders::LocalReminders {
        planner: Planner::new(
            calendar,
            roster.clone(),
            reminder_queue.clone(),
            reminder_queue.clone(),
            clock.clone(),
        ),
        sender: Sender {
            reservations: roster,
            devices: devices.clone(),
            ledger,
            gateway,
            clock: clock.clone(),
        },
        queue: reminder_queue,
    };
    reminders::spawn_daily(reminders.clone());
    description.push(
        "reminders: daily at 09:00 Asia/Seoul in process; POST /_local/reminders/run?date= runs one now"
            .into(),
    );
    let notifications = Arc::new(NotificationsState {
        devices: Devices {
            registry: devices,
            clock: clock.clone(),
        },
    });
    let bookings = Arc::new(ReservationsState {
        reservations: Reservations {
            store: reservations,
            room: room.clone(),
            festivals: directory.clone(),
            events,
            clock: clock.clone(),
            ids: ids.clone(),
        },
    });
    let chat = Chat {
        store: chat_store,
        connections,
        presence,
        pusher: sockets.clone(),
        festivals: directory,
        sessions: sessions.clone(),
        clock: clock.clone(),
        ids: ids.clone(),
        turns: RoomTurns::default(),
    };
    let gate = TokenGate {
        keys: Prefetched::ready(keys.clone()),
        sessions: sessions.clone(),
        clock: clock.clone(),
    };
    description.push("chat: WebSocket endpoint at /ws?token=<accessToken>".into());
    let chat_service = chat.clone();
    let talk = Arc::new(ChatState {
        chat: chat.clone(),
        gate: Some(gate.clone()),
    });
    let catalogue = Arc::new(FestivalsState {
        festivals: festivals.clone(),
    });

    let mut routes = festa_auth::routes(auth);
    routes.extend(festa_festivals::routes(catalogue));
    routes.extend(festa_queue::routes(queue));
    routes.extend(festa_reservations::routes(bookings));
    routes.extend(festa_chat::routes(talk));
    routes.extend(festa_notifications::routes(notifications));
    routes.push(festa_openapi::openapi_route());
    let authenticator = http_glue::Authenticator {
        keys,
        sessions,
        clock,
    };
    let router = http_glue::router(routes, authenticator, outbox.clone())
        .route("/ws", sockets::endpoint(chat, gate, sockets, ids))
        .route(
            "/_local/reminders/run",
            http_glue::run_reminders(reminders.clone()),
        );
    if !config.cors_allowed_origins.is_empty() {
        description.push(format!(
            "browsers: cross-origin calls allowed from {} (CORS_ALLOWED_ORIGINS)",
            config.cors_allowed_origins.join(", ")
        ));
    }
    let router = http_glue::with_cors(
        router,
        festa::api::cors::CorsPolicy::new(config.cors_allowed_origins.clone()),
    );

    let mut admins: Vec<String> = config.admin_emails.into_iter().collect();
    admins.sort();
    Ok(Platform {
        router,
        outbox,
        festivals,
        events: recorded,
        room,
        chat: chat_service,
        reminders,
        description,
        admins,
    })
}
