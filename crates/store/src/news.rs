//! News items (times epoch ms; symbols stored as `,SYM1,SYM2,`).

use sqlx::Row;

use crate::{Pool, Store, StoreError, pg_placeholders};

/// Most items one listing returns.
pub const MAX_NEWS_LISTED: i64 = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct NewsRow {
    pub news_id: i64,
    pub title: String,
    pub summary: String,
    pub source: String,
    pub url: Option<String>,
    pub category: String,
    pub symbols: Vec<String>,
    pub sentiment_score: f64,
    pub sentiment: String,
    pub published_at: i64,
    pub created_at: i64,
    pub posted_by: String,
}

/// Which items to list (all conditions together), newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewsFilter {
    pub category: Option<String>,
    /// Items tagged with any of these.
    pub symbols: Vec<String>,
    pub sentiment: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: i64,
}

const COLUMNS: &str = "news_id, title, summary, source, url, category, symbols, sentiment_score, sentiment, published_at, created_at, posted_by";

fn news_row<R: Row>(r: &R) -> Result<NewsRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> f64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let symbols: String = r.try_get("symbols")?;
    Ok(NewsRow {
        news_id: r.try_get("news_id")?,
        title: r.try_get("title")?,
        summary: r.try_get("summary")?,
        source: r.try_get("source")?,
        url: r.try_get("url")?,
        category: r.try_get("category")?,
        symbols: symbols
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        sentiment_score: r.try_get("sentiment_score")?,
        sentiment: r.try_get("sentiment")?,
        published_at: r.try_get("published_at")?,
        created_at: r.try_get("created_at")?,
        posted_by: r.try_get("posted_by")?,
    })
}

/// `,A,B,` of the symbols (upper-cased, no commas inside).
pub fn symbol_list(symbols: &[String]) -> String {
    let mut s = String::from(",");
    for sym in symbols {
        s.push_str(&sym.to_uppercase().replace(',', ""));
        s.push(',');
    }
    s
}

impl Store {
    /// Store an item (`news_id` and `created_at` of `n` are ignored).
    pub async fn insert_news(&self, n: &NewsRow) -> Result<NewsRow, StoreError> {
        let sql = format!(
            "INSERT INTO news (title, summary, source, url, category, symbols, sentiment_score, sentiment, published_at, created_at, posted_by) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
        );
        run!(
            self,
            optional,
            &sql,
            news_row,
            n.title.as_str(),
            n.summary.as_str(),
            n.source.as_str(),
            n.url.as_deref(),
            n.category.as_str(),
            symbol_list(&n.symbols),
            n.sentiment_score,
            n.sentiment.as_str(),
            n.published_at,
            n.created_at,
            n.posted_by.as_str()
        )?
        .ok_or_else(|| StoreError::Corrupt("no row returned for a news item".into()))
    }

    /// Items matching `f`, newest first. Several symbols are an "any of" (up to 20).
    pub async fn news(&self, f: &NewsFilter) -> Result<Vec<NewsRow>, StoreError> {
        let category = f.category.as_deref().unwrap_or("");
        let sentiment = f.sentiment.as_deref().unwrap_or("");
        let syms: Vec<String> = f
            .symbols
            .iter()
            .take(20)
            .map(|s| format!("%,{},%", s.to_uppercase().replace([',', '%', '_'], "")))
            .collect();
        let symbol_clause = if syms.is_empty() {
            String::new()
        } else {
            format!(" AND ({})", vec!["symbols LIKE ?"; syms.len()].join(" OR "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM news WHERE (? = '' OR category = ?) AND (? = '' OR sentiment = ?) \
             AND published_at >= ? AND published_at <= ?{symbol_clause} \
             ORDER BY published_at DESC, news_id DESC LIMIT ?"
        );
        let limit = f.limit.clamp(1, MAX_NEWS_LISTED);
        let (from, to) = (f.from.unwrap_or(i64::MIN), f.to.unwrap_or(i64::MAX));
        // The symbol patterns are a variable number of binds: build the query by hand.
        match &self.pool {
            Pool::Sqlite(p) => {
                let mut q = sqlx::query(&sql)
                    .bind(category)
                    .bind(category)
                    .bind(sentiment)
                    .bind(sentiment)
                    .bind(from)
                    .bind(to);
                for s in &syms {
                    q = q.bind(s);
                }
                q.bind(limit)
                    .fetch_all(p)
                    .await?
                    .iter()
                    .map(news_row)
                    .collect()
            }
            Pool::Postgres(p) => {
                let sql = pg_placeholders(&sql);
                let mut q = sqlx::query(&sql)
                    .bind(category)
                    .bind(category)
                    .bind(sentiment)
                    .bind(sentiment)
                    .bind(from)
                    .bind(to);
                for s in &syms {
                    q = q.bind(s);
                }
                q.bind(limit)
                    .fetch_all(p)
                    .await?
                    .iter()
                    .map(news_row)
                    .collect()
            }
        }
    }

    /// Items stored after `after_id`, in the order they were stored (a stream's catch-up).
    pub async fn news_after(&self, after_id: i64, limit: i64) -> Result<Vec<NewsRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM news WHERE news_id > ? ORDER BY news_id LIMIT ?");
        run!(
            self,
            all,
            &sql,
            news_row,
            after_id,
            limit.clamp(1, MAX_NEWS_LISTED)
        )
    }
}
