//! Lambda for the reminder queue: the daily run (EventBridge → SNS → SQS) and the planner's
//! own follow-up tasks.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    festa::observability::init();
    let env = festa::wiring::LambdaEnv::load()?;
    let planner = festa_notifications::planner(&env)?;
    festa_notifications::serve_planner(planner).await
}
