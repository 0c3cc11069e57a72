//! Human-readable durations ("11h 52m").

/// `43200` -> `12h`, `42720` -> `11h 52m`, `90` -> `1m 30s`, `0` -> `0s`.
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 {
        parts.push(format!("{m}m"));
    }
    if s > 0 && h == 0 {
        parts.push(format!("{s}s"));
    }
    if parts.is_empty() {
        "0s".into()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_well() {
        assert_eq!(super::duration(43_200), "12h");
        assert_eq!(super::duration(42_720), "11h 52m");
        assert_eq!(super::duration(90), "1m 30s");
        assert_eq!(super::duration(3_601), "1h");
        assert_eq!(super::duration(0), "0s");
    }
}

/// Epoch seconds as `2026-11-23T21:40:00Z` (UTC, proleptic Gregorian).
pub fn utc(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// "expires in 11h 52m" / "expired 5m ago".
pub fn expiry(seconds_left: i64) -> String {
    if seconds_left > 0 {
        format!("expires in {}", duration(seconds_left as u64))
    } else {
        format!("expired {} ago", duration(seconds_left.unsigned_abs()))
    }
}

#[cfg(test)]
mod utc_tests {
    #[test]
    fn formats_utc() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc(1_795_426_800), "2026-11-23T09:40:00Z");
        assert_eq!(super::utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::expiry(42_720), "expires in 11h 52m");
        assert_eq!(super::expiry(-300), "expired 5m ago");
    }
}
