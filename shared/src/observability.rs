//! Logging setup: JSON lines in Lambda (`LOG_FORMAT=json`), readable lines locally.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber once; later calls are ignored.
pub fn init() {
    let filter = filter(
        std::env::var("RUST_LOG").ok().as_deref(),
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
    );
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json {
        let format = tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_target(false)
            .without_time();
        registry.with(format).try_init()
    } else {
        let format = tracing_subscriber::fmt::layer()
            .compact()
            .with_target(false);
        registry.with(format).try_init()
    };
}

/// What to log: `RUST_LOG` directives (`info,festa=debug`) when given, else the level Lambda's
/// logging configuration sets (`AWS_LAMBDA_LOG_LEVEL`, so an operator changes it on the
/// function without a deploy), else `info`. Target directives need no regular-expression
/// engine, which keeps it out of every bootstrap.
fn filter(rust_log: Option<&str>, lambda_level: Option<&str>) -> Targets {
    if let Some(targets) = rust_log.and_then(|text| text.parse::<Targets>().ok()) {
        return targets;
    }
    let level = match lambda_level.map(str::to_ascii_uppercase).as_deref() {
        Some("TRACE") => LevelFilter::TRACE,
        Some("DEBUG") => LevelFilter::DEBUG,
        Some("WARN") => LevelFilter::WARN,
        Some("ERROR" | "FATAL") => LevelFilter::ERROR,
        _ => LevelFilter::INFO,
    };
    Targets::new().with_default(level)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn rust_log_wins_then_lambda_level_then_info() {
        let f = filter(Some("warn,festa=debug"), Some("ERROR"));
        assert!(f.would_enable("festa::services", &Level::DEBUG));
        assert!(!f.would_enable("redis", &Level::INFO));

        let f = filter(None, Some("warn"));
        assert!(f.would_enable("festa", &Level::WARN));
        assert!(!f.would_enable("festa", &Level::INFO));

        let f = filter(Some("festa=loudest"), Some("FATAL"));
        assert!(f.would_enable("festa", &Level::ERROR));
        assert!(!f.would_enable("festa", &Level::WARN));

        let f = filter(None, None);
        assert!(f.would_enable("festa", &Level::INFO));
        assert!(!f.would_enable("festa", &Level::DEBUG));
    }
}
