//! Property tests: generated valid symbols round-trip through parse → format → parse, and no
//! input of any shape makes the parser panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use stocksblitz_symbols::{InstrumentSpec, Kind, MONTHS, WEEKLY_MONTH_CODES, parse};

fn underlying() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("NIFTY".to_string()),
        Just("BANKNIFTY".to_string()),
        Just("FINNIFTY".to_string()),
        Just("MIDCPNIFTY".to_string()),
        Just("NIFTYNXT50".to_string()),
        Just("SENSEX".to_string()),
        Just("M&M".to_string()),
        Just("BAJAJ-AUTO".to_string()),
        "[A-Z][A-Z&-]{0,10}[A-Z]",
    ]
}

fn strike() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..200_000).prop_map(|v| v.to_string()),
        (1u32..5000, 1u32..10).prop_map(|(i, f)| format!("{i}.{f}")),
        (1u32..5000, 1u32..100)
            .prop_filter("no trailing zero", |(_, f)| f % 10 != 0)
            .prop_map(|(i, f)| format!("{i}.{f:02}")),
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (2020i32..2040, 1u32..=12, 1u32..=31)
        .prop_filter_map("valid date", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

fn valid_symbol() -> impl Strategy<Value = (String, Kind)> {
    prop_oneof![
        (underlying(), 20u32..40, 0usize..12)
            .prop_map(|(u, y, m)| (format!("{u}{y}{}FUT", MONTHS[m]), Kind::Future)),
        (
            underlying(),
            20u32..40,
            0usize..12,
            strike(),
            prop::bool::ANY
        )
            .prop_map(|(u, y, m, k, c)| (
                format!("{u}{y}{}{k}{}", MONTHS[m], if c { "CE" } else { "PE" }),
                Kind::Option
            )),
        (underlying(), date(), strike(), prop::bool::ANY).prop_map(|(u, d, k, c)| {
            let code = WEEKLY_MONTH_CODES[d.month0() as usize] as char;
            (
                format!(
                    "{u}{:02}{code}{:02}{k}{}",
                    d.year() % 100,
                    d.day(),
                    if c { "CE" } else { "PE" }
                ),
                Kind::Option,
            )
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn valid_symbols_round_trip((text, kind) in valid_symbol()) {
        let sym = parse(&text).unwrap();
        prop_assert_eq!(sym.kind, kind);
        prop_assert_eq!(sym.tradingsymbol.as_str(), text.as_str());
        let again = parse(&sym.to_string()).unwrap();
        prop_assert_eq!(again, sym.clone());
        // Lower case and surrounding spaces parse to the same symbol.
        let lower = format!("  {}  ", text.to_lowercase());
        prop_assert_eq!(parse(&lower).unwrap(), sym);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,80}") {
        let _ = parse(&s);
        let _ = InstrumentSpec::parse(&s);
    }

    #[test]
    fn symbol_alphabet_never_panics(s in "[A-Z0-9&.: -]{0,70}") {
        if let Ok(sym) = parse(&s) {
            // Whatever parses formats to something that parses to itself.
            prop_assert_eq!(parse(&sym.to_string()).unwrap(), sym);
        }
    }

    #[test]
    fn specs_never_panic(s in "(NSE|BSE|XX)@[A-Z ]{0,12}(@(Nw|Nm)(\\+[0-9]{1,3})?)?(@(Put|CE|x))?(@(ATM|OTM[0-9]{1,4}|ITM[0-9]|[0-9.]{1,8}))?") {
        let _ = InstrumentSpec::parse(&s);
    }
}

// The published symbol pattern (an API schema's): a letters-only name in it parses as an
// equity (or an index), so a schema-valid request is not refused for its symbol.
proptest! {
    #[test]
    fn pattern_letters_parse(s in "[A-Za-z][A-Za-z&-]{0,29}") {
        prop_assert!(stocksblitz_symbols::parse(&s).is_ok(), "{s:?}");
    }
}

#[test]
fn pattern_names_every_index_display_name() {
    let p = stocksblitz_symbols::symbol_pattern();
    for i in stocksblitz_symbols::INDICES {
        assert!(
            p.contains(i.display) || !i.display.contains(' '),
            "{} missing from {p}",
            i.display
        );
        assert!(stocksblitz_symbols::parse(i.display).is_ok());
    }
    assert!(p.starts_with('^') && p.ends_with('$'));
}

fn spec_of_pattern() -> impl Strategy<Value = String> {
    let p = InstrumentSpec::pattern();
    let inner = p.trim_start_matches('^').trim_end_matches('$').to_string();
    proptest::string::string_regex(&inner).expect("the spec pattern is a regex")
}

// The published spec pattern (an API schema's): every spec it matches parses.
proptest! {
    #[test]
    fn spec_pattern_parses(s in spec_of_pattern()) {
        prop_assert!(InstrumentSpec::parse(&s).is_ok(), "{s:?}");
    }
}
