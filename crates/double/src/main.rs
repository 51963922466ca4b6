//! `kommo-double`: run the Kommo double for the no-account demo or for tests driven from outside.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use kommo_double::{Double, DoubleConfig, DEMO_CLIENT_ID, DEMO_SECRET};

#[derive(Debug, Parser)]
#[command(
    name = "kommo-double",
    version,
    about = "A local Kommo/amoCRM double: consent page, token endpoint, API"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "KOMMO_DOUBLE_BIND", default_value = "127.0.0.1:8081")]
    bind: SocketAddr,
    /// Redirect URI registered for the demo integration.
    #[arg(
        long,
        env = "KOMMO_DOUBLE_REDIRECT_URI",
        default_value = "http://127.0.0.1:8080/"
    )]
    redirect_uri: String,
    /// A JSON DoubleConfig to use instead of the demo (integrations, accounts, leads_per_account, …).
    #[arg(long, env = "KOMMO_DOUBLE_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let (config, is_demo) = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            (
                serde_json::from_str::<DoubleConfig>(&text)
                    .map_err(|e| format!("bad config {}: {e}", path.display()))?,
                false,
            )
        }
        None => (DoubleConfig::demo(&args.redirect_uri), true),
    };
    let double = Double::try_new(config.clone())?;
    if let Some(warning) = kommo_double::exposed_warning(args.bind) {
        tracing::warn!("{warning}");
    }
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    let addr = listener.local_addr()?;
    println!("Kommo double listening on http://{addr} (consent page: http://{addr}/oauth)");
    for a in &config.accounts {
        println!(
            "  account {} ({}), user {}{}",
            a.host(),
            a.name,
            a.user_id,
            if a.user_is_admin { ", admin" } else { "" }
        );
    }
    if is_demo {
        // The demo integration's secret is the double's own fake secret and works nowhere else.
        println!("  demo integration id:     {DEMO_CLIENT_ID}");
        println!("  demo integration secret: {DEMO_SECRET}");
        println!("  redirect URI:            {}", args.redirect_uri);
    } else {
        for i in &config.integrations {
            println!(
                "  integration {} ({}), redirect URI {}",
                i.id, i.name, i.redirect_uri
            );
        }
    }
    axum::serve(listener, double.router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
