//! A few festivals so a new user sees something at once (`--seed`).

use chrono::{Duration, Utc};
use festa::model::Role;
use festa::services::festivals::{CreateFestivalRequest, Festivals};
use festa::services::tokens::Identity;
use festa::AppResult;

/// (name, description, location, starts in days, lasts days, tickets per day, price)
const SEED: &[(&str, &str, &str, i64, i64, u64, u64)] = &[
    (
        "서울 세계 불꽃축제",
        "한강 밤하늘을 수놓는 세계 각국의 불꽃 쇼",
        "서울 여의도 한강공원",
        30,
        1,
        5000,
        0,
    ),
    (
        "부산 국제 록 페스티벌",
        "바다 옆에서 즐기는 사흘간의 록 음악 축제",
        "부산 삼락생태공원",
        45,
        3,
        3000,
        55000,
    ),
    (
        "진주 남강 유등축제",
        "남강 위를 밝히는 수만 개의 유등",
        "경남 진주 남강 일원",
        60,
        10,
        2000,
        5000,
    ),
    (
        "Jarasum Jazz Festival",
        "International jazz on an island in the Bukhan river",
        "Gapyeong Jarasum Island",
        75,
        3,
        4000,
        70000,
    ),
    (
        "보령 머드축제",
        "머드 체험과 해변 공연",
        "충남 보령 대천해수욕장",
        90,
        7,
        6000,
        15000,
    ),
];

/// Creates the seed festivals, oldest first so the newest listing shows them in table order.
pub async fn seed_festivals(festivals: &Festivals) -> AppResult<usize> {
    let seeder = Identity {
        user_id: "seed".into(),
        email: "seed@festa.local".into(),
        name: "seed".into(),
        role: Role::Admin,
        session_id: "seed".into(),
        expires_at: Utc::now() + Duration::minutes(1),
    };
    let today = Utc::now().date_naive();
    for &(name, description, location, starts_in, days, tickets, price) in SEED.iter().rev() {
        let start = today + Duration::days(starts_in);
        festivals
            .create(
                &seeder,
                CreateFestivalRequest {
                    name: name.into(),
                    description: description.into(),
                    location: location.into(),
                    start_date: start,
                    end_date: start + Duration::days(days - 1),
                    tickets_per_day: tickets,
                    price: Some(price),
                    image_url: None,
                    time_zone: None,
                },
            )
            .await?;
    }
    Ok(SEED.len())
}
