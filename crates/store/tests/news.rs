//! News items against BOTH back-ends for real: filters by category, symbols, sentiment, time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::backends;
use stocksblitz_store::news::{NewsFilter, NewsRow};

fn item(title: &str, category: &str, symbols: &[&str], sentiment: &str, at: i64) -> NewsRow {
    NewsRow {
        news_id: 0,
        title: title.into(),
        summary: String::new(),
        source: "wire".into(),
        url: None,
        category: category.into(),
        symbols: symbols
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
        sentiment_score: if sentiment == "positive" { 0.5 } else { -0.5 },
        sentiment: sentiment.into(),
        published_at: at,
        created_at: at,
        posted_by: "user:1".into(),
    }
}

#[tokio::test]
async fn news_is_filtered_by_category_symbols_sentiment_and_time() {
    for (name, s, _schema, _dir) in backends("news").await {
        s.insert_news(&item("a", "market", &["NIFTY"], "positive", 10))
            .await
            .unwrap();
        s.insert_news(&item(
            "b",
            "corporate",
            &["RELIANCE", "NIFTY"],
            "negative",
            20,
        ))
        .await
        .unwrap();
        s.insert_news(&item("c", "corporate", &["TCS"], "positive", 30))
            .await
            .unwrap();
        s.insert_news(&item("d", "economy", &[], "negative", 40))
            .await
            .unwrap();
        let titles = |f: NewsFilter| {
            let s = s.clone();
            async move {
                s.news(&NewsFilter { limit: 100, ..f })
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|n| n.title)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            titles(NewsFilter::default()).await,
            ["d", "c", "b", "a"],
            "{name}"
        );
        let nifty = NewsFilter {
            symbols: vec!["nifty".into()],
            ..Default::default()
        };
        assert_eq!(titles(nifty).await, ["b", "a"]);
        let any = NewsFilter {
            symbols: vec!["TCS".into(), "RELIANCE".into()],
            ..Default::default()
        };
        assert_eq!(titles(any).await, ["c", "b"]);
        let corp_pos = NewsFilter {
            category: Some("corporate".into()),
            sentiment: Some("positive".into()),
            ..Default::default()
        };
        assert_eq!(titles(corp_pos).await, ["c"]);
        let window = NewsFilter {
            from: Some(15),
            to: Some(30),
            ..Default::default()
        };
        assert_eq!(titles(window).await, ["c", "b"]);
        // A symbol is matched whole: NIFTY is not BANKNIFTY, "%" matches nothing special.
        s.insert_news(&item("e", "market", &["BANKNIFTY"], "positive", 50))
            .await
            .unwrap();
        let nifty = NewsFilter {
            symbols: vec!["NIFTY".into()],
            ..Default::default()
        };
        assert_eq!(titles(nifty).await, ["b", "a"]);
        let pct = NewsFilter {
            symbols: vec!["%".into()],
            ..Default::default()
        };
        assert!(titles(pct).await.is_empty());
        let row = s
            .news(&NewsFilter {
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(row[0].symbols, ["BANKNIFTY"]);
    }
}
