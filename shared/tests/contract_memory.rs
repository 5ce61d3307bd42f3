//! The contract suite against the in-memory adapters.

mod contract;

use festa::adapters::memory::{MemoryRecords, MemorySearchIndex};

macro_rules! cases {
    (records: [$($records:ident),* $(,)?], search: [$($search:ident),* $(,)?] $(,)?) => {
        $(
            #[tokio::test]
            async fn $records() {
                contract::$records(&MemoryRecords::new()).await;
            }
        )*
        $(
            #[tokio::test]
            async fn $search() {
                contract::$search(&MemorySearchIndex::new()).await;
            }
        )*
    };
}

cases! {
    records: [
        account_round_trip,
        email_taken_when_confirmed_replaced_when_unconfirmed,
        code_attempts_are_reserved_up_to_the_limit,
        mark_confirmed_needs_the_live_code,
        concurrent_attempts_never_pass_the_limit,
        session_round_trip,
        rotate_refresh_races_and_revocation,
        revoke_session,
        revoke_all_sessions_of_one_user,
        festival_create_and_get,
        get_festivals_keeps_order_and_skips_missing,
        list_festivals_newest_first_with_paging,
    ],
    search: [
        postings_order_bounds_and_limits,
        add_postings_for_many_grams,
        one_festival_has_one_signature_in_every_list,
    ],
}

#[tokio::test]
async fn revoke_all_sessions_leaves_the_account() {
    let records = MemoryRecords::new();
    contract::revoke_all_sessions_leaves_the_account(&records, &records).await;
}
