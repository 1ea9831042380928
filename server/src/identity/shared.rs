//! What replicas must agree on, kept in Redis when `REDIS_URL` is set: failed-login counters and
//! per-key request counters (atomic `INCR`s, so limits hold across replicas) and revocations
//! (published, so every replica drops a revoked session or key at once instead of when its
//! caches expire). Any Redis error falls back to the in-process state (logged), never a 500.

use std::sync::Arc;

use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;

use super::Identity;
use stocksblitz_auth::limiter::{PER_EMAIL_IP, PER_IP, WINDOW_MS};

/// Window of the failed-login counters (seconds).
const LOGIN_WINDOW_S: i64 = WINDOW_MS / 1000;

/// Longest a shared-limiter call may take: beyond it the caller falls back to the in-process
/// limiter (Redis down must not make every login wait out reconnects).
pub(crate) const SHARED_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(250);
/// After a failed call, how long Redis is not asked (ms): calls fall back at once meanwhile.
pub(crate) const SHARED_RETRY_MS: i64 = 2_000;

#[derive(Clone)]
pub struct Shared {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    breaker: Arc<super::Breaker>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A revocation every replica must apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    Session(String),
    Key(String),
}

impl Revocation {
    fn encode(&self) -> String {
        match self {
            Revocation::Session(s) => format!("session:{s}"),
            Revocation::Key(k) => format!("key:{k}"),
        }
    }
    fn decode(s: &str) -> Option<Revocation> {
        if let Some(x) = s.strip_prefix("session:") {
            return Some(Revocation::Session(x.to_string()));
        }
        s.strip_prefix("key:")
            .map(|x| Revocation::Key(x.to_string()))
    }
}

fn lower(email: &str) -> String {
    super::accounts::normalize_email(email).unwrap_or_else(|_| email.trim().to_ascii_lowercase())
}

impl Shared {
    /// Connect (the connection manager reconnects by itself after Redis restarts).
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Shared> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client.clone()).await?;
        Ok(Shared {
            client,
            conn,
            prefix: prefix.to_string(),
            breaker: Arc::new(super::Breaker::new(SHARED_RETRY_MS)),
        })
    }

    /// Whether calls are currently skipped because Redis failed (the in-process limiters
    /// stand in).
    pub fn is_down(&self) -> bool {
        self.breaker.is_open()
    }

    /// Run a call through the breaker with [`SHARED_TIMEOUT`]; a refused, failed or late call
    /// is an error the caller answers from in-process state.
    async fn guarded<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> redis::RedisResult<T> {
        let now = crate::ingest::now_ms();
        if !self.breaker.allow(now) {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "Redis unavailable (retrying in the background)",
            )));
        }
        match tokio::time::timeout(SHARED_TIMEOUT, call).await {
            Ok(Ok(v)) => {
                self.breaker.success();
                Ok(v)
            }
            Ok(Err(e)) => {
                self.breaker.failure(now);
                Err(e)
            }
            Err(_) => {
                self.breaker.failure(now);
                Err(redis::RedisError::from((
                    redis::ErrorKind::Io,
                    "Redis did not answer in time",
                )))
            }
        }
    }

    fn channel(&self) -> String {
        format!("{}:auth:revocations", self.prefix)
    }

    /// Count a login attempt before the password is checked (atomic across replicas): Ok, or
    /// Err(seconds to wait) when the (email, IP) or IP budget is spent. A success is given back
    /// with [`Shared::login_succeeded`], so only failures count.
    pub async fn login_attempt(
        &self,
        email: &str,
        ip: &str,
    ) -> redis::RedisResult<Result<(), u64>> {
        let pair = format!("{}:login:{}:{}", self.prefix, ip, lower(email));
        let by_ip = format!("{}:login-ip:{}", self.prefix, ip);
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(&pair)
            .arg(0)
            .arg("EX")
            .arg(LOGIN_WINDOW_S)
            .arg("NX")
            .ignore()
            .incr(&pair, 1)
            .ttl(&pair)
            .cmd("SET")
            .arg(&by_ip)
            .arg(0)
            .arg("EX")
            .arg(LOGIN_WINDOW_S)
            .arg("NX")
            .ignore()
            .incr(&by_ip, 1)
            .ttl(&by_ip);
        let (n_pair, ttl_pair, n_ip, ttl_ip): (i64, i64, i64, i64) =
            self.guarded(pipe.query_async(&mut conn)).await?;
        let mut wait = 0i64;
        if n_pair > PER_EMAIL_IP as i64 {
            wait = wait.max(ttl_pair);
        }
        if n_ip > PER_IP as i64 {
            wait = wait.max(ttl_ip);
        }
        Ok(
            if wait > 0 || n_pair > PER_EMAIL_IP as i64 || n_ip > PER_IP as i64 {
                Err(wait.max(1) as u64)
            } else {
                Ok(())
            },
        )
    }

    /// Give back the attempt of a successful login.
    pub async fn login_succeeded(&self, email: &str, ip: &str) -> redis::RedisResult<()> {
        let pair = format!("{}:login:{}:{}", self.prefix, ip, lower(email));
        let by_ip = format!("{}:login-ip:{}", self.prefix, ip);
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .decr(&pair, 1)
            .ignore()
            .decr(&by_ip, 1)
            .ignore();
        self.guarded(pipe.query_async::<()>(&mut conn)).await
    }

    /// One request of a key limited to `per_min` a minute (fixed one-minute windows shared by
    /// all replicas): Ok, or Err(seconds to the next window).
    pub async fn take_request(
        &self,
        key_id: &str,
        per_min: u32,
        now_s: i64,
    ) -> redis::RedisResult<Result<(), u64>> {
        let window = now_s.div_euclid(60);
        let k = format!("{}:rl:{}:{}", self.prefix, key_id, window);
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.incr(&k, 1).expire(&k, 120).ignore();
        let (n,): (i64,) = self.guarded(pipe.query_async(&mut conn)).await?;
        Ok(if n > i64::from(per_min) {
            Err((60 - now_s.rem_euclid(60)).max(1) as u64)
        } else {
            Ok(())
        })
    }

    /// Tell every replica (this one included) about a revocation.
    pub async fn publish(&self, r: &Revocation) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        let channel = self.channel();
        self.guarded(conn.publish::<_, _, ()>(channel, r.encode()))
            .await
    }

    /// Apply revocations published by any replica (supervised: restarted after Redis errors).
    pub async fn run_subscriber(self: Arc<Self>, identity: Arc<Identity>) -> anyhow::Result<()> {
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(self.channel()).await?;
        tracing::info!(channel = %self.channel(), "listening for revocations from other replicas");
        let mut messages = pubsub.on_message();
        while let Some(msg) = messages.next().await {
            let Ok(text) = msg.get_payload::<String>() else {
                continue;
            };
            match Revocation::decode(&text) {
                Some(Revocation::Session(sid)) => identity.apply_revoked_sessions([sid]),
                Some(Revocation::Key(k)) => identity.forget_key_locally(&k),
                None => tracing::warn!("unknown revocation message ignored"),
            }
        }
        anyhow::bail!("the revocation subscription ended")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocations_round_trip() {
        for r in [
            Revocation::Session("abc".into()),
            Revocation::Key("0123abcd".into()),
        ] {
            assert_eq!(Revocation::decode(&r.encode()), Some(r));
        }
        assert_eq!(Revocation::decode("other:x"), None);
    }
}
