//! The stocksblitz client core. One [`Client`] per `TradingClient`: a pooled HTTP client
//! (reqwest, rustls), credentials (an API key, or a JWT session from a login that is refreshed
//! shortly before it expires and once more on a 401), bounded jittered retries of requests that
//! never reached the server or of idempotent ones answered 502/503/504, typed errors (429 carries
//! `Retry-After`), and a response cache with per-kind lifetimes shared by everything built on the
//! client. Thread-safe; the blocking methods run on the client's own small runtime so callers
//! (Python threads with the GIL released) need none.
#![forbid(unsafe_code)]

pub mod cache;
mod error;
pub mod stream;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};

pub use cache::{Cache, Kind};
pub use error::ClientError;

/// Retries after the first attempt (connect errors; 502/503/504 on idempotent requests).
pub const DEFAULT_RETRIES: u32 = 2;
/// Largest response body read (bytes).
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    pub api_url: String,
    pub api_key: Option<String>,
    /// Where `/v1/auth/*` lives (old scripts: port 8001); the API URL when unset.
    pub user_service_url: Option<String>,
    pub timeout: Duration,
    pub max_retries: u32,
}

#[derive(Debug, Clone)]
struct Session {
    access: String,
    refresh: Option<String>,
    expires_at: Instant,
    lifetime: Duration,
}

impl Session {
    fn from_login(v: &Value) -> Result<Session, ClientError> {
        let access = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| ClientError::Decode("the login response has no access_token".into()))?;
        let secs = v.get("expires_in").and_then(Value::as_f64).unwrap_or(900.0);
        let lifetime = Duration::from_secs_f64(secs.clamp(1.0, 86_400.0 * 30.0));
        Ok(Session {
            access: access.to_string(),
            refresh: v
                .get("refresh_token")
                .and_then(Value::as_str)
                .map(str::to_string),
            expires_at: Instant::now() + lifetime,
            lifetime,
        })
    }

    /// Refresh this long before expiry: a fifth of the lifetime, at most 30 s.
    fn due(&self) -> bool {
        let margin = (self.lifetime / 5).min(Duration::from_secs(30));
        Instant::now() + margin >= self.expires_at
    }
}

/// Counters (tests and diagnostics).
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub logins: AtomicU64,
    pub refreshes: AtomicU64,
    pub retries: AtomicU64,
    pub cache_hits: AtomicU64,
}

#[derive(Debug)]
pub struct Client {
    cfg: Config,
    api: Url,
    identity: Url,
    http: reqwest::Client,
    rt: ClientRuntime,
    session: RwLock<Option<Session>>,
    /// One login/refresh at a time (threads that find the token fresh again skip theirs).
    auth_lock: tokio::sync::Mutex<()>,
    pub cache: Cache,
    pub stats: Stats,
}

/// The client's runtime. Stream tasks hold the client too, so the last reference may go away
/// inside one of the runtime's own tasks, where dropping a runtime normally (waiting for its
/// threads) panics: this drops it without waiting.
#[derive(Debug)]
struct ClientRuntime(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for ClientRuntime {
    type Target = tokio::runtime::Runtime;
    fn deref(&self) -> &tokio::runtime::Runtime {
        // Always Some until drop.
        self.0
            .as_ref()
            .unwrap_or_else(|| unreachable!("the client runtime is gone"))
    }
}

impl Drop for ClientRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

fn base_url(name: &str, raw: &str) -> Result<Url, ClientError> {
    let mut s = raw.trim().trim_end_matches('/').to_string();
    s.push('/');
    let url = Url::parse(&s).map_err(|e| ClientError::Usage(format!("{name} {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ClientError::Usage(format!(
            "{name} must be an http:// or https:// URL, got {raw:?}"
        )));
    }
    Ok(url)
}

/// A small jitter in [0.5, 1.5) without a random-number dependency.
pub(crate) fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut x = u64::from(nanos) ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    0.5 + (x % 1000) as f64 / 1000.0
}

fn message_of(body: Option<&Value>, fallback: &str) -> String {
    body.and_then(|b| {
        b.get("detail")
            .or_else(|| b.get("message"))
            .or_else(|| b.get("error"))
    })
    .map_or_else(
        || fallback.to_string(),
        |d| match d {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
    )
}

async fn decode(resp: reqwest::Response) -> Result<Value, ClientError> {
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok());
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(ClientError::Decode(format!(
            "response larger than {MAX_RESPONSE_BYTES} bytes"
        )));
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| ClientError::Decode(format!("reading the body: {e}")))?;
    let parsed: Option<Value> = if bytes.is_empty() {
        None
    } else {
        serde_json::from_slice(&bytes).ok()
    };
    if status.is_success() {
        return match (parsed, bytes.is_empty()) {
            (Some(v), _) => Ok(v),
            (None, true) => Ok(Value::Null),
            (None, false) => Err(ClientError::Decode(format!(
                "HTTP {} with a body that is not JSON: {:?}",
                status.as_u16(),
                String::from_utf8_lossy(&bytes[..bytes.len().min(120)])
            ))),
        };
    }
    let fallback = if parsed.is_none() && !bytes.is_empty() {
        format!(
            "HTTP {} {} (non-JSON body: {:?})",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            String::from_utf8_lossy(&bytes[..bytes.len().min(120)])
        )
    } else {
        format!(
            "HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
    };
    let message = message_of(parsed.as_ref(), &fallback);
    Err(match status {
        StatusCode::UNAUTHORIZED => ClientError::Authentication {
            message,
            status: Some(401),
            body: parsed,
        },
        StatusCode::FORBIDDEN => ClientError::PermissionDenied {
            message,
            body: parsed,
        },
        StatusCode::TOO_MANY_REQUESTS => ClientError::RateLimited {
            message,
            retry_after,
            body: parsed,
        },
        s => ClientError::Api {
            status: s.as_u16(),
            code: parsed
                .as_ref()
                .and_then(|b| b.get("code"))
                .and_then(Value::as_str)
                .map(str::to_string),
            message,
            body: parsed,
        },
    })
}

impl Client {
    /// A client (no I/O until the first request).
    pub fn new(cfg: Config) -> Result<Client, ClientError> {
        let api = base_url("api_url", &cfg.api_url)?;
        let identity = match cfg.user_service_url.as_deref() {
            Some(u) => base_url("user_service_url", u)?,
            None => api.clone(),
        };
        if cfg.timeout.is_zero() {
            return Err(ClientError::Usage("timeout must be positive".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .user_agent(concat!("stocksblitz-python/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Usage(format!("cannot build the HTTP client: {e}")))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("stocksblitz-client")
            .enable_all()
            .build()
            .map_err(|e| ClientError::Usage(format!("cannot start the client runtime: {e}")))?;
        Ok(Client {
            cfg,
            api,
            identity,
            http,
            rt: ClientRuntime(Some(rt)),
            session: RwLock::new(None),
            auth_lock: tokio::sync::Mutex::new(()),
            cache: Cache::default(),
            stats: Stats::default(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The access token in use (a session's JWT, else the API key).
    pub fn access_token(&self) -> Option<String> {
        self.session
            .read()
            .ok()
            .and_then(|s| s.as_ref().map(|s| s.access.clone()))
            .or_else(|| self.cfg.api_key.clone())
    }

    /// Replace the session's access token (scripts that manage tokens themselves; the refresh
    /// token stays, so a rejected token is still refreshed once).
    pub fn set_access_token(&self, token: &str) -> Result<(), ClientError> {
        let mut s = self
            .session
            .write()
            .map_err(|_| ClientError::Usage("session lock poisoned".into()))?;
        match s.as_mut() {
            Some(sess) => sess.access = token.to_string(),
            None => {
                *s = Some(Session {
                    access: token.to_string(),
                    refresh: None,
                    expires_at: Instant::now() + Duration::from_secs(900),
                    lifetime: Duration::from_secs(900),
                });
            }
        }
        Ok(())
    }

    pub fn has_session(&self) -> bool {
        self.session.read().is_ok_and(|s| s.is_some())
    }

    fn url(base: &Url, path: &str, query: &[(&str, String)]) -> Result<Url, ClientError> {
        let rel = path.trim_start_matches('/');
        if rel.contains("://") {
            return Err(ClientError::Usage(format!(
                "expected a path such as /quote, got {path:?}"
            )));
        }
        let mut url = base
            .join(rel)
            .map_err(|e| ClientError::Usage(format!("bad path {path:?}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    // ---- blocking API -------------------------------------------------------------------

    /// GET a path of the API (cached for `kind`'s lifetime when given).
    pub fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        kind: Option<Kind>,
    ) -> Result<Arc<Value>, ClientError> {
        self.rt.block_on(self.get_async(path, query, kind))
    }

    /// [`Client::get`] without blocking: for async callers (run it on [`Client::spawn`]).
    pub async fn get_async(
        &self,
        path: &str,
        query: &[(&str, String)],
        kind: Option<Kind>,
    ) -> Result<Arc<Value>, ClientError> {
        let url = Self::url(&self.api, path, query)?;
        if kind.is_some()
            && let Some(v) = self.cache.get(url.as_str())
        {
            self.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(v);
        }
        let v = Arc::new(self.authed(Method::GET, url.clone(), None).await?);
        if let Some(k) = kind {
            self.cache.put(url.to_string(), k, v.clone());
        }
        Ok(v)
    }

    /// POST JSON to a path of the API.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        let url = Self::url(&self.api, path, &[])?;
        self.rt.block_on(self.authed(Method::POST, url, Some(body)))
    }

    /// Any method on a path of the API, with an `Idempotency-Key` when given: a keyed request
    /// is retried like an idempotent one (the server answers a retry with the first answer),
    /// an unkeyed POST or PUT only when it never reached the server.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, ClientError> {
        self.rt
            .block_on(self.request_async(method, path, body, idempotency_key))
    }

    /// [`Client::request`] without blocking.
    pub async fn request_async(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, ClientError> {
        let method = match method.to_ascii_uppercase().as_str() {
            "GET" => Method::GET,
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            "DELETE" => Method::DELETE,
            "PATCH" => Method::PATCH,
            other => {
                return Err(ClientError::Usage(format!(
                    "method {other:?}: use GET, POST, PUT, PATCH or DELETE"
                )));
            }
        };
        if let Some(k) = idempotency_key
            && (k.is_empty() || k.len() > 128 || !k.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(ClientError::Usage(
                "an idempotency key is 1 to 128 visible ASCII characters".into(),
            ));
        }
        let url = Self::url(&self.api, path, &[])?;
        self.authed_keyed(method, url, body, idempotency_key).await
    }

    /// Run `fut` on the client's runtime (async callers await the handle: the work never
    /// blocks their event loop, and aborting the handle cancels it).
    pub fn spawn<F>(&self, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.rt.spawn(fut)
    }

    /// The bearer token for a request now (a session's JWT, refreshed when due, else the API
    /// key): for the streams' connections.
    pub async fn token(&self) -> Result<String, ClientError> {
        self.bearer().await
    }

    /// The WebSocket URL of a path of the API (`ws://` for `http://`, `wss://` for `https://`).
    pub fn ws_url(&self, path: &str, query: &[(&str, String)]) -> Result<Url, ClientError> {
        let mut url = Self::url(&self.api, path, query)?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|()| ClientError::Usage(format!("no WebSocket URL for {path:?}")))?;
        Ok(url)
    }

    /// Log in at `{user_service_url}/v1/auth/login`; the session then authenticates requests.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        persist_session: bool,
    ) -> Result<Value, ClientError> {
        self.rt
            .block_on(self.login_async(username, password, persist_session))
    }

    /// [`Client::login`] without blocking.
    pub async fn login_async(
        &self,
        username: &str,
        password: &str,
        persist_session: bool,
    ) -> Result<Value, ClientError> {
        let _g = self.auth_lock.lock().await;
        let url = Self::url(&self.identity, "v1/auth/login", &[])?;
        let body =
            json!({"email": username, "password": password, "persist_session": persist_session});
        let resp = self
            .send(Method::POST, url, Some(&body), None, None)
            .await?;
        let session = Session::from_login(&resp)?;
        self.stats.logins.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut s) = self.session.write() {
            *s = Some(session);
        }
        Ok(resp)
    }

    /// Revoke the session on the server and forget it (and the cache). No session: no-op.
    pub fn logout(&self) -> Result<(), ClientError> {
        self.rt.block_on(self.logout_async())
    }

    /// [`Client::logout`] without blocking.
    pub async fn logout_async(&self) -> Result<(), ClientError> {
        let Some(access) = self
            .session
            .read()
            .ok()
            .and_then(|s| s.as_ref().map(|s| s.access.clone()))
        else {
            return Ok(());
        };
        let url = Self::url(&self.identity, "v1/auth/logout", &[])?;
        let result = self
            .send(Method::POST, url, Some(&json!({})), Some(&access), None)
            .await;
        if let Ok(mut s) = self.session.write() {
            *s = None;
        }
        self.cache.clear();
        match result {
            // Already expired or revoked: the session is gone either way.
            Ok(_) | Err(ClientError::Authentication { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    // ---- async core -----------------------------------------------------------------------

    /// The bearer token for a request, refreshing a session that is about to expire.
    async fn bearer(&self) -> Result<String, ClientError> {
        let (due, has) = match self.session.read() {
            Ok(s) => (
                s.as_ref().is_some_and(|x| x.due() && x.refresh.is_some()),
                s.is_some(),
            ),
            Err(_) => (false, false),
        };
        if due {
            let _g = self.auth_lock.lock().await;
            let still_due = self
                .session
                .read()
                .is_ok_and(|s| s.as_ref().is_some_and(Session::due));
            if still_due {
                self.refresh().await?;
            }
        }
        if has && let Some(t) = self.access_token() {
            return Ok(t);
        }
        self.cfg.api_key.clone().ok_or_else(|| ClientError::Authentication {
            message: "not logged in: pass api_key=… or call login() / TradingClient.from_credentials()".into(),
            status: None,
            body: None,
        })
    }

    /// Exchange the refresh token for a new session (caller holds `auth_lock`).
    async fn refresh(&self) -> Result<(), ClientError> {
        let refresh = self
            .session
            .read()
            .ok()
            .and_then(|s| s.as_ref().and_then(|x| x.refresh.clone()));
        let Some(refresh) = refresh else {
            return Err(ClientError::Authentication {
                message: "the session expired and has no refresh token: log in again".into(),
                status: None,
                body: None,
            });
        };
        let url = Self::url(&self.identity, "v1/auth/refresh", &[])?;
        match self
            .send(
                Method::POST,
                url,
                Some(&json!({"refresh_token": refresh})),
                None,
                None,
            )
            .await
        {
            Ok(v) => {
                let session = Session::from_login(&v)?;
                self.stats.refreshes.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut s) = self.session.write() {
                    *s = Some(session);
                }
                Ok(())
            }
            Err(ClientError::Authentication { message, body, .. }) => {
                if let Ok(mut s) = self.session.write() {
                    *s = None;
                }
                Err(ClientError::Authentication {
                    message: format!(
                        "the session could not be refreshed ({message}): log in again"
                    ),
                    status: Some(401),
                    body,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Send with credentials; on a 401 with a session, refresh once and retry once.
    async fn authed(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        self.authed_keyed(method, url, body, None).await
    }

    async fn authed_keyed(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<Value, ClientError> {
        let token = self.bearer().await?;
        match self
            .send(method.clone(), url.clone(), body, Some(&token), key)
            .await
        {
            Err(ClientError::Authentication { .. }) if self.has_session() => {
                {
                    let _g = self.auth_lock.lock().await;
                    // Another thread may have refreshed already.
                    if self.access_token().as_deref() == Some(token.as_str()) {
                        self.refresh().await?;
                    }
                }
                let token = self.bearer().await?;
                self.send(method, url, body, Some(&token), key).await
            }
            other => other,
        }
    }

    /// One request with bounded, jittered retries: connection failures (the request never
    /// reached the server) for any method; 502/503/504 for idempotent ones (a request with an
    /// idempotency key is one).
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        token: Option<&str>,
        key: Option<&str>,
    ) -> Result<Value, ClientError> {
        let idempotent =
            key.is_some() || matches!(method, Method::GET | Method::HEAD | Method::DELETE);
        let mut attempt = 0u32;
        loop {
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let mut req = self.http.request(method.clone(), url.clone());
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(k) = key {
                req = req.header("Idempotency-Key", k);
            }
            if let Some(b) = body {
                req = req
                    .header(CONTENT_TYPE, "application/json")
                    .body(b.to_string());
            }
            let retry = match req.send().await {
                Ok(resp) => {
                    let s = resp.status().as_u16();
                    if idempotent && matches!(s, 502..=504) && attempt < self.cfg.max_retries {
                        true
                    } else {
                        return decode(resp).await;
                    }
                }
                Err(e) if e.is_timeout() => {
                    return Err(ClientError::Timeout(self.cfg.timeout.as_secs_f64()));
                }
                Err(e) if e.is_connect() && attempt < self.cfg.max_retries => true,
                Err(e) => {
                    let mut shown = url.clone();
                    shown.set_query(None);
                    // The innermost cause says what happened ("Connection refused").
                    let mut cause: &dyn std::error::Error = &e;
                    while let Some(inner) = cause.source() {
                        cause = inner;
                    }
                    let message = cause.to_string();
                    return Err(ClientError::Connect {
                        url: shown.to_string(),
                        message,
                    });
                }
            };
            if retry {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                let backoff = 0.1 * f64::from(1u32 << attempt.min(6)) * jitter();
                tokio::time::sleep(Duration::from_secs_f64(backoff)).await;
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(url: &str) -> Config {
        Config {
            api_url: url.into(),
            api_key: Some("sb_00000000_x".into()),
            user_service_url: None,
            timeout: Duration::from_secs(2),
            max_retries: 2,
        }
    }

    #[test]
    fn bad_urls_are_usage_errors() {
        assert!(matches!(
            Client::new(cfg("ftp://x")),
            Err(ClientError::Usage(_))
        ));
        assert!(matches!(
            Client::new(cfg("not a url")),
            Err(ClientError::Usage(_))
        ));
        let c = Client::new(cfg("http://127.0.0.1:1/api/")).unwrap();
        let u = Client::url(&c.api, "/quote", &[("symbol", "NIFTY 50".into())]).unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:1/api/quote?symbol=NIFTY+50");
        assert!(Client::url(&c.api, "http://evil/x", &[]).is_err());
    }

    #[test]
    fn an_unreachable_server_is_a_connect_error_after_bounded_retries() {
        let c = Client::new(cfg("http://127.0.0.1:1")).unwrap();
        let t = Instant::now();
        let e = c.get("/health", &[], None).unwrap_err();
        assert!(matches!(e, ClientError::Connect { .. }), "{e:?}");
        assert_eq!(c.stats.retries.load(Ordering::Relaxed), 2);
        assert!(t.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn session_refresh_is_due_a_fifth_before_expiry() {
        let s = Session::from_login(&json!({"access_token": "a", "expires_in": 10})).unwrap();
        assert!(!s.due());
        let s = Session {
            expires_at: Instant::now() + Duration::from_secs(1),
            ..s
        };
        assert!(s.due());
        assert!(Session::from_login(&json!({})).is_err());
    }
}
