//! A report with everything that legitimately differs between two identical runs replaced by
//! placeholders: times, durations, loopback ports, generated UUIDs, `Date` headers. Snapshot
//! tests, determinism tests and run comparison all use it.

use serde_json::Value;

use super::model::Report;

const TIME_KEYS: &[&str] = &["started", "duration_ms", "elapsed_ms"];

pub fn normalized_json(report: &Report) -> Value {
    let mut value = serde_json::to_value(report).unwrap_or(Value::Null);
    normalize(&mut value);
    value
}

fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if TIME_KEYS.contains(&k.as_str()) {
                    *v = Value::String(format!("<{k}>"));
                } else {
                    normalize(v);
                }
            }
        }
        Value::Array(items) => {
            // Header pairs: ["date", "Sat, 21 Nov 2026 …"].
            if let [Value::String(name), Value::String(header_value)] = items.as_mut_slice()
                && name.eq_ignore_ascii_case("date")
            {
                *header_value = "<date>".into();
                return;
            }
            for item in items {
                normalize(item);
            }
        }
        Value::String(text) => *text = normalize_text(text),
        _ => {}
    }
}

/// Replaces loopback ports and UUIDs in free text.
pub fn normalize_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("127.0.0.1:") {
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            out.push_str("127.0.0.1:<port>");
            rest = &after[digits..];
            continue;
        }
        if rest.len() >= 19 && rest.is_char_boundary(19) && is_timestamp(&rest[..19]) {
            out.push_str("<time>");
            rest = &rest[19..];
            // Fractional seconds and offset belong to the timestamp.
            let bytes = rest.as_bytes();
            let mut tail = 0;
            if bytes.first() == Some(&b'.') && bytes.get(1).is_some_and(u8::is_ascii_digit) {
                tail = 1 + bytes[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            }
            match bytes.get(tail) {
                Some(b'Z') => tail += 1,
                Some(b'+' | b'-') if bytes.len() >= tail + 6 => tail += 6,
                _ => {}
            }
            rest = &rest[tail..];
            continue;
        }
        if rest.len() >= 36 && rest.is_char_boundary(36) && is_uuid(&rest[..36]) {
            out.push_str("<uuid>");
            rest = &rest[36..];
            continue;
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// `YYYY-MM-DDTHH:MM:SS`
fn is_timestamp(text: &str) -> bool {
    text.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    })
}

fn is_uuid(text: &str) -> bool {
    text.bytes().enumerate().all(|(i, b)| match i {
        8 | 13 | 18 | 23 => b == b'-',
        _ => b.is_ascii_hexdigit(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_uuids_are_replaced() {
        assert_eq!(
            normalize_text(
                "http://127.0.0.1:40123/FHIR/R4 id 0b7ab2a6-5d84-4bd2-a1f8-3b4bd1b3d5a9."
            ),
            "http://127.0.0.1:<port>/FHIR/R4 id <uuid>."
        );
        assert_eq!(normalize_text("é 127.0.0.1:"), "é 127.0.0.1:<port>");
        assert_eq!(
            normalize_text("until 2027-02-19T23:22:14+00:00."),
            "until <time>."
        );
    }
}
