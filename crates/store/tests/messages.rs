//! Messages against BOTH back-ends for real: per owner, topics and mailboxes, read marks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::backends;
use stocksblitz_store::messages::{MessageFilter, NewMessage};

fn msg(owner: &str, topic: Option<&str>, recipient: Option<&str>, at: i64) -> NewMessage {
    NewMessage {
        owner: owner.into(),
        topic: topic.map(str::to_string),
        sender: "strategy-a".into(),
        recipient: recipient.map(str::to_string),
        message_type: "json".into(),
        content: format!("{{\"n\": {at}}}"),
        metadata: "{}".into(),
        at,
    }
}

#[tokio::test]
async fn messages_are_per_owner_by_topic_and_mailbox() {
    for (name, s, _schema, _dir) in backends("messages").await {
        s.insert_message(&msg("user:1", Some("signals"), None, 1))
            .await
            .unwrap();
        s.insert_message(&msg("user:1", Some("fills"), None, 2))
            .await
            .unwrap();
        let d1 = s
            .insert_message(&msg("user:1", None, Some("risk"), 3))
            .await
            .unwrap();
        let d2 = s
            .insert_message(&msg("user:1", None, Some("risk"), 4))
            .await
            .unwrap();
        s.insert_message(&msg("user:2", Some("signals"), None, 5))
            .await
            .unwrap();
        let all = MessageFilter {
            limit: 100,
            ..Default::default()
        };
        let mine = s.messages_of("user:1", &all).await.unwrap();
        assert_eq!(
            mine.iter().map(|m| m.at).collect::<Vec<_>>(),
            vec![4, 3, 2, 1],
            "{name}"
        );
        let signals = MessageFilter {
            topic: Some("signals".into()),
            limit: 100,
            ..Default::default()
        };
        assert_eq!(
            s.messages_of("user:1", &signals).await.unwrap().len(),
            1,
            "{name}"
        );
        let mailbox = MessageFilter {
            recipient: Some("risk".into()),
            unread_only: true,
            oldest_first: true,
            limit: 100,
            ..Default::default()
        };
        let unread = s.messages_of("user:1", &mailbox).await.unwrap();
        assert_eq!(
            unread.iter().map(|m| m.message_id).collect::<Vec<_>>(),
            vec![d1.message_id, d2.message_id]
        );
        assert_eq!(
            s.mark_messages_read("user:2", "risk", &[d1.message_id], 9)
                .await
                .unwrap(),
            0,
            "not theirs"
        );
        assert_eq!(
            s.mark_messages_read("user:1", "risk", &[d1.message_id], 9)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            s.messages_of("user:1", &mailbox).await.unwrap().len(),
            1,
            "{name}"
        );
        assert_eq!(
            s.clear_messages("user:1", Some("signals")).await.unwrap(),
            1
        );
        assert_eq!(s.clear_messages("user:1", None).await.unwrap(), 3);
        assert_eq!(
            s.messages_of("user:2", &all).await.unwrap().len(),
            1,
            "{name}"
        );
    }
}
