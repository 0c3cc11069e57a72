//! Is this token still good? The one expiry policy: AWS's expiration judged on AWS's clock
//! (this machine's clock plus the skew estimated from the `Date` of AWS's answer), with the
//! refresh margin `min(max(life/4, refresh_before), life/2)`.

use std::time::{SystemTime, UNIX_EPOCH};

/// A skew estimate further off than this is not believed (a broken `Date`, not a clock).
pub const MAX_SKEW: i64 = 24 * 3600;

/// Below this the estimate is noise: the `Date` header counts whole seconds.
pub const MIN_SKEW: i64 = 2;

/// Seconds since the Unix epoch on this machine's clock, now.
pub fn now() -> i64 {
    now_f64().floor() as i64
}

/// Like [`now`], with the fraction (for timers).
pub fn now_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// How long before expiry a token is replaced: a quarter of its life or `refresh_before`,
/// whichever is longer, but never more than half its life (so short tokens still get reused).
/// A 12 h token is replaced with 3 h left; a 15 min token with 7.5 min left.
pub fn refresh_margin(life: u64, refresh_before: u64) -> u64 {
    (life / 4).max(refresh_before).min(life / 2)
}

/// When a token expires, on both clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// AWS's expiration: epoch seconds on AWS's clock.
    pub expires_at: i64,
    /// When it was fetched: epoch seconds on this machine's clock.
    pub fetched_at: i64,
    /// AWS's clock minus this machine's (seconds), estimated when it was fetched.
    pub skew: i64,
}

impl Expiry {
    /// How long AWS made it live (its expiration minus when it was fetched, on AWS's clock).
    pub fn life(&self) -> u64 {
        (self.expires_at - (self.fetched_at + self.skew)).max(0) as u64
    }

    /// Seconds before it is replaced; see [`refresh_margin`].
    pub fn margin(&self, refresh_before: u64) -> u64 {
        refresh_margin(self.life(), refresh_before)
    }

    /// Seconds AWS will still accept it, at this machine's time `now`.
    pub fn seconds_left(&self, now: i64) -> i64 {
        self.expires_at - (now + self.skew)
    }

    /// AWS no longer accepts it.
    pub fn expired(&self, now: i64) -> bool {
        self.seconds_left(now) <= 0
    }

    /// It should be replaced now: expired, or no more than the margin left.
    pub fn needs_refresh(&self, now: i64, refresh_before: u64) -> bool {
        self.seconds_left(now) <= self.margin(refresh_before) as i64
    }

    /// This machine's time from which [`Expiry::expired`] holds.
    pub fn expires_at_local(&self) -> i64 {
        self.expires_at - self.skew
    }

    /// This machine's time from which [`Expiry::needs_refresh`] holds.
    pub fn refresh_at_local(&self, refresh_before: u64) -> i64 {
        self.expires_at_local() - self.margin(refresh_before) as i64
    }
}

/// The skew to store with a token AWS just issued: AWS's `Date` (whole seconds, so taken as
/// the middle of its second) minus the middle of the round trip on this machine's clock
/// (`sent`, `received`: epoch seconds). `None` (judge on this machine's clock) when the header
/// is missing or not an HTTP date, when the difference is within the header's resolution or
/// beyond [`MAX_SKEW`], or when it would make the token dead on arrival (`expires_at` is
/// AWS's expiration: a skew past it contradicts AWS's own answer).
pub fn estimate_skew(date: Option<&str>, sent: f64, received: f64, expires_at: i64) -> Option<i64> {
    let server = parse_http_date(date?.trim())? as f64 + 0.5;
    let midpoint = (sent + received) / 2.0;
    let skew = (server - midpoint).round() as i64;
    let believable = skew.abs() >= MIN_SKEW && skew.abs() <= MAX_SKEW;
    let alive = expires_at > received.floor() as i64 + skew;
    (believable && alive).then_some(skew)
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, the form RFC 9110 requires senders to
/// use) as epoch seconds; anything else is `None`.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let (_weekday, rest) = s.split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts[..] else {
        return None;
    };
    let number = |t: &str, len: usize| -> Option<i64> {
        (t.len() == len && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let day = number(day, 2)?;
    let year = number(year, 4)?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == month)? as i64
        + 1;
    let hms: Vec<&str> = time.split(':').collect();
    let [h, m, sec] = hms[..] else {
        return None;
    };
    let (h, m, sec) = (number(h, 2)?, number(m, 2)?, number(sec, 2)?);
    let days_in_month = match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=days_in_month).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec)
}

/// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expiry(expires_at: i64, fetched_at: i64, skew: i64) -> Expiry {
        Expiry {
            expires_at,
            fetched_at,
            skew,
        }
    }

    #[test]
    fn margins_follow_the_life_of_the_token() {
        assert_eq!(refresh_margin(43_200, 900), 10_800);
        assert_eq!(refresh_margin(900, 900), 450);
        assert_eq!(refresh_margin(3600, 900), 900);
        assert_eq!(refresh_margin(4, 900), 2);
        assert_eq!(refresh_margin(0, 900), 0);
        let t = expiry(43_200, 0, 0);
        assert_eq!(t.life(), 43_200);
        assert!(!t.needs_refresh(32_399, 900));
        assert!(t.needs_refresh(32_400, 900));
        assert_eq!(t.refresh_at_local(900), 32_400);
        assert!(!t.expired(43_199));
        assert!(t.expired(43_200));
        assert!(t.needs_refresh(50_000, 900));
    }

    #[test]
    fn a_clock_behind_aws_sees_the_token_age_on_aws_clock() {
        // AWS is 10 min ahead; a 15 min token fetched at local 1000 (AWS 1600).
        let t = expiry(1600 + 900, 1000, 600);
        assert_eq!(t.life(), 900, "the life is AWS's, not 1500");
        assert_eq!(
            t.margin(900),
            450,
            "the margin follows the rule on the true life"
        );
        assert_eq!(t.seconds_left(1000), 900);
        assert_eq!(t.refresh_at_local(900), 1450);
        assert!(!t.needs_refresh(1449, 900));
        assert!(t.needs_refresh(1450, 900));
        assert_eq!(t.expires_at_local(), 1900);
        assert!(t.expired(1900), "AWS considers it expired at local 1900");
        // Judged on this machine's clock alone it would look good until local 2500.
        let naive = expiry(2500, 1000, 0);
        assert!(!naive.expired(1900));
    }

    #[test]
    fn a_clock_ahead_of_aws_keeps_the_token_its_full_life() {
        // AWS is 5 min behind: a 1 h token fetched at local 10_000 (AWS 9_700).
        let t = expiry(9_700 + 3600, 10_000, -300);
        assert_eq!(t.life(), 3600);
        assert_eq!(t.seconds_left(10_000), 3600);
        assert_eq!(t.refresh_at_local(900), 10_000 + 3600 - 900);
        assert!(!t.expired(13_599));
        assert!(t.expired(13_600));
    }

    #[test]
    fn the_margin_never_shrinks_below_the_rule() {
        for skew in [-900, -1, 0, 1, 600, 840] {
            for life in [4_i64, 900, 3600, 43_200] {
                let t = expiry(5_000 + skew + life, 5_000, skew);
                assert_eq!(t.life(), life as u64);
                assert_eq!(t.margin(900), refresh_margin(life as u64, 900));
                let due = t.refresh_at_local(900);
                assert_eq!(
                    t.seconds_left(due),
                    refresh_margin(life as u64, 900) as i64,
                    "skew {skew}, life {life}"
                );
            }
        }
    }

    #[test]
    fn http_dates_parse_and_garbage_does_not() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"),
            Some(1_835_481_599)
        );
        for bad in [
            "",
            "yesterday",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 2100 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov +994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_skew_is_estimated_from_the_date_of_the_answer() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        let aws = 784_111_777_i64;
        let far = aws + 43_200;
        // This machine is 10 min behind; the answer took 0.2 s.
        let sent = (aws - 600) as f64 + 0.4;
        assert_eq!(estimate_skew(Some(date), sent, sent + 0.2, far), Some(600));
        // 5 min ahead.
        let sent = (aws + 300) as f64 + 0.1;
        assert_eq!(estimate_skew(Some(date), sent, sent + 0.3, far), Some(-300));
        // In step, give or take the header's whole second: no skew.
        let sent = aws as f64 + 0.9;
        assert_eq!(estimate_skew(Some(date), sent, sent + 0.5, far), None);
        assert_eq!(estimate_skew(Some(date), sent - 1.0, sent, far), None);
    }

    #[test]
    fn a_missing_garbage_or_absurd_date_is_ignored() {
        let aws = 784_111_777_i64;
        let far = aws + 43_200;
        let sent = (aws - 600) as f64;
        assert_eq!(estimate_skew(None, sent, sent, far), None);
        assert_eq!(estimate_skew(Some("not a date"), sent, sent, far), None);
        assert_eq!(estimate_skew(Some(""), sent, sent, far), None);
        // two days off: a broken header, not a clock
        let sent = (aws - 2 * 86_400) as f64;
        assert_eq!(
            estimate_skew(
                Some("Sun, 06 Nov 1994 08:49:37 GMT"),
                sent,
                sent,
                far + 86_400 * 3
            ),
            None
        );
        // a skew that would make the token AWS just issued dead on arrival contradicts AWS
        let sent = (aws - 3600) as f64;
        assert_eq!(
            estimate_skew(
                Some("Sun, 06 Nov 1994 08:49:37 GMT"),
                sent,
                sent,
                aws - 1800
            ),
            None
        );
    }
}
