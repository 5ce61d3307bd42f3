//! Lambda for the admit queue: one admitter tick per message.

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let admitter = festa_queue::admitter(&env, festa_queue::admit_ticks(&env)?).await?;
    festa_queue::serve_admitter(admitter).await
}
