//! `spx log stale`: every secret with the date it last changed per the log, oldest first.
//!
//! A secret's last change is the newest row for its file and key whose action is `added` or
//! `changed` (a `data key rotated` or `recipients changed` row re-encrypts the same value, so
//! it does not count as rotating the secret). Hand-written rows count whatever their action
//! says, except `removed`; one without a file column matches the key in any file. Keys are
//! matched exactly.

use super::table::{self, Entry};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleEntry {
    pub file: String,
    pub key: String,
    /// `None` when the log never mentions it.
    pub last_changed: Option<DateTime<Utc>>,
    /// Whole days since the last change.
    pub age_days: Option<i64>,
    /// Never logged, or last changed longer ago than the limit.
    pub stale: bool,
}

fn counts_as_rotation(e: &Entry) -> bool {
    let action = e
        .action
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if e.spx_table {
        action == "added" || action == "changed"
    } else {
        !action.starts_with("removed")
    }
}

/// Every `(file, key)` of `keys` with its last change per `entries`; never-logged first, then
/// oldest first (ties by file and key).
pub fn stale(
    entries: &[Entry],
    keys: &[(String, String)],
    older_than: TimeDelta,
    now: DateTime<Utc>,
) -> Vec<StaleEntry> {
    let mut out: Vec<StaleEntry> = keys
        .iter()
        .map(|(file, key)| {
            let last = entries
                .iter()
                .filter(|e| e.key.as_deref() == Some(key.as_str()))
                .filter(|e| match &e.file {
                    Some(f) => {
                        f.strip_prefix("./").unwrap_or(f) == file.strip_prefix("./").unwrap_or(file)
                    }
                    None => !e.spx_table,
                })
                .filter(|e| counts_as_rotation(e))
                .filter_map(|e| e.date)
                .max();
            let age = last.map(|d| now.signed_duration_since(d));
            StaleEntry {
                file: file.clone(),
                key: key.clone(),
                last_changed: last,
                age_days: age.map(|a| a.num_days()),
                stale: age.is_none_or(|a| a > older_than),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.last_changed
            .is_some()
            .cmp(&b.last_changed.is_some())
            .then(a.last_changed.cmp(&b.last_changed))
            .then_with(|| a.file.cmp(&b.file))
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

/// The `(file, key)` pairs the log knows of and whose last row is not a removal, sorted. Used
/// by `spx log stale` when no list of the sops files' keys is available.
pub fn keys_from_log(entries: &[Entry]) -> Vec<(String, String)> {
    let mut known = BTreeSet::new();
    for e in entries.iter().filter(|e| e.spx_table) {
        if let (Some(f), Some(k)) = (&e.file, &e.key) {
            let pair = (f.clone(), k.clone());
            if e.action.as_deref().is_some_and(|a| a.trim() == "removed") {
                known.remove(&pair);
            } else {
                known.insert(pair);
            }
        }
    }
    known.into_iter().collect()
}

/// `90d`, `12w`, `6m` (a month is 30 days), `1y` (365 days).
pub fn parse_duration(s: &str) -> Option<TimeDelta> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
    if n < 0 {
        return None;
    }
    let days = match unit.to_ascii_lowercase() {
        'd' => n,
        'w' => n.checked_mul(7)?,
        'm' => n.checked_mul(30)?,
        'y' => n.checked_mul(365)?,
        _ => return None,
    };
    TimeDelta::try_days(days)
}

/// `--since`: a date (`2026-01-01`, `2026-01-01T10:00:00Z`) or a duration back from `now`
/// (`30d`).
pub fn parse_since(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    table::parse_date(s).or_else(|| parse_duration(s).and_then(|d| now.checked_sub_signed(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(file: Option<&str>, key: &str, date: &str, action: &str, spx: bool) -> Entry {
        Entry {
            line: 1,
            raw: String::new(),
            cells: vec![],
            spx_table: spx,
            chain: None,
            date: table::parse_date(date),
            file: file.map(Into::into),
            key: Some(key.into()),
            action: Some(action.into()),
            reason: None,
            rotator: None,
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d"), TimeDelta::try_days(90));
        assert_eq!(parse_duration("12w"), TimeDelta::try_days(84));
        assert_eq!(parse_duration("6m"), TimeDelta::try_days(180));
        assert_eq!(parse_duration("1y"), TimeDelta::try_days(365));
        assert_eq!(parse_duration(" 0d "), TimeDelta::try_days(0));
        for bad in [
            "",
            "d",
            "90",
            "-1d",
            "9x",
            "1.5d",
            "99999999999999999999d",
            "é",
            "9é",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(parse_duration("999999999999y"), None);
    }

    #[test]
    fn since_takes_dates_or_durations() {
        let now = table::parse_date("2026-11-23T10:00:00Z").unwrap();
        assert_eq!(
            parse_since("30d", now),
            table::parse_date("2026-10-24T10:00:00Z")
        );
        assert_eq!(
            parse_since("2026-01-01", now),
            table::parse_date("2026-01-01T00:00:00Z")
        );
        assert_eq!(parse_since("soon", now), None);
    }

    #[test]
    fn stale_orders_never_logged_then_oldest_and_flags_past_limit() {
        let now = table::parse_date("2026-11-23T00:00:00Z").unwrap();
        let entries = vec![
            entry(Some("a.yaml"), "x", "2026-01-01T00:00:00Z", "added", true),
            entry(Some("a.yaml"), "x", "2026-11-01T00:00:00Z", "changed", true),
            entry(Some("a.yaml"), "y", "2026-06-01T00:00:00Z", "changed", true),
            // a data key rotation does not refresh y
            entry(
                Some("a.yaml"),
                "y",
                "2026-11-20T00:00:00Z",
                "data key rotated",
                true,
            ),
            // hand-written history without a file column
            entry(None, "legacy", "2025-03-01", "rotated", false),
        ];
        let keys: Vec<(String, String)> = [
            ("a.yaml", "x"),
            ("a.yaml", "y"),
            ("b.yaml", "z"),
            ("b.yaml", "legacy"),
        ]
        .iter()
        .map(|(f, k)| (f.to_string(), k.to_string()))
        .collect();
        let out = stale(&entries, &keys, TimeDelta::try_days(90).unwrap(), now);
        let order: Vec<&str> = out.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(order, vec!["z", "legacy", "y", "x"]);
        assert!(out[0].stale && out[0].last_changed.is_none());
        assert!(out[1].stale);
        assert!(out[2].stale);
        assert_eq!(out[2].age_days, Some(175));
        assert!(!out[3].stale);
        assert_eq!(out[3].age_days, Some(22));
    }

    #[test]
    fn keys_from_log_drops_removed() {
        let entries = vec![
            entry(Some("a.yaml"), "x", "2026-01-01", "added", true),
            entry(Some("a.yaml"), "y", "2026-01-01", "added", true),
            entry(Some("a.yaml"), "y", "2026-02-01", "removed", true),
            entry(None, "legacy", "2025-03-01", "rotated", false),
        ];
        assert_eq!(
            keys_from_log(&entries),
            vec![("a.yaml".to_string(), "x".to_string())]
        );
    }
}
