//! Shoppers' ids as they leave the console: a keyed pseudonym, HMAC-SHA256 of the uid under
//! a key made once per installation. The same shopper gets the same pseudonym in every export
//! of one installation (an analyst can still follow a visit), and nobody without the key can
//! link it back to the uid the phone app knows, or match it across installations.
//!
//! A record is rewritten in its text, not re-encoded: only the uid's value (and the key, on
//! the topics keyed by uid) change, so every other byte — decimals, field order — stays as
//! the source wrote it.

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::json::{for_each_member, JsonValue};
use super::topic::{Payload, RawRecord, Topic};

/// Bytes of a pseudonymization key.
pub const KEY_BYTES: usize = 32;
/// A uid this long or longer is also replaced where it appears inside other strings (a
/// MESSAGE rendered with `{UID}`); shorter ones would hit digits of unrelated values.
const INLINE_MIN_CHARS: usize = 8;

#[derive(Clone, PartialEq, Eq)]
pub struct Pseudonyms {
    key: [u8; KEY_BYTES],
}

// The key stays out of logs and panics.
impl std::fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonyms(key hidden)")
    }
}

impl Pseudonyms {
    pub fn new(key: [u8; KEY_BYTES]) -> Pseudonyms {
        Pseudonyms { key }
    }

    /// `anon-` and 80 bits of HMAC-SHA256(key, uid) in hex.
    pub fn of(&self, uid: &str) -> String {
        // HMAC takes keys of any length, so this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return "anon-".to_owned();
        };
        mac.update(uid.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(25);
        out.push_str("anon-");
        for b in &digest[..10] {
            out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        out
    }

    /// `record` with its shopper's uid replaced: the payload's top-level `uid` member (any
    /// case, any scalar), that uid wherever else it stands in the payload's strings, and the
    /// record key on the topics keyed by uid.
    pub fn record(&self, record: &RawRecord<'_>) -> RawRecord<'static> {
        let keyed_by_uid = matches!(
            Topic::from_name(&record.topic),
            Some(Topic::CustomersLocations | Topic::NearbyCustomers)
        ) || record.topic == super::notification_record::NOTIFICATIONS_TOPIC;
        let text = record.payload.as_ref().map(Payload::text);
        let (payload, uid) = match &text {
            Some(text) => self.payload(text),
            None => (None, None),
        };
        let key = record.key.as_deref().map(|k| {
            if keyed_by_uid || uid.as_deref() == Some(k) {
                self.of(k)
            } else {
                k.to_owned()
            }
        });
        RawRecord {
            topic: Cow::Owned(record.topic.to_string()),
            partition: record.partition,
            offset: record.offset,
            timestamp_ms: record.timestamp_ms,
            key: key.map(Cow::Owned),
            headers: record.headers.clone(),
            payload: match payload {
                Some(p) => Some(Payload::from(p)),
                None => text.map(|t| Payload::from(t.into_owned())),
            },
        }
    }

    /// The payload with its uid replaced, and the uid; `None` when it names no uid.
    fn payload(&self, text: &str) -> (Option<String>, Option<String>) {
        let mut span = None;
        let _ = for_each_member(text, |name, value| {
            if !name.decode().eq_ignore_ascii_case("uid") {
                return;
            }
            let (raw, uid) = match value {
                JsonValue::String(s) => (s.raw(), s.decode().into_owned()),
                JsonValue::Number(n) => (n, n.to_owned()),
                JsonValue::Bool(b) => (if b { "true" } else { "false" }, b.to_string()),
                _ => return,
            };
            // The last of two spellings wins, as the decoder reads them.
            let start = raw.as_ptr() as usize - text.as_ptr() as usize;
            span = Some((
                start,
                start + raw.len(),
                uid,
                matches!(value, JsonValue::String(_)),
            ));
        });
        let Some((start, end, uid, quoted)) = span else {
            return (None, None);
        };
        let pseudonym = self.of(&uid);
        let (start, end) = if quoted {
            (start - 1, end + 1)
        } else {
            (start, end)
        };
        let mut out = String::with_capacity(text.len() + 32);
        let raw_uid =
            &text[if quoted { start + 1 } else { start }..if quoted { end - 1 } else { end }];
        let replace_inline = |part: &str, out: &mut String| {
            if raw_uid.chars().count() >= INLINE_MIN_CHARS {
                out.push_str(&part.replace(raw_uid, &pseudonym));
            } else {
                out.push_str(part);
            }
        };
        replace_inline(&text[..start], &mut out);
        out.push('"');
        out.push_str(&pseudonym);
        out.push('"');
        replace_inline(&text[end..], &mut out);
        (Some(out), Some(uid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(topic: &'a str, key: Option<&'a str>, payload: &'a str) -> RawRecord<'a> {
        RawRecord {
            topic: Cow::Borrowed(topic),
            partition: 0,
            offset: 7,
            timestamp_ms: Some(1),
            key: key.map(Cow::Borrowed),
            headers: Vec::new(),
            payload: Some(Payload::from(payload)),
        }
    }

    fn text(r: &RawRecord<'_>) -> String {
        r.payload.as_ref().expect("payload").text().into_owned()
    }

    #[test]
    fn pseudonyms_are_stable_per_key_and_differ_across_keys() {
        let a = Pseudonyms::new([1; KEY_BYTES]);
        let b = Pseudonyms::new([2; KEY_BYTES]);
        let uid = "a7d3e5f0-5d3c-4f8e-9b5e-1f2a3b4c5d6e";
        assert_eq!(a.of(uid), a.of(uid));
        assert_ne!(a.of(uid), b.of(uid));
        assert_ne!(a.of(uid), a.of("another"));
        assert_eq!(a.of(uid).len(), 25);
        assert!(a.of(uid).starts_with("anon-"));
        assert_eq!(format!("{a:?}"), "Pseudonyms(key hidden)");
    }

    #[test]
    fn only_the_uid_changes_and_every_other_byte_stays() {
        let p = Pseudonyms::new([9; KEY_BYTES]);
        let uid = "a7d3e5f0-5d3c-4f8e";
        let payload = format!(
            "{{\"uid\": \"{uid}\", \"latitude\": 41.880020, \"longitude\": -87.62805, \"country\": \"USA\"}}"
        );
        let r = p.record(&record("customers_locations", Some(uid), &payload));
        let anon = p.of(uid);
        assert_eq!(r.key.as_deref(), Some(anon.as_str()));
        assert_eq!(
            text(&r),
            format!("{{\"uid\": \"{anon}\", \"latitude\": 41.880020, \"longitude\": -87.62805, \"country\": \"USA\"}}")
        );
        assert_eq!((r.offset, r.timestamp_ms), (7, Some(1)));
    }

    #[test]
    fn upper_case_numeric_and_messages_are_covered_and_short_uids_stay_out_of_numbers() {
        let p = Pseudonyms::new([3; KEY_BYTES]);
        let uid = "shopper-0042";
        let n = format!(
            "{{\"UID\":\"{uid}\",\"PID\":\"p1\",\"MESSAGE\":\"Hi {uid}, 15 % off\",\"DIST_TO_STORE\":4.2}}"
        );
        let r = p.record(&record("PROMOTION_NOTIFICATIONS", Some(uid), &n));
        let out = text(&r);
        assert!(!out.contains(uid), "{out}");
        assert!(
            out.contains(&format!("Hi {}, 15 % off", p.of(uid))),
            "{out}"
        );
        let numeric = p.record(&record(
            "customers_locations",
            Some("4"),
            "{\"uid\":4,\"latitude\":41.4}",
        ));
        assert_eq!(
            text(&numeric),
            format!("{{\"uid\":\"{}\",\"latitude\":41.4}}", p.of("4"))
        );
        assert_eq!(numeric.key.as_deref(), Some(p.of("4").as_str()));
    }

    #[test]
    fn records_without_a_uid_keep_their_text_and_non_shopper_keys() {
        let p = Pseudonyms::new([3; KEY_BYTES]);
        let product = "{\"sku\": 1000, \"segment\": \"A\"}";
        let r = p.record(&record("stores_products", Some("1000"), product));
        assert_eq!(r.key.as_deref(), Some("1000"));
        assert_eq!(text(&r), product);
        let broken = p.record(&record(
            "customers_locations",
            Some("u-12345678"),
            "not json",
        ));
        assert_eq!(broken.key.as_deref(), Some(p.of("u-12345678").as_str()));
        assert_eq!(text(&broken), "not json");
    }
}
