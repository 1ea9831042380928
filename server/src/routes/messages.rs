//! Messaging between one user's own clients and strategies (the old SDK's `client.messaging`):
//! `POST /messages` (to a topic, or to a named recipient), `GET /messages`,
//! `POST /messages/receive` (a recipient's unread mail, marked read), `DELETE /messages`; live
//! on `/messages/stream` on every replica (Redis when configured). Everything is scoped to the
//! caller: another user's topics, recipients and messages do not exist for them.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stocksblitz_auth::Scope;
use stocksblitz_store::messages::{MessageFilter, NewMessage};

use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::identity::extract::Auth;
use crate::state::AppState;
use crate::user_feed::message_json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Message types (the old SDK's `MessageType` values).
pub(crate) const MESSAGE_TYPES: [&str; 8] = [
    "text", "json", "info", "warning", "error", "trade", "alert", "signal",
];
/// Largest content (bytes of JSON).
pub(crate) const MAX_CONTENT_BYTES: usize = 64 * 1024;
/// Largest metadata object (bytes of JSON).
pub(crate) const MAX_METADATA_BYTES: usize = 8 * 1024;
/// Longest topic, sender or recipient name.
pub(crate) const MAX_NAME_CHARS: usize = 128;

envelope!(MessageEnvelope, Value);
envelope!(MessagesEnvelope, Vec<Value>);
envelope!(DeletedEnvelope, Deleted);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Deleted {
    pub deleted: u64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct MessageBody {
    /// The topic (`*`: every subscriber of yours). Give a topic or a recipient.
    #[schema(value_type = Option<crate::wire::schema::NameText>, inline)]
    pub topic: Option<String>,
    /// A named recipient (a strategy, a notebook) that reads it with `POST /messages/receive`.
    #[schema(value_type = Option<crate::wire::schema::NameText>, inline)]
    pub recipient: Option<String>,
    /// Any JSON value (at most 64 KiB).
    #[schema(value_type = Object)]
    pub content: Value,
    /// `text`, `json` (default), `info`, `warning`, `error`, `trade`, `alert`, `signal`.
    #[schema(value_type = Option<crate::wire::schema::MessageTypeOrBlank>, inline)]
    pub message_type: Option<String>,
    /// A JSON object (at most 8 KiB).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Who sends it (default `client`).
    #[schema(value_type = Option<crate::wire::schema::NameText>, inline)]
    pub sender: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MessagesQuery {
    #[param(value_type = Option<crate::wire::schema::NameText>, inline)]
    pub topic: Option<String>,
    #[param(value_type = Option<crate::wire::schema::NameText>, inline)]
    pub recipient: Option<String>,
    pub unread: Option<bool>,
    /// Only messages after this id, oldest first; else newest first.
    #[param(value_type = Option<crate::wire::schema::Cursor>, inline)]
    pub after_id: Option<super::Count>,
    /// 1–1000 (default 100).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    pub limit: Option<super::Count>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ReceiveBody {
    #[schema(value_type = crate::wire::schema::RequiredName, inline)]
    pub recipient: String,
    /// Default true: what is returned is not returned again.
    pub mark_read: Option<bool>,
    /// 1–1000 (default 100).
    #[serde(default, deserialize_with = "crate::wire::whole::opt_int")]
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ClearQuery {
    /// Only this topic's messages (default: all).
    #[param(value_type = Option<crate::wire::schema::NameText>, inline)]
    pub topic: Option<String>,
}

fn name(param: &str, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(v) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > MAX_NAME_CHARS || v.chars().any(char::is_control) {
        return Err(ApiError::bad_param(
            param,
            format!("at most {MAX_NAME_CHARS} characters, no control characters"),
        ));
    }
    Ok(Some(v.to_string()))
}

fn json_within(param: &str, v: &Value, max: usize) -> Result<String, ApiError> {
    let text = v.to_string();
    if text.len() > max {
        return Err(ApiError::bad_param(
            param,
            format!("at most {max} bytes of JSON, got {}", text.len()),
        ));
    }
    Ok(text)
}

/// `POST /messages`: publish to a topic or send to a recipient; stored, then delivered to
/// every `/messages/stream` of the caller (201).
#[utoipa::path(post, path = "/messages", tag = "messaging", request_body = MessageBody, security(("bearer" = [])), responses((status = 201, body = MessageEnvelope), (status = 400, body = crate::error::ErrorBody)))]
pub(crate) async fn publish(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(b): ApiJson<MessageBody>,
) -> Result<(StatusCode, Json<MessageEnvelope>), ApiError> {
    auth.require(Scope::Read)?;
    let topic = name("topic", b.topic.as_deref())?;
    let recipient = name("recipient", b.recipient.as_deref())?;
    if topic.is_none() && recipient.is_none() {
        return Err(ApiError::bad_param(
            "topic",
            "give a topic (or * for every subscriber) or a recipient",
        ));
    }
    let message_type = match b.message_type.as_deref().map(str::trim) {
        None | Some("") => "json".to_string(),
        Some(t) => {
            let lower = t.to_ascii_lowercase();
            if !MESSAGE_TYPES.contains(&lower.as_str()) {
                return Err(ApiError::bad_param(
                    "message_type",
                    format!("must be one of {}", MESSAGE_TYPES.join(", ")),
                ));
            }
            lower
        }
    };
    let content = json_within("content", &b.content, MAX_CONTENT_BYTES)?;
    let metadata = match &b.metadata {
        None | Some(Value::Null) => "{}".to_string(),
        Some(v @ Value::Object(_)) => json_within("metadata", v, MAX_METADATA_BYTES)?,
        Some(_) => return Err(ApiError::bad_param("metadata", "must be a JSON object")),
    };
    let sender = name("sender", b.sender.as_deref())?.unwrap_or_else(|| "client".into());
    let me = auth.owner();
    let row = state
        .store
        .insert_message(&NewMessage {
            owner: me.clone(),
            topic,
            sender,
            recipient,
            message_type,
            content,
            metadata,
            at: crate::ingest::now_ms(),
        })
        .await?;
    let data = message_json(&row);
    let text = serde_json::json!({"type": "message", "data": data}).to_string();
    state
        .user_feed
        .publish(&me, "message", row.message_id, text);
    Ok((StatusCode::CREATED, MessageEnvelope::ok(data)))
}

/// `GET /messages`: the caller's messages (by topic, recipient, unread).
#[utoipa::path(get, path = "/messages", tag = "messaging", params(MessagesQuery), security(("bearer" = [])), responses((status = 200, body = MessagesEnvelope)))]
pub(crate) async fn list(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> Result<Json<MessagesEnvelope>, ApiError> {
    auth.require_read()?;
    let limit = super::bounded("limit", q.limit.map(super::Count::get), 100, 1, 1000)? as i64;
    let f = MessageFilter {
        after_id: q.after_id.map(super::Count::get),
        topic: name("topic", q.topic.as_deref())?,
        recipient: name("recipient", q.recipient.as_deref())?,
        unread_only: q.unread.unwrap_or(false),
        oldest_first: q.after_id.is_some(),
        limit,
    };
    let rows = state.store.messages_of(&auth.owner(), &f).await?;
    Ok(MessagesEnvelope::ok(
        rows.iter().map(message_json).collect(),
    ))
}

/// `POST /messages/receive`: a recipient's unread messages, oldest first, marked read unless
/// `mark_read` is false.
#[utoipa::path(post, path = "/messages/receive", tag = "messaging", request_body = ReceiveBody, security(("bearer" = [])), responses((status = 200, body = MessagesEnvelope)))]
pub(crate) async fn receive(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(b): ApiJson<ReceiveBody>,
) -> Result<Json<MessagesEnvelope>, ApiError> {
    auth.require(Scope::Read)?;
    let recipient = name("recipient", Some(&b.recipient))?
        .ok_or_else(|| ApiError::bad_param("recipient", "is required"))?;
    let limit = super::bounded("limit", b.limit, 100, 1, 1000)? as i64;
    let me = auth.owner();
    let f = MessageFilter {
        recipient: Some(recipient.clone()),
        unread_only: true,
        oldest_first: true,
        limit,
        ..Default::default()
    };
    let rows = state.store.messages_of(&me, &f).await?;
    if b.mark_read.unwrap_or(true) && !rows.is_empty() {
        let ids: Vec<i64> = rows.iter().map(|m| m.message_id).collect();
        state
            .store
            .mark_messages_read(&me, &recipient, &ids, crate::ingest::now_ms())
            .await?;
    }
    Ok(MessagesEnvelope::ok(
        rows.iter().map(message_json).collect(),
    ))
}

/// `DELETE /messages`: delete the caller's messages (`?topic=`: only that topic's).
#[utoipa::path(delete, path = "/messages", tag = "messaging", params(ClearQuery), security(("bearer" = [])), responses((status = 200, body = DeletedEnvelope)))]
pub(crate) async fn clear(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<ClearQuery>,
) -> Result<Json<DeletedEnvelope>, ApiError> {
    auth.require(Scope::Read)?;
    let topic = name("topic", q.topic.as_deref())?;
    let deleted = state
        .store
        .clear_messages(&auth.owner(), topic.as_deref())
        .await?;
    Ok(DeletedEnvelope::ok(Deleted { deleted }))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list, publish, clear))
        .routes(routes!(receive))
}
