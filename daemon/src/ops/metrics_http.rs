//! The `/metrics` endpoint: a deliberately tiny HTTP/1.1 responder on the `[metrics] listen`
//! address. `GET /metrics` answers the Prometheus text; any other path is 404, any other method
//! 405, a malformed or oversized request 400. One response per connection (`Connection:
//! close`), a few connections at a time, each with a read deadline, so a slow or hostile client
//! cannot hold the daemon. It never touches the engine: it reads [`Metrics`] and the shared
//! handles.

use super::metrics::{Metrics, Scrape};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Largest request head read.
const MAX_REQUEST: usize = 8 * 1024;
/// How long a client may take to send its request.
const READ_DEADLINE: Duration = Duration::from_secs(5);
/// Connections served at once.
const MAX_CONNECTIONS: usize = 8;

/// Serves `listener` until `cancel`; `scrape` gathers what the metrics do not hold themselves.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    scrape: Arc<ScrapeFn>,
    cancel: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = cancel.cancelled() => return,
        };
        let (stream, _) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!(error = %e, "metrics accept failed");
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            continue; // too many at once: drop the connection
        };
        let (metrics, scrape) = (metrics.clone(), scrape.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let _ =
                tokio::time::timeout(READ_DEADLINE * 2, answer(stream, &metrics, &*scrape)).await;
        });
    }
}

type ScrapeFn = dyn Fn() -> Scrape + Send + Sync;

async fn answer(mut stream: TcpStream, metrics: &Metrics, scrape: &ScrapeFn) {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let complete = loop {
        let n = match tokio::time::timeout(READ_DEADLINE, stream.read(&mut buf)).await {
            Ok(Ok(n)) => n,
            _ => return,
        };
        if n == 0 {
            break false;
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            break true;
        }
        if head.len() > MAX_REQUEST {
            break false;
        }
    };
    let (status, body) = if complete {
        route(&head, metrics, scrape)
    } else {
        ("400 Bad Request", "bad request\n".to_owned())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn route(head: &[u8], metrics: &Metrics, scrape: &ScrapeFn) -> (&'static str, String) {
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|b| *b == b' ');
    let (method, target) = (parts.next(), parts.next());
    let path = target.map(|t| t.split(|b| *b == b'?').next().unwrap_or_default());
    match (method, path) {
        (Some(b"GET"), Some(b"/metrics")) => ("200 OK", metrics.render(&scrape())),
        (Some(b"GET"), Some(_)) => ("404 Not Found", "not found: try /metrics\n".to_owned()),
        (Some(_), Some(_)) => ("405 Method Not Allowed", "only GET is allowed\n".to_owned()),
        _ => ("400 Bad Request", "bad request\n".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn request(addr: std::net::SocketAddr, raw: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(raw).await.expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).await.expect("read");
        out
    }

    #[tokio::test]
    async fn answers_metrics_and_refuses_the_rest() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let metrics = Arc::new(Metrics::default());
        metrics.count_event(shelfd_core::events::EventKind::TagSold);
        let cancel = CancellationToken::new();
        let scrape: Arc<dyn Fn() -> Scrape + Send + Sync> = Arc::new(|| Scrape {
            mqtt_connected: true,
            ..Scrape::default()
        });
        let server = tokio::spawn(serve(listener, metrics, scrape, cancel.clone()));

        let ok = request(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("\nshelfd_events_total{type=\"tag.sold\"} 1\n"));
        assert!(ok.contains("\nshelfd_mqtt_connected 1\n"));
        let other = request(addr, b"GET / HTTP/1.1\r\n\r\n").await;
        assert!(other.starts_with("HTTP/1.1 404"), "{other}");
        let post = request(addr, b"POST /metrics HTTP/1.1\r\n\r\n").await;
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
        let junk = request(addr, &[b'x'; MAX_REQUEST + 10]).await;
        assert!(junk.starts_with("HTTP/1.1 400"), "{junk}");

        cancel.cancel();
        server.await.expect("server task");
    }
}
