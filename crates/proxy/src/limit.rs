//! Per-client rate limit: a sliding one-second window per key, so that no key gets more than `per_second` requests
//! into any one-second span (Kommo answers 429 above 7 requests per second and blocks IPs that keep trying).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window length.
pub const WINDOW: Duration = Duration::from_secs(1);

/// A keyed sliding-window limiter.
#[derive(Debug)]
pub struct SlidingWindow<K> {
    per_window: usize,
    state: Mutex<State<K>>,
}

#[derive(Debug)]
struct State<K> {
    seen: HashMap<K, VecDeque<Instant>>,
    calls: u64,
}

impl<K: Eq + Hash + Clone> SlidingWindow<K> {
    /// At most `per_window` requests per key in any [`WINDOW`]; 0 never limits.
    pub fn new(per_window: u32) -> Self {
        SlidingWindow {
            per_window: per_window as usize,
            state: Mutex::new(State {
                seen: HashMap::new(),
                calls: 0,
            }),
        }
    }

    /// Count a request at `now`; `Err(wait)` says how long until one more would be allowed.
    pub fn check_at(&self, key: &K, now: Instant) -> Result<(), Duration> {
        if self.per_window == 0 {
            return Ok(());
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.calls += 1;
        #[allow(clippy::manual_is_multiple_of)]
        // is_multiple_of needs Rust 1.87; the workspace allows 1.85
        if state.calls % 1024 == 0 || state.seen.len() > 100_000 {
            state.seen.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < WINDOW)
            });
        }
        let queue = state.seen.entry(key.clone()).or_default();
        while queue
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
        {
            queue.pop_front();
        }
        if queue.len() >= self.per_window {
            let oldest = *queue.front().expect("full queue");
            return Err((oldest + WINDOW).saturating_duration_since(now));
        }
        queue.push_back(now);
        Ok(())
    }

    /// Count a request now.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    /// How many keys are tracked (for tests).
    pub fn tracked(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .seen
            .len()
    }
}

/// `Retry-After` seconds for a wait: rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_more_than_the_limit_in_any_window() {
        let l = SlidingWindow::new(7);
        let t0 = Instant::now();
        let mut allowed = Vec::new();
        // One attempt every 50 ms for 5 seconds.
        for i in 0..100u64 {
            let t = t0 + Duration::from_millis(50 * i);
            if l.check_at(&"k", t).is_ok() {
                allowed.push(t);
            }
        }
        for (i, start) in allowed.iter().enumerate() {
            let in_window = allowed[i..]
                .iter()
                .take_while(|t| t.duration_since(*start) < WINDOW)
                .count();
            assert!(in_window <= 7, "{in_window} in one window");
        }
        // And it does not starve: roughly 7 per second over 5 seconds.
        assert!(allowed.len() >= 30, "{}", allowed.len());
    }

    #[test]
    fn wait_and_keys() {
        let l = SlidingWindow::new(2);
        let t0 = Instant::now();
        assert!(l.check_at(&"a", t0).is_ok());
        assert!(l.check_at(&"a", t0 + Duration::from_millis(100)).is_ok());
        let wait = l
            .check_at(&"a", t0 + Duration::from_millis(300))
            .unwrap_err();
        assert_eq!(wait, Duration::from_millis(700));
        assert_eq!(retry_after_secs(wait), 1);
        assert!(
            l.check_at(&"b", t0 + Duration::from_millis(300)).is_ok(),
            "another key has its own window"
        );
        assert!(l.check_at(&"a", t0 + Duration::from_millis(1000)).is_ok());
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }

    #[test]
    fn zero_means_off_and_old_keys_are_dropped() {
        let off = SlidingWindow::new(0);
        let t0 = Instant::now();
        for _ in 0..100 {
            assert!(off.check_at(&1u32, t0).is_ok());
        }
        let l = SlidingWindow::new(1);
        for k in 0..2000u32 {
            let _ = l.check_at(&k, t0);
        }
        assert!(l.tracked() >= 1000);
        for k in 0..1024u32 {
            let _ = l.check_at(&(10_000 + k), t0 + Duration::from_secs(5));
        }
        assert!(l.tracked() <= 1024, "{}", l.tracked());
    }
}
