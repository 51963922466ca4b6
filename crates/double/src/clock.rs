//! The double's injectable clock: real time plus an offset that tests move forward, optionally frozen.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Default)]
struct ClockState {
    /// Added to real time while running.
    offset_ms: i64,
    /// When frozen, the time it shows (milliseconds since the epoch).
    frozen_at_ms: Option<i64>,
}

/// A clock shared by every clone. Code expiry, token expiry and the rate-limit window all read it.
///
/// It follows real time plus whatever [`Clock::advance`] added. [`Clock::freeze`] stops it (it then moves only by
/// `advance`), which makes timing-sensitive tests — the 7-per-second rate limit — deterministic.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    state: Arc<Mutex<ClockState>>,
}

fn real_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Clock {
    pub fn new() -> Clock {
        Clock::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Milliseconds since the Unix epoch, as the double sees it.
    pub fn now_millis(&self) -> i64 {
        let s = self.lock();
        s.frozen_at_ms.unwrap_or_else(|| real_ms() + s.offset_ms)
    }

    /// Seconds since the Unix epoch, as the double sees it (what goes into `iat`, `exp`, `server_time`).
    pub fn now_unix(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }

    /// The double's current time.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.now_millis().max(0) as u64)
    }

    /// Move the clock forward.
    pub fn advance(&self, by: Duration) {
        let ms = by.as_millis().min(i64::MAX as u128) as i64;
        let mut s = self.lock();
        match s.frozen_at_ms.as_mut() {
            Some(t) => *t = t.saturating_add(ms),
            None => s.offset_ms = s.offset_ms.saturating_add(ms),
        }
    }

    /// Stop the clock at the current time; from now on only [`Clock::advance`] moves it.
    pub fn freeze(&self) {
        let now = self.now_millis();
        self.lock().frozen_at_ms = Some(now);
    }

    /// Let the clock run again from where it stands.
    pub fn unfreeze(&self) {
        let mut s = self.lock();
        if let Some(t) = s.frozen_at_ms.take() {
            s.offset_ms = t - real_ms();
        }
    }

    /// Whether the clock is frozen.
    pub fn is_frozen(&self) -> bool {
        self.lock().frozen_at_ms.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_time_and_clones_share_it() {
        let c = Clock::new();
        let other = c.clone();
        let before = c.now_unix();
        c.advance(Duration::from_secs(25 * 3600));
        assert!(other.now_unix() >= before + 25 * 3600);
        assert!(other.now_unix() < before + 25 * 3600 + 60);
    }

    #[test]
    fn frozen_clock_moves_only_by_advance() {
        let c = Clock::new();
        c.freeze();
        assert!(c.is_frozen());
        let t = c.now_millis();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(c.now_millis(), t);
        c.advance(Duration::from_millis(1500));
        assert_eq!(c.now_millis(), t + 1500);
        c.unfreeze();
        assert!(c.now_millis() >= t + 1500);
        assert!(!c.is_frozen());
    }
}
