//! A notification as the record a push service reads (`PROMOTION_NOTIFICATIONS`): key UID,
//! value a JSON object with the fields a phone shows and a MESSAGE rendered from a template.

use super::json_object::{member_name, Embedding, ObjectWriter, StringPieces};
use super::notify::Notification;

/// The topic notifications are written to.
pub const NOTIFICATIONS_TOPIC: &str = "PROMOTION_NOTIFICATIONS";
/// The default MESSAGE: "15 % off Coffee week — 40 ft away in Northwind Market Loop".
pub const DEFAULT_MESSAGE: &str =
    "{DISCOUNT_PCT} % off {TITLE} — {DIST_TO_STORE} ft away in {STORE}";

/// One notification's record: the notification, its place's name and the MESSAGE template,
/// written straight into whatever holds it (a Kafka value, or the escaped `payload` of a dump
/// line). Nothing is copied or rendered ahead: a notification's value is mostly strings, and
/// MESSAGE is rendered into the value as it is written, escaped as it goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NotificationRecord<'a> {
    pub timestamp_ms: i64,
    notification: &'a Notification,
    store: &'a str,
    template: &'a str,
}

/// The record of `n`, with its place named `store` and MESSAGE from `template` (`{FIELD}`
/// for any of UID, PID, SKU, SEGMENT, TITLE, DISCOUNT_PCT, STORE, DIST_TO_STORE, MATCHES).
pub fn notification_record<'a>(
    n: &'a Notification,
    store: &'a str,
    template: &'a str,
) -> NotificationRecord<'a> {
    NotificationRecord {
        timestamp_ms: n.timestamp_ms,
        notification: n,
        store,
        template,
    }
}

impl NotificationRecord<'_> {
    /// The customer's uid: the record key, so a push service gives each customer a channel.
    pub fn key(&self) -> &str {
        &self.notification.uid
    }

    /// Appends the value, fields in the order the issue lists them.
    pub fn write_payload(&self, out: &mut Vec<u8>, embedding: Embedding) {
        let n = self.notification;
        let mut obj = ObjectWriter::new(out, embedding);
        obj.member(member_name!("UID")).string_value(Some(&n.uid));
        obj.member(member_name!("PID")).string_value(Some(&n.pid));
        obj.member(member_name!("SKU")).bigint_value(n.sku);
        obj.member(member_name!("SEGMENT"))
            .string_value(n.segment.as_deref());
        obj.member(member_name!("TITLE"))
            .string_value(n.title.as_deref());
        let discount = obj.member(member_name!("DISCOUNT_PCT"));
        match n.discount_pct {
            Some(d) => discount.decimal_number_value(d.normalize()),
            None => discount.null(),
        }
        obj.member(member_name!("STORE"))
            .string_value(Some(self.store));
        obj.member(member_name!("DIST_TO_STORE"))
            .float_value(n.dist_to_store_ft);
        obj.member(member_name!("MATCHES"))
            .bigint_value(i64::try_from(n.matches).ok());
        obj.member(member_name!("MESSAGE"))
            .string_in_pieces(|text| {
                render_message(text, n, self.store, self.template);
            });
        obj.finish();
    }

    /// The value as JSON text (sinks write it into buffers of their own).
    #[cfg(test)]
    pub fn payload(&self) -> String {
        let mut out = Vec::with_capacity(512);
        self.write_payload(&mut out, Embedding::Plain);
        // Only UTF-8 went in: the fields are `str` and the writer adds ASCII.
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Where a rendered text goes: a `String` (the console's phone preview), or a string member
/// being written (escaped as it goes).
trait Text {
    fn push_str(&mut self, text: &str);
}

impl Text for String {
    fn push_str(&mut self, text: &str) {
        String::push_str(self, text);
    }
}

impl Text for StringPieces<'_> {
    fn push_str(&mut self, text: &str) {
        StringPieces::push_str(self, text);
    }
}

/// MESSAGE: the default text, or `template` with each `{FIELD}` replaced in one pass (a
/// value that itself looks like `{FIELD}` stays as it is); unknown `{…}` are kept.
fn render_message(out: &mut impl Text, n: &Notification, store: &str, template: &str) {
    if template == DEFAULT_MESSAGE {
        write_offer(out, n);
        out.push_str(" — ");
        push_whole_feet(out, n.dist_to_store_ft);
        out.push_str(" ft away");
        if !store.is_empty() {
            out.push_str(" in ");
            out.push_str(store);
        }
        return;
    }
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let field = after
            .find('}')
            .map(|close| (&after[..close], &after[close + 1..]));
        // An unknown name writes nothing: the brace is kept and scanning goes on after it.
        match field {
            Some((name, tail)) if write_field(out, name, n, store) => rest = tail,
            _ => {
                out.push_str("{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// Writes the template field `name` of `n`; `false` for a name that is not a field.
fn write_field(out: &mut impl Text, name: &str, n: &Notification, store: &str) -> bool {
    match name {
        "UID" => out.push_str(&n.uid),
        "PID" => out.push_str(&n.pid),
        "SKU" => {
            if let Some(sku) = n.sku {
                out.push_str(itoa::Buffer::new().format(sku));
            }
        }
        "SEGMENT" => out.push_str(n.segment.as_deref().unwrap_or_default()),
        "TITLE" => out.push_str(n.title.as_deref().unwrap_or_default()),
        "DISCOUNT_PCT" => {
            if let Some(d) = n.discount_pct {
                push_decimal(out, d.normalize());
            }
        }
        "STORE" => out.push_str(store),
        "DIST_TO_STORE" => push_whole_feet(out, n.dist_to_store_ft),
        "MATCHES" => out.push_str(itoa::Buffer::new().format(n.matches)),
        _ => return false,
    }
    true
}

/// `d` as it prints; a whole number (most discounts) without `fmt`'s machinery, which was
/// most of the cost of a notification record.
fn push_decimal(out: &mut impl Text, d: rust_decimal::Decimal) {
    if d.scale() == 0 {
        if let Ok(whole) = i64::try_from(d) {
            out.push_str(itoa::Buffer::new().format(whole));
            return;
        }
    }
    out.push_str(&d.to_string());
}

/// `ft` to the whole foot exactly as `format!("{ft:.0}")` writes it (ties to even on the
/// exact value, "-0" for a negative that rounds to zero), without `fmt`'s exact-decimal path.
fn push_whole_feet(out: &mut impl Text, ft: f64) {
    let whole = ft.round_ties_even();
    if whole.is_finite() && whole.abs() < 1e15 && !(whole == 0.0 && ft.is_sign_negative()) {
        out.push_str(itoa::Buffer::new().format(whole as i64));
    } else {
        out.push_str(&format!("{ft:.0}"));
    }
}

/// What a notification offers, as a push shows it: "15 % off Coffee week", leaving out what
/// the promotion does not say, and the discount once when the title names it already ("20% off
/// SKU 1130").
pub fn offer_text(n: &Notification) -> String {
    let mut offer = String::with_capacity(64);
    write_offer(&mut offer, n);
    offer
}

/// The offer, written through `out`. Whether anything was written decides the separators, so
/// that is tracked here rather than asked of `out` (a string member cannot be read back).
fn write_offer(out: &mut impl Text, n: &Notification) {
    let title = n.title.as_deref().unwrap_or_default();
    let discount = n.discount_pct.filter(|_| !title.contains('%'));
    if let Some(d) = discount {
        push_decimal(out, d.normalize());
        out.push_str(" % off");
    }
    if !title.is_empty() {
        if discount.is_some() {
            out.push_str(" ");
        }
        out.push_str(title);
    }
    if discount.is_none() && title.is_empty() {
        out.push_str("A promotion on SKU ");
        match n.sku {
            Some(sku) => out.push_str(itoa::Buffer::new().format(sku)),
            None => out.push_str("—"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::Value;

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
        assert_eq!((r.timestamp_ms, r.key()), (5, "u-1"));
        let v: Value = serde_json::from_str(&r.payload()).expect("JSON");
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
        let v: Value = serde_json::from_str(&r.payload()).expect("JSON");
        assert_eq!(v["MESSAGE"], "A promotion on SKU 1003 — 40 ft away");
        let r = notification_record(&bare, "CAN 1", "{UID} is {DIST_TO_STORE} ft from {STORE}");
        let v: Value = serde_json::from_str(&r.payload()).expect("JSON");
        assert_eq!(v["MESSAGE"], "u-1 is 40 ft from CAN 1");
        let says_it = Notification {
            title: Some(Arc::from("20% off SKU 1003")),
            ..n
        };
        let r = notification_record(&says_it, "Loop", DEFAULT_MESSAGE);
        let v: Value = serde_json::from_str(&r.payload()).expect("JSON");
        assert_eq!(v["MESSAGE"], "20% off SKU 1003 — 40 ft away in Loop");
    }

    #[test]
    fn the_value_written_inside_a_string_is_the_value_escaped() {
        let n = Notification {
            timestamp_ms: 5,
            uid: Arc::from("u \"1\""),
            pid: Arc::from("p\\1"),
            sku: Some(7),
            segment: Some(Arc::from("Seg\tA")),
            title: Some(Arc::from("Caf\u{e9} \u{1} week")),
            discount_pct: Some(rust_decimal::Decimal::new(125, 1)),
            product_at: None,
            dist_to_store_ft: 12.25,
            matches: 2,
        };
        let r = notification_record(&n, "Store \"North\"\n", DEFAULT_MESSAGE);
        let mut escaped = b"\"".to_vec();
        r.write_payload(&mut escaped, Embedding::InString);
        escaped.push(b'"');
        let decoded: String = serde_json::from_slice(&escaped).expect("a JSON string");
        assert_eq!(decoded, r.payload());
        let v: Value = serde_json::from_str(&decoded).expect("JSON");
        assert_eq!(v["STORE"], "Store \"North\"\n");
        assert_eq!(v["UID"], "u \"1\"");
    }

    #[test]
    fn a_template_is_filled_in_one_pass_and_keeps_what_it_does_not_know() {
        let n = Notification {
            timestamp_ms: 5,
            uid: Arc::from("u-1"),
            pid: Arc::from("p-1"),
            sku: None,
            segment: None,
            title: Some(Arc::from("{UID} {")),
            discount_pct: Some(rust_decimal::Decimal::new(1250, 2)),
            product_at: None,
            dist_to_store_ft: 7.6,
            matches: 3,
        };
        let template = "{TITLE}|{SKU}|{DISCOUNT_PCT}|{MATCHES}|{NOPE}|{|{DIST_TO_STORE}}";
        let r = notification_record(&n, "S", template);
        let payload = r.payload();
        let v: Value = serde_json::from_str(&payload).expect("JSON");
        assert_eq!(v["MESSAGE"], "{UID} {||12.5|3|{NOPE}|{|8}");
        assert_eq!(v["DISCOUNT_PCT"].to_string(), "12.5");
        assert_eq!(v["SKU"], Value::Null);
        let order: Vec<&str> = [
            "\"UID\"",
            "\"PID\"",
            "\"SKU\"",
            "\"MATCHES\"",
            "\"MESSAGE\"",
        ]
        .into_iter()
        .map(|name| &payload[payload.find(name).expect("field")..])
        .collect();
        assert!(
            order.windows(2).all(|w| w[0].len() > w[1].len()),
            "{payload}"
        );
    }

    #[test]
    fn whole_feet_and_decimals_print_as_fmt_prints_them() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            -0.4,
            -0.5,
            -1.5,
            40.4,
            99.5,
            100.0,
            0.49999999999999994,
            4503599627370495.5,
            1e16,
            1e300,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
        ];
        let mut x = 0.0;
        while x < 120.0 {
            values.push(x);
            x += 0.0625;
        }
        let mut seed = 7u64;
        for _ in 0..20_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            values.push((seed >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 50.0);
        }
        for v in values {
            let mut out = String::new();
            push_whole_feet(&mut out, v);
            assert_eq!(out, format!("{v:.0}"), "{v:?}");
        }
        for (units, scale) in [
            (15, 0),
            (150, 1),
            (1250, 2),
            (-7, 0),
            (0, 0),
            (i64::MAX, 0),
            (5, 3),
        ] {
            let d = rust_decimal::Decimal::new(units, scale);
            for d in [d, d.normalize()] {
                let mut out = String::new();
                push_decimal(&mut out, d);
                assert_eq!(out, d.to_string());
                let mut bytes = Vec::new();
                crate::engine::json_object::write_decimal(&mut bytes, d);
                assert_eq!(String::from_utf8(bytes).expect("utf-8"), d.to_string());
            }
        }
    }
}
