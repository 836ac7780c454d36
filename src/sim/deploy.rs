//! The deploy controller: a `deploy` timeline action boots the new build's instances beside the
//! running ones; once every one of them has passed a readiness check the deploy goes live (the
//! load balancer switches to them and the replaced build's instances are removed); if that has
//! not happened by the deadline it rolls back (the new instances are removed) and, with retries
//! left, tries again after a pause.
//!
//! Each step is a patch of the running system (the same `apply_patch` a timeline `set` uses), so
//! what the controller does is what an operator's `set` would do, but decided by the readiness
//! the instances actually reach.

use super::{Event, SimError, Simulation};
use crate::scenario::Value;
use crate::time::TimeUs;
use std::collections::BTreeMap;

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
pub struct DeployState {
    /// Where it stands.
    pub phase: Phase,
    /// Attempts made since the last `deploy` action.
    pub attempts: u32,
    /// Bumps whenever the phase changes, so an armed deadline or retry that no longer applies is
    /// recognised as stale.
    pub epoch: u32,
}

impl Simulation {
    /// A `deploy` action: starts the deploy unless it is already rolling or live.
    pub(super) fn on_deploy_action(&mut self, deploy: u16) -> Result<(), SimError> {
        let state = self.deploys[deploy as usize];
        if state.phase != Phase::Idle {
            return Ok(());
        }
        self.deploys[deploy as usize].attempts = 0;
        self.start_deploy(deploy)
    }

    fn start_deploy(&mut self, deploy: u16) -> Result<(), SimError> {
        let cfg = self.config.deploys[deploy as usize].clone();
        let state = &mut self.deploys[deploy as usize];
        state.phase = Phase::Rolling;
        state.attempts += 1;
        state.epoch = state.epoch.wrapping_add(1);
        let epoch = state.epoch;
        self.queue.push(
            self.now_us + cfg.deadline_us,
            Event::DeployDeadline { deploy, epoch },
        );
        self.set_instances(&cfg.service_name, cfg.instances)
    }

    /// A readiness check passed on `service`: a rolling deploy of it goes live once every new
    /// instance is up and has passed one.
    pub(super) fn on_ready_check(&mut self, service: u16) -> Result<(), SimError> {
        for deploy in 0..self.deploys.len() {
            let cfg = &self.config.deploys[deploy];
            if cfg.service != service || self.deploys[deploy].phase != Phase::Rolling {
                continue;
            }
            let instances = &self.instances[service as usize];
            let all_proven = instances.len() == cfg.instances as usize
                && instances.iter().all(|i| i.up && i.proven);
            if all_proven {
                self.go_live(deploy as u16)?;
            }
        }
        Ok(())
    }

    fn go_live(&mut self, deploy: u16) -> Result<(), SimError> {
        let cfg = self.config.deploys[deploy as usize].clone();
        let state = &mut self.deploys[deploy as usize];
        state.phase = Phase::Live;
        state.epoch = state.epoch.wrapping_add(1);
        let mut backends: Vec<String> = Vec::new();
        if let Some(lb) = self.config.file.load_balancers.get(&cfg.balancer) {
            for backend in &lb.backends {
                let name = if *backend == cfg.replaces {
                    &cfg.service_name
                } else {
                    backend
                };
                if !backends.contains(name) {
                    backends.push(name.clone());
                }
            }
        }
        if !backends.contains(&cfg.service_name) {
            backends.push(cfg.service_name.clone());
        }
        let set = BTreeMap::from([
            (
                format!("load_balancers.{}.backends", cfg.balancer),
                Value::Array(backends.into_iter().map(Value::String).collect()),
            ),
            instances(&cfg.replaces, 0),
        ]);
        self.apply_patch(&set)
    }

    /// The deadline of an attempt: still not live, so the new instances go.
    pub(super) fn on_deploy_deadline(&mut self, deploy: u16, epoch: u32) -> Result<(), SimError> {
        let state = self.deploys[deploy as usize];
        if state.epoch != epoch || state.phase != Phase::Rolling {
            return Ok(());
        }
        let cfg = self.config.deploys[deploy as usize].clone();
        let state = &mut self.deploys[deploy as usize];
        state.phase = Phase::Idle;
        state.epoch = state.epoch.wrapping_add(1);
        if state.attempts <= cfg.retries {
            let epoch = state.epoch;
            self.queue.push(
                self.now_us + cfg.retry_after_us,
                Event::DeployRetry { deploy, epoch },
            );
        }
        self.set_instances(&cfg.service_name, 0)
    }

    /// A retry after a rollback.
    pub(super) fn on_deploy_retry(&mut self, deploy: u16, epoch: u32) -> Result<(), SimError> {
        let state = self.deploys[deploy as usize];
        if state.epoch != epoch || state.phase != Phase::Idle {
            return Ok(());
        }
        self.start_deploy(deploy)
    }

    fn set_instances(&mut self, service: &str, count: u32) -> Result<(), SimError> {
        self.apply_patch(&BTreeMap::from([instances(service, count)]))
    }
}

/// The patch entry that gives `service` `count` instances.
fn instances(service: &str, count: u32) -> (String, Value) {
    (
        format!("services.{service}.instances"),
        Value::Integer(count as i64),
    )
}
