//! What a reminder says.

use std::collections::BTreeMap;

use crate::model::{PushMessage, ReminderJob};

/// The data `type` every reminder carries, so apps can route the tap.
pub const REMINDER_TYPE: &str = "FESTIVAL_REMINDER";

/// The push for one device of the job's holder: title and body name the festival; the data
/// carries the ids the app needs to open the reservation.
pub fn push_for(job: &ReminderJob, token: &str) -> PushMessage {
    let date = job.festival_date.format("%Y-%m-%d").to_string();
    let data = BTreeMap::from([
        ("type".to_string(), REMINDER_TYPE.to_string()),
        ("festivalId".to_string(), job.festival_id.clone()),
        ("reservationId".to_string(), job.reservation_id.clone()),
        ("festivalDate".to_string(), date.clone()),
    ]);
    PushMessage {
        to: job.email.clone(),
        token: token.to_string(),
        title: format!("내일은 {} 날이에요", job.festival_name),
        body: format!(
            "{date} {} 예약이 확정되어 있어요. 즐거운 축제 되세요!",
            job.festival_name
        ),
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_push_names_the_festival_and_carries_the_ids() {
        let job = ReminderJob {
            reservation_id: "01RES".into(),
            email: "fan@festa.example".into(),
            festival_id: "01FEST".into(),
            festival_name: "진해 군항제".into(),
            festival_date: "2027-03-27".parse().unwrap(),
            starts_at: "2027-03-26T15:00:00Z".parse().unwrap(),
        };
        let push = push_for(&job, "device-1");
        assert_eq!(push.to, "fan@festa.example");
        assert_eq!(push.token, "device-1");
        assert_eq!(push.title, "내일은 진해 군항제 날이에요");
        assert_eq!(
            push.body,
            "2027-03-27 진해 군항제 예약이 확정되어 있어요. 즐거운 축제 되세요!"
        );
        assert_eq!(
            push.data,
            BTreeMap::from([
                ("type".to_string(), "FESTIVAL_REMINDER".to_string()),
                ("festivalId".to_string(), "01FEST".to_string()),
                ("reservationId".to_string(), "01RES".to_string()),
                ("festivalDate".to_string(), "2027-03-27".to_string()),
            ])
        );
    }
}
