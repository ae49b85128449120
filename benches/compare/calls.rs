//! Workloads of one call each: what a single broadcast costs and how long its steps take.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::bed::{is_bc, is_ss, is_status, ms, next_ev, Bed};
use crate::config::Cfg;
use crate::stats::Mode;
use crate::ONE;

pub struct Round<'a> {
    pub bed: &'a Bed,
    pub pid: String,
    pub cfg: &'a Cfg,
    pub mode: Mode,
}

impl Round<'_> {
    /// Originate -> first and last of `w` workers holding CallBroadcast.
    pub async fn fanout(&self, w: usize, n: usize, filter: &str) -> (Vec<f64>, Vec<f64>) {
        let (mut first, mut last) = (vec![], vec![]);
        for _ in 0..n {
            let (id, mut rx) = self.bed.call();
            let t0 = Instant::now();
            if self.bed.broadcast(&id, &format!("5000,{filter}")).await {
                let mut times = vec![];
                while times.len() < w {
                    match next_ev(&mut rx, is_bc).await {
                        Some(ev) => times.push(ev.t),
                        None => break,
                    }
                }
                if times.len() == w {
                    first.push(ms(*times.iter().min().unwrap() - t0));
                    last.push(ms(*times.iter().max().unwrap() - t0));
                } else {
                    eprintln!("fan-out {w}: only {} offers", times.len());
                }
                self.bed.hangup(&id).await;
                next_ev(&mut rx, is_status).await;
            }
            self.bed.done(&id);
        }
        (first, last)
    }

    /// A call claimed by `bw-0000` at once and sent on (`floor`: plain Stasis()); returns its
    /// duration, originate sent -> returned, ms.
    pub async fn claimed_call(&self, floor: bool) -> Option<f64> {
        let t = Instant::now();
        self.claimed_call_phases(floor)
            .await
            .map(|_| ms(t.elapsed()))
    }

    /// As `claimed_call`; returns [claim round trip, originate sent -> CallBroadcast read,
    /// continue sent -> StasisBroadcast returned (varset)], ms.
    pub async fn claimed_call_phases(&self, floor: bool) -> Option<[f64; 3]> {
        let b = self.bed;
        let (id, mut rx) = b.call();
        let t0 = Instant::now();
        let r = async {
            let rt = if floor {
                if !b.originate(&id, "stasis", json!({ "ASB_APP": ONE })).await {
                    return None;
                }
                next_ev(&mut rx, is_ss).await?;
                (0.0, 0.0)
            } else {
                if !b.broadcast(&id, &format!("5000,^{ONE}$")).await {
                    return None;
                }
                let cb = next_ev(&mut rx, is_bc).await?;
                let st = b.claim(&id, &cb.app).await;
                if st != 204 {
                    eprintln!("claim {id}: {st}");
                    return None;
                }
                let ss = next_ev(&mut rx, is_ss).await?;
                (ms(ss.t - cb.t), ms(cb.t - t0))
            };
            let tc = Instant::now();
            b.cont(&id).await;
            let end = next_ev(&mut rx, is_status).await?;
            Some([rt.0, rt.1, ms(end.t - tc)])
        }
        .await;
        if r.is_none() {
            eprintln!("call {id} did not complete");
            b.hangup(&id).await;
        }
        b.done(&id);
        r
    }

    /// Hang up while waiting -> StasisBroadcast returned (observer's varset), ms.
    pub async fn hangup_return(&self) -> Option<f64> {
        let b = self.bed;
        let (id, mut rx) = b.call();
        let r = async {
            if !b.broadcast(&id, &format!("10000,^{ONE}$")).await {
                return None;
            }
            next_ev(&mut rx, is_bc).await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let t = Instant::now();
            b.hangup(&id).await;
            let ev = next_ev(&mut rx, is_status).await?;
            Some(ms(ev.t - t))
        }
        .await;
        b.done(&id);
        r
    }

    /// Timeout 200 ms: (originate -> varset) - 200, ms.
    pub async fn overshoot(&self) -> Option<f64> {
        let b = self.bed;
        let (id, mut rx) = b.call();
        let t = Instant::now();
        let r = async {
            if !b.broadcast(&id, &format!("200,^{ONE}$")).await {
                return None;
            }
            let ev = next_ev(&mut rx, is_status).await?;
            Some(ms(ev.t - t) - 200.0)
        }
        .await;
        b.done(&id);
        r
    }

    /// A broadcast nobody claims (timeout 100 ms), until it returned.
    pub async fn unclaimed(&self, filter: &str) -> bool {
        let b = self.bed;
        let (id, mut rx) = b.call();
        let ok = b.broadcast(&id, &format!("100,{filter}")).await
            && next_ev(&mut rx, is_status).await.is_some();
        b.done(&id);
        ok
    }
}
