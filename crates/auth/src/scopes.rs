//! Permissions are scopes: `read`, `trade`, `cancel`, `modify`, `admin`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Trade,
    Cancel,
    Modify,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Read,
        Scope::Trade,
        Scope::Cancel,
        Scope::Modify,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Trade => "trade",
            Scope::Cancel => "cancel",
            Scope::Modify => "modify",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL
            .into_iter()
            .find(|x| x.as_str().eq_ignore_ascii_case(s.trim()))
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Scopes(u8);

/// An unknown scope name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?} (expected read, trade, cancel, modify or admin)")]
pub struct UnknownScope(pub String);

impl Scopes {
    pub fn none() -> Self {
        Scopes(0)
    }
    #[must_use]
    pub fn with(mut self, s: Scope) -> Self {
        self.0 |= s.bit();
        self
    }
    pub fn contains(self, s: Scope) -> bool {
        // Admin implies every other scope.
        self.0 & s.bit() != 0 || self.0 & Scope::Admin.bit() != 0
    }
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .into_iter()
            .filter(move |s| self.0 & s.bit() != 0)
    }

    /// Parse `read,trade` (commas or spaces).
    pub fn parse_list(s: &str) -> Result<Self, UnknownScope> {
        let mut out = Scopes::none();
        for part in s.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
            out = out.with(
                Scope::parse(part).ok_or_else(|| UnknownScope(part.chars().take(20).collect()))?,
            );
        }
        Ok(out)
    }

    /// From the old API's booleans (`can_read`, `can_trade`, `can_cancel`, `can_modify`).
    pub fn from_flags(read: bool, trade: bool, cancel: bool, modify: bool) -> Self {
        let mut s = Scopes::none();
        for (on, scope) in [
            (read, Scope::Read),
            (trade, Scope::Trade),
            (cancel, Scope::Cancel),
            (modify, Scope::Modify),
        ] {
            if on {
                s = s.with(scope);
            }
        }
        s
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_contain() {
        let s = Scopes::parse_list("read, trade").unwrap();
        assert!(s.contains(Scope::Read) && s.contains(Scope::Trade) && !s.contains(Scope::Cancel));
        assert_eq!(s.to_string(), "read,trade");
        assert!(Scopes::none().with(Scope::Admin).contains(Scope::Modify));
        assert_eq!(
            Scopes::parse_list("read,write").unwrap_err().to_string(),
            r#"unknown scope "write" (expected read, trade, cancel, modify or admin)"#
        );
        assert_eq!(
            Scopes::from_flags(true, false, true, false).to_string(),
            "read,cancel"
        );
    }
}
