//! The module's state while it is loaded, and the counters that let unload
//! wait for threads still inside the module.
//!
//! # Invariants
//! - `STATE` is `Some` exactly between a successful load and unload.
//! - Every entry point that uses the state holds an `InFlight` guard, so that
//!   unload can wait until no thread is left inside the module's code.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use crate::asterisk::eventfd::Wakeup;
use crate::core::filter::FilterCache;
use crate::core::registry::Registry;
use crate::core::stats::Stats;

/// Everything the module keeps while loaded.
pub struct ModuleState {
    pub registry: Registry<Wakeup>,
    pub filters: FilterCache,
    pub stats: Stats,
    pub loaded_at: Instant,
}

impl ModuleState {
    fn new() -> ModuleState {
        ModuleState {
            registry: Registry::default(),
            filters: FilterCache::default(),
            stats: Stats::default(),
            loaded_at: Instant::now(),
        }
    }
}

static STATE: RwLock<Option<Arc<ModuleState>>> = RwLock::new(None);

/// The state, while the module is loaded.
pub fn state() -> Option<Arc<ModuleState>> {
    STATE.read().clone()
}

/// Creates the state (load).
pub fn install() -> Arc<ModuleState> {
    let st = Arc::new(ModuleState::new());
    *STATE.write() = Some(st.clone());
    st
}

/// Removes the state (unload); threads that still hold it keep it alive.
pub fn uninstall() -> Option<Arc<ModuleState>> {
    STATE.write().take()
}

/// Which kind of entry a thread is in.
#[derive(Clone, Copy)]
pub enum Entry {
    /// A PBX thread in the application (possibly in a winner's Stasis session).
    Exec,
    /// A thread in one of the optional API functions (e.g. an HTTP claim).
    Api,
}

static EXEC_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static API_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

fn counter(e: Entry) -> &'static AtomicUsize {
    match e {
        Entry::Exec => &EXEC_IN_FLIGHT,
        Entry::Api => &API_IN_FLIGHT,
    }
}

/// Counts a thread inside the module for as long as it lives.
pub struct InFlight(Entry);

impl InFlight {
    pub fn enter(e: Entry) -> InFlight {
        counter(e).fetch_add(1, Ordering::SeqCst);
        InFlight(e)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        counter(self.0).fetch_sub(1, Ordering::SeqCst);
    }
}

/// Threads of kind `e` inside the module now.
pub fn in_flight(e: Entry) -> usize {
    counter(e).load(Ordering::SeqCst)
}

/// Waits up to `limit` for no thread of kind `e` to be inside; true if none is.
pub fn drain(e: Entry, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while in_flight(e) > 0 {
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}
