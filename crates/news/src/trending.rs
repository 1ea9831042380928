//! Trending topics: the symbols and words news mentions most over a window.
//!
//! A topic is a symbol an item is tagged with (`NIFTY`, `RELIANCE`) or a word of its title
//! (lower-cased, three letters or more, not a stop word, not a number). Each item counts a
//! topic once; topics are ranked by the number of items, then by the newest mention, then by
//! name. Each topic carries the mean sentiment of its items.

use std::collections::HashMap;

/// What the ranking reads of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention<'a> {
    pub title: &'a str,
    pub symbols: &'a [String],
    pub compound: f64,
    /// When it was published (any monotonic unit; only compared).
    pub at: i64,
}

/// A trending topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    pub topic: String,
    /// `symbol` or `word`.
    pub kind: &'static str,
    /// Items mentioning it.
    pub count: usize,
    pub mean_sentiment: f64,
    pub last_at: i64,
}

const STOP: &[&str] = &[
    "the", "and", "for", "with", "that", "this", "from", "into", "over", "after", "before", "amid",
    "are", "was", "were", "has", "have", "had", "its", "his", "her", "their", "will", "would",
    "could", "should", "may", "might", "can", "not", "but", "all", "any", "out", "off", "about",
    "than", "then", "there", "here", "what", "when", "where", "which", "who", "why", "how", "says",
    "said", "say", "new", "more", "most", "less", "per", "cent", "via", "near", "under", "above",
    "below", "today", "week", "day", "year", "month", "on", "at", "to", "of", "in", "by", "as",
    "is", "be", "it", "an", "or", "up", "down", "vs",
];

fn words(title: &str) -> impl Iterator<Item = String> + '_ {
    title
        .split(|c: char| !c.is_alphanumeric() && c != '&')
        .filter(|w| w.chars().count() >= 3 && !w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .filter(|w| !STOP.contains(&w.as_str()))
}

/// The `limit` topics most mentioned by `items`.
pub fn trending(items: &[Mention<'_>], limit: usize) -> Vec<Topic> {
    // topic → (kind, count, sentiment sum, last_at)
    let mut acc: HashMap<String, (&'static str, usize, f64, i64)> = HashMap::new();
    for m in items {
        let mut seen: Vec<String> = Vec::new();
        for s in m.symbols {
            let key = s.trim().to_uppercase();
            if !key.is_empty() && !seen.contains(&key) {
                seen.push(key.clone());
                let e = acc.entry(key).or_insert(("symbol", 0, 0.0, i64::MIN));
                e.1 += 1;
                e.2 += m.compound;
                e.3 = e.3.max(m.at);
            }
        }
        for w in words(m.title) {
            // A word that is one of the item's symbols is that symbol.
            if seen.iter().any(|s| s.eq_ignore_ascii_case(&w)) || seen.contains(&w) {
                continue;
            }
            seen.push(w.clone());
            let e = acc.entry(w).or_insert(("word", 0, 0.0, i64::MIN));
            e.1 += 1;
            e.2 += m.compound;
            e.3 = e.3.max(m.at);
        }
    }
    let mut out: Vec<Topic> = acc
        .into_iter()
        .map(|(topic, (kind, count, sum, last_at))| Topic {
            topic,
            kind,
            count,
            mean_sentiment: sum / count as f64,
            last_at,
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.last_at.cmp(&a.last_at))
            .then(a.topic.cmp(&b.topic))
    });
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_and_words_are_ranked_by_items() {
        let nifty = vec!["NIFTY".to_string()];
        let rel = vec!["RELIANCE".to_string(), "NIFTY".to_string()];
        let items = [
            Mention {
                title: "Nifty hits record high",
                symbols: &nifty,
                compound: 0.5,
                at: 1,
            },
            Mention {
                title: "Reliance results beat, Nifty up",
                symbols: &rel,
                compound: 0.3,
                at: 2,
            },
            Mention {
                title: "Record FII inflows; record again",
                symbols: &[],
                compound: 0.1,
                at: 3,
            },
        ];
        let t = trending(&items, 3);
        // "record" is in two items (once for the third despite two mentions), the newest last.
        assert_eq!(
            (t[0].topic.as_str(), t[0].count, t[0].last_at),
            ("record", 2, 3)
        );
        assert_eq!((t[0].kind, t[1].topic.as_str()), ("word", "NIFTY"));
        assert_eq!((t[1].count, t[1].kind), (2, "symbol"));
        assert!((t[1].mean_sentiment - 0.4).abs() < 1e-12);
        assert_eq!(t.len(), 3);
        assert!(
            trending(&items, 100)
                .iter()
                .all(|x| x.topic != "the" && x.topic != "up")
        );
    }
}
