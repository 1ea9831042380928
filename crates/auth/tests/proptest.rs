//! No credential of any shape makes classification or verification panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use stocksblitz_auth::jwt::{KeySet, VerifyConfig, verify};
use stocksblitz_auth::{apikey, classify};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_tokens(s in "\\PC{0,300}") {
        let _ = classify(&s);
        let _ = apikey::key_id(&s);
        let _ = verify(&s, &KeySet::default(), &VerifyConfig::default());
    }

    #[test]
    fn jwt_shaped_tokens(a in "[A-Za-z0-9_-]{0,80}", b in "[A-Za-z0-9_-]{0,80}", c in "[A-Za-z0-9_-]{0,80}") {
        let t = format!("{a}.{b}.{c}");
        let _ = classify(&t);
        prop_assert!(verify(&t, &KeySet::default(), &VerifyConfig::default()).is_err());
    }
}
