//! Festival reminders: devices register their FCM tokens; a daily run plans one push per
//! device of every confirmed reservation whose festival date starts tomorrow, and the sender
//! pushes each exactly once.
//!
//! The pipeline in AWS is EventBridge → SNS → SQS → [`Planner`] → SQS → [`Sender`] → FCM;
//! locally the platform drives the same two steps in process.

mod backoff;
mod content;
mod devices;
mod planner;
mod schedule;
mod sender;

pub use backoff::retry_delay;
pub use content::push_for;
pub use devices::{
    ActivateRequest, DeactivateRequest, Devices, MAX_DEVICES_PER_USER, MAX_TOKEN_LEN,
};
pub use planner::{PlanReport, Planner, PlannerMessage};
pub use schedule::{day_starts_at, due_on, scheduled_run_of};
pub use sender::{JobReport, Pending, Sender, Skipped};
