//! Live broadcasts by channel id, and tombstones of won ones.
//!
//! # Invariants
//! - At most one live broadcast per channel id.
//! - A won broadcast leaves a tombstone when it closes, so that late losers
//!   keep getting 409 for `timeout + TOMBSTONE_GRACE` after it closed, even
//!   once the channel left Stasis, hung up, or is broadcast again to others.
//! - Tombstones are bounded in number (`MAX_TOMBSTONES`) and expire.
//! - Locks are held only for map operations, never while talking to Asterisk.
//! - Between `close_waiting` (unload) and `reopen`, no broadcast opens: none
//!   can start after unload ended the waiting ones and then wait unwoken.

use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use compact_str::CompactString;
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

/// A channel id of up to 24 bytes (Asterisk's own uniqueids, and most chosen
/// ones) is kept inline in both the map and the expiry index, and the offered
/// set is shared with every other broadcast to the same pool: a tombstone is
/// two slots of about a hundred bytes in all, whatever the pool's size, and no
/// allocation of its own that a burst would leave scattered in the allocator.
#[derive(Default)]
struct Tombstones {
    by_channel: HashMap<CompactString, Tombstone>,
    /// Soonest expiry first, not insertion order: broadcasts have different
    /// timeouts, so a long one closed first must not hold back the purge of
    /// shorter ones closed after it. The sequence number keeps equal instants
    /// apart. An entry whose expiry no longer matches the map's (the channel
    /// was won again since) is stale. A heap is one allocation, which
    /// `shrink_to` gives back after a burst (a tree's many small nodes stay in
    /// the allocator's free lists).
    order: BinaryHeap<Reverse<(Instant, u64, CompactString)>>,
    seq: u64,
}

impl Tombstones {
    fn purge(&mut self, now: Instant) {
        loop {
            let over = self.order.len() > MAX_TOMBSTONES;
            let Some(first) = self.order.peek_mut() else {
                break;
            };
            if first.0 .0 > now && !over {
                break;
            }
            let Reverse((expires, _, id)) = PeekMut::pop(first);
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
        if self.order.capacity() > 256 && self.order.len() * 4 < self.order.capacity() {
            self.order.shrink_to(self.order.len() * 2);
        }
    }

    fn insert(&mut self, id: &str, offered: Arc<Offered>, expires: Instant, now: Instant) {
        let id = CompactString::from(id);
        self.by_channel
            .insert(id.clone(), Tombstone { offered, expires });
        self.seq += 1;
        self.order.push(Reverse((expires, self.seq, id)));
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
    /// Set (under the live map's lock) while unload ends the waiting broadcasts.
    stopped: AtomicBool,
    /// Test hook: runs in the middle of `close`, between its critical sections.
    #[cfg(test)]
    mid_close: Mutex<Option<MidClose<W>>>,
}

#[cfg(test)]
type MidClose<W> = Box<dyn Fn(&Registry<W>) + Send + Sync>;

impl<W: Wake> Default for Registry<W> {
    fn default() -> Self {
        Registry {
            live: Mutex::new(HashMap::new()),
            tombstones: Mutex::new(Tombstones::default()),
            sets: Mutex::new(Vec::new()),
            stopped: AtomicBool::new(false),
            #[cfg(test)]
            mid_close: Mutex::new(None),
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

    /// Makes `bc` the live broadcast of its channel (refused while unloading).
    pub fn open(&self, bc: Broadcast<W>) -> Result<Arc<Broadcast<W>>, Error> {
        let mut live = self.live.lock();
        if self.stopped.load(Ordering::SeqCst) {
            return Err(Error::Unloading);
        }
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
    /// its channel) and, if won, leaves a tombstone; its waiter is woken, as
    /// the closing thread is often not the waiting one (the optional API's
    /// cleanup, the channel's destruction, unload).
    pub fn close(&self, bc: &Arc<Broadcast<W>>, now: Instant) {
        // An unclaimed broadcast is decided here, so no claim can win it later.
        let won = bc.close_unclaimed().is_some();
        // The tombstone goes in before the live entry goes out: a loser's claim
        // between the two finds one or the other (409), never neither (404).
        if won {
            let expires = now + bc.spec.timeout + TOMBSTONE_GRACE;
            self.tombstones
                .lock()
                .insert(&bc.spec.channel_id, bc.offered().clone(), expires, now);
        }
        #[cfg(test)]
        if let Some(hook) = self.mid_close.lock().as_ref() {
            hook(self);
        }
        {
            let mut live = self.live.lock();
            if live
                .get(&bc.spec.channel_id)
                .is_some_and(|l| Arc::ptr_eq(l, bc))
            {
                live.remove(&bc.spec.channel_id);
            }
        }
        bc.waker().wake();
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
    /// (module unload); returns how many there were. From now on no broadcast
    /// opens (until `reopen`), so none can start behind this sweep. Won
    /// broadcasts stay: their winner's Stasis session goes on, and they close
    /// when it ends.
    pub fn close_waiting(&self, now: Instant) -> usize {
        let waiting: Vec<_> = {
            let live = self.live.lock();
            self.stopped.store(true, Ordering::SeqCst);
            live.values().cloned().collect()
        };
        let waiting: Vec<_> = waiting
            .into_iter()
            .filter(|bc| bc.close_unclaimed().is_none())
            .collect();
        for bc in &waiting {
            self.close(bc, now);
        }
        waiting.len()
    }

    /// Lets broadcasts open again (an unload that was refused).
    pub fn reopen(&self) {
        self.stopped.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests;
