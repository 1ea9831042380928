//! The symbol parser and the @-spec parser never panic, and whatever parses round-trips.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(sym) = stocksblitz_symbols::parse(s) {
            let mut again =
                stocksblitz_symbols::parse(&sym.tradingsymbol).expect("canonical form parses");
            // The exchange comes from an `NSE:`/`BSE:` prefix, which a tradingsymbol does not carry.
            again.exchange = sym.exchange;
            assert_eq!(again, sym);
        }
        let _ = stocksblitz_symbols::InstrumentSpec::parse(s);
    }
});
