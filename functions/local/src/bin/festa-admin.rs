//! `festa-admin`: one-off upkeep of a deployed stack's tables, run by an operator with the
//! stack's credentials (standard AWS variables) and `RECORDS_TABLE`.
//!
//! `festa-admin backfill-calendar` writes the reminder calendar of festivals created before
//! reminders existed, so the planner finds them; run it once after the first deploy with
//! reminders. It reads the festival listing (no table scan) and may be run again safely.

use clap::Command;
use festa::adapters::dynamodb::DynamoRecords;
use festa::config::Config;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Command::new("festa-admin")
        .about("One-off upkeep of a deployed Festa stack's tables")
        .subcommand_required(true)
        .subcommand(
            Command::new("backfill-calendar")
                .about("Writes the reminder calendar items of every festival (RECORDS_TABLE)"),
        )
        .get_matches();
    festa::observability::init();
    let config = Config::from_env()?;
    let table = Config::require(&config.records_table, "RECORDS_TABLE")?;
    let aws = festa::adapters::aws::load().await;
    let records = DynamoRecords::new(festa::adapters::aws::dynamodb(&aws), table.clone());
    match args.subcommand_name() {
        Some("backfill-calendar") => {
            let covered = records.backfill_calendar().await?;
            println!("wrote the calendar of {covered} festivals in {table}");
        }
        _ => unreachable!("a subcommand is required"),
    }
    Ok(())
}
