//! The accept loop: HTTP/1 and HTTP/2 (with upgrades, for the WebSockets) over hyper, with the
//! limits a public server needs and `axum::serve` does not set — a cap on open connections
//! (beyond it a new connection is closed at once and counted), a deadline for a request's
//! headers that also closes idle keep-alive connections (slowloris, half-sent and silent
//! connections), and a graceful stop.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

/// Limits of one listener.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// A request's headers must arrive within this; an idle keep-alive connection is closed
    /// after it.
    pub header_timeout: Duration,
}

/// Kernel send buffer of an accepted socket (Linux doubles it for bookkeeping).
pub(crate) const SEND_BUFFER_BYTES: usize = 128 * 1024;

/// Counters of the accept loops (for `/metrics`).
#[derive(Debug, Default)]
pub struct ConnStats {
    pub open: AtomicU64,
    pub accepted: AtomicU64,
    /// Closed at once because the cap was reached.
    pub refused: AtomicU64,
}

/// Serve `app` on `listener` until `shutdown` completes, then stop accepting, let open
/// requests finish (graceful shutdown of every connection) and return.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stats: Arc<ConnStats>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        // Room for our own header limit (answered as JSON by the hygiene layer) before hyper's.
        .max_buf_size(1 << 20)
        .keep_alive(true);
    builder.http2().enable_connect_protocol();
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    let mut last_refusal_log = std::time::Instant::now()
        .checked_sub(Duration::from_secs(60))
        .unwrap_or_else(std::time::Instant::now);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        stats.accepted.fetch_add(1, Ordering::Relaxed);
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            if last_refusal_log.elapsed() >= Duration::from_secs(10) {
                last_refusal_log = std::time::Instant::now();
                tracing::warn!(
                    max_connections = limits.max_connections,
                    refused_total = stats.refused.load(Ordering::Relaxed),
                    "connection cap reached: new connections are closed"
                );
            }
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        // A fixed send buffer: the kernel's autotuning lets a connection that stops reading
        // hold megabytes; with this a stalled client costs a bounded amount until it is dropped.
        let _ = socket2::SockRef::from(&tcp).set_send_buffer_size(SEND_BUFFER_BYTES);
        let service = app
            .clone()
            .map_request(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.map(axum::body::Body::new)
            })
            .map_err(|e: Infallible| match e {});
        let hyper_service = TowerToHyperService::new(service);
        let (builder, mut stop_rx) = (builder.clone(), stop_rx.clone());
        stats.open.fetch_add(1, Ordering::Relaxed);
        let io = Counted {
            io: tcp,
            _permit: permit,
            stats: stats.clone(),
        };
        let first_byte = limits.header_timeout;
        tokio::spawn(async move {
            // HTTP/1 or 2 is told from the first bytes, before hyper's header deadline applies:
            // a connection that sends nothing at all gets the same deadline here.
            let mut probe = [0u8; 1];
            match tokio::time::timeout(first_byte, io.io.peek(&mut probe)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), hyper_service);
            tokio::pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::trace!(peer = %peer, error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    changed = stop_rx.changed(), if !stopping => {
                        stopping = true;
                        if changed.is_ok() {
                            conn.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    // Wait (bounded) for the open connections to finish their requests (WebSockets are ended
    // by the server's own shutdown).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stats.open.load(Ordering::Relaxed) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A connection's socket holding its place under the cap: the place is given back when the
/// socket is dropped — after the HTTP exchange, or, for a WebSocket, when the upgraded
/// connection ends (the upgrade hands the socket itself over).
struct Counted {
    io: tokio::net::TcpStream,
    _permit: tokio::sync::OwnedSemaphorePermit,
    stats: Arc<ConnStats>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.stats.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl tokio::io::AsyncRead for Counted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Counted {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
