use serde_json::Value;
use thiserror::Error;

/// What a request can end in. Messages carry the server's `detail`, never a credential.
#[derive(Debug, Clone, Error)]
pub enum ClientError {
    /// 401, or a failed login/refresh.
    #[error("{}", prefixed("Authentication failed", message))]
    Authentication {
        message: String,
        status: Option<u16>,
        body: Option<Value>,
    },
    /// 403.
    #[error("{}", prefixed("Permission denied", message))]
    PermissionDenied {
        message: String,
        body: Option<Value>,
    },
    /// 429, with the server's `Retry-After` in seconds.
    #[error("{}", prefixed("Rate limited", message))]
    RateLimited {
        message: String,
        retry_after: Option<f64>,
        body: Option<Value>,
    },
    /// Any other HTTP error status.
    #[error("{message} (HTTP {status})")]
    Api {
        status: u16,
        message: String,
        /// The server's machine code (`contract_expired`, `invalid_parameter`, …).
        code: Option<String>,
        body: Option<Value>,
    },
    /// No answer within the timeout.
    #[error("request timed out after {0:.1} s")]
    Timeout(f64),
    /// The server could not be reached (after the retries).
    #[error("cannot reach {url}: {message}")]
    Connect { url: String, message: String },
    /// A response that is not the JSON it should be.
    #[error("bad response from the server: {0}")]
    Decode(String),
    /// Misuse: no credentials, a relative path, …
    #[error("{0}")]
    Usage(String),
}

/// `prefix: message`, unless the server's message already says it.
fn prefixed(prefix: &str, message: &str) -> String {
    if message
        .get(..prefix.len())
        .is_some_and(|m| m.eq_ignore_ascii_case(prefix))
    {
        message.to_string()
    } else {
        format!("{prefix}: {message}")
    }
}

impl ClientError {
    /// The HTTP status, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Authentication { status, .. } => *status,
            ClientError::PermissionDenied { .. } => Some(403),
            ClientError::RateLimited { .. } => Some(429),
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}
