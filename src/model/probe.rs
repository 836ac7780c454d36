//! The health-probe mechanism (Kubernetes liveness and readiness, load-balancer health checks):
//! its compiled config, the probers' timers, and the consecutive failures it counts per instance
//! and turns into a verdict (take the instance out of rotation, put it back, restart it). The
//! event loop sends each check to the instance as a request and acts on the verdict.

use crate::scenario::ProbeEffect;
use crate::scenario::schema::ProbeSpec;
use crate::sim::{Ctx, Event};
use crate::time::{TimeUs, ms_to_us};

/// A compiled probe.
#[derive(Clone, Debug)]
pub struct ProbeCfg {
    /// Service probed.
    pub service: u16,
    /// Endpoint index on it (`NO_ENDPOINT` when decoupled and absent).
    pub endpoint: u16,
    /// Period per prober and instance.
    pub period_us: TimeUs,
    /// Timeout.
    pub timeout_us: TimeUs,
    /// Probers.
    pub probers: u32,
    /// Failures before the effect.
    pub failure_threshold: u32,
    /// The effect.
    pub effect: ProbeEffect,
    /// Answered without a worker.
    pub decoupled: bool,
}

impl ProbeCfg {
    /// Compiles a validated probe of `service` (index), checking `endpoint` (index on it).
    pub fn compile(spec: &ProbeSpec, service: u16, endpoint: u16) -> Self {
        ProbeCfg {
            service,
            endpoint,
            period_us: ms_to_us(spec.period_ms),
            timeout_us: ms_to_us(spec.timeout_ms),
            probers: spec.probers,
            failure_threshold: spec.failure_threshold,
            effect: spec.effect,
            decoupled: spec.decoupled,
        }
    }
}

/// What a probe concludes from one check of an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing changes.
    Nothing,
    /// A readiness probe passed: the instance is (back) in rotation.
    Ready,
    /// A readiness probe failed often enough: out of rotation.
    Eject,
    /// A liveness probe failed often enough: restart the instance.
    Restart,
}

/// One probe's run-time state: consecutive failures per instance of its service, whichever
/// prober sent the checks.
#[derive(Clone, Debug, Default)]
pub struct Probe {
    failures: Vec<u32>,
}

impl Probe {
    /// The probe `cfg` (index `probe`) of a service with `instances` instances at the start of a
    /// run: its probers' first checks are spread evenly over one period.
    pub(crate) fn start(probe: u16, cfg: &ProbeCfg, instances: usize, ctx: &mut Ctx) -> Self {
        for prober in 0..cfg.probers {
            let offset_us = cfg.period_us * prober as u64 / cfg.probers as u64;
            ctx.queue
                .push(ctx.now_us + offset_us, Event::ProbeTick { probe, prober });
        }
        Probe {
            failures: vec![0; instances],
        }
    }

    /// A live change: the service's instance count and the number of probers may have changed
    /// (new probers check at once; removed ones stop at their next tick).
    pub(crate) fn reconfigure(
        &mut self,
        probe: u16,
        old: &ProbeCfg,
        new: &ProbeCfg,
        instances: usize,
        ctx: &mut Ctx,
    ) {
        self.failures.resize(instances, 0);
        for prober in old.probers..new.probers {
            ctx.queue
                .push(ctx.now_us, Event::ProbeTick { probe, prober });
        }
    }

    /// Prober `prober`'s timer fired: arms its next check and says whether it still probes.
    pub(crate) fn on_tick(probe: u16, prober: u32, cfg: &ProbeCfg, ctx: &mut Ctx) -> bool {
        if prober >= cfg.probers {
            return false;
        }
        ctx.queue.push_after(
            ctx.now_us,
            cfg.period_us,
            Event::ProbeTick { probe, prober },
        );
        true
    }

    /// An instance came (back) up: its count starts afresh.
    pub fn instance_up(&mut self, instance: u16) {
        if let Some(count) = self.failures.get_mut(instance as usize) {
            *count = 0;
        }
    }

    /// A check of `instance` passed (`ok`) or failed or timed out: counts consecutive failures
    /// and says what follows. The count restarts after each effect.
    pub fn record(&mut self, cfg: &ProbeCfg, instance: u16, ok: bool) -> Verdict {
        let i = instance as usize;
        if self.failures.len() <= i {
            self.failures.resize(i + 1, 0);
        }
        let count = &mut self.failures[i];
        if ok {
            *count = 0;
            return match cfg.effect {
                ProbeEffect::Eject => Verdict::Ready,
                _ => Verdict::Nothing,
            };
        }
        *count += 1;
        if *count < cfg.failure_threshold {
            return Verdict::Nothing;
        }
        *count = 0;
        match cfg.effect {
            ProbeEffect::None => Verdict::Nothing,
            ProbeEffect::Eject => Verdict::Eject,
            ProbeEffect::Restart => Verdict::Restart,
        }
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        24 + self.failures.capacity() * std::mem::size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(effect: ProbeEffect, probers: u32) -> ProbeCfg {
        ProbeCfg {
            service: 0,
            endpoint: 0,
            period_us: 10_000_000,
            timeout_us: 1_000_000,
            probers,
            failure_threshold: 3,
            effect,
            decoupled: false,
        }
    }

    #[test]
    fn a_liveness_probe_restarts_after_threshold_failures_in_a_row() {
        let cfg = cfg(ProbeEffect::Restart, 1);
        let mut probe = Probe {
            failures: vec![0; 2],
        };
        let failures = |probe: &mut Probe, n| {
            (0..n)
                .map(|_| probe.record(&cfg, 0, false))
                .collect::<Vec<_>>()
        };
        assert_eq!(failures(&mut probe, 2), [Verdict::Nothing; 2]);
        // A pass in between starts the count again.
        assert_eq!(probe.record(&cfg, 0, true), Verdict::Nothing);
        assert_eq!(failures(&mut probe, 2), [Verdict::Nothing; 2]);
        assert_eq!(probe.record(&cfg, 0, false), Verdict::Restart);
        // Another instance's count is its own.
        assert_eq!(probe.record(&cfg, 1, false), Verdict::Nothing);
        // After the effect, and after the instance comes back, counting starts afresh.
        assert_eq!(failures(&mut probe, 2), [Verdict::Nothing; 2]);
        probe.instance_up(0);
        assert_eq!(failures(&mut probe, 2), [Verdict::Nothing; 2]);
        assert_eq!(probe.record(&cfg, 0, false), Verdict::Restart);
    }

    #[test]
    fn a_readiness_probe_ejects_and_readmits() {
        let cfg = cfg(ProbeEffect::Eject, 1);
        let mut probe = Probe::default();
        for _ in 0..2 {
            assert_eq!(probe.record(&cfg, 4, false), Verdict::Nothing);
        }
        assert_eq!(probe.record(&cfg, 4, false), Verdict::Eject);
        assert_eq!(probe.record(&cfg, 4, true), Verdict::Ready);
    }

    #[test]
    fn probers_spread_over_a_period_and_rearm_until_removed() {
        let four = cfg(ProbeEffect::None, 4);
        let mut alone = crate::sim::Alone::new(1);
        let mut ctx = alone.ctx();
        let mut probe = Probe::start(7, &four, 3, &mut ctx);
        let mut ticks = Vec::new();
        while let Some((t_us, event)) = ctx.queue.pop() {
            if t_us > 25_000_000 {
                break;
            }
            let Event::ProbeTick { probe, prober } = event else {
                panic!("only probe ticks")
            };
            assert_eq!(probe, 7);
            ticks.push((t_us / 1_000_000, prober));
            ctx.now_us = t_us;
            assert!(Probe::on_tick(probe, prober, &four, &mut ctx));
        }
        assert_eq!(
            &ticks[..6],
            [(0, 0), (2, 1), (5, 2), (7, 3), (10, 0), (12, 1)],
            "four probers, 2.5 s apart"
        );
        // Down to two probers: the others stop at their next tick; up again: new ones start now.
        let two = cfg(ProbeEffect::None, 2);
        assert!(!Probe::on_tick(7, 3, &two, &mut ctx));
        probe.reconfigure(7, &two, &four, 5, &mut ctx);
        assert_eq!(probe.failures.len(), 5);
        let now = ctx.now_us;
        let started: Vec<_> = std::iter::from_fn(|| ctx.queue.pop())
            .filter(|&(t, _)| t == now)
            .map(|(_, e)| e)
            .collect();
        assert!(started.contains(&Event::ProbeTick {
            probe: 7,
            prober: 2
        }));
        assert!(started.contains(&Event::ProbeTick {
            probe: 7,
            prober: 3
        }));
    }
}
