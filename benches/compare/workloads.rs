//! The workloads of a round: batches of calls and what is measured over them.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::bed::{is_bc, is_status, next_ev, Ev};
use crate::calls::Round;
use crate::meters::{rss_kib, Meter};
use crate::stats::Results;
use crate::ONE;

impl Round<'_> {
    pub async fn phase_one(&self, res: &mut Results) {
        let (cfg, mode, pid) = (self.cfg, self.mode, self.pid.as_str());
        // warm-up
        for _ in 0..10 {
            self.claimed_call(false).await;
        }

        let (mut v, mut o, mut c) = (vec![], vec![], vec![]);
        for _ in 0..cfg.claim_rt {
            if let Some(p) = self.claimed_call_phases(false).await {
                v.push(p[0]);
                o.push(p[1]);
                c.push(p[2]);
            }
        }
        res.add("claim round trip (1 worker) [ms]", mode, v);
        res.add("same calls: originate → CallBroadcast read [ms]", mode, o);
        res.add(
            "same calls: continue → StasisBroadcast returned [ms]",
            mode,
            c,
        );

        let mut v = vec![];
        for _ in 0..cfg.hangup {
            v.extend(self.hangup_return().await);
        }
        res.add("hangup while waiting → return [ms]", mode, v);

        let mut v = vec![];
        for _ in 0..cfg.timeout {
            v.extend(self.overshoot().await);
        }
        res.add("timeout 200 ms: overshoot [ms]", mode, v);

        for floor in [false, true] {
            self.bed.ari.warm_up(24).await;
            let m = Meter::start(pid);
            let durs: Vec<f64> = stream::iter(0..cfg.saturation)
                .map(|_| self.claimed_call(floor))
                .buffer_unordered(20)
                .filter_map(std::future::ready)
                .collect()
                .await;
            let (wall, ast, me) = m.stop();
            let ok = durs.len();
            let what = if floor {
                "plain Stasis() (floor)"
            } else {
                "StasisBroadcast, 1 worker"
            };
            res.add(
                &format!("saturation, {what}: call duration [ms]"),
                mode,
                durs,
            );
            res.add(
                &format!("saturation, {what}: calls/s ↑"),
                mode,
                [ok as f64 / wall],
            );
            res.add(
                &format!("saturation, {what}: Asterisk CPU per call [ms]"),
                mode,
                [ast * 1e3 / ok.max(1) as f64],
            );
            res.cpu(&format!("saturation ({what})"), me, ast);
        }

        // memory after many completed broadcasts (claimed and continued)
        self.bed.ari.warm_up(24).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = rss_kib(pid);
        let m = Meter::start(pid);
        let ok = stream::iter(0..cfg.churn)
            .map(|_| self.claimed_call(false))
            .buffer_unordered(20)
            .filter(|r| std::future::ready(r.is_some()))
            .count()
            .await;
        let (_, ast, me) = m.stop();
        res.cpu(&format!("{} completed broadcasts", cfg.churn), me, ast);
        tokio::time::sleep(Duration::from_millis(500)).await;
        res.add(
            &format!(
                "RSS growth after {} completed broadcasts, 0.5 s later [KiB]",
                cfg.churn
            ),
            mode,
            [rss_kib(pid) - before],
        );
        // 409 tombstones live for timeout (5 s) + 5 s after a win; look again once they expired
        // (one more call lets the registry drop them).
        tokio::time::sleep(Duration::from_millis(10_500)).await;
        self.claimed_call(false).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        res.add(
            &format!(
                "RSS growth after {} completed broadcasts, 11 s later [KiB]",
                cfg.churn
            ),
            mode,
            [rss_kib(pid) - before],
        );
        if ok < cfg.churn {
            res.notes
                .push(format!("churn: only {ok} of {} calls completed", cfg.churn));
        }

        // waiting cost
        self.bed.ari.warm_up(24).await;
        let base_rss = rss_kib(pid);
        for &k in &cfg.waiting {
            let calls: Vec<(String, UnboundedReceiver<Ev>)> = stream::iter(0..k)
                .map(|_| async {
                    let (id, mut rx) = self.bed.call();
                    if self.bed.broadcast(&id, &format!("60000,^{ONE}$")).await
                        && next_ev(&mut rx, is_bc).await.is_some()
                    {
                        Some((id, rx))
                    } else {
                        self.bed.done(&id);
                        None
                    }
                })
                .buffer_unordered(20)
                .filter_map(std::future::ready)
                .collect()
                .await;
            if calls.len() < k {
                res.notes.push(format!(
                    "waiting {k}: only {} broadcasts started",
                    calls.len()
                ));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            let m = Meter::start(pid);
            tokio::time::sleep(Duration::from_secs(cfg.waiting_secs)).await;
            let (wall, ast, me) = m.stop();
            res.add(
                &format!("waiting cost, {k} waiting: Asterisk CPU [%]"),
                mode,
                [ast / wall * 100.0],
            );
            res.cpu(&format!("{k} waiting"), me, ast);
            if k == *cfg.waiting.last().unwrap() {
                res.add(
                    "RSS per waiting broadcast (incl. its Local channel pair) [KiB]",
                    mode,
                    [(rss_kib(pid) - base_rss) / calls.len().max(1) as f64],
                );
            }
            stream::iter(calls)
                .map(|(id, mut rx)| async move {
                    self.bed.hangup(&id).await;
                    next_ev(&mut rx, is_status).await;
                    self.bed.done(&id);
                })
                .buffer_unordered(20)
                .count()
                .await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub async fn phase_two(&self, res: &mut Results) {
        let (cfg, mode, pid) = (self.cfg, self.mode, self.pid.as_str());
        for (w, n) in cfg.fanout {
            let filter = match w {
                10 => "^bw-000",
                100 => "^bw-00",
                _ => "^bw-0[0-4]",
            };
            self.fanout(w, 2, filter).await; // warm-up
            let m = Meter::start(pid);
            let (first, last) = self.fanout(w, n, filter).await;
            let (_, ast, me) = m.stop();
            res.cpu(&format!("fan-out to {w}"), me, ast);
            res.add(&format!("fan-out {w}: first worker [ms]"), mode, first);
            res.add(&format!("fan-out {w}: last worker [ms]"), mode, last);
        }
        let mut per = [0.0; 2];
        for (i, (k, filter)) in [(1, "^bw-0000$"), (100, "^bw-00")].into_iter().enumerate() {
            self.bed.ari.warm_up(24).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let m = Meter::start(pid);
            let ok = stream::iter(0..cfg.offer)
                .map(|_| self.unclaimed(filter))
                .buffer_unordered(10)
                .filter(|r| std::future::ready(*r))
                .count()
                .await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let (_, ast, me) = m.stop();
            res.cpu(&format!("offers to {k}"), me, ast);
            per[i] = ast * 1e3 / ok.max(1) as f64;
            res.add(
                &format!("offer cost: Asterisk CPU per broadcast to {k} [ms]"),
                mode,
                [per[i]],
            );
        }
        res.add(
            "offer cost: Asterisk CPU per offered application [µs]",
            mode,
            [(per[1] - per[0]) * 1e3 / 99.0],
        );
    }
}
