//! The five functions of `asterisk/stasis_app_broadcast.h`, over the module's
//! registry. Asterisk's `POST /ari/events/claim` (res_ari_events) reaches
//! `claim`; the others serve C callers that drive a broadcast themselves.

use std::time::{Duration, Instant};

use crate::app::{self, WaitEnd};
use crate::asterisk::Channel;
use crate::core::args::BroadcastArgs;
use crate::core::broadcast::{ClaimOutcome, State};
use crate::core::stats::Stats;
use crate::module::ModuleState;

/// `STASIS_BROADCAST_FLAG_SUPPRESS_CLAIMED` of the header.
pub const FLAG_SUPPRESS_CLAIMED: u32 = 1;
/// The header's own cap on a wait (24 h), against overflow.
const MAX_WAIT_MS: i32 = 24 * 60 * 60 * 1000;

/// `stasis_app_broadcast_channel`: 0, or -1 (a bad filter offers to nobody).
pub fn broadcast_channel(
    st: &ModuleState,
    chan: &Channel<'_>,
    timeout_ms: i32,
    filter: Option<String>,
    flags: u32,
) -> i32 {
    let args = BroadcastArgs {
        timeout_ms: timeout_ms.clamp(0, MAX_WAIT_MS) as u32,
        filter: filter.filter(|f| !f.is_empty()),
        notify_claimed: flags & FLAG_SUPPRESS_CLAIMED == 0,
        ..BroadcastArgs::default()
    };
    match app::start(st, chan, &args, false) {
        // The caller may never call cleanup: the channel's end closes it then.
        Some(_) if chan.watch() => 0,
        Some(_) => {
            error!(
                "Channel {}: could not watch the channel; broadcast not started",
                chan.name()
            );
            cleanup(st, &chan.uniqueid());
            -1
        }
        None => -1,
    }
}

/// `stasis_app_claim_channel`: 0 won, -1 not found / not offered, -2 already claimed.
pub fn claim(st: &ModuleState, channel_id: &str, app_name: &str) -> i32 {
    #[cfg(feature = "fault-injection")]
    crate::fault::claim_pause();
    if channel_id.is_empty() || app_name.is_empty() {
        Stats::bump(&st.stats.claims_not_found);
        return ClaimOutcome::NotFound.code();
    }
    let (outcome, won) = st.registry.claim(channel_id, app_name, Instant::now());
    match outcome {
        ClaimOutcome::Won => {
            Stats::bump(&st.stats.claims_won);
            if let Some(bc) = won {
                st.stats.record_latency(bc.started.elapsed());
                verbose!(
                    3,
                    "Channel {} claimed by application {app_name}",
                    bc.spec.channel_name
                );
                if bc.spec.notify_claimed {
                    app::notify_claimed(&bc, app_name);
                }
            }
        }
        ClaimOutcome::Conflict => {
            Stats::bump(&st.stats.claims_conflict);
            debug!(
                1,
                "Channel {channel_id}: claim by {app_name} denied, already claimed"
            );
        }
        ClaimOutcome::NotFound => {
            Stats::bump(&st.stats.claims_not_found);
            match st.registry.get(channel_id) {
                Some(bc) if !bc.offered().contains(app_name) => notice!(
                    "Channel {}: claim by application '{}' refused: it was not offered this call",
                    bc.spec.channel_name,
                    app_name.escape_debug()
                ),
                _ => debug!(
                    1,
                    "Channel {channel_id}: no open broadcast for a claim by {app_name}"
                ),
            }
        }
    }
    outcome.code()
}

/// `stasis_app_broadcast_winner`: the winner, and no claim can win after it.
pub fn winner(st: &ModuleState, channel_id: &str) -> Option<String> {
    let bc = st.registry.get(channel_id)?;
    bc.close_unclaimed().map(str::to_owned)
}

/// `stasis_app_broadcast_wait`: 0 if claimed within the time, else -1.
pub fn wait(st: &ModuleState, chan: &Channel<'_>, timeout_ms: i32) -> i32 {
    let id = chan.uniqueid();
    let Some(bc) = st.registry.get(&id) else {
        warning!("No broadcast context for channel {id}");
        return -1;
    };
    let ms = timeout_ms.clamp(0, MAX_WAIT_MS) as u64;
    let end = app::wait(chan, &bc, Duration::from_millis(ms));
    if end == WaitEnd::Hangup {
        Stats::bump(&st.stats.hangups);
    }
    if bc.state() == State::Won {
        0
    } else {
        -1
    }
}

/// `stasis_app_broadcast_cleanup`: the broadcast leaves the live map.
pub fn cleanup(st: &ModuleState, channel_id: &str) {
    st.registry.close_channel(channel_id, Instant::now());
}
