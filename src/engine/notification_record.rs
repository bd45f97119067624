//! A notification as the record a push service reads (`PROMOTION_NOTIFICATIONS`): key UID,
//! value a JSON object with the fields a phone shows and a MESSAGE rendered from a template.

use serde_json::{json, Value};

use super::notify::Notification;

/// The topic notifications are written to.
pub const NOTIFICATIONS_TOPIC: &str = "PROMOTION_NOTIFICATIONS";
/// The default MESSAGE: "15 % off Coffee week — 40 ft away in Northwind Market Loop".
pub const DEFAULT_MESSAGE: &str =
    "{DISCOUNT_PCT} % off {TITLE} — {DIST_TO_STORE} ft away in {STORE}";

/// One notification's record.
#[derive(Clone, Debug, PartialEq)]
pub struct NotificationRecord {
    pub timestamp_ms: i64,
    /// The customer's uid (the record key: one channel per customer downstream).
    pub key: String,
    pub payload: String,
}

/// The record of `n`, with its place named `store` and MESSAGE from `template` (`{FIELD}`
/// for any of UID, PID, SKU, SEGMENT, TITLE, DISCOUNT_PCT, STORE, DIST_TO_STORE, MATCHES).
pub fn notification_record(n: &Notification, store: &str, template: &str) -> NotificationRecord {
    let discount = n.discount_pct.map(|d| d.normalize().to_string());
    let fields: [(&str, String); 9] = [
        ("UID", n.uid.to_string()),
        ("PID", n.pid.to_string()),
        ("SKU", n.sku.map(|s| s.to_string()).unwrap_or_default()),
        (
            "SEGMENT",
            n.segment.as_deref().unwrap_or_default().to_owned(),
        ),
        ("TITLE", n.title.as_deref().unwrap_or_default().to_owned()),
        ("DISCOUNT_PCT", discount.clone().unwrap_or_default()),
        ("STORE", store.to_owned()),
        ("DIST_TO_STORE", format!("{:.0}", n.dist_to_store_ft)),
        ("MATCHES", n.matches.to_string()),
    ];
    let message = if template == DEFAULT_MESSAGE {
        let mut message = format!("{} — {:.0} ft away", offer_text(n), n.dist_to_store_ft);
        if !store.is_empty() {
            message.push_str(&format!(" in {store}"));
        }
        message
    } else {
        let mut message = template.to_owned();
        for (name, value) in &fields {
            message = message.replace(&format!("{{{name}}}"), value);
        }
        message
    };
    let number = |d: &Option<String>| {
        d.as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .unwrap_or(Value::Null)
    };
    let value = json!({
        "UID": &*n.uid,
        "PID": &*n.pid,
        "SKU": n.sku,
        "SEGMENT": n.segment.as_deref(),
        "TITLE": n.title.as_deref(),
        "DISCOUNT_PCT": number(&discount),
        "STORE": store,
        "DIST_TO_STORE": n.dist_to_store_ft,
        "MATCHES": n.matches,
        "MESSAGE": message,
    });
    NotificationRecord {
        timestamp_ms: n.timestamp_ms,
        key: n.uid.to_string(),
        payload: value.to_string(),
    }
}

/// What a notification offers, as a push shows it: "15 % off Coffee week", leaving out what
/// the promotion does not say, and the discount once when the title names it already ("20% off
/// SKU 1130").
pub fn offer_text(n: &Notification) -> String {
    let title = n.title.as_deref().unwrap_or_default();
    let mut offer: Vec<String> = Vec::new();
    if let Some(d) = n.discount_pct.filter(|_| !title.contains('%')) {
        offer.push(format!("{} % off", d.normalize()));
    }
    if !title.is_empty() {
        offer.push(title.to_owned());
    }
    if offer.is_empty() {
        let sku = n.sku.map_or("—".to_owned(), |s| s.to_string());
        offer.push(format!("A promotion on SKU {sku}"));
    }
    offer.join(" ")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn the_record_carries_the_fields_and_the_rendered_message() {
        let n = Notification {
            timestamp_ms: 5,
            uid: Arc::from("u-1"),
            pid: Arc::from("p \"quoted\""),
            sku: Some(1003),
            segment: Some(Arc::from("SegmentA")),
            title: Some(Arc::from("Coffee week")),
            discount_pct: Some(rust_decimal::Decimal::new(150, 1)),
            product_at: None,
            dist_to_store_ft: 40.4,
            matches: 7,
        };
        let r = notification_record(&n, "Northwind Market Loop", DEFAULT_MESSAGE);
        assert_eq!((r.timestamp_ms, r.key.as_str()), (5, "u-1"));
        let v: Value = serde_json::from_str(&r.payload).expect("JSON");
        assert_eq!(
            v["MESSAGE"],
            "15 % off Coffee week — 40 ft away in Northwind Market Loop"
        );
        assert_eq!(v["PID"], "p \"quoted\"");
        assert_eq!(v["DISCOUNT_PCT"], 15);
        assert_eq!(v["MATCHES"], 7);
        assert_eq!(v["STORE"], "Northwind Market Loop");
        assert_eq!(v["SKU"], 1003);
        let bare = Notification {
            discount_pct: None,
            title: None,
            ..n.clone()
        };
        let r = notification_record(&bare, "", DEFAULT_MESSAGE);
        let v: Value = serde_json::from_str(&r.payload).expect("JSON");
        assert_eq!(v["MESSAGE"], "A promotion on SKU 1003 — 40 ft away");
        let r = notification_record(&bare, "CAN 1", "{UID} is {DIST_TO_STORE} ft from {STORE}");
        let v: Value = serde_json::from_str(&r.payload).expect("JSON");
        assert_eq!(v["MESSAGE"], "u-1 is 40 ft from CAN 1");
        let says_it = Notification {
            title: Some(Arc::from("20% off SKU 1003")),
            ..n
        };
        let r = notification_record(&says_it, "Loop", DEFAULT_MESSAGE);
        let v: Value = serde_json::from_str(&r.payload).expect("JSON");
        assert_eq!(v["MESSAGE"], "20% off SKU 1003 — 40 ft away in Loop");
    }
}
