//! The application: offer, wait, hand-over. Runs on the channel's PBX thread.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::asterisk::channel::Woken;
use crate::asterisk::eventfd::Wakeup;
use crate::asterisk::hold::FrameHold;
use crate::asterisk::json::Json;
use crate::asterisk::{stasis, Channel};
use crate::core::args::{self, BroadcastArgs};
use crate::core::broadcast::{Broadcast, Offered, Spec, State};
use crate::core::filter::Filter;
use crate::core::shuffle::shuffle;
use crate::core::stats::Stats;
use crate::core::Error;
use crate::module::ModuleState;

/// The broadcast as the module runs it.
pub type Live = Arc<Broadcast<Wakeup>>;

/// The channel variable the application sets.
const STATUS_VAR: &str = "STASISSTATUS";
/// Set to `DISABLED` beside `STASISSTATUS=FAILED` when the call was refused
/// because broadcasting is disabled (`stasis broadcast disable`), so that the
/// dialplan can send the call elsewhere (e.g. a 503 to the proxy).
const REASON_VAR: &str = "STASISBROADCAST_REASON";

/// Why a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitEnd {
    /// Won by a claim (or closed by unload: the caller looks at the latch).
    Decided,
    Deadline,
    Hangup,
}

/// `StasisBroadcast(...)`: returns what the application returns to the PBX.
pub fn exec(st: &ModuleState, chan: &Channel<'_>, data: &str) -> i32 {
    chan.set_var(STATUS_VAR, "");
    let name = chan.name();
    if !st.enabled.load(std::sync::atomic::Ordering::SeqCst) {
        verbose!(
            3,
            "Channel {name}: StasisBroadcast is disabled (stasis broadcast enable); offered to nobody"
        );
        Stats::bump(&st.stats.refused_disabled);
        chan.set_var(REASON_VAR, "DISABLED");
        chan.set_var(STATUS_VAR, "FAILED");
        return 0;
    }
    let args = args::parse(data);
    for w in &args.warnings {
        warning!("Channel {name}: {w}");
    }
    debug!(
        3,
        "Broadcasting channel {name} (timeout={}ms, filter={}, args={})",
        args.timeout_ms,
        args.filter.as_deref().unwrap_or("none"),
        args.stasis_args.len()
    );

    #[cfg(feature = "fault-injection")]
    crate::fault::arm(&args.stasis_args);
    let Some(bc) = start(st, chan, &args, true) else {
        chan.set_var(STATUS_VAR, "FAILED");
        return 0;
    };
    // Whatever happens from here on, the broadcast leaves the live map.
    let live = CloseOnDrop { st, bc: &bc };
    let end = wait(chan, &bc, Duration::from_millis(args.timeout_ms.into()));
    #[cfg(feature = "fault-injection")]
    crate::fault::exit_pause();

    // Decides an undecided broadcast: no claim can win it after this.
    let Some(winner) = bc.close_unclaimed().map(str::to_owned) else {
        drop(live);
        if end == WaitEnd::Hangup {
            verbose!(3, "Channel {name} hung up while waiting for a claim");
            Stats::bump(&st.stats.hangups);
        } else {
            warning!(
                "Channel {name}: not claimed within {}ms timeout",
                args.timeout_ms
            );
            Stats::bump(&st.stats.timed_out);
        }
        chan.set_var(STATUS_VAR, "TIMEOUT");
        // A hangup the channel is not marked with yet (the driver's hangup
        // frame, put back on its queue) must still end the dialplan.
        return if end == WaitEnd::Hangup && !chan.hung_up() {
            -1
        } else {
            0
        };
    };

    // (The claim itself was logged at verbose 3 where it was decided, as upstream does.)
    debug!(1, "Channel {name} claimed by {winner}, entering Stasis");
    let rc = stasis::exec(chan, &winner, &args.stasis_args);
    // Stays won (409 for late claims) until the session is over; then a tombstone.
    drop(live);
    Stats::bump(&st.stats.claimed);
    if rc == 0 {
        chan.set_var(STATUS_VAR, "SUCCESS");
        return 0;
    }
    Stats::bump(&st.stats.failed);
    chan.set_var(STATUS_VAR, "FAILED");
    if chan.hung_up() {
        -1
    } else {
        0
    }
}

/// `StasisBroadcast()` while the module is not running (unloaded, or being
/// unloaded): the application stays registered, and the call is offered to
/// nobody, as upstream's application does without its resource module.
pub fn exec_unloaded(chan: &Channel<'_>) -> i32 {
    chan.set_var(STATUS_VAR, "FAILED");
    error!(
        "Channel {}: app_stasis_broadcast is not loaded; the call was offered to no application",
        chan.name()
    );
    0
}

/// Closes the broadcast when dropped, on every path.
struct CloseOnDrop<'a> {
    st: &'a ModuleState,
    bc: &'a Live,
}

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.st.registry.close(self.bc, Instant::now());
    }
}

/// Opens a broadcast and offers the call: the event is built once, the
/// matching applications are shuffled, each gets a shallow copy. With
/// `watch_hangup`, claims are refused as soon as the caller hangs up. A
/// broadcast that cannot start is logged (ERROR) and counted as failed here,
/// for the application and the optional API alike.
pub fn start(
    st: &ModuleState,
    chan: &Channel<'_>,
    args: &BroadcastArgs,
    watch_hangup: bool,
) -> Option<Live> {
    match offer(st, chan, args, watch_hangup) {
        Ok(bc) => Some(bc),
        Err(e) => {
            error!(
                "Channel {}: {e}; the call was offered to no application",
                chan.name()
            );
            Stats::bump(&st.stats.failed);
            None
        }
    }
}

fn offer(
    st: &ModuleState,
    chan: &Channel<'_>,
    args: &BroadcastArgs,
    watch_hangup: bool,
) -> Result<Live, Error> {
    let filter = match args.filter.as_deref() {
        Some(p) => Some(
            st.filters
                .get(p)
                .inspect_err(|_| Stats::bump(&st.stats.bad_filters))?,
        ),
        None => None,
    };
    let event = Json::call_broadcast(chan)
        .ok_or_else(|| Error::Host("could not build the CallBroadcast event".into()))?;
    let mut names = stasis::app_names()
        .ok_or_else(|| Error::Host("could not list the Stasis applications".into()))?;
    names.retain(|n| filter.as_ref().is_none_or(|f| f.matches(n)));
    shuffle(&mut names);

    let waker = Wakeup::new(watch_hangup.then(|| chan.counted()))
        .map_err(|e| Error::Host(format!("eventfd: {e}")))?;
    let id = chan.uniqueid();
    // A broadcast left open by an earlier API caller on this channel is replaced.
    st.registry.close_channel(&id, Instant::now());
    let spec = Spec {
        channel_id: id,
        channel_name: chan.name(),
        filter,
        timeout: Duration::from_millis(args.timeout_ms.into()),
        notify_claimed: args.notify_claimed,
    };
    let bc = st.registry.open(Broadcast::new(
        spec,
        st.registry
            .interned(Offered::new(names.iter().map(String::as_str))),
        waker,
        Instant::now(),
    ))?;
    Stats::bump(&st.stats.started);
    st.stats
        .offered_total
        .fetch_add(names.len() as u64, std::sync::atomic::Ordering::Relaxed);
    for n in &names {
        if !stasis::send(n, &event) {
            debug!(
                1,
                "Channel {}: could not send CallBroadcast to '{n}'", bc.spec.channel_name
            );
        }
    }
    debug!(
        2,
        "Channel {}: offered to {} application(s)",
        bc.spec.channel_name,
        names.len()
    );
    Ok(bc)
}

/// Sleeps on the channel and the broadcast's wake-up together until a claim
/// decides it, the deadline passes, or the channel hangs up. No periodic
/// wake-ups. Media that arrives meanwhile is read and dropped, so that it does
/// not pile up on the channel; DTMF, text and control frames are kept aside
/// unprocessed (`FrameHold`) and go back to the channel when the wait ends, so
/// that the winner's Stasis session, or the dialplan after TIMEOUT, gets them
/// once and in order, as if nothing had read the channel.
pub fn wait(chan: &Channel<'_>, bc: &Live, timeout: Duration) -> WaitEnd {
    let deadline = Instant::now() + timeout;
    let waker = bc.waker();
    let hold = FrameHold::attach(chan);
    if hold.is_none() {
        warning!(
            "Channel {}: DTMF and control frames that arrive while the call waits cannot be kept (out of memory); \
             they are dropped",
            bc.spec.channel_name
        );
    }
    let end = loop {
        if bc.state() != State::Open {
            break WaitEnd::Decided;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break WaitEnd::Deadline;
        }
        // Round up so that the deadline has passed when the wait returns.
        let ms = i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
        match chan.wait_with_fd(waker.fd(), ms) {
            Woken::Fd => waker.drain(),
            Woken::Timeout => {}
            Woken::Error => break WaitEnd::Hangup,
            Woken::Channel => {
                let Some(f) = chan.read() else {
                    break WaitEnd::Hangup;
                };
                #[cfg(feature = "fault-injection")]
                let f = crate::fault::driver_hangup(f);
                // `ast_read` hands over a hangup frame only when the channel
                // driver returned it (a queued one reads as "no frame" and
                // marks the channel), so nothing else knows of the hangup
                // yet: it goes back to the head of the queue, where the next
                // reader finds it, as Asterisk's own waiting helpers leave it.
                if f.is_hangup() {
                    chan.requeue_front(&f);
                    break WaitEnd::Hangup;
                }
                // Anything else that reaches the wait is media (or a null
                // frame): dropped.
            }
        }
    };
    // After a hangup the kept frames are dropped, as Asterisk's waiting
    // helpers drop what they deferred.
    let over = hold.map_or(0, |h| h.end(end != WaitEnd::Hangup));
    if over > 0 {
        warning!(
            "Channel {}: {over} DTMF or control frame(s) beyond the ones kept while waiting were dropped",
            bc.spec.channel_name
        );
    }
    end
}

/// Sends CallClaimed to the registered applications the filter matches.
pub fn notify_claimed(bc: &Live, winner: &str) {
    let Some(event) = Json::call_claimed(&bc.spec.channel_id, winner) else {
        return;
    };
    let Some(names) = stasis::app_names() else {
        return;
    };
    let filter: Option<&Filter> = bc.spec.filter.as_ref();
    for n in names.iter().filter(|n| filter.is_none_or(|f| f.matches(n))) {
        stasis::send(n, &event);
    }
}
