//! Lambda for the reminder queue: the daily run (EventBridge → SNS → SQS) and the planner's
//! own follow-up tasks.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    festa::observability::init();
    let planner = festa_notifications::planner_from_env().await?;
    festa_notifications::serve_planner(planner).await
}
