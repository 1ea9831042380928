//! Email addresses as account names: one spelling per account. An address is trimmed, put in
//! Unicode compatibility form (NFKC: the full-width `ｄemo@…` becomes `demo@…`) and lower-cased;
//! what is left must be plain ASCII — so no confusable letter from another script (a Cyrillic
//! `е` in `dеmo@…`) can make a second account that looks like an existing one.

use unicode_normalization::UnicodeNormalization as _;

/// Longest address (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;

/// Why an address is refused (the message never echoes more than the address itself).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("is not a valid address (local part, @, a dotted domain)")]
    Invalid,
    #[error("is longer than {MAX_EMAIL} characters")]
    TooLong,
    #[error(
        "contains {0:?}, which is not a plain ASCII letter after normalisation (look-alike characters from other scripts are refused)"
    )]
    NotAscii(char),
}

/// The one spelling of an address: NFKC, lower case, ASCII only, `local@domain.tld`.
pub fn normalize(raw: &str) -> Result<String, EmailError> {
    let trimmed = raw.trim();
    if trimmed.len() > MAX_EMAIL * 4 {
        return Err(EmailError::TooLong);
    }
    let e: String = trimmed.nfkc().collect::<String>().to_lowercase();
    if let Some(c) = e.chars().find(|c| !c.is_ascii()) {
        return Err(EmailError::NotAscii(c));
    }
    if e.len() > MAX_EMAIL {
        return Err(EmailError::TooLong);
    }
    let ok = e.bytes().all(|b| b.is_ascii_graphic())
        && e.split_once('@').is_some_and(|(a, d)| {
            !a.is_empty()
                && !d.contains('@')
                && d.contains('.')
                && !d.starts_with('.')
                && !d.ends_with('.')
        });
    if !ok {
        return Err(EmailError::Invalid);
    }
    Ok(e)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_per_address() {
        assert_eq!(
            normalize("  Demo@StocksBlitz.Local ").unwrap(),
            "demo@stocksblitz.local"
        );
        // Full-width letters are the same address (NFKC).
        assert_eq!(
            normalize("ｄemo@stocksblitz.local").unwrap(),
            "demo@stocksblitz.local"
        );
        assert_eq!(
            normalize("ＤＥＭＯ@stocksblitz.local").unwrap(),
            "demo@stocksblitz.local"
        );
        // A Cyrillic е and a Greek ο are look-alikes, not the same letter: refused.
        assert_eq!(
            normalize("dеmo@stocksblitz.local"),
            Err(EmailError::NotAscii('е'))
        );
        assert_eq!(
            normalize("demο@stocksblitz.local"),
            Err(EmailError::NotAscii('ο'))
        );
        for bad in [
            "", "demo", "@x.y", "demo@", "demo@x", "a b@x.y", "a@.x", "a@b@c.d", "a@x.",
        ] {
            assert_eq!(normalize(bad), Err(EmailError::Invalid), "{bad:?}");
        }
        assert_eq!(
            normalize(&format!("{}@x.y", "a".repeat(260))),
            Err(EmailError::TooLong)
        );
    }
}
