//! News (the old SDK's `client.news`): `POST /news` (an operator or an integration, scope
//! `admin`), `GET /news` (by category, symbols, sentiment, dates), `GET /news/trending`, live
//! on `/news/stream` for every user. Each item is scored on ingest with a lexicon sentiment
//! (`stocksblitz_news::sentiment`: the VADER rules over the VADER lexicon with Henry's finance
//! word list) — a score of the words, documented as such, not of the meaning.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use stocksblitz_auth::Scope;
use stocksblitz_news::trending::{Mention, trending as rank};
use stocksblitz_store::news::{NewsFilter, NewsRow};

use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::identity::extract::Auth;
use crate::state::AppState;
use crate::user_feed::EVERYONE;
use crate::wire::feeds::news_json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Categories (the old SDK's `NewsCategory` values).
pub(crate) const CATEGORIES: [&str; 5] = ["market", "economy", "corporate", "policy", "global"];
pub(crate) const MAX_TITLE_CHARS: usize = 300;
pub(crate) const MAX_SUMMARY_CHARS: usize = 5000;
pub(crate) const MAX_SYMBOLS: usize = 20;

envelope!(NewsEnvelope, Value);
envelope!(NewsListEnvelope, Vec<Value>);
envelope!(TrendingEnvelope, Vec<TopicOut>);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TopicOut {
    pub topic: String,
    /// `symbol` or `word`.
    pub kind: &'static str,
    /// Items mentioning it in the window.
    pub count: usize,
    pub mean_sentiment: f64,
    /// Epoch ms of the newest.
    pub last_published_at: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct NewsBody {
    /// 1–300 characters.
    pub title: String,
    /// At most 5000 characters.
    pub summary: Option<String>,
    /// Default `operator`.
    pub source: Option<String>,
    pub url: Option<String>,
    /// `market` (default), `economy`, `corporate`, `policy`, `global`.
    pub category: Option<String>,
    /// Up to 20 symbols; each is stored as its underlying (`NIFTY 50` → `NIFTY`).
    pub symbols: Option<Vec<String>>,
    /// Epoch ms (default now).
    #[serde(default, deserialize_with = "crate::wire::whole::opt_int")]
    pub published_at: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct NewsQuery {
    #[param(value_type = Option<crate::wire::schema::NewsCategoryOrBlank>, inline)]
    pub category: Option<String>,
    /// Comma-separated: items tagged with any of them.
    #[param(value_type = Option<crate::wire::schema::NewsSymbols>, inline, style = Form, explode = false)]
    pub symbols: Option<String>,
    /// `positive`, `negative` or `neutral`.
    #[param(value_type = Option<crate::wire::schema::SentimentOrBlank>, inline)]
    pub sentiment: Option<String>,
    /// `YYYY-MM-DD` (IST, from its start).
    #[param(value_type = Option<crate::wire::schema::DateText>, inline)]
    pub start_date: Option<String>,
    /// `YYYY-MM-DD` (IST, to its end).
    #[param(value_type = Option<crate::wire::schema::DateText>, inline)]
    pub end_date: Option<String>,
    /// 1–500 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 500)]
    pub limit: Option<super::Count>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TrendingQuery {
    /// 1–720 (default 24).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 720)]
    pub hours: Option<super::Count>,
    /// 1–100 (default 10).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    pub limit: Option<super::Count>,
}

fn symbol_of(raw: &str) -> Result<String, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().count() > 64 {
        return Err(ApiError::bad_param(
            "symbols",
            "each symbol is 1 to 64 characters",
        ));
    }
    super::underlying_name(raw)
        .map(|u| u.to_uppercase())
        .map_err(|e| ApiError::bad_param("symbols", e.detail))
}

fn category(raw: Option<&str>, default: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
    {
        None => Ok(default.map(str::to_string)),
        Some(c) if CATEGORIES.contains(&c.as_str()) => Ok(Some(c)),
        Some(_) => Err(ApiError::bad_param(
            "category",
            format!("must be one of {}", CATEGORIES.join(", ")),
        )),
    }
}

/// `POST /news`: post an item (scope `admin`): scored, stored, and sent to every user's
/// `/news/stream` (201).
#[utoipa::path(post, path = "/news", tag = "news", request_body = NewsBody, security(("bearer" = [])), responses((status = 201, body = NewsEnvelope), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub(crate) async fn post(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(b): ApiJson<NewsBody>,
) -> Result<(StatusCode, Json<NewsEnvelope>), ApiError> {
    auth.require(Scope::Admin)?;
    let title = b.title.trim();
    let n = title.chars().count();
    if n == 0 || n > MAX_TITLE_CHARS {
        return Err(ApiError::bad_param(
            "title",
            format!("must be 1 to {MAX_TITLE_CHARS} characters"),
        ));
    }
    let summary = b.summary.as_deref().unwrap_or("").trim();
    if summary.chars().count() > MAX_SUMMARY_CHARS {
        return Err(ApiError::bad_param(
            "summary",
            format!("at most {MAX_SUMMARY_CHARS} characters"),
        ));
    }
    let source = b
        .source
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("operator");
    if source.chars().count() > 100 {
        return Err(ApiError::bad_param("source", "at most 100 characters"));
    }
    let url = match b.url.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(u) => {
            let ok = u.chars().count() <= 2048
                && reqwest::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"));
            if !ok {
                return Err(ApiError::bad_param(
                    "url",
                    "must be an http(s) URL of at most 2048 characters",
                ));
            }
            Some(u.to_string())
        }
    };
    let raw_symbols = b.symbols.unwrap_or_default();
    if raw_symbols.len() > MAX_SYMBOLS {
        return Err(ApiError::bad_param(
            "symbols",
            format!("at most {MAX_SYMBOLS}"),
        ));
    }
    let mut symbols: Vec<String> = Vec::new();
    for s in &raw_symbols {
        let sym = symbol_of(s)?;
        if !symbols.contains(&sym) {
            symbols.push(sym);
        }
    }
    let category = category(b.category.as_deref(), Some("market"))?.unwrap_or_default();
    let text = if summary.is_empty() {
        title.to_string()
    } else {
        format!("{title}. {summary}")
    };
    let score = stocksblitz_news::score(&text);
    let now = crate::ingest::now_ms();
    let row = state
        .store
        .insert_news(&NewsRow {
            news_id: 0,
            title: title.to_string(),
            summary: summary.to_string(),
            source: source.to_string(),
            url,
            category,
            symbols,
            sentiment_score: score.compound,
            sentiment: score.label.as_str().to_string(),
            published_at: b.published_at.unwrap_or(now),
            created_at: now,
            posted_by: auth.owner(),
        })
        .await?;
    let data = news_json(&row);
    let text = json!({"type": "news", "data": data}).to_string();
    state.user_feed.publish(EVERYONE, "news", row.news_id, text);
    Ok((StatusCode::CREATED, NewsEnvelope::ok(data)))
}

/// `GET /news`: items, newest first.
#[utoipa::path(get, path = "/news", tag = "news", params(NewsQuery), security(("bearer" = [])), responses((status = 200, body = NewsListEnvelope), (status = 400, body = crate::error::ErrorBody)))]
pub(crate) async fn list(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<NewsQuery>,
) -> Result<Json<NewsListEnvelope>, ApiError> {
    auth.require_read()?;
    let mut symbols = Vec::new();
    for s in q
        .symbols
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.trim().is_empty())
    {
        symbols.push(symbol_of(s)?);
    }
    if symbols.len() > MAX_SYMBOLS {
        return Err(ApiError::bad_param(
            "symbols",
            format!("at most {MAX_SYMBOLS}"),
        ));
    }
    let sentiment = match q
        .sentiment
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => Some(
            stocksblitz_news::Label::parse(s)
                .ok_or_else(|| {
                    ApiError::bad_param("sentiment", "must be positive, negative or neutral")
                })?
                .as_str()
                .to_string(),
        ),
    };
    let from = super::date_param("start_date", q.start_date.as_deref())?
        .map(stocksblitz_market::session::ist_midnight_ms);
    let to = super::date_param("end_date", q.end_date.as_deref())?
        .map(|d| stocksblitz_market::session::ist_midnight_ms(d) + 86_400_000 - 1);
    let limit = super::bounded("limit", q.limit.map(super::Count::get), 50, 1, 500)? as i64;
    let rows = state
        .store
        .news(&NewsFilter {
            category: category(q.category.as_deref(), None)?,
            symbols,
            sentiment,
            from,
            to,
            limit,
        })
        .await?;
    Ok(NewsListEnvelope::ok(rows.iter().map(news_json).collect()))
}

/// `GET /news/trending`: the symbols and title words most mentioned over the last `hours`
/// (at most the newest 500 items), with their mean sentiment.
#[utoipa::path(get, path = "/news/trending", tag = "news", params(TrendingQuery), security(("bearer" = [])), responses((status = 200, body = TrendingEnvelope)))]
pub(crate) async fn trending(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<TrendingQuery>,
) -> Result<Json<TrendingEnvelope>, ApiError> {
    auth.require_read()?;
    let hours = super::bounded("hours", q.hours.map(super::Count::get), 24, 1, 720)? as i64;
    let limit = super::bounded("limit", q.limit.map(super::Count::get), 10, 1, 100)?;
    let now = crate::ingest::now_ms();
    let rows = state
        .store
        .news(&NewsFilter {
            from: Some(now - hours * 3_600_000),
            limit: stocksblitz_store::news::MAX_NEWS_LISTED,
            ..Default::default()
        })
        .await?;
    let mentions: Vec<Mention<'_>> = rows
        .iter()
        .map(|n| Mention {
            title: &n.title,
            symbols: &n.symbols,
            compound: n.sentiment_score,
            at: n.published_at,
        })
        .collect();
    Ok(TrendingEnvelope::ok(
        rank(&mentions, limit)
            .into_iter()
            .map(|t| TopicOut {
                topic: t.topic,
                kind: t.kind,
                count: t.count,
                mean_sentiment: t.mean_sentiment,
                last_published_at: t.last_at,
            })
            .collect(),
    ))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list, post))
        .routes(routes!(trending))
}
