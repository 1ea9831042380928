//! Reminders against BOTH back-ends for real: ownership, the claim of an occurrence, limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::backends;
use stocksblitz_store::reminders::NewReminder;

fn ev() -> stocksblitz_store::alerts::NewAlertEvent {
    stocksblitz_store::alerts::NewAlertEvent {
        owner: "user:1".into(),
        kind: "reminder".into(),
        priority: "high".into(),
        symbol: String::new(),
        message: "square off".into(),
        data: "{}".into(),
        at: 1,
    }
}

fn new(owner: &str, next_at: Option<i64>) -> NewReminder {
    NewReminder {
        owner: owner.into(),
        message: "square off".into(),
        frequency: "market_close".into(),
        at_ms: None,
        minute_of_day: None,
        weekday: None,
        offset_minutes: 10,
        underlying: None,
        weekly_series: false,
        priority: "high".into(),
        data: "{}".into(),
        next_at,
    }
}

#[tokio::test]
async fn an_occurrence_is_claimed_once_and_owners_are_kept_apart() {
    for (name, s, _schema, _dir) in backends("reminders").await {
        let r = s
            .create_reminder(&new("user:1", Some(100)), 1)
            .await
            .unwrap();
        assert_eq!(
            (r.status.as_str(), r.enabled, r.next_at),
            ("scheduled", true, Some(100)),
            "{name}"
        );
        // Two replicas due at 100: one claim moves it to 200, the other finds it moved.
        assert!(
            s.fire_reminder(r.reminder_id, 100, Some(200), 101, &ev())
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            s.fire_reminder(r.reminder_id, 100, Some(200), 101, &ev())
                .await
                .unwrap()
                .is_none()
        );
        let r2 = s.reminder(r.reminder_id).await.unwrap().unwrap();
        assert_eq!(
            (r2.next_at, r2.fire_count, r2.last_fired_at),
            (Some(200), 1, Some(101))
        );
        // Disabled: not claimable; another user cannot touch it.
        assert!(
            !s.set_reminder_enabled("user:2", r.reminder_id, false, None, 102)
                .await
                .unwrap()
        );
        assert!(
            s.set_reminder_enabled("user:1", r.reminder_id, false, None, 102)
                .await
                .unwrap()
        );
        assert!(
            s.fire_reminder(r.reminder_id, 200, Some(300), 201, &ev())
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.set_reminder_enabled("user:1", r.reminder_id, true, Some(300), 202)
                .await
                .unwrap()
        );
        assert!(
            s.fire_reminder(r.reminder_id, 300, None, 301, &ev())
                .await
                .unwrap()
                .is_some()
        );
        let done = s.reminder(r.reminder_id).await.unwrap().unwrap();
        assert_eq!((done.status.as_str(), done.next_at), ("completed", None));
        let other = s
            .create_reminder(&new("user:1", Some(500)), 2)
            .await
            .unwrap();
        assert!(
            !s.cancel_reminder("user:2", other.reminder_id, 3)
                .await
                .unwrap()
        );
        assert!(
            s.cancel_reminder("user:1", other.reminder_id, 3)
                .await
                .unwrap()
        );
        assert_eq!(s.scheduled_reminders().await.unwrap().len(), 0, "{name}");
        assert_eq!(s.reminders_of("user:1").await.unwrap().len(), 2);
        assert_eq!(s.reminders_changed_since(202).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn an_occurrence_and_its_event_are_recorded_together() {
    use stocksblitz_store::alerts::{EventFilter, NewAlertEvent};
    for (name, s, _schema, _dir) in backends("reminders_fire").await {
        let r = s
            .create_reminder(&new("user:1", Some(100)), 1)
            .await
            .unwrap();
        let ev = NewAlertEvent {
            owner: "user:1".into(),
            kind: "reminder".into(),
            priority: "high".into(),
            symbol: String::new(),
            message: "square off".into(),
            data: "{}".into(),
            at: 101,
        };
        let first = s
            .fire_reminder(r.reminder_id, 100, Some(200), 101, &ev)
            .await
            .unwrap();
        assert!(first.is_some(), "{name}");
        // The other replica, due at the same 100: nothing claimed, nothing recorded.
        assert_eq!(
            s.fire_reminder(r.reminder_id, 100, Some(200), 101, &ev)
                .await
                .unwrap(),
            None
        );
        let f = EventFilter {
            limit: 10,
            ..Default::default()
        };
        assert_eq!(
            s.alert_events_of("user:1", &f).await.unwrap().len(),
            1,
            "{name}"
        );
        let moved = s.reminder(r.reminder_id).await.unwrap().unwrap();
        assert_eq!((moved.next_at, moved.fire_count), (Some(200), 1));
    }
}
