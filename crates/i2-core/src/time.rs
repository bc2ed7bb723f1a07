//! Datetime encodings. Upstream keeps UTC everywhere; JSON uses DRF's ISO form with `Z`,
//! SQLite stores naive UTC text.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Timelike, Utc};

/// DRF's rendering: ISO-8601, microseconds only when non-zero, `Z` for UTC.
pub fn to_json(t: &DateTime<Utc>) -> String {
    if t.nanosecond() / 1000 == 0 {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    } else {
        t.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

/// Django's SQLite storage form: `2026-11-27 14:45:17.123456` (naive, UTC).
pub fn to_sqlite(t: &DateTime<Utc>) -> String {
    if t.nanosecond() / 1000 == 0 {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }
}

/// Parse what Django (or i2server) stored in SQLite; tolerant of `T`, offsets and fractions.
pub fn from_sqlite(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    None
}

/// Current time truncated to microseconds (the precision both databases keep).
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_matches_drf() {
        let t = from_sqlite("2026-11-27 13:19:35.389825").expect("parse");
        assert_eq!(to_json(&t), "2026-11-27T13:19:35.389825Z");
        let whole = from_sqlite("2026-11-27 13:19:35").expect("parse");
        assert_eq!(to_json(&whole), "2026-11-27T13:19:35Z");
    }

    #[test]
    fn sqlite_round_trip() {
        let t = now();
        assert_eq!(from_sqlite(&to_sqlite(&t)), Some(t));
        assert!(from_sqlite("2026-11-27T13:19:35+00:00").is_some());
        assert!(from_sqlite("not a time").is_none());
    }
}
