//! `festa-local`: runs the whole platform on 127.0.0.1:3000 (see `--help`).

use std::net::SocketAddr;

use clap::{Arg, ArgAction, Command};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Command::new("festa-local")
        .about("The whole Festa platform in one process (in memory unless configured otherwise)")
        .arg(
            Arg::new("port")
                .long("port")
                .env("PORT")
                .default_value("3000")
                .value_parser(clap::value_parser!(u16))
                .help("TCP port"),
        )
        .arg(
            Arg::new("host")
                .long("host")
                .default_value("127.0.0.1")
                .help("address to listen on"),
        )
        .arg(
            Arg::new("cors-origin")
                .long("cors-origin")
                .action(ArgAction::Append)
                .value_name("ORIGIN")
                .help("an origin browsers may call the API from, e.g. http://localhost:5173 (repeatable; adds to CORS_ALLOWED_ORIGINS)"),
        )
        .arg(
            Arg::new("seed")
                .long("seed")
                .action(ArgAction::SetTrue)
                .help("create a few festivals at start-up"),
        )
        .get_matches();
    festa::observability::init();

    let mut config = festa::config::Config::from_env()?;
    if let Some(origins) = args.get_many::<String>("cors-origin") {
        let extra = origins.cloned().collect::<Vec<_>>().join(",");
        for origin in festa::api::cors::parse_origins(&extra)? {
            if !config.cors_allowed_origins.contains(&origin) {
                config.cors_allowed_origins.push(origin);
            }
        }
    }
    let platform = festa_local::build(config).await?;
    if args.get_flag("seed") {
        let count = festa_local::seed_festivals(&platform.festivals).await?;
        println!("seeded {count} festivals");
    }
    let host: std::net::IpAddr = args.get_one::<String>("host").unwrap().parse()?;
    let addr = SocketAddr::new(host, *args.get_one::<u16>("port").unwrap());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let url = format!("http://{}", listener.local_addr()?);
    println!("Festa local platform listening on {url}");
    for line in &platform.description {
        println!("  {line}");
    }
    println!("  administrators: {} (set ADMIN_EMAILS to choose; sign up with one to get an admin account)", platform.admins.join(", "));
    println!("  API description: {url}/openapi.json   health: {url}/health");
    if platform.outbox.is_some() {
        println!("  confirmation codes: {url}/_local/outbox?to=<email>");
    }
    axum::serve(listener, platform.router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
