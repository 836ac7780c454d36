//! Traffic: open-loop arrivals, attempts and retries, routing through HTTP caches and load
//! balancers, request outcomes, and persistent-connection clients.

use super::config::Target;
use super::{Event, Origin, Outcome, Reply, Request, SimError, Simulation};
use crate::model::circuit_breaker::Permit;
use crate::model::connection::{
    self, ConnectStep, DeviceState, Reconnect, arm_first_heartbeat, arm_next_heartbeat,
};
use crate::model::load_balancer::{InstanceRef, home, pick_direct};
use crate::slab::Key;

impl Simulation {
    /// Arms a client population's next arrival: a timer of the queue, so that a rate change
    /// re-arms it in place.
    pub(super) fn schedule_arrival(&mut self, client: u16) {
        let timer = self.arrival_timer(client);
        let cfg = &self.config.clients[client as usize];
        self.clients[client as usize].arm_arrival(client, cfg, timer, &mut ctx!(self));
    }

    /// The queue timer that holds a client's next arrival (datastores' wake-ups come first).
    fn arrival_timer(&self, client: u16) -> usize {
        self.datastores.len() + client as usize
    }

    /// Changes a client population's arrival rate from now on.
    pub(super) fn set_client_rate(&mut self, client: u16, rate_rps: f64) {
        let timer = self.arrival_timer(client);
        let cfg = &self.config.clients[client as usize];
        self.clients[client as usize].set_rate(client, cfg, rate_rps, timer, &mut ctx!(self));
    }

    pub(super) fn on_arrival(&mut self, client: u16, epoch: u32) -> Result<(), SimError> {
        if !self.clients[client as usize].arrival_is_current(epoch) {
            return Ok(());
        }
        self.schedule_arrival(client);
        let request = self.new_request(client, Origin::Plain, None)?;
        self.send_attempt(request)
    }

    /// Starts a request (drawing its key and user) and counts it as offered.
    fn new_request(
        &mut self,
        client: u16,
        origin: Origin,
        pinned: Option<InstanceRef>,
    ) -> Result<Key, SimError> {
        let cfg = &self.config.clients[client as usize];
        let key = if cfg.keys > 1 {
            self.rng.below(cfg.keys as u64) as u32
        } else {
            0
        };
        let user = if cfg.users > 1 {
            self.rng.below(cfg.users as u64) as u32
        } else {
            0
        };
        if self.requests.len() >= self.limits.live_requests {
            let max = self.limits.live_requests;
            return Err(self.limit(format!("more than {max} requests in flight")));
        }
        let request = self.requests.insert(Request {
            client,
            origin,
            attempts: 0,
            waiting: false,
            first_sent_us: self.now_us,
            last_delay_us: 0,
            key,
            user,
            pinned,
            permit: Permit::Call,
        });
        self.clients[client as usize].request_started(&self.config.clients[client as usize]);
        self.ledger.started += 1;
        self.totals.total += 1;
        self.totals.in_flight += 1;
        self.window.offered += 1;
        Ok(request)
    }

    fn request_mut(&mut self, request: Key) -> &mut Request {
        self.requests.get_mut(request).expect("a live request")
    }

    pub(super) fn on_send(&mut self, request: Key) -> Result<(), SimError> {
        if self.requests.get(request).is_some_and(|r| !r.waiting) {
            self.send_attempt(request)?;
        }
        Ok(())
    }

    /// Whether `attempt` of `request` is the one its client still waits for.
    pub(super) fn is_current(&self, request: Key, attempt: u32) -> bool {
        self.requests
            .get(request)
            .is_some_and(|r| r.attempts == attempt && r.waiting)
    }

    /// Whether anybody still waits for the answer a reply would carry.
    pub(super) fn reply_wanted(&self, reply: Reply) -> bool {
        match reply {
            Reply::Client { request, attempt }
            | Reply::ViaHttpCache {
                request, attempt, ..
            } => self.is_current(request, attempt),
            Reply::Job { job } => self.job_is(job),
            Reply::Nobody => true,
            Reply::Check { check } => self.checks.get(check).is_some(),
        }
    }

    fn send_attempt(&mut self, request: Key) -> Result<(), SimError> {
        let (client, attempt, key, user, pinned, origin) = {
            let r = self.request_mut(request);
            r.attempts += 1;
            r.waiting = true;
            (
                r.client as usize,
                r.attempts,
                r.key,
                r.user,
                r.pinned,
                r.origin,
            )
        };
        let config = self.config.clone();
        let cfg = &config.clients[client];
        let permit = self.clients[client].permit(cfg, self.now_us);
        self.request_mut(request).permit = permit;
        if permit == Permit::Refused {
            // An open breaker fails the attempt at once: it never leaves the client.
            return self.attempt_failed(request, Outcome::Error);
        }
        self.window.attempted += 1;
        self.queue.push_after(
            self.now_us,
            cfg.timeout_us,
            Event::AttemptTimeout { request, attempt },
        );
        let endpoints = match origin {
            Origin::Connect { .. } => &cfg.connect_endpoint_by_service,
            _ => &cfg.endpoint_by_service,
        };
        let reply = Reply::Client { request, attempt };
        match pinned {
            Some((service, instance)) => {
                let endpoint = endpoints[service as usize];
                self.deliver(service, instance, endpoint, key, reply)
            }
            None => {
                let sticky = match origin {
                    Origin::Connect { device, .. } | Origin::Heartbeat { device, .. } => {
                        Some(((client as u64) << 32) | device as u64)
                    }
                    Origin::Plain => None,
                };
                self.route(cfg.target, endpoints, key, user, sticky, reply)
            }
        }
    }

    /// Sends work to a target on behalf of `reply`.
    pub(super) fn route(
        &mut self,
        target: Target,
        endpoints: &[u16],
        key: u32,
        user: u32,
        sticky: Option<u64>,
        reply: Reply,
    ) -> Result<(), SimError> {
        match target {
            Target::HttpCache(cache) => {
                let cfg = &self.config.http_caches[cache as usize];
                let cache_key = cfg.key_of(key, user);
                let backend = cfg.backend;
                match self.http_caches[cache as usize].lookup(cache_key, self.now_us) {
                    Some(entry) => {
                        let outcome = if entry.error {
                            Outcome::Error
                        } else {
                            Outcome::Success
                        };
                        self.respond(reply, outcome)
                    }
                    None => {
                        let Reply::Client { request, attempt } = reply else {
                            return self.respond(reply, Outcome::Error);
                        };
                        let via = Reply::ViaHttpCache {
                            cache,
                            key: cache_key,
                            request,
                            attempt,
                        };
                        self.route(backend, endpoints, key, user, sticky, via)
                    }
                }
            }
            Target::Balancer(b) => match self.pick_instance(b, sticky) {
                Some((service, instance)) => {
                    self.deliver(service, instance, endpoints[service as usize], key, reply)
                }
                // No instance in rotation: the balancer answers 503 at once.
                None => self.respond(reply, Outcome::Error),
            },
            Target::Service(s) => {
                let count = self.instances[s as usize].len();
                if count == 0 {
                    return self.respond(reply, Outcome::Error);
                }
                let instance = pick_direct(count, &mut self.service_cursors[s as usize], sticky);
                self.deliver(s, instance as u16, endpoints[s as usize], key, reply)
            }
            Target::Dependency(_) => self.respond(reply, Outcome::Error),
        }
    }

    fn pick_instance(&mut self, balancer: u16, sticky: Option<u64>) -> Option<InstanceRef> {
        let cursor = &mut self.balancer_cursors[balancer as usize];
        self.config.balancers[balancer as usize].pick(
            &self.instances,
            cursor,
            sticky,
            &mut self.rng,
        )
    }

    /// Delivers an answer to whoever waits for it.
    pub(super) fn respond(&mut self, reply: Reply, outcome: Outcome) -> Result<(), SimError> {
        match reply {
            Reply::Client { request, attempt } => {
                if !self.is_current(request, attempt) {
                    return Ok(());
                }
                self.attempt_answered(request, outcome == Outcome::Success);
                match outcome {
                    Outcome::Success => self.request_ended(request, Outcome::Success),
                    failure => self.attempt_failed(request, failure)?,
                }
                Ok(())
            }
            Reply::ViaHttpCache {
                cache,
                key,
                request,
                attempt,
            } => {
                let c = cache as usize;
                self.http_caches[c].store_response(
                    &self.config.http_caches[c],
                    key,
                    outcome,
                    self.now_us,
                );
                self.respond(Reply::Client { request, attempt }, outcome)
            }
            Reply::Job { job } => {
                if !self.job_is(job) {
                    return Ok(());
                }
                if outcome == Outcome::Success {
                    self.advance_job(job)
                } else {
                    self.job_failed(job)
                }
            }
            Reply::Check { check } => self.on_check_result(check, outcome == Outcome::Success),
            Reply::Nobody => Ok(()),
        }
    }

    pub(super) fn attempt_failed(
        &mut self,
        request: Key,
        outcome: Outcome,
    ) -> Result<(), SimError> {
        let (client, attempts, previous) = {
            let r = self.request_mut(request);
            r.waiting = false;
            (r.client as usize, r.attempts, r.last_delay_us)
        };
        let cfg = &self.config.clients[client];
        match self.clients[client].retry(cfg, request, attempts, previous, &mut ctx!(self)) {
            Some(delay_us) => self.request_mut(request).last_delay_us = delay_us,
            None => self.request_ended(request, outcome),
        }
        Ok(())
    }

    /// Tells the client's circuit breaker how the outstanding attempt of `request` went.
    pub(super) fn attempt_answered(&mut self, request: Key, ok: bool) {
        let Some(r) = self.requests.get(request) else {
            return;
        };
        let (client, permit) = (r.client as usize, r.permit);
        let cfg = &self.config.clients[client];
        self.clients[client].attempt_answered(cfg, self.now_us, permit, ok);
    }

    pub(super) fn request_ended(&mut self, request: Key, outcome: Outcome) {
        let Some(r) = self.requests.remove(request) else {
            // Already ended: a second end is refused and recorded for `check_ledger`.
            self.ledger.bad_ends += 1;
            return;
        };
        self.ledger.ended += 1;
        let latency = self.now_us - r.first_sent_us;
        let (client, origin) = (r.client, r.origin);
        self.totals.in_flight -= 1;
        let by_client = &mut self.window.by_client;
        if by_client.len() <= client as usize {
            by_client.resize(client as usize + 1, [0; 4]);
        }
        by_client[client as usize][outcome as usize] += 1;
        match outcome {
            Outcome::Success => {
                self.totals.success += 1;
                self.window.success += 1;
                self.window.latency.record(latency);
            }
            Outcome::Error => {
                self.totals.error += 1;
                self.window.error += 1;
            }
            Outcome::Timeout => {
                self.totals.timeout += 1;
                self.window.timeout += 1;
            }
            Outcome::Shed => {
                self.totals.shed += 1;
                self.window.shed += 1;
            }
        }
        match origin {
            Origin::Plain => {}
            Origin::Connect { device, epoch } => {
                self.connect_request_ended(client, device, epoch, outcome)
            }
            Origin::Heartbeat { device, epoch } => {
                let cfg = &self.config.clients[client as usize];
                if outcome != Outcome::Success && cfg.drop_on_failure {
                    self.drop_connection(client, device, epoch);
                }
            }
        }
    }

    // ---- connection clients ----

    pub(super) fn on_connect(
        &mut self,
        client: u16,
        device: u32,
        epoch: u32,
    ) -> Result<(), SimError> {
        let config = self.config.clone();
        let cfg = &config.clients[client as usize];
        let now_us = self.now_us;
        let Some(epoch) = self.devices[client as usize]
            .get_mut(device as usize)
            .and_then(|d| d.start_connecting(epoch, cfg.connect_requests, now_us))
        else {
            return Ok(());
        };
        let sticky_id = connection::sticky_id(client, device, cfg.sticky_groups);
        let instance = match cfg.target {
            Target::Balancer(b) => self.pick_instance(b, Some(sticky_id)),
            Target::Service(s) if !self.instances[s as usize].is_empty() => {
                Some((s, home(sticky_id, self.instances[s as usize].len()) as u16))
            }
            _ => None,
        };
        let Some(instance) = instance else {
            // Nowhere to connect: count one failed connect request and back off.
            let request = self.new_request(client, Origin::Connect { device, epoch }, None)?;
            self.window.attempted += 1;
            self.request_mut(request).attempts = 1;
            self.request_ended(request, Outcome::Error);
            return Ok(());
        };
        self.devices[client as usize][device as usize].instance = instance;
        for _ in 0..cfg.connect_requests {
            if self.devices[client as usize][device as usize].epoch != epoch {
                break; // an earlier connect request already failed at once
            }
            let request =
                self.new_request(client, Origin::Connect { device, epoch }, Some(instance))?;
            self.send_attempt(request)?;
        }
        Ok(())
    }

    fn connect_request_ended(&mut self, client: u16, device: u32, epoch: u32, outcome: Outcome) {
        // The client may be gone: a `set` can shrink the population while its requests fly.
        let Some(d) = self.devices[client as usize].get_mut(device as usize) else {
            return;
        };
        match d.connect_request_ended(epoch, outcome == Outcome::Success) {
            ConnectStep::Stale | ConnectStep::Pending => return,
            ConnectStep::Failed => return self.drop_connection(client, device, epoch),
            ConnectStep::Answered => {}
        }
        let (service, instance) = d.instance;
        let up = self.instances[service as usize]
            .get(instance as usize)
            .is_some_and(|i| i.up);
        if !up {
            self.drop_connection(client, device, epoch);
            return;
        }
        self.devices[client as usize][device as usize].connected();
        self.instances[service as usize][instance as usize].connections += 1;
        let period_us = self.config.clients[client as usize].heartbeat_us;
        arm_first_heartbeat(client, device, epoch, period_us, &mut ctx!(self));
        self.check_memory(service, instance);
    }

    pub(super) fn on_heartbeat(
        &mut self,
        client: u16,
        device: u32,
        epoch: u32,
    ) -> Result<(), SimError> {
        let Some(&d) = self.devices[client as usize].get(device as usize) else {
            return Ok(());
        };
        if !d.heartbeat_due(epoch) {
            return Ok(());
        }
        let period_us = self.config.clients[client as usize].heartbeat_us;
        arm_next_heartbeat(client, device, epoch, period_us, &mut ctx!(self));
        let request = self.new_request(
            client,
            Origin::Heartbeat { device, epoch },
            Some(d.instance),
        )?;
        self.send_attempt(request)
    }

    /// Drops a client's connection (or failed connect) and schedules its reconnect.
    pub(super) fn drop_connection(&mut self, client: u16, device: u32, epoch: u32) {
        let cfg = &self.config.clients[client as usize];
        let how = Reconnect {
            retry: &cfg.retry,
            reconnect: cfg.reconnect,
            give_up_after_us: cfg.give_up_after_us,
        };
        let Some(d) = self.devices[client as usize].get_mut(device as usize) else {
            return;
        };
        let mut ctx = ctx!(self);
        let Some(dropped) = d.drop_connection(client, device, epoch, how, &mut ctx) else {
            return;
        };
        if let Some((service, instance)) = dropped.from
            && let Some(i) = self.instances[service as usize].get_mut(instance as usize)
        {
            i.connections = i.connections.saturating_sub(1);
        }
    }

    /// Connected clients of each connections population (for the series).
    pub(super) fn connected_count(&self, client: usize) -> usize {
        self.devices[client]
            .iter()
            .filter(|d| d.state == DeviceState::Connected)
            .count()
    }
}
