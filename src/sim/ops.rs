//! Operations on the running system: crashes and restarts, health probes, the timeline (operator
//! actions and `set` patches), live reconfiguration, and the per-window component gauges.

use super::config::{self, Config, TimelineTarget};
use super::{Check, Event, Reply, SimError, Simulation};
use crate::model::connection::{Device, DeviceState};
use crate::model::deploy::Patch;
use crate::model::probe::{Probe, Verdict};
use crate::model::service::Instance;
use crate::scenario::series::{self, Group};
use crate::scenario::{Action, ScenarioFile};
use crate::slab::Key;
use crate::time::{TimeUs, US_PER_MS};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Whether an instance that goes down comes back by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Restart {
    /// As the service's `auto_restart` says (a crash).
    Auto,
    /// Always, after the restart delay (an operator's restart).
    Always,
    /// Never (an operator's stop).
    Never,
}

impl Simulation {
    /// Takes an instance down: its queued and running work fails, its connections drop.
    pub(super) fn crash_instance(
        &mut self,
        service: u16,
        instance: u16,
        restart: Restart,
    ) -> Result<(), SimError> {
        let cfg = &self.config.services[service as usize];
        let come_back = match restart {
            Restart::Auto => cfg.auto_restart,
            Restart::Always => true,
            Restart::Never => false,
        };
        let delay = cfg.restart_delay_us;
        let Some(inst) = self.instances[service as usize].get_mut(instance as usize) else {
            return Ok(());
        };
        let was_up = inst.up;
        inst.up = false;
        inst.epoch = inst.epoch.wrapping_add(1);
        inst.queue.clear();
        inst.busy = 0;
        inst.work_memory.clear();
        inst.connections = 0;
        let epoch = inst.epoch;
        if was_up {
            self.components.restarts[service as usize] += 1;
        }
        if come_back {
            self.schedule_instance_up(service, instance, epoch, delay);
        }
        // Connections to it drop; their clients reconnect after their backoff.
        for client in 0..self.devices.len() {
            for device in 0..self.devices[client].len() {
                let d = self.devices[client][device];
                if d.state != DeviceState::Waiting && d.instance == (service, instance) {
                    self.drop_connection(client as u16, device as u32, d.epoch);
                }
            }
        }
        self.abort_jobs(service, instance)
    }

    /// An operator starts an instance that is down: it comes back after its restart delay (an
    /// instance already coming back by itself comes back once). One that is up is left alone.
    fn start_instance(&mut self, service: u16, instance: u16) {
        let delay = self.config.services[service as usize].restart_delay_us;
        let Some(inst) = self.instances[service as usize].get(instance as usize) else {
            return;
        };
        if inst.up {
            return;
        }
        let epoch = inst.epoch;
        self.schedule_instance_up(service, instance, epoch, delay);
    }

    /// The instance (as of `epoch`) is up again after `delay_us`.
    fn schedule_instance_up(&mut self, service: u16, instance: u16, epoch: u32, delay_us: TimeUs) {
        self.queue.push(
            self.now_us + delay_us,
            Event::InstanceUp {
                service,
                instance,
                epoch,
            },
        );
    }

    pub(super) fn on_instance_up(&mut self, service: u16, instance: u16, epoch: u32) {
        let Some(inst) = self.instances[service as usize].get_mut(instance as usize) else {
            return;
        };
        if inst.epoch != epoch || inst.up {
            return;
        }
        inst.up = true;
        inst.accepting = true;
        inst.ready = true;
        inst.proven = false;
        // Its probes start counting afresh; other services' instances of the same number keep
        // their counts.
        for (probe, cfg) in self.probes.iter_mut().zip(&self.config.probes) {
            if cfg.service == service {
                probe.instance_up(instance);
            }
        }
    }

    // ---- probes ----

    pub(super) fn on_probe_tick(&mut self, probe: u16, prober: u32) -> Result<(), SimError> {
        let config = self.config.clone();
        let cfg = &config.probes[probe as usize];
        if !Probe::on_tick(probe, prober, cfg, &mut ctx!(self)) {
            return Ok(());
        }
        let service = cfg.service;
        for instance in 0..self.instances[service as usize].len() as u16 {
            let inst = &self.instances[service as usize][instance as usize];
            if !inst.up {
                continue; // nothing answers while it restarts; the orchestrator waits for it
            }
            let check = self.checks.insert(Check {
                probe,
                service,
                instance,
                instance_epoch: inst.epoch,
            });
            if cfg.decoupled {
                self.on_check_result(check, true)?;
                continue;
            }
            self.queue
                .push_after(self.now_us, cfg.timeout_us, Event::CheckTimeout { check });
            self.deliver(service, instance, cfg.endpoint, 0, Reply::Check { check })?;
        }
        Ok(())
    }

    /// A probe answered (or timed out): count consecutive failures and act on them.
    pub(super) fn on_check_result(&mut self, check: Key, ok: bool) -> Result<(), SimError> {
        let Some(c) = self.checks.remove(check) else {
            return Ok(());
        };
        let Some(inst) = self.instances[c.service as usize].get(c.instance as usize) else {
            return Ok(());
        };
        if inst.epoch != c.instance_epoch || !inst.up {
            return Ok(()); // the instance restarted since the probe was sent
        }
        let cfg = &self.config.probes[c.probe as usize];
        match self.probes[c.probe as usize].record(cfg, c.instance, ok) {
            Verdict::Nothing => Ok(()),
            Verdict::Ready => {
                let inst = &mut self.instances[c.service as usize][c.instance as usize];
                inst.ready = true;
                inst.proven = true;
                self.on_ready_check(c.service)
            }
            Verdict::Eject => {
                self.instances[c.service as usize][c.instance as usize].ready = false;
                Ok(())
            }
            Verdict::Restart => self.crash_instance(c.service, c.instance, Restart::Always),
        }
    }

    // ---- the timeline ----

    pub(super) fn on_timeline(&mut self, index: usize) -> Result<(), SimError> {
        self.timeline.run(index);
        let event = &self.config.file.timeline[index];
        if event.action == Action::Set {
            let set = event.set.clone();
            return self.apply_patch(&set);
        }
        let action = event.action;
        let (service, only) = match self.config.timeline_targets[index] {
            TimelineTarget::Nothing => return Ok(()),
            TimelineTarget::Queries { datastore, kind } => {
                return self.kill_queries(datastore, kind);
            }
            TimelineTarget::Deploy(deploy) => return self.on_deploy_action(deploy),
            TimelineTarget::Instances { service, instance } => (service, instance),
        };
        let instances: Vec<u16> = match only {
            Some(i) => vec![i],
            None => (0..self.instances[service as usize].len() as u16).collect(),
        };
        for instance in instances {
            let Some(inst) = self.instances[service as usize].get_mut(instance as usize) else {
                continue;
            };
            match action {
                Action::StopAccepting => inst.accepting = false,
                Action::Resume => inst.accepting = true,
                Action::Crash => self.crash_instance(service, instance, Restart::Auto)?,
                Action::Restart => self.crash_instance(service, instance, Restart::Always)?,
                Action::Stop => self.crash_instance(service, instance, Restart::Never)?,
                Action::Start => self.start_instance(service, instance),
                // They resolve to other targets (or none).
                Action::Set | Action::Deploy | Action::KillQueries => {}
            }
        }
        Ok(())
    }

    /// Applies a patch (a `set` action, or a fix applied mid-run) to the running system, from
    /// now on. A patch of the timeline changes only the entries that have not run yet (what
    /// operators did before now stays done): an entry moved earlier than now runs now, one moved
    /// later runs then, and its earlier scheduling is dropped.
    pub fn apply_patch(
        &mut self,
        set: &BTreeMap<String, crate::scenario::Value>,
    ) -> Result<(), SimError> {
        use crate::scenario::{check_live, patch_tree, read_tree};
        check_live(set).map_err(SimError::BadChange)?;
        let mut tree = self.config.tree.clone();
        patch_tree(&mut tree, set).map_err(SimError::BadChange)?;
        // Entries already run stay as they were.
        self.timeline.keep_the_past(&mut tree, &self.config.tree);
        let file = read_tree(tree.clone()).map_err(SimError::BadChange)?;
        let moved = self
            .timeline
            .moved(&self.config.file.timeline, &file.timeline, self.now_us);
        self.reconfigure(file, tree)?;
        self.timeline.rearm(&moved, &mut ctx!(self));
        Ok(())
    }

    /// Applies the named fix of `scenario` from now on, as an operator would mid-incident.
    pub fn apply_fix_now(
        &mut self,
        scenario: &crate::scenario::Scenario,
        fix: &str,
    ) -> Result<(), SimError> {
        let Some(spec) = scenario.file.fixes.get(fix) else {
            return Err(SimError::BadChange(format!("there is no fix `{fix}`")));
        };
        self.apply_patch(&spec.set.clone())
    }

    /// Switches to a new configuration, adapting the state: instances are added (booting for
    /// their restart delay) or removed (crashing their work), populations grow or shrink, rates
    /// change from now on.
    fn reconfigure(
        &mut self,
        file: ScenarioFile,
        tree: crate::scenario::Value,
    ) -> Result<(), SimError> {
        let old = self.config.clone();
        let new: Rc<Config> = Rc::new(config::compile(&file, &tree));
        // Datastores: bring the CPU clock up to now under the old core count.
        for (d, ds) in self.datastores.iter_mut().enumerate() {
            ds.advance(self.now_us, old.datastores[d].cores);
            // The armed wake-up was computed under the old cores: it no longer counts.
            ds.wake_generation = ds.wake_generation.wrapping_add(1);
        }
        self.config = new.clone();
        for d in 0..self.datastores.len() {
            self.datastores[d].fill(new.datastores[d].max_connections);
            self.settle_datastore(d as u16);
        }
        for (s, cfg) in new.services.iter().enumerate() {
            let have = self.instances[s].len();
            let want = cfg.instances as usize;
            for i in (want..have).rev() {
                // Removing an instance fails its work; a limit hit meanwhile stops the run.
                self.crash_instance(s as u16, i as u16, Restart::Never)?;
                self.instances[s].pop();
            }
            for i in have..want {
                let mut inst = Instance::new();
                inst.up = false;
                self.instances[s].push(inst);
                self.queue.push(
                    self.now_us + cfg.restart_delay_us,
                    Event::InstanceUp {
                        service: s as u16,
                        instance: i as u16,
                        epoch: 0,
                    },
                );
            }
        }
        for (cache, cfg) in self.caches.iter_mut().zip(&new.caches) {
            cache.reconfigure(cfg, new.max_keys);
        }
        for (c, cfg) in new.clients.iter().enumerate() {
            if cfg.rate_rps != old.clients[c].rate_rps {
                self.set_client_rate(c as u16, cfg.rate_rps);
            }
            let have = self.devices[c].len();
            let want = cfg.population as usize;
            for device in want..have {
                let d = self.devices[c][device];
                self.drop_connection(c as u16, device as u32, d.epoch);
            }
            self.devices[c].truncate(want);
            for device in have..want {
                self.devices[c].push(Device::new());
                self.queue.push(
                    self.now_us,
                    Event::Connect {
                        client: c as u16,
                        device: device as u32,
                        epoch: 0,
                    },
                );
            }
        }
        for (p, cfg) in new.probes.iter().enumerate() {
            let instances = new.services[cfg.service as usize].instances as usize;
            let mut ctx = ctx!(self);
            self.probes[p].reconfigure(p as u16, &old.probes[p], cfg, instances, &mut ctx);
        }
        // Rate changes keep their scheduled times (a patched rate applies when its change comes);
        // timeline entries that a patch moves are rescheduled by `apply_patch`.
        Ok(())
    }

    // ---- windows ----

    pub(super) fn close_window(&mut self) {
        let window_us = self.metrics.window_us as f64;
        let per_s = 1e6 / window_us;
        let config = self.config.clone();
        let mut gauges = Vec::with_capacity(self.metrics.names().len());
        for &group in &config.series_groups {
            match group {
                Group::Service(s) => gauges.extend(self.service_gauges(s, per_s)),
                Group::Datastore(d) => gauges.extend(self.datastore_gauges(d, window_us, per_s)),
                Group::Cache(c) => gauges.extend(self.caches[c as usize].close_window()),
                Group::HttpCache(c) => gauges.extend(self.http_caches[c as usize].close_window()),
                Group::Connections(c) => {
                    let connected: [f64; series::CONNECTIONS.len()] =
                        [self.connected_count(c as usize) as f64];
                    gauges.extend(connected);
                }
                Group::Outcomes(c) => {
                    let counts = self.window.by_client.get(c as usize).copied();
                    let rates: [f64; series::OUTCOMES.len()] =
                        counts.unwrap_or_default().map(|n| n as f64 * per_s);
                    gauges.extend(rates);
                }
            }
        }
        self.metrics
            .close_window(self.window_end_us, &self.window, &gauges);
        self.window.offered = 0;
        self.window.attempted = 0;
        self.window.completed = 0;
        self.window.success = 0;
        self.window.error = 0;
        self.window.timeout = 0;
        self.window.shed = 0;
        self.window.by_client.iter_mut().for_each(|c| *c = [0; 4]);
        self.window.latency.clear();
        self.window_end_us += self.metrics.window_us;
    }

    /// A service's values for the window that closes, in `series::SERVICE` order; starts the
    /// next window's counts.
    fn service_gauges(&mut self, s: u16, per_s: f64) -> [f64; series::SERVICE.len()] {
        let s = s as usize;
        let instances = &self.instances[s];
        let queued: usize = instances.iter().map(|i| i.queue.len()).sum();
        let busy: u32 = instances.iter().map(|i| i.busy).sum();
        let healthy = instances
            .iter()
            .filter(|i| i.up && i.accepting && i.ready)
            .count();
        let connections: u32 = instances.iter().map(|i| i.connections).sum();
        let now_peak = (0..instances.len())
            .map(|i| self.instance_memory_mb(s as u16, i as u16))
            .fold(0.0, f64::max);
        let c = &mut self.components;
        let values = [
            queued as f64,
            busy as f64,
            healthy as f64,
            c.memory_peaks.close_window(s as u16, now_peak),
            connections as f64,
            c.restarts[s] as f64,
            c.arrivals[s] as f64 * per_s,
            c.latency[s].quantile_us(0.5) / US_PER_MS as f64,
            c.failed[s] as f64 * per_s,
        ];
        c.restarts[s] = 0;
        c.arrivals[s] = 0;
        c.latency[s].clear();
        c.failed[s] = 0;
        values
    }

    /// A datastore's values for the window that closes, in `series::DATASTORE` order; starts the
    /// next window's counts.
    fn datastore_gauges(
        &mut self,
        d: u16,
        window_us: f64,
        per_s: f64,
    ) -> [f64; series::DATASTORE.len()] {
        let d = d as usize;
        let cfg = &self.config.datastores[d];
        self.datastores[d].close_window(cfg, self.window_end_us, window_us, per_s)
    }
}

/// The deploy controller's wiring: each of its decisions is a patch of the running system.
impl Simulation {
    fn apply_deploy_step(&mut self, patch: Option<Patch>) -> Result<(), SimError> {
        match patch {
            Some(patch) => self.apply_patch(&patch),
            None => Ok(()),
        }
    }

    /// A `deploy` action.
    pub(super) fn on_deploy_action(&mut self, deploy: u16) -> Result<(), SimError> {
        let cfg = &self.config.deploys[deploy as usize];
        let patch = self.deploys[deploy as usize].on_action(deploy, cfg, &mut ctx!(self));
        self.apply_deploy_step(patch)
    }

    /// A readiness check passed on `service`: a rolling deploy of it may go live.
    pub(super) fn on_ready_check(&mut self, service: u16) -> Result<(), SimError> {
        for deploy in 0..self.deploys.len() {
            let cfg = &self.config.deploys[deploy];
            if cfg.service != service {
                continue;
            }
            let backends = self
                .config
                .file
                .load_balancers
                .get(&cfg.balancer)
                .map_or(&[][..], |lb| &lb.backends);
            let patch = self.deploys[deploy].on_ready_check(
                cfg,
                &self.instances[service as usize],
                backends,
            );
            self.apply_deploy_step(patch)?;
        }
        Ok(())
    }

    /// The deadline of a deploy's attempt.
    pub(super) fn on_deploy_deadline(&mut self, deploy: u16, epoch: u32) -> Result<(), SimError> {
        let cfg = &self.config.deploys[deploy as usize];
        let patch = self.deploys[deploy as usize].on_deadline(deploy, cfg, epoch, &mut ctx!(self));
        self.apply_deploy_step(patch)
    }

    /// A deploy's retry after a rollback.
    pub(super) fn on_deploy_retry(&mut self, deploy: u16, epoch: u32) -> Result<(), SimError> {
        let cfg = &self.config.deploys[deploy as usize];
        let patch = self.deploys[deploy as usize].on_retry(deploy, cfg, epoch, &mut ctx!(self));
        self.apply_deploy_step(patch)
    }
}
