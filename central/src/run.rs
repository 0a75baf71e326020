//! Central as a whole: the database migrated, the consumer and the API running until the
//! shutdown token fires. `main` and the tests both call [`run`].

use crate::api::{ApiState, router};
use crate::auth::Tokens;
use crate::config::CentralConfig;
use crate::consumer::{ConsumerStats, run_consumer};
use crate::db::{DbUrl, Pool};
use crate::inventory::Areas;
use crate::products::Products;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Runs central until `cancel`; prints `shelfd-central: API on http://ADDR` once it serves.
pub async fn run(config: CentralConfig, cancel: CancellationToken) -> anyhow::Result<()> {
    run_reporting(config, cancel, |addr| {
        println!("shelfd-central: API on http://{addr}");
    })
    .await
}

/// [`run`], telling `ready` the API's address once it listens (instead of printing it): for
/// hosts that run central in-process, such as `shelfd demo`.
pub async fn run_reporting(
    config: CentralConfig,
    cancel: CancellationToken,
    ready: impl FnOnce(std::net::SocketAddr) + Send,
) -> anyhow::Result<()> {
    let url = DbUrl::parse(&config.database.url)?;
    {
        let url = url.clone();
        tokio::task::spawn_blocking(move || url.open_migrated().map(drop)).await??;
    }
    let tokens = Tokens::load(&config.api.tokens_file)?;
    let products = match &config.api.products_file {
        Some(path) => Products::load(path)?,
        None => Products::default(),
    };
    let state = Arc::new(ApiState {
        pool: Pool::new(url.clone()),
        tokens,
        products,
        areas: Areas {
            backroom_prefixes: config.inventory.backroom_prefixes.clone(),
            low_level: config.inventory.low_level,
        },
    });
    let listener = tokio::net::TcpListener::bind(&config.api.listen)
        .await
        .map_err(|e| anyhow::anyhow!("api.listen {}: {e}", config.api.listen))?;
    ready(listener.local_addr()?);
    let stats = Arc::new(ConsumerStats::default());
    let consumer = {
        let config = config.clone();
        let cancel = cancel.clone();
        let stats = stats.clone();
        tokio::spawn(async move { run_consumer(&config, url, stats, cancel).await })
    };
    let server = axum::serve(listener, router(state))
        .with_graceful_shutdown(cancel.clone().cancelled_owned());
    let served = server.await;
    cancel.cancel();
    consumer.await??;
    served?;
    Ok(())
}
