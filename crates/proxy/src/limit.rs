//! Sliding windows per key, for the rate limits and the pacing: no key gets more than `per_window` requests into any
//! span of `window` (one second for the rate limits; Kommo answers 429 above 7 requests per second and blocks IPs
//! that keep trying).
//!
//! [`SlidingWindow::check_at`] refuses a request that finds the window full; [`SlidingWindow::reserve_at`] instead
//! books the first moment the window has room — when that is no further away than a given wait — so a caller can
//! hold the request until then (the pacing of requests to one account host).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window length of the rate limits.
pub const WINDOW: Duration = Duration::from_secs(1);

/// A keyed sliding-window limiter.
#[derive(Debug)]
pub struct SlidingWindow<K> {
    per_window: usize,
    window: Duration,
    state: Mutex<State<K>>,
}

#[derive(Debug)]
struct State<K> {
    /// Per key, the times counted (booked ones may lie ahead), oldest first.
    seen: HashMap<K, VecDeque<Instant>>,
    calls: u64,
}

impl<K: Eq + Hash + Clone> SlidingWindow<K> {
    /// At most `per_window` requests per key in any [`WINDOW`]; 0 never limits.
    pub fn new(per_window: u32) -> Self {
        SlidingWindow::with_window(per_window, WINDOW)
    }

    /// At most `per_window` requests per key in any span of `window`; 0 never limits.
    pub fn with_window(per_window: u32, window: Duration) -> Self {
        SlidingWindow {
            per_window: per_window as usize,
            window,
            state: Mutex::new(State {
                seen: HashMap::new(),
                calls: 0,
            }),
        }
    }

    /// The window length.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Count a request at `now`; `Err(wait)` says how long until one more would be allowed (and counts nothing).
    pub fn check_at(&self, key: &K, now: Instant) -> Result<(), Duration> {
        self.reserve_at(key, now, Duration::ZERO).map(|_| ())
    }

    /// Count a request now.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    /// Book the first moment at or after `now` when one more request fits the window for `key`, and return it;
    /// `Err(wait)` when that moment is more than `max_wait` away (then nothing is booked). Every `per_window + 1`
    /// booked moments of a key span at least the window, so none of its windows holds more than `per_window`.
    pub fn reserve_at(
        &self,
        key: &K,
        now: Instant,
        max_wait: Duration,
    ) -> Result<Instant, Duration> {
        if self.per_window == 0 {
            return Ok(now);
        }
        let window = self.window;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.calls += 1;
        #[allow(clippy::manual_is_multiple_of)]
        // is_multiple_of needs Rust 1.87; the workspace allows 1.85
        if state.calls % 1024 == 0 || state.seen.len() > 100_000 {
            state.seen.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < window)
            });
        }
        let queue = state.seen.entry(key.clone()).or_default();
        while queue
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            queue.pop_front();
        }
        // The booked moments only grow (a full window books one window after its `per_window`-th latest), so
        // the `per_window`-th latest is the one the new moment must be a window away from.
        let slot = match queue.len().checked_sub(self.per_window) {
            Some(i) => now.max(queue[i] + window),
            None => now,
        };
        let wait = slot.saturating_duration_since(now);
        if wait > max_wait {
            return Err(wait);
        }
        // Callers on other threads may come with a slightly earlier `now`: keep the queue in order.
        let at = queue.iter().rposition(|t| *t <= slot).map_or(0, |i| i + 1);
        queue.insert(at, slot);
        Ok(slot)
    }

    /// [`SlidingWindow::reserve_at`] now.
    pub fn reserve(&self, key: &K, max_wait: Duration) -> Result<Instant, Duration> {
        self.reserve_at(key, Instant::now(), max_wait)
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

    /// The most of these moments (in order) that fall within one span shorter than `window`.
    fn most_in_one_window(times: &[Instant], window: Duration) -> usize {
        (0..times.len())
            .map(|i| {
                times[i..]
                    .iter()
                    .take_while(|t| t.duration_since(times[i]) < window)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

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
        let most = most_in_one_window(&allowed, WINDOW);
        assert!(most <= 7, "{most} in one window");
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

    #[test]
    fn booked_moments_keep_every_window_under_the_limit() {
        let window = Duration::from_millis(1100);
        let l = SlidingWindow::with_window(6, window);
        assert_eq!(l.window(), window);
        let t0 = Instant::now();
        // Requests come in bursts and trickles (a fixed pseudo-random sequence of gaps from 0 to 300 ms).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut now = t0;
        let mut booked = Vec::new();
        for _ in 0..200 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            now += Duration::from_millis(x % 4 * 100);
            let slot = l.reserve_at(&"k", now, Duration::from_secs(3600)).unwrap();
            assert!(slot >= now, "never before the request came");
            booked.push(slot);
        }
        assert!(booked.windows(2).all(|w| w[0] <= w[1]), "in order");
        assert_eq!(most_in_one_window(&booked, window), 6);
        // Nothing is held back without need: a request that finds room leaves at once.
        let later = now + Duration::from_secs(3600);
        assert_eq!(l.reserve_at(&"k", later, Duration::ZERO), Ok(later));
    }

    #[test]
    fn a_booking_further_away_than_the_wait_is_refused_and_not_counted() {
        let window = Duration::from_millis(1100);
        let l = SlidingWindow::with_window(6, window);
        let t0 = Instant::now();
        let max_wait = Duration::from_secs(2);
        let answers: Vec<_> = (0..20).map(|_| l.reserve_at(&"k", t0, max_wait)).collect();
        let at = |n: u32| Ok(t0 + window * n);
        assert!(answers[..6].iter().all(|a| *a == at(0)), "{answers:?}");
        assert!(answers[6..12].iter().all(|a| *a == at(1)), "{answers:?}");
        assert!(
            answers[12..].iter().all(|a| *a == Err(window * 2)),
            "{answers:?}"
        );
        // The refused ones booked nothing: once the first six have left the window, there is room again.
        let next = t0 + window + Duration::from_millis(1);
        assert_eq!(l.reserve_at(&"k", next, max_wait), Ok(t0 + window * 2));
        assert_eq!(
            l.reserve_at(&"other", t0, Duration::ZERO),
            Ok(t0),
            "keys are apart"
        );
    }
}
