//! Any text as an alert condition (both kinds) and as a news headline: the parser either
//! accepts it — and its printed form parses back to the same condition — or names a column
//! inside the text; the sentiment score stays in [-1, 1]. Never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stocksblitz_alerts::{Kind, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [Kind::Price, Kind::Indicator] {
        match parse(text, kind) {
            Ok(c) => assert_eq!(parse(&c.to_string(), kind).ok(), Some(c)),
            Err(e) => assert!(e.column >= 1 && e.column <= text.chars().count() + 1),
        }
    }
    let s = stocksblitz_news::score(text);
    assert!((-1.0..=1.0).contains(&s.compound));
});
