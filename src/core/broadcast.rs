//! One broadcast: the applications it was offered to and the claim latch.
//!
//! # Invariants
//! - The latch moves out of `OPEN` at most once, by one compare-and-swap: to
//!   `CLOSED` (the waiting thread gave up: deadline or hangup) or to
//!   `WON_BASE + i` (the claim of `offered[i]` won). The winner is part of the
//!   same atomic word, so nobody can observe "won" without its winner.
//! - Only a name in the offered set can win.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::filter::Filter;

/// Something that wakes the thread waiting on a broadcast (an eventfd in the
/// module, a condition variable in tests). Called on a won claim.
pub trait Wake: Send + Sync + 'static {
    /// Wakes the waiter; must not block.
    fn wake(&self);

    /// Whether the caller is already gone (hung up), so that the call must not
    /// be won any more; must not block. The waiter ends the broadcast soon.
    fn abandoned(&self) -> bool {
        false
    }
}

const OPEN: usize = 0;
const CLOSED: usize = 1;
const WON_BASE: usize = 2;

/// The answer to one claim, as the optional API returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This claim won the call (HTTP 204).
    Won,
    /// No such broadcast, it ended unclaimed, or the claimant was not offered it (404).
    NotFound,
    /// Somebody else already won it (409).
    Conflict,
}

impl ClaimOutcome {
    /// The optional API's return code: 0, -1 or -2.
    pub fn code(self) -> i32 {
        match self {
            ClaimOutcome::Won => 0,
            ClaimOutcome::NotFound => -1,
            ClaimOutcome::Conflict => -2,
        }
    }
}

/// Where a broadcast stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Open,
    Closed,
    Won,
}

/// The applications one broadcast was offered to, sorted for lookup (the
/// order they were sent in is the caller's business).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Offered(Box<[Box<str>]>);

impl Offered {
    /// Builds the set; duplicates are dropped.
    pub fn new<I: IntoIterator<Item = S>, S: Into<Box<str>>>(names: I) -> Offered {
        let mut v: Vec<Box<str>> = names.into_iter().map(Into::into).collect();
        v.sort_unstable();
        v.dedup();
        Offered(v.into_boxed_slice())
    }

    /// Index of `name`, if it was offered.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.0.binary_search_by(|n| (**n).cmp(name)).ok()
    }

    /// Whether `name` was offered.
    pub fn contains(&self, name: &str) -> bool {
        self.index_of(name).is_some()
    }

    /// Number of applications offered.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nobody was offered the call.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|n| &**n)
    }

    fn get(&self, i: usize) -> Option<&str> {
        self.0.get(i).map(|n| &**n)
    }
}

/// What a broadcast was asked to do, kept for the claim path and for operators.
#[derive(Debug, Clone)]
pub struct Spec {
    pub channel_id: String,
    pub channel_name: String,
    pub filter: Option<Filter>,
    pub timeout: Duration,
    pub notify_claimed: bool,
}

/// One live broadcast.
pub struct Broadcast<W> {
    pub spec: Spec,
    pub started: Instant,
    offered: Arc<Offered>,
    latch: AtomicUsize,
    waker: W,
}

impl<W: Wake> Broadcast<W> {
    /// A new, open broadcast offered to `offered` (shared with other
    /// broadcasts to the same pool when it comes from `Registry::interned`).
    pub fn new(
        spec: Spec,
        offered: impl Into<Arc<Offered>>,
        waker: W,
        now: Instant,
    ) -> Broadcast<W> {
        Broadcast {
            spec,
            started: now,
            offered: offered.into(),
            latch: AtomicUsize::new(OPEN),
            waker,
        }
    }

    /// Tries to win the broadcast for `app`. Never blocks; wakes the waiter on a win.
    pub fn claim(&self, app: &str) -> ClaimOutcome {
        let Some(i) = self.offered.index_of(app) else {
            return ClaimOutcome::NotFound;
        };
        if self.state() == State::Open && self.waker.abandoned() {
            return ClaimOutcome::NotFound;
        }
        match self
            .latch
            .compare_exchange(OPEN, WON_BASE + i, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                self.waker.wake();
                ClaimOutcome::Won
            }
            Err(CLOSED) => ClaimOutcome::NotFound,
            Err(_) => ClaimOutcome::Conflict,
        }
    }

    /// Closes an open broadcast (deadline or hangup). Returns the winner if a
    /// claim got there first, in which case the broadcast stays won.
    pub fn close_unclaimed(&self) -> Option<&str> {
        match self
            .latch
            .compare_exchange(OPEN, CLOSED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => None,
            Err(_) => self.winner(),
        }
    }

    /// The winning application, once there is one.
    pub fn winner(&self) -> Option<&str> {
        match self.latch.load(Ordering::Acquire) {
            v if v >= WON_BASE => self.offered.get(v - WON_BASE),
            _ => None,
        }
    }

    /// Where the broadcast stands.
    pub fn state(&self) -> State {
        match self.latch.load(Ordering::Acquire) {
            OPEN => State::Open,
            CLOSED => State::Closed,
            _ => State::Won,
        }
    }

    /// The applications the call was offered to.
    pub fn offered(&self) -> &Arc<Offered> {
        &self.offered
    }

    /// The waker given at creation (the module reads its file descriptor).
    pub fn waker(&self) -> &W {
        &self.waker
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;
    use std::sync::Barrier;

    /// Counts wake-ups.
    #[derive(Default)]
    pub struct CountingWaker(pub AtomicU32);
    impl Wake for CountingWaker {
        fn wake(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub fn spec(id: &str) -> Spec {
        Spec {
            channel_id: id.into(),
            channel_name: format!("Local/{id}"),
            filter: None,
            timeout: Duration::from_millis(500),
            notify_claimed: false,
        }
    }

    fn bc(names: &[&str]) -> Broadcast<CountingWaker> {
        Broadcast::new(
            spec("c1"),
            Offered::new(names.iter().copied()),
            CountingWaker::default(),
            Instant::now(),
        )
    }

    #[test]
    fn first_claim_wins_later_ones_conflict() {
        let b = bc(&["a", "b"]);
        assert_eq!(b.state(), State::Open);
        assert_eq!(b.claim("b"), ClaimOutcome::Won);
        assert_eq!(b.claim("a"), ClaimOutcome::Conflict);
        assert_eq!(b.claim("b"), ClaimOutcome::Conflict);
        assert_eq!(b.winner(), Some("b"));
        assert_eq!(b.state(), State::Won);
        assert_eq!(b.waker().0.load(Ordering::SeqCst), 1);
        // Closing a won broadcast keeps the winner.
        assert_eq!(b.close_unclaimed(), Some("b"));
        assert_eq!(b.state(), State::Won);
    }

    #[test]
    fn only_offered_applications_can_claim() {
        let b = bc(&["a"]);
        assert_eq!(b.claim("x"), ClaimOutcome::NotFound);
        assert_eq!(b.claim(""), ClaimOutcome::NotFound);
        assert_eq!(b.state(), State::Open);
        assert_eq!(b.claim("a"), ClaimOutcome::Won);
        assert_eq!(b.claim("x"), ClaimOutcome::NotFound);
    }

    #[test]
    fn closed_broadcast_answers_not_found() {
        let b = bc(&["a"]);
        assert_eq!(b.close_unclaimed(), None);
        assert_eq!(b.claim("a"), ClaimOutcome::NotFound);
        assert_eq!(b.winner(), None);
        assert_eq!(b.waker().0.load(Ordering::SeqCst), 0);
    }

    struct Gone;
    impl Wake for Gone {
        fn wake(&self) {}
        fn abandoned(&self) -> bool {
            true
        }
    }

    #[test]
    fn an_abandoned_call_cannot_be_won() {
        let b = Broadcast::new(spec("c"), Offered::new(["a"]), Gone, Instant::now());
        assert_eq!(b.claim("a"), ClaimOutcome::NotFound);
        assert_eq!(b.state(), State::Open, "the waiter ends it");
    }

    #[test]
    fn codes() {
        assert_eq!(ClaimOutcome::Won.code(), 0);
        assert_eq!(ClaimOutcome::NotFound.code(), -1);
        assert_eq!(ClaimOutcome::Conflict.code(), -2);
    }

    #[test]
    fn offered_dedups_and_finds() {
        let o = Offered::new(["b", "a", "b"]);
        assert_eq!(o.len(), 2);
        assert!(o.contains("a") && o.contains("b") && !o.contains("c"));
    }

    #[test]
    fn exactly_one_winner_under_contention() {
        for round in 0..50 {
            let names: Vec<String> = (0..32).map(|i| format!("w{i}")).collect();
            let b = Arc::new(Broadcast::new(
                spec("c"),
                Offered::new(names.iter().map(String::as_str)),
                CountingWaker::default(),
                Instant::now(),
            ));
            let closer = round % 2 == 0;
            let threads = names.len() + usize::from(closer);
            let barrier = Arc::new(Barrier::new(threads));
            let mut handles = Vec::new();
            for n in names.clone() {
                let (b, barrier) = (b.clone(), barrier.clone());
                handles.push(std::thread::spawn(move || {
                    barrier.wait();
                    b.claim(&n)
                }));
            }
            let closed = closer.then(|| {
                let (b, barrier) = (b.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    b.close_unclaimed().is_none()
                })
            });
            let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            let won = outcomes.iter().filter(|o| **o == ClaimOutcome::Won).count();
            let closed_first = closed.map(|h| h.join().unwrap()).unwrap_or(false);
            if closed_first {
                assert_eq!(won, 0);
                assert!(outcomes.iter().all(|o| *o == ClaimOutcome::NotFound));
            } else {
                assert_eq!(won, 1);
                assert_eq!(
                    outcomes
                        .iter()
                        .filter(|o| **o == ClaimOutcome::Conflict)
                        .count(),
                    names.len() - 1
                );
                assert_eq!(b.waker().0.load(Ordering::SeqCst), 1);
            }
        }
    }
}
