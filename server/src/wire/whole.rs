//! Whole numbers in JSON bodies: `479` and `479.0` alike — JSON Schema counts both as integers,
//! and Python clients send the second for `lots * 65.0` — while `479.5` is refused naming the
//! field. Used as `#[serde(deserialize_with = "…")]`, so fields keep their integer types.

use serde::de::{Deserializer, Error, Visitor};

struct WholeVisitor;

impl Visitor<'_> for WholeVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} is too large")))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<i64, E> {
        // i64::MAX as f64 rounds up to 2^63, which is out of range: the bound is exclusive.
        if v.fract() == 0.0 && v >= i64::MIN as f64 && v < i64::MAX as f64 {
            Ok(v as i64)
        } else {
            Err(E::custom(format!("expected a whole number, got {v}")))
        }
    }
}

/// A whole number (see the module).
struct Whole(i64);

impl<'de> serde::Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WholeVisitor).map(Whole)
    }
}

/// A required whole number.
pub(crate) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(WholeVisitor)
}

/// An optional whole number (`null` or absent: none; absent needs `#[serde(default)]`).
pub(crate) fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(<Option<Whole> as serde::Deserialize>::deserialize(d)?.map(|w| w.0))
}

/// An optional whole number that fits a `u32`.
pub(crate) fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    opt_int(d)?
        .map(|v| u32::try_from(v).map_err(|_| D::Error::custom(format!("{v} is out of range"))))
        .transpose()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::int")]
        quantity: i64,
        #[serde(default, deserialize_with = "super::opt_u32")]
        ttl: Option<u32>,
    }

    fn parse(s: &str) -> Result<Body, String> {
        serde_json::from_str(s).map_err(|e| e.to_string())
    }

    #[test]
    fn integral_floats_are_whole_numbers_and_fractions_are_refused() {
        assert_eq!(parse(r#"{"quantity": 130}"#).unwrap().quantity, 130);
        assert_eq!(parse(r#"{"quantity": 130.0}"#).unwrap().quantity, 130);
        assert_eq!(parse(r#"{"quantity": -65.0}"#).unwrap().quantity, -65);
        let b = parse(r#"{"quantity": 1, "ttl": 5.0}"#).unwrap();
        assert_eq!(b.ttl, Some(5));
        assert_eq!(parse(r#"{"quantity": 1, "ttl": null}"#).unwrap().ttl, None);
        assert_eq!(parse(r#"{"quantity": 1}"#).unwrap().ttl, None);
        let e = parse(r#"{"quantity": 130.5}"#).unwrap_err();
        assert!(e.contains("expected a whole number, got 130.5"), "{e}");
        let e = parse(r#"{"quantity": 1, "ttl": -1}"#).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = parse(r#"{"quantity": 1e300}"#).unwrap_err();
        assert!(e.contains("whole number"), "{e}");
        assert!(parse(r#"{"quantity": "130"}"#).is_err());
    }
}
