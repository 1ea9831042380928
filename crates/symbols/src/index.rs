//! The index table: canonical derivative names, display names, aliases and contract facts.

use crate::symbol::Exchange;

/// One index: its derivative name (`NIFTY`), the name it is displayed/quoted under (`NIFTY 50`),
/// the spellings that map to it (compared with spaces removed, upper case), and contract facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexInfo {
    /// Canonical name, used as the underlying of its derivatives (`NIFTY`, `BANKNIFTY`).
    pub name: &'static str,
    /// Display name / index tradingsymbol (`NIFTY 50`).
    pub display: &'static str,
    /// Accepted spellings, upper case with spaces removed.
    pub aliases: &'static [&'static str],
    /// Cash-market exchange of the index (NSE or BSE); derivatives trade on NFO / BFO.
    pub exchange: Exchange,
    /// Strike interval of its option chain, in rupees (None: no derivatives).
    pub strike_step: Option<u32>,
    /// Whether weekly option series are listed (besides the monthly).
    pub has_weekly: bool,
    /// Kite instrument token of the index, where well known.
    pub token: Option<u32>,
}

/// Every index the system knows. One source of truth for names, aliases and strike steps.
pub static INDICES: &[IndexInfo] = &[
    IndexInfo {
        name: "NIFTY",
        display: "NIFTY 50",
        aliases: &["NIFTY50", "NIFTY"],
        exchange: Exchange::Nse,
        strike_step: Some(50),
        has_weekly: true,
        token: Some(256_265),
    },
    IndexInfo {
        name: "BANKNIFTY",
        display: "NIFTY BANK",
        aliases: &["NIFTYBANK", "BANKNIFTY"],
        exchange: Exchange::Nse,
        strike_step: Some(100),
        has_weekly: false,
        token: Some(260_105),
    },
    IndexInfo {
        name: "FINNIFTY",
        display: "NIFTY FIN SERVICE",
        aliases: &["NIFTYFINSERVICE", "FINNIFTY", "NIFTYFIN"],
        exchange: Exchange::Nse,
        strike_step: Some(50),
        has_weekly: false,
        token: Some(257_801),
    },
    IndexInfo {
        name: "MIDCPNIFTY",
        display: "NIFTY MID SELECT",
        aliases: &["NIFTYMIDSELECT", "MIDCPNIFTY"],
        exchange: Exchange::Nse,
        strike_step: Some(25),
        has_weekly: false,
        token: Some(288_009),
    },
    IndexInfo {
        name: "NIFTYNXT50",
        display: "NIFTY NEXT 50",
        aliases: &["NIFTYNEXT50", "NIFTYNXT50"],
        exchange: Exchange::Nse,
        strike_step: Some(100),
        has_weekly: false,
        token: Some(270_857),
    },
    IndexInfo {
        name: "SENSEX",
        display: "SENSEX",
        aliases: &["SENSEX", "BSESENSEX"],
        exchange: Exchange::Bse,
        strike_step: Some(100),
        has_weekly: true,
        token: Some(265),
    },
    IndexInfo {
        name: "BANKEX",
        display: "BANKEX",
        aliases: &["BANKEX"],
        exchange: Exchange::Bse,
        strike_step: Some(100),
        has_weekly: false,
        token: Some(274_441),
    },
    IndexInfo {
        name: "INDIAVIX",
        display: "INDIA VIX",
        aliases: &["INDIAVIX"],
        exchange: Exchange::Nse,
        strike_step: None,
        has_weekly: false,
        token: Some(264_969),
    },
];

/// Look an index up by any of its spellings (any case, spaces ignored).
pub fn find_index(name: &str) -> Option<&'static IndexInfo> {
    let mut buf = [0u8; 32];
    let mut n = 0;
    for b in name.bytes() {
        if b == b' ' {
            continue;
        }
        if n == buf.len() {
            return None;
        }
        buf[n] = b.to_ascii_uppercase();
        n += 1;
    }
    let key = &buf[..n];
    INDICES
        .iter()
        .find(|i| i.aliases.iter().any(|a| a.as_bytes() == key))
}

/// Look an index up by an upper-case spelling without spaces (the parser's fast path).
pub(crate) fn find_index_upper(key: &[u8]) -> Option<&'static IndexInfo> {
    // Every alias is 5–15 bytes and starts with one of these letters.
    if !(5..=15).contains(&key.len()) || !matches!(key[0], b'N' | b'B' | b'F' | b'M' | b'S' | b'I')
    {
        return None;
    }
    INDICES
        .iter()
        .find(|i| i.aliases.iter().any(|a| a.as_bytes() == key))
}

/// The index whose derivatives use `name` as their underlying (exact canonical name only).
pub fn derivative_underlying(name: &str) -> Option<&'static IndexInfo> {
    INDICES.iter().find(|i| i.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_themselves_not_nifty() {
        assert_eq!(find_index("BANKNIFTY").map(|i| i.name), Some("BANKNIFTY"));
        assert_eq!(find_index("nifty bank").map(|i| i.name), Some("BANKNIFTY"));
        assert_eq!(find_index("FINNIFTY").map(|i| i.name), Some("FINNIFTY"));
        assert_eq!(
            find_index("NIFTY FIN SERVICE").map(|i| i.name),
            Some("FINNIFTY")
        );
        assert_eq!(find_index("Nifty 50").map(|i| i.name), Some("NIFTY"));
        assert_eq!(
            find_index("NIFTY NEXT 50").map(|i| i.name),
            Some("NIFTYNXT50")
        );
        assert_eq!(find_index("india vix").map(|i| i.name), Some("INDIAVIX"));
        assert_eq!(find_index("RELIANCE"), None);
        // The fast path's length and first-letter filter admits every alias.
        for info in INDICES {
            for a in info.aliases {
                assert_eq!(
                    find_index_upper(a.as_bytes()).map(|i| i.name),
                    Some(info.name),
                    "{a}"
                );
            }
        }
    }
}
