//! Live broadcasts by channel id, and tombstones of won ones.
//!
//! # Invariants
//! - At most one live broadcast per channel id.
//! - A won broadcast leaves a tombstone when it closes, so that late losers
//!   keep getting 409 for `timeout + TOMBSTONE_GRACE` after it closed, even
//!   once the channel left Stasis, hung up, or is broadcast again to others.
//! - Tombstones are bounded in number (`MAX_TOMBSTONES`) and expire.
//! - Locks are held only for map operations, never while talking to Asterisk.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::broadcast::{Broadcast, ClaimOutcome, Offered, Wake};
use super::error::Error;

/// How long after `timeout` a won broadcast keeps answering 409.
pub const TOMBSTONE_GRACE: Duration = Duration::from_secs(5);
/// Most tombstones kept; past it the first to expire go first.
pub const MAX_TOMBSTONES: usize = 16_384;
/// Distinct offered sets remembered for sharing (a pool of workers is one set).
const MAX_SETS: usize = 16;

struct Tombstone {
    offered: Arc<Offered>,
    expires: Instant,
}

/// One allocation per tombstone's channel id, shared by the map and the
/// expiry index; the offered set is shared with every other broadcast to the
/// same pool, so a tombstone costs about a hundred bytes whatever the pool's size.
#[derive(Default)]
struct Tombstones {
    by_channel: HashMap<Arc<str>, Tombstone>,
    /// By expiry, not by insertion: broadcasts have different timeouts, so a
    /// long one closed first must not hold back the purge of shorter ones
    /// closed after it. The sequence number keeps equal instants apart. An
    /// entry whose expiry no longer matches the map's (the channel was won
    /// again since) is stale.
    order: BTreeMap<(Instant, u64), Arc<str>>,
    seq: u64,
}

impl Tombstones {
    fn purge(&mut self, now: Instant) {
        loop {
            let over = self.order.len() > MAX_TOMBSTONES;
            let Some(first) = self.order.first_entry() else {
                break;
            };
            let expires = first.key().0;
            if expires > now && !over {
                break;
            }
            let id = first.remove();
            if self
                .by_channel
                .get(&*id)
                .is_some_and(|t| t.expires == expires)
            {
                self.by_channel.remove(&*id);
            }
        }
        // After a burst, give the memory back rather than keep the peak's capacity.
        if self.by_channel.capacity() > 256
            && self.by_channel.len() * 4 < self.by_channel.capacity()
        {
            self.by_channel.shrink_to(self.by_channel.len() * 2);
        }
    }

    fn insert(&mut self, id: &str, offered: Arc<Offered>, expires: Instant, now: Instant) {
        let id: Arc<str> = Arc::from(id);
        self.by_channel
            .insert(id.clone(), Tombstone { offered, expires });
        self.seq += 1;
        self.order.insert((expires, self.seq), id);
        self.purge(now);
    }

    fn conflicts(&mut self, id: &str, app: &str, now: Instant) -> bool {
        self.purge(now);
        self.by_channel
            .get(id)
            .is_some_and(|t| t.expires > now && t.offered.contains(app))
    }
}

/// All broadcasts the module knows of.
pub struct Registry<W> {
    live: Mutex<HashMap<String, Arc<Broadcast<W>>>>,
    tombstones: Mutex<Tombstones>,
    sets: Mutex<Vec<Weak<Offered>>>,
}

impl<W: Wake> Default for Registry<W> {
    fn default() -> Self {
        Registry {
            live: Mutex::new(HashMap::new()),
            tombstones: Mutex::new(Tombstones::default()),
            sets: Mutex::new(Vec::new()),
        }
    }
}

impl<W: Wake> Registry<W> {
    /// `offered`, shared with an equal set still in use if there is one: the
    /// broadcasts (and tombstones) of one pool of workers hold one copy.
    pub fn interned(&self, offered: Offered) -> Arc<Offered> {
        let mut sets = self.sets.lock();
        sets.retain(|w| w.strong_count() > 0);
        if let Some(same) = sets
            .iter()
            .filter_map(Weak::upgrade)
            .find(|s| **s == offered)
        {
            return same;
        }
        let set = Arc::new(offered);
        if sets.len() >= MAX_SETS {
            sets.remove(0);
        }
        sets.push(Arc::downgrade(&set));
        set
    }

    /// Makes `bc` the live broadcast of its channel.
    pub fn open(&self, bc: Broadcast<W>) -> Result<Arc<Broadcast<W>>, Error> {
        let mut live = self.live.lock();
        let id = bc.spec.channel_id.clone();
        if live.contains_key(&id) {
            return Err(Error::AlreadyBroadcasting(id));
        }
        let bc = Arc::new(bc);
        live.insert(id, bc.clone());
        Ok(bc)
    }

    /// The live broadcast of a channel.
    pub fn get(&self, channel_id: &str) -> Option<Arc<Broadcast<W>>> {
        self.live.lock().get(channel_id).cloned()
    }

    /// Decides a claim. The live broadcast answers if `app` was offered it;
    /// otherwise a tombstone that offered `app` answers 409; otherwise 404.
    /// Returns the broadcast the claim won, if it won.
    pub fn claim(
        &self,
        channel_id: &str,
        app: &str,
        now: Instant,
    ) -> (ClaimOutcome, Option<Arc<Broadcast<W>>>) {
        if let Some(bc) = self.get(channel_id) {
            if bc.offered().contains(app) {
                let outcome = bc.claim(app);
                let won = (outcome == ClaimOutcome::Won).then_some(bc);
                return (outcome, won);
            }
        }
        if self.tombstones.lock().conflicts(channel_id, app, now) {
            (ClaimOutcome::Conflict, None)
        } else {
            (ClaimOutcome::NotFound, None)
        }
    }

    /// Ends a broadcast: it leaves the live map (if it is still the live one of
    /// its channel) and, if won, leaves a tombstone.
    pub fn close(&self, bc: &Arc<Broadcast<W>>, now: Instant) {
        // An unclaimed broadcast is decided here, so no claim can win it later.
        let won = bc.close_unclaimed().is_some();
        {
            let mut live = self.live.lock();
            if live
                .get(&bc.spec.channel_id)
                .is_some_and(|l| Arc::ptr_eq(l, bc))
            {
                live.remove(&bc.spec.channel_id);
            }
        }
        if won {
            let expires = now + bc.spec.timeout + TOMBSTONE_GRACE;
            self.tombstones
                .lock()
                .insert(&bc.spec.channel_id, bc.offered().clone(), expires, now);
        }
    }

    /// Ends the live broadcast of a channel, if there is one.
    pub fn close_channel(&self, channel_id: &str, now: Instant) {
        if let Some(bc) = self.get(channel_id) {
            self.close(&bc, now);
        }
    }

    /// A snapshot of the live broadcasts, for operators.
    pub fn live(&self) -> Vec<Arc<Broadcast<W>>> {
        self.live.lock().values().cloned().collect()
    }

    /// Number of live broadcasts.
    pub fn live_count(&self) -> usize {
        self.live.lock().len()
    }

    /// Number of unexpired tombstones.
    pub fn tombstone_count(&self, now: Instant) -> usize {
        let mut t = self.tombstones.lock();
        t.purge(now);
        t.by_channel.len()
    }

    /// Ends every broadcast still waiting for a claim and wakes its waiter
    /// (module unload); returns how many there were. Won broadcasts stay: their
    /// winner's Stasis session goes on, and they close when it ends.
    pub fn close_waiting(&self, now: Instant) -> usize {
        let waiting: Vec<_> = self
            .live()
            .into_iter()
            .filter(|bc| bc.close_unclaimed().is_none())
            .collect();
        for bc in &waiting {
            self.close(bc, now);
            bc.waker().wake();
        }
        waiting.len()
    }
}

#[cfg(test)]
mod tests {
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
}
