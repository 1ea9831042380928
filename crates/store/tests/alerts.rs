//! Alerts and their events against BOTH back-ends for real (a SQLite file and the local
//! PostgreSQL, a schema per test): the firing claim, filters, ownership, expiry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::backends;
use stocksblitz_store::alerts::{EventFilter, NewAlert, NewAlertEvent};

fn new_alert(owner: &str) -> NewAlert {
    NewAlert {
        owner: owner.into(),
        kind: "price".into(),
        symbol: "NIFTY 50".into(),
        timeframe: None,
        condition: "ltp > 26000".into(),
        message: "breakout".into(),
        priority: "high".into(),
        repeating: false,
        cooldown_ms: 0,
        webhook_url: None,
        webhook_secret: None,
        expires_at: None,
    }
}

async fn one(
    s: &stocksblitz_store::Store,
    a: &stocksblitz_store::alerts::AlertRow,
    fire_no: i64,
    at: i64,
) -> Option<stocksblitz_store::alerts::AlertEventRow> {
    let f = stocksblitz_store::alerts::Firing {
        alert: a.clone(),
        fire_no,
        event: event("user:1", at),
    };
    s.record_firings(&[f]).await.unwrap().pop().flatten()
}

fn event(owner: &str, at: i64) -> NewAlertEvent {
    NewAlertEvent {
        owner: owner.into(),
        kind: "price".into(),
        priority: "high".into(),
        symbol: "NIFTY 50".into(),
        message: "breakout".into(),
        data: "{}".into(),
        at,
    }
}

#[tokio::test]
async fn a_firing_is_recorded_once_and_a_one_shot_alert_is_done() {
    for (_name, s, _schema, _dir) in backends("alerts").await {
        let a = s.create_alert(&new_alert("user:1"), 10).await.unwrap();
        assert_eq!((a.status.as_str(), a.fired), ("active", 0));
        let first = one(&s, &a, 1, 20).await;
        assert!(first.is_some());
        // Another replica evaluating the same tick loses the claim.
        assert_eq!(one(&s, &a, 1, 20).await, None);
        let a = s.alert(a.alert_id).await.unwrap().unwrap();
        assert_eq!(
            (a.status.as_str(), a.fired, a.last_fired_at),
            ("triggered", 1, Some(20))
        );
        // A triggered one-shot alert fires no more.
        assert_eq!(one(&s, &a, 2, 30).await, None);
        assert_eq!(s.alerts_in("active").await.unwrap().len(), 0);
    }
}

#[tokio::test]
async fn events_are_listed_per_owner_with_filters_and_acknowledged() {
    for (_name, s, _schema, _dir) in backends("alerts").await {
        let mut rep = new_alert("user:1");
        rep.repeating = true;
        let a = s.create_alert(&rep, 10).await.unwrap();
        for n in 1..=3 {
            one(&s, &a, n, 10 + n).await;
        }
        let mut custom = event("user:2", 50);
        custom.kind = "custom".into();
        let other = s.insert_alert_event(&custom).await.unwrap();
        let all = EventFilter {
            limit: 100,
            ..EventFilter::default()
        };
        let mine = s.alert_events_of("user:1", &all).await.unwrap();
        assert_eq!(
            mine.iter().map(|e| e.fire_no).collect::<Vec<_>>(),
            vec![Some(3), Some(2), Some(1)]
        );
        assert!(
            !s.acknowledge_alert_event("user:1", other.event_id, 60)
                .await
                .unwrap(),
            "not mine"
        );
        assert!(
            s.acknowledge_alert_event("user:1", mine[0].event_id, 60)
                .await
                .unwrap()
        );
        let unacked = EventFilter {
            acknowledged: Some(false),
            oldest_first: true,
            limit: 100,
            ..EventFilter::default()
        };
        let left = s.alert_events_of("user:1", &unacked).await.unwrap();
        assert_eq!(
            left.iter().map(|e| e.fire_no).collect::<Vec<_>>(),
            vec![Some(1), Some(2)]
        );
        let after = EventFilter {
            after_id: Some(mine[1].event_id),
            limit: 100,
            ..EventFilter::default()
        };
        assert_eq!(s.alert_events_of("user:1", &after).await.unwrap().len(), 1);
        let by_kind = EventFilter {
            kind: Some("custom".into()),
            limit: 100,
            ..EventFilter::default()
        };
        assert!(
            s.alert_events_of("user:1", &by_kind)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            s.alert_events_of("user:2", &by_kind).await.unwrap().len(),
            1
        );
        assert_eq!(s.clear_alert_events("user:1", true).await.unwrap(), 1);
        assert_eq!(s.clear_alert_events("user:1", false).await.unwrap(), 2);
        assert_eq!(s.alert_events_of("user:2", &all).await.unwrap().len(), 1);
        let a = s.alert(a.alert_id).await.unwrap().unwrap();
        assert_eq!((a.status.as_str(), a.fired), ("active", 3));
    }
}

#[tokio::test]
async fn status_changes_belong_to_the_owner() {
    for (_name, s, _schema, _dir) in backends("alerts").await {
        let a = s.create_alert(&new_alert("user:1"), 10).await.unwrap();
        assert!(
            !s.set_alert_status("user:2", a.alert_id, &["active"], "cancelled", 11)
                .await
                .unwrap()
        );
        assert!(
            s.set_alert_status("user:1", a.alert_id, &["active"], "paused", 11)
                .await
                .unwrap()
        );
        assert!(
            !s.set_alert_status("user:1", a.alert_id, &["active"], "paused", 12)
                .await
                .unwrap()
        );
        assert_eq!(s.alerts_changed_since(11).await.unwrap().len(), 1);
        assert!(
            s.set_alert_status("user:1", a.alert_id, &["active", "paused"], "cancelled", 13)
                .await
                .unwrap()
        );
        let mut timed = new_alert("user:1");
        timed.expires_at = Some(100);
        s.create_alert(&timed, 10).await.unwrap();
        assert_eq!(s.expire_alerts(99).await.unwrap(), 0);
        assert_eq!(s.expire_alerts(100).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn firings_recorded_in_a_batch_are_claimed_one_by_one() {
    use stocksblitz_store::alerts::Firing;
    for (name, s, _schema, _dir) in backends("alerts_batch").await {
        let mut rep = new_alert("user:1");
        rep.repeating = true;
        let a = s.create_alert(&rep, 10).await.unwrap();
        let b = s.create_alert(&new_alert("user:1"), 10).await.unwrap();
        let cancelled = s.create_alert(&new_alert("user:1"), 10).await.unwrap();
        s.set_alert_status("user:1", cancelled.alert_id, &["active"], "cancelled", 11)
            .await
            .unwrap();
        let f = |alert: &stocksblitz_store::alerts::AlertRow, n: i64| Firing {
            alert: alert.clone(),
            fire_no: n,
            event: event("user:1", 20 + n),
        };
        let out = s
            .record_firings(&[f(&a, 1), f(&b, 1), f(&a, 1), f(&a, 2), f(&cancelled, 1)])
            .await
            .unwrap();
        let got: Vec<Option<i64>> = out
            .iter()
            .map(|e| e.as_ref().and_then(|e| e.fire_no))
            .collect();
        assert_eq!(got, vec![Some(1), Some(1), None, Some(2), None], "{name}");
        let a = s.alert(a.alert_id).await.unwrap().unwrap();
        assert_eq!((a.status.as_str(), a.fired), ("active", 2));
        let b = s.alert(b.alert_id).await.unwrap().unwrap();
        assert_eq!((b.status.as_str(), b.fired), ("triggered", 1));
        assert!(s.record_firings(&[]).await.unwrap().is_empty());
    }
}
