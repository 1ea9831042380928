//! Items of the per-user feeds as the routes and the feed streams show them.

use serde_json::{Value, json};
use stocksblitz_store::news::NewsRow;

/// An item as clients see it (the SDK's `NewsItem`).
pub(crate) fn news_json(n: &NewsRow) -> Value {
    json!({
        "news_id": n.news_id.to_string(),
        "title": n.title,
        "summary": n.summary,
        "source": n.source,
        "url": n.url,
        "category": n.category,
        "symbols": n.symbols,
        "sentiment": n.sentiment,
        "sentiment_score": n.sentiment_score,
        "sentiment_method": "lexicon (VADER rules, VADER lexicon + Henry 2008 finance words)",
        "published_at": n.published_at,
    })
}
