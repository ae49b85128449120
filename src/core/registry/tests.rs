//! The registry's unit tests.

use super::super::broadcast::tests::{spec, CountingWaker};
use super::super::broadcast::State;
use super::*;

fn open(
    r: &Registry<CountingWaker>,
    id: &str,
    names: &[&str],
    now: Instant,
) -> Arc<Broadcast<CountingWaker>> {
    r.open(Broadcast::new(
        spec(id),
        Offered::new(names.iter().copied()),
        CountingWaker::default(),
        now,
    ))
    .unwrap()
}

#[test]
fn unknown_channel_is_not_found() {
    let r = Registry::<CountingWaker>::default();
    assert_eq!(
        r.claim("nope", "a", Instant::now()).0,
        ClaimOutcome::NotFound
    );
}

#[test]
fn one_live_broadcast_per_channel() {
    let r = Registry::default();
    let now = Instant::now();
    open(&r, "c", &["a"], now);
    let again = r.open(Broadcast::new(
        spec("c"),
        Offered::new(["a"]),
        CountingWaker::default(),
        now,
    ));
    assert!(matches!(again, Err(Error::AlreadyBroadcasting(_))));
}

#[test]
fn won_broadcast_answers_409_after_close_until_expiry() {
    let r = Registry::default();
    let t0 = Instant::now();
    let bc = open(&r, "c", &["a", "b"], t0);
    let (o, won) = r.claim("c", "a", t0);
    assert_eq!(o, ClaimOutcome::Won);
    assert!(Arc::ptr_eq(&won.unwrap(), &bc));
    r.close(&bc, t0);
    assert_eq!(r.live_count(), 0);
    let later = t0 + bc.spec.timeout + TOMBSTONE_GRACE - Duration::from_millis(1);
    assert_eq!(r.claim("c", "b", later).0, ClaimOutcome::Conflict);
    // Not offered: never a loser, so 404.
    assert_eq!(r.claim("c", "z", later).0, ClaimOutcome::NotFound);
    let expired = t0 + bc.spec.timeout + TOMBSTONE_GRACE;
    assert_eq!(r.claim("c", "b", expired).0, ClaimOutcome::NotFound);
    assert_eq!(r.tombstone_count(expired), 0);
}

#[test]
fn unclaimed_broadcast_leaves_nothing() {
    let r = Registry::default();
    let t0 = Instant::now();
    let bc = open(&r, "c", &["a"], t0);
    r.close(&bc, t0);
    assert_eq!(bc.state(), State::Closed);
    assert_eq!(r.claim("c", "a", t0).0, ClaimOutcome::NotFound);
    assert_eq!(r.tombstone_count(t0), 0);
}

#[test]
fn rebroadcast_to_another_pool_keeps_losers_at_409() {
    let r = Registry::default();
    let t0 = Instant::now();
    let first = open(&r, "c", &["p1-a", "p1-b"], t0);
    assert_eq!(r.claim("c", "p1-a", t0).0, ClaimOutcome::Won);
    r.close(&first, t0);
    let _second = open(&r, "c", &["p2-a", "p2-b"], t0);
    assert_eq!(r.claim("c", "p1-b", t0).0, ClaimOutcome::Conflict);
    assert_eq!(r.claim("c", "p2-b", t0).0, ClaimOutcome::Won);
    assert_eq!(r.claim("c", "p2-a", t0).0, ClaimOutcome::Conflict);
}

#[test]
fn rebroadcast_to_the_same_pool_is_claimable() {
    let r = Registry::default();
    let t0 = Instant::now();
    let first = open(&r, "c", &["a", "b"], t0);
    assert_eq!(r.claim("c", "a", t0).0, ClaimOutcome::Won);
    r.close(&first, t0);
    let second = open(&r, "c", &["a", "b"], t0);
    assert_eq!(r.claim("c", "b", t0).0, ClaimOutcome::Won);
    assert_eq!(second.winner(), Some("b"));
}

#[test]
fn equal_offered_sets_are_shared_and_freed_when_unused() {
    let r = Registry::<CountingWaker>::default();
    let a = r.interned(Offered::new(["x", "y"]));
    let b = r.interned(Offered::new(["y", "x"]));
    assert!(Arc::ptr_eq(&a, &b));
    let c = r.interned(Offered::new(["x"]));
    assert!(!Arc::ptr_eq(&a, &c));
    drop((a, b));
    let d = r.interned(Offered::new(["x", "y"]));
    assert_eq!(
        Arc::strong_count(&d),
        1,
        "a fresh set once the old one was dropped"
    );
    for i in 0..(MAX_SETS * 2) {
        let _ = r.interned(Offered::new([format!("p{i}")]));
    }
    assert!(r.sets.lock().len() <= MAX_SETS);
}

#[test]
fn tombstones_are_bounded() {
    let r = Registry::default();
    let t0 = Instant::now();
    for i in 0..(MAX_TOMBSTONES + 100) {
        let id = format!("c{i}");
        let bc = open(&r, &id, &["a"], t0);
        bc.claim("a");
        r.close(&bc, t0);
    }
    assert_eq!(r.tombstone_count(t0), MAX_TOMBSTONES);
    // The newest still answer 409, the oldest were evicted.
    assert_eq!(
        r.claim(&format!("c{}", MAX_TOMBSTONES + 99), "a", t0).0,
        ClaimOutcome::Conflict
    );
    assert_eq!(r.claim("c0", "a", t0).0, ClaimOutcome::NotFound);
}

/// A loser's claim that lands while the winner's broadcast is being closed
/// (between leaving its tombstone and taking it out of the live map) is
/// still a 409, never a 404.
#[test]
fn a_loser_claiming_mid_close_gets_409() {
    let r = Registry::default();
    let t0 = Instant::now();
    let bc = open(&r, "c", &["a", "b"], t0);
    assert_eq!(r.claim("c", "a", t0).0, ClaimOutcome::Won);
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    *r.mid_close.lock() = Some(Box::new(move |r: &Registry<CountingWaker>| {
        *s.lock() = Some(r.claim("c", "b", t0).0);
    }));
    r.close(&bc, t0);
    assert_eq!(*seen.lock(), Some(ClaimOutcome::Conflict));
    assert_eq!(r.claim("c", "b", t0).0, ClaimOutcome::Conflict);
}

/// Closing a broadcast from another thread (the optional API's cleanup,
/// the channel's destruction) wakes its waiter at once.
#[test]
fn closing_from_outside_wakes_the_waiter() {
    let r = Registry::default();
    let t0 = Instant::now();
    let a = open(&r, "a", &["x"], t0);
    r.close_channel("a", t0);
    assert_eq!(a.state(), State::Closed);
    assert_eq!(a.waker().0.load(std::sync::atomic::Ordering::SeqCst), 1);
    let b = open(&r, "b", &["x"], t0);
    assert_eq!(b.claim("x"), ClaimOutcome::Won);
    r.close(&b, t0);
    assert!(b.waker().0.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

#[test]
fn close_waiting_ends_the_waiting_and_keeps_the_won() {
    let r = Registry::default();
    let t0 = Instant::now();
    let a = open(&r, "a", &["x"], t0);
    open(&r, "b", &["x"], t0);
    let won = open(&r, "c", &["x"], t0);
    assert_eq!(won.claim("x"), ClaimOutcome::Won);
    assert_eq!(r.close_waiting(t0), 2);
    assert_eq!(a.state(), State::Closed);
    assert_eq!(a.waker().0.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(r.live_count(), 1);
    assert!(r.get("c").is_some());
    assert_eq!(r.claim("a", "x", t0).0, ClaimOutcome::NotFound);
}

/// A broadcast that would open after unload ended the waiting ones is
/// refused (it would wait unwoken in a module being unloaded); a refused
/// unload lets them open again.
#[test]
fn nothing_opens_between_close_waiting_and_reopen() {
    let r = Registry::<CountingWaker>::default();
    let t0 = Instant::now();
    r.close_waiting(t0);
    let late = r.open(Broadcast::new(
        spec("late"),
        Offered::new(["x"]),
        CountingWaker::default(),
        t0,
    ));
    assert!(matches!(late, Err(Error::Unloading)));
    assert_eq!(r.live_count(), 0);
    r.reopen();
    open(&r, "late", &["x"], t0);
    assert_eq!(r.live_count(), 1);
}

#[test]
fn a_long_tombstone_does_not_hold_back_shorter_ones_closed_after_it() {
    let mut t = Tombstones::default();
    let t0 = Instant::now();
    let offered = Arc::new(Offered::new(["a"]));
    t.insert("long", offered.clone(), t0 + Duration::from_secs(35), t0);
    t.insert("short", offered, t0 + Duration::from_secs(7), t0);
    let between = t0 + Duration::from_secs(8);
    assert!(!t.conflicts("short", "a", between));
    assert!(t.conflicts("long", "a", between));
    assert_eq!(t.by_channel.len(), 1, "the expired one is gone");
    assert_eq!(t.order.len(), 1);
}
