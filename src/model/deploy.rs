//! The deploy controller: a `deploy` timeline action boots the new build's instances beside the
//! running ones; once every one of them has passed a readiness check the deploy goes live (the
//! load balancer switches to them and the replaced build's instances are removed); if that has
//! not happened by the deadline it rolls back (the new instances are removed) and, with retries
//! left, tries again after a pause.
//!
//! The controller owns a deploy's phase and timers. What it decides to change is returned as a
//! patch of the running system, which the event loop applies with the same `apply_patch` a
//! timeline `set` uses: what the controller does is what an operator's `set` would do, but decided
//! by the readiness the instances actually reach.

use crate::model::service::Instance;
use crate::scenario::{DeploySpec, Value};
use crate::sim::{Ctx, Event};
use crate::time::{TimeUs, s_to_us};
use std::collections::BTreeMap;

/// A change the controller decided: patch entries by parameter path, for `apply_patch`.
pub type Patch = BTreeMap<String, Value>;

/// A deploy, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct DeployCfg {
    /// The new build's service.
    pub service: u16,
    /// Its name (patch paths address services by name).
    pub service_name: String,
    /// The replaced build's service name.
    pub replaces: String,
    /// The load balancer that switches.
    pub balancer: String,
    /// Instances of the new build.
    pub instances: u32,
    /// From the start of an attempt to its rollback.
    pub deadline_us: TimeUs,
    /// Attempts after a rollback.
    pub retries: u32,
    /// From a rollback to the next attempt.
    pub retry_after_us: TimeUs,
}

impl DeployCfg {
    /// Compiles `spec`, whose new build is the service at index `service`.
    pub fn compile(spec: &DeploySpec, service: u16) -> Self {
        DeployCfg {
            service,
            service_name: spec.service.clone(),
            replaces: spec.replaces.clone(),
            balancer: spec.balancer.clone(),
            instances: spec.instances,
            deadline_us: s_to_us(spec.deadline_s),
            retries: spec.retries,
            retry_after_us: s_to_us(spec.retry_after_s),
        }
    }
}

/// Where a deploy stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Phase {
    /// Not started, or rolled back.
    #[default]
    Idle,
    /// New instances booting or waiting to pass readiness.
    Rolling,
    /// The new build serves.
    Live,
}

/// A deploy's run-time state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deploy {
    phase: Phase,
    /// Attempts made since the last `deploy` action.
    attempts: u32,
    /// Bumps whenever the phase changes, so an armed deadline or retry that no longer applies is
    /// recognised as stale.
    epoch: u32,
}

impl Deploy {
    /// Where it stands.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether a deadline or retry armed at `epoch` no longer applies.
    pub fn is_stale(&self, epoch: u32) -> bool {
        self.epoch != epoch
    }

    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// A `deploy` action: starts the deploy (arming its deadline) unless it is already rolling or
    /// live.
    pub(crate) fn on_action(
        &mut self,
        deploy: u16,
        cfg: &DeployCfg,
        ctx: &mut Ctx,
    ) -> Option<Patch> {
        if self.phase != Phase::Idle {
            return None;
        }
        self.attempts = 0;
        Some(self.start(deploy, cfg, ctx))
    }

    fn start(&mut self, deploy: u16, cfg: &DeployCfg, ctx: &mut Ctx) -> Patch {
        self.enter(Phase::Rolling);
        self.attempts += 1;
        let epoch = self.epoch;
        ctx.queue.push(
            ctx.now_us + cfg.deadline_us,
            Event::DeployDeadline { deploy, epoch },
        );
        instances(&cfg.service_name, cfg.instances)
    }

    /// A readiness check passed on the new build's service (`new_build`, its instances): a
    /// rolling deploy goes live once every new instance is up and has passed one. Going live puts
    /// the new build in the replaced one's place among the balancer's current `backends` and
    /// removes the replaced build's instances.
    pub fn on_ready_check(
        &mut self,
        cfg: &DeployCfg,
        new_build: &[Instance],
        backends: &[String],
    ) -> Option<Patch> {
        let all_proven =
            new_build.len() == cfg.instances as usize && new_build.iter().all(|i| i.up && i.proven);
        if self.phase != Phase::Rolling || !all_proven {
            return None;
        }
        self.enter(Phase::Live);
        Some(go_live(
            &cfg.service_name,
            &cfg.replaces,
            &cfg.balancer,
            backends,
        ))
    }

    /// The deadline of the attempt armed at `epoch`: still not live, so the new instances go and,
    /// with retries left, the next attempt is armed.
    pub(crate) fn on_deadline(
        &mut self,
        deploy: u16,
        cfg: &DeployCfg,
        epoch: u32,
        ctx: &mut Ctx,
    ) -> Option<Patch> {
        if self.is_stale(epoch) || self.phase != Phase::Rolling {
            return None;
        }
        self.enter(Phase::Idle);
        if self.attempts <= cfg.retries {
            let epoch = self.epoch;
            ctx.queue.push(
                ctx.now_us + cfg.retry_after_us,
                Event::DeployRetry { deploy, epoch },
            );
        }
        Some(instances(&cfg.service_name, 0))
    }

    /// The retry armed at `epoch`, after a rollback.
    pub(crate) fn on_retry(
        &mut self,
        deploy: u16,
        cfg: &DeployCfg,
        epoch: u32,
        ctx: &mut Ctx,
    ) -> Option<Patch> {
        if self.is_stale(epoch) || self.phase != Phase::Idle {
            return None;
        }
        Some(self.start(deploy, cfg, ctx))
    }
}

/// The patch of a deploy going live: `service` takes the place of `replaces` among `balancer`'s
/// current `backends` (or joins them), and `replaces` loses its instances.
pub fn go_live(service: &str, replaces: &str, balancer: &str, backends: &[String]) -> Patch {
    let mut switched: Vec<String> = Vec::new();
    for backend in backends {
        let name = if backend == replaces {
            service
        } else {
            backend
        };
        if !switched.iter().any(|s| s == name) {
            switched.push(name.to_string());
        }
    }
    if !switched.iter().any(|s| s == service) {
        switched.push(service.to_string());
    }
    let mut patch = instances(replaces, 0);
    patch.insert(
        format!("load_balancers.{balancer}.backends"),
        Value::Array(switched.into_iter().map(Value::String).collect()),
    );
    patch
}

/// The patch that gives `service` `count` instances: a deploy starting (the new build's
/// instances) or rolled back (none).
pub fn instances(service: &str, count: u32) -> Patch {
    BTreeMap::from([(
        format!("services.{service}.instances"),
        Value::Integer(count as i64),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Alone;

    fn cfg(retries: u32) -> DeployCfg {
        DeployCfg {
            service: 1,
            service_name: "api-new".into(),
            replaces: "api".into(),
            balancer: "lb".into(),
            instances: 2,
            deadline_us: 60_000_000,
            retries,
            retry_after_us: 30_000_000,
        }
    }

    fn proven(up: bool, proven: bool) -> Instance {
        Instance {
            up,
            proven,
            ..Instance::new()
        }
    }

    fn count(patch: &Patch, service: &str) -> Option<i64> {
        match patch.get(&format!("services.{service}.instances")) {
            Some(Value::Integer(n)) => Some(*n),
            _ => None,
        }
    }

    #[test]
    fn an_action_boots_the_new_instances_and_arms_the_deadline_once() {
        let (cfg, mut alone, mut deploy) = (cfg(0), Alone::new(1), Deploy::default());
        let patch = deploy.on_action(0, &cfg, &mut alone.ctx()).unwrap();
        assert_eq!(count(&patch, "api-new"), Some(2));
        assert_eq!(deploy.phase(), Phase::Rolling);
        assert_eq!(alone.queue.peek_time_us(), Some(60_000_000));
        assert_eq!(deploy.on_action(0, &cfg, &mut alone.ctx()), None);
        assert_eq!(alone.queue.len(), 1);
    }

    #[test]
    fn it_goes_live_only_when_every_new_instance_is_up_and_proven() {
        let (cfg, mut alone, mut deploy) = (cfg(0), Alone::new(1), Deploy::default());
        deploy.on_action(0, &cfg, &mut alone.ctx());
        let backends = ["cdn".to_string(), "api".to_string()];
        let half = [proven(true, true), proven(true, false)];
        assert_eq!(deploy.on_ready_check(&cfg, &half, &backends), None);
        let restarting = [proven(true, true), proven(false, true)];
        assert_eq!(deploy.on_ready_check(&cfg, &restarting, &backends), None);
        let all = [proven(true, true), proven(true, true)];
        let patch = deploy.on_ready_check(&cfg, &all, &backends).unwrap();
        assert_eq!(
            patch["load_balancers.lb.backends"],
            Value::Array(vec![
                Value::String("cdn".into()),
                Value::String("api-new".into())
            ])
        );
        assert_eq!(count(&patch, "api"), Some(0));
        assert_eq!(deploy.phase(), Phase::Live);
        // Live: a later check changes nothing, and the armed deadline is stale.
        assert_eq!(deploy.on_ready_check(&cfg, &all, &backends), None);
        let (_, event) = alone.queue.pop().unwrap();
        let Event::DeployDeadline { epoch, .. } = event else {
            panic!("{event:?}")
        };
        assert!(deploy.is_stale(epoch));
        assert_eq!(deploy.on_deadline(0, &cfg, epoch, &mut alone.ctx()), None);
    }

    #[test]
    fn a_missed_deadline_rolls_back_and_retries_while_attempts_remain() {
        let (cfg, mut alone, mut deploy) = (cfg(1), Alone::new(1), Deploy::default());
        deploy.on_action(0, &cfg, &mut alone.ctx());
        for attempt in 1..=2 {
            let (at_us, event) = alone.queue.pop().unwrap();
            let Event::DeployDeadline { epoch, .. } = event else {
                panic!("{event:?}")
            };
            let mut ctx = alone.ctx();
            ctx.now_us = at_us;
            let rollback = deploy.on_deadline(0, &cfg, epoch, &mut ctx).unwrap();
            assert_eq!(count(&rollback, "api-new"), Some(0));
            assert_eq!(deploy.phase(), Phase::Idle);
            if attempt == 2 {
                break;
            }
            let (retry_at_us, event) = alone.queue.pop().unwrap();
            assert_eq!(retry_at_us, at_us + cfg.retry_after_us);
            let Event::DeployRetry { epoch, .. } = event else {
                panic!("{event:?}")
            };
            let mut ctx = alone.ctx();
            ctx.now_us = retry_at_us;
            let again = deploy.on_retry(0, &cfg, epoch, &mut ctx).unwrap();
            assert_eq!(count(&again, "api-new"), Some(2));
        }
        // One retry: after the second rollback nothing is armed.
        assert_eq!(alone.queue.len(), 0);
    }
}
