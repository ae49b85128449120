//! The module's state while it is loaded, and the counters that let unload
//! wait for threads still inside the module.
//!
//! # Invariants
//! - `STATE` is `Some` exactly between a successful load and unload (or a
//!   refused unload that Asterisk carried out anyway: the next load resumes it).
//! - `ACCEPTING` is true only while `STATE` is `Some` and the entries are open:
//!   the application, which stays registered, starts no broadcast otherwise.
//! - Every entry point holds an `InFlight` guard of its kind (`Entry`) while
//!   it runs, so that unload can wait until no thread is left inside; a kind
//!   declared in `entries!` is counted and drained without further edits.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use crate::asterisk::eventfd::Wakeup;
use crate::core::filter::FilterCache;
use crate::core::registry::Registry;
use crate::core::stats::Stats;

/// Everything the module keeps while loaded.
pub struct ModuleState {
    /// Whether new calls are offered (`stasis broadcast enable|disable`):
    /// the drain switch an operator uses before restarting a node.
    pub enabled: AtomicBool,
    pub registry: Registry<Wakeup>,
    pub filters: FilterCache,
    pub stats: Stats,
    pub loaded_at: Instant,
}

impl ModuleState {
    fn new() -> ModuleState {
        ModuleState {
            enabled: AtomicBool::new(true),
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

/// Whether the application takes calls: from a load's last step to the first
/// step of an unload (the application stays registered in between).
static ACCEPTING: AtomicBool = AtomicBool::new(false);

/// Whether `StasisBroadcast()` may start a broadcast now.
pub fn accepting() -> bool {
    ACCEPTING.load(Ordering::SeqCst)
}

/// Opens or closes the application's gate.
pub fn set_accepting(on: bool) {
    ACCEPTING.store(on, Ordering::SeqCst);
}

/// Declares `Entry` and `Entry::ALL` from one list, so that a new kind of
/// entry is counted and drained by unload without further edits.
macro_rules! entries {
    ($($(#[$doc:meta])* $kind:ident => $what:literal,)+) => {
        /// Which kind of entry a thread is in.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Entry {
            $($(#[$doc])* $kind,)+
        }

        impl Entry {
            /// Every kind, in declaration order.
            pub const ALL: &'static [Entry] = &[$(Entry::$kind,)+];

            /// What a thread of this kind is doing, for operators.
            pub fn what(self) -> &'static str {
                match self {
                    $(Entry::$kind => $what,)+
                }
            }
        }
    };
}

entries! {
    /// A PBX thread in the application (possibly in a winner's Stasis session).
    Exec => "in StasisBroadcast (waiting, or in a winner's Stasis session)",
    /// A thread in one of the optional API functions (e.g. an HTTP claim).
    Api => "in the optional API (claims, C callers)",
    /// A thread in one of Asterisk's callbacks: CLI, metrics, channel destruction.
    Callback => "in a CLI command, a metrics scrape or a channel's destruction",
}

static IN_FLIGHT: [AtomicUsize; Entry::ALL.len()] =
    [const { AtomicUsize::new(0) }; Entry::ALL.len()];

fn counter(e: Entry) -> &'static AtomicUsize {
    &IN_FLIGHT[e as usize]
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

/// Waits until no thread of any kind is inside the module, sharing one time
/// limit; on `Err`, the kinds still inside and how many of each.
pub fn drain_all(limit: Duration) -> Result<(), Vec<(Entry, usize)>> {
    let until = Instant::now() + limit;
    loop {
        let busy: Vec<_> = Entry::ALL
            .iter()
            .map(|&e| (e, in_flight(e)))
            .filter(|&(_, n)| n > 0)
            .collect();
        if busy.is_empty() {
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(busy);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
