//! Work inside services: jobs admitted to an instance, the job interpreter (work, queries,
//! calls, look-aside caches, dependencies), and handing queries, cache ops and memory checks to
//! their mechanisms.

use super::config::{NO_ENDPOINT, Op, Target};
use super::ops::Restart;
use super::{Event, Job, Outcome, Reply, SimError, Simulation};
use crate::model::datastore::Submitted;
use crate::model::lookaside_cache::{Lookup, ops_past_fill};
use crate::model::service::{Admission, QueuedFate, Sampler};
use crate::slab::Key;
use crate::time::TimeUs;

impl Simulation {
    /// Whether `job` names a live job in the wait it was issued for.
    pub(super) fn job_is(&self, job: Key) -> bool {
        self.jobs.get(job).is_some()
    }

    fn job(&self, job: Key) -> &Job {
        self.jobs.get(job).expect("a live job")
    }

    fn job_mut(&mut self, job: Key) -> &mut Job {
        self.jobs.get_mut(job).expect("a live job")
    }

    /// Hands a request to one instance of a service.
    pub(super) fn deliver(
        &mut self,
        service: u16,
        instance: u16,
        endpoint: u16,
        key: u32,
        reply: Reply,
    ) -> Result<(), SimError> {
        let cfg = &self.config.services[service as usize];
        let Some(inst) = self.instances[service as usize].get_mut(instance as usize) else {
            self.components.arrivals[service as usize] += 1;
            return self.service_failed(service, reply, Outcome::Error);
        };
        if !inst.up && cfg.silent_when_down {
            // A machine that is off neither takes the request nor refuses it: nothing comes
            // back, and the caller's own time-out (if any) ends its wait.
            return Ok(());
        }
        self.components.arrivals[service as usize] += 1;
        if endpoint == NO_ENDPOINT {
            return self.service_failed(service, reply, Outcome::Error);
        }
        match inst.admit(
            cfg.workers,
            cfg.queue_capacity,
            cfg.queue_counts_in_flight,
            &cfg.adaptive,
        ) {
            Admission::Refused => self.service_failed(service, reply, Outcome::Error),
            Admission::Shed => self.service_failed(service, reply, Outcome::Shed),
            admission => {
                if self.jobs.len() >= self.limits.live_jobs {
                    let max = self.limits.live_jobs;
                    return Err(self.limit(format!("more than {max} requests inside services")));
                }
                let id = self.jobs.insert(Job {
                    reply,
                    service,
                    instance,
                    endpoint,
                    pc: 0,
                    key,
                    enqueued_us: self.now_us,
                    memory_mb: 0.0,
                    call_memory_mb: 0.0,
                    filling: None,
                    query: None,
                });
                if admission == Admission::Start {
                    self.start_job(id)
                } else {
                    self.instances[service as usize][instance as usize]
                        .queue
                        .push_back(id);
                    Ok(())
                }
            }
        }
    }

    /// Puts a job on a worker (already counted busy) and runs its program.
    fn start_job(&mut self, id: Key) -> Result<(), SimError> {
        let (service, endpoint) = {
            let job = self.job(id);
            (job.service, job.endpoint)
        };
        let memory = self.config.services[service as usize].endpoints[endpoint as usize].memory_mb;
        if memory > 0.0 && self.hold_memory(id, memory) {
            return Ok(()); // the instance crashed under this job
        }
        self.run_job(id)
    }

    /// The job takes `memory_mb` more of its instance's memory; true if that crashed the instance
    /// (out of memory), taking the job with it.
    fn hold_memory(&mut self, id: Key, memory_mb: f64) -> bool {
        let job = self.job_mut(id);
        job.memory_mb += memory_mb;
        let (service, instance) = (job.service, job.instance);
        self.instances[service as usize][instance as usize]
            .work_memory
            .allocate(memory_mb);
        self.check_memory(service, instance)
    }

    /// Runs a job's program from its current operation until it has to wait or ends.
    fn run_job(&mut self, mut id: Key) -> Result<(), SimError> {
        let config = self.config.clone();
        loop {
            let job = self.job(id);
            let endpoint = &config.services[job.service as usize].endpoints[job.endpoint as usize];
            let Some(op) = endpoint.program.get(job.pc as usize) else {
                let failed =
                    endpoint.error_probability > 0.0 && self.rng.chance(endpoint.error_probability);
                return self.finish_job(
                    id,
                    if failed {
                        Outcome::Error
                    } else {
                        Outcome::Success
                    },
                );
            };
            // Every wait gets a fresh key, so replies to earlier waits are stale.
            id = self.jobs.renew(id).expect("a live job");
            match op {
                Op::Work(sampler) => {
                    let done = Event::StepDone { job: id };
                    // A constant duration keeps to a FIFO lane (same order, no heap).
                    if let Sampler::Constant(duration) = *sampler {
                        self.queue.push_after(self.now_us, duration, done);
                    } else {
                        let duration = sampler.sample_us(&mut self.rng);
                        self.queue.push(self.now_us + duration, done);
                    }
                    return Ok(());
                }
                Op::Query {
                    datastore,
                    query,
                    timeout_us,
                } => {
                    self.arm_call_timeout(id, *timeout_us);
                    return self.submit_query(id, *datastore, *query);
                }
                Op::Call {
                    target,
                    endpoint_by_service,
                    wait: false,
                    ..
                } => {
                    // Fire and forget: a dependency's answer is not modelled at all; a service
                    // or balancer gets the request, and its answer goes nowhere.
                    if !matches!(*target, Target::Dependency(_)) {
                        let key = self.job(id).key;
                        self.route(*target, endpoint_by_service, key, 0, None, Reply::Nobody)?;
                    }
                    if !self.job_is(id) {
                        return Ok(()); // the call brought its own instance down
                    }
                    self.job_mut(id).pc += 1;
                    continue;
                }
                Op::Call {
                    target,
                    endpoint_by_service,
                    timeout_us,
                    wait: true,
                    memory_mb,
                } => {
                    if *memory_mb > 0.0 {
                        // The caller holds the pending call until its answer (or its end).
                        self.job_mut(id).call_memory_mb = *memory_mb;
                        if self.hold_memory(id, *memory_mb) {
                            return Ok(()); // the instance crashed under this call
                        }
                    }
                    self.arm_call_timeout(id, *timeout_us);
                    if let Target::Dependency(d) = *target {
                        let dep = &config.dependencies[d as usize];
                        let latency = dep.latency.sample_us(&mut self.rng);
                        let ok = !(dep.error_probability > 0.0
                            && self.rng.chance(dep.error_probability));
                        self.queue
                            .push(self.now_us + latency, Event::DependencyDone { job: id, ok });
                        return Ok(());
                    }
                    let key = self.job(id).key;
                    let reply = Reply::Job { job: id };
                    return self.route(*target, endpoint_by_service, key, 0, None, reply);
                }
                Op::Cached { cache, miss_len } => {
                    let c = *cache as usize;
                    let key = self.job(id).key;
                    match self.caches[c].look_up(&config.caches[c], key, self.now_us, id) {
                        Lookup::Hit => self.job_mut(id).pc += ops_past_fill(*miss_len),
                        Lookup::Miss => {
                            let job = self.job_mut(id);
                            job.filling = Some(*cache);
                            job.pc += 1;
                        }
                        Lookup::Wait => return Ok(()),
                    }
                }
                Op::Fill { cache } => {
                    let c = *cache as usize;
                    let key = self.job(id).key;
                    let waiters = self.caches[c].fill_for(&config.caches[c], key, &mut ctx!(self));
                    let job = self.job_mut(id);
                    job.filling = None;
                    job.pc += 1;
                    for waiter in waiters {
                        let Some(w) = self.jobs.get(waiter) else {
                            continue;
                        };
                        // The waiter sits on its Cached op: skip the miss ops and the Fill.
                        let Op::Cached { miss_len, .. } = config.services[w.service as usize]
                            .endpoints[w.endpoint as usize]
                            .program[w.pc as usize]
                        else {
                            continue;
                        };
                        self.job_mut(waiter).pc += ops_past_fill(miss_len);
                        self.run_job(waiter)?;
                    }
                }
            }
        }
    }

    /// Schedules the timeout of the call or query a job waits for (0 = none).
    fn arm_call_timeout(&mut self, job: Key, timeout_us: TimeUs) {
        if timeout_us > 0 {
            self.queue
                .push_after(self.now_us, timeout_us, Event::CallTimeout { job });
        }
    }

    /// The current operation finished well: move on.
    pub(super) fn advance_job(&mut self, id: Key) -> Result<(), SimError> {
        let job = self.job_mut(id);
        job.query = None;
        job.pc += 1;
        let call_memory_mb = std::mem::take(&mut job.call_memory_mb);
        if call_memory_mb > 0.0 {
            // The answer is in: the pending call's memory is released.
            job.memory_mb -= call_memory_mb;
            let (service, instance) = (job.service, job.instance);
            if let Some(inst) = self.instances[service as usize].get_mut(instance as usize) {
                inst.work_memory.free(call_memory_mb);
            }
        }
        self.run_job(id)
    }

    /// The current operation failed (query error or timeout, failed call): the request fails.
    pub(super) fn job_failed(&mut self, id: Key) -> Result<(), SimError> {
        self.job_mut(id).query = None;
        self.finish_job(id, Outcome::Error)
    }

    /// A request `service` did not serve (refused, shed, failed or lost): counted against the
    /// service, then answered.
    fn service_failed(
        &mut self,
        service: u16,
        reply: Reply,
        outcome: Outcome,
    ) -> Result<(), SimError> {
        self.components.failed[service as usize] += 1;
        self.respond(reply, outcome)
    }

    /// Ends a job: frees its worker and memory, releases single-flight waiters, answers.
    pub(super) fn finish_job(&mut self, id: Key, outcome: Outcome) -> Result<(), SimError> {
        let job = self.jobs.remove(id).expect("a live job");
        self.window.completed += 1;
        if outcome != Outcome::Success {
            self.components.failed[job.service as usize] += 1;
        }
        if let Some(inst) = self.instances[job.service as usize].get_mut(job.instance as usize) {
            inst.work_memory.free(job.memory_mb);
            let adaptive = &self.config.services[job.service as usize].adaptive;
            let latency_us = self.now_us - job.enqueued_us;
            inst.adaptive
                .record(adaptive, latency_us, outcome == Outcome::Success);
            if outcome == Outcome::Success {
                self.components.latency[job.service as usize].record(latency_us);
            }
        }
        if let Some(cache) = job.filling {
            self.release_fill_waiters(cache, job.key)?;
        }
        self.next_job(job.service, job.instance)?;
        self.respond(job.reply, outcome)
    }

    /// A fill failed: everybody waiting for it fails too.
    fn release_fill_waiters(&mut self, cache: u16, request_key: u32) -> Result<(), SimError> {
        let c = cache as usize;
        for waiter in self.caches[c].fill_failed(&self.config.caches[c], request_key) {
            if self.job_is(waiter) {
                self.finish_job(waiter, Outcome::Error)?;
            }
        }
        Ok(())
    }

    /// Gives an instance's freed worker the next queued job, or marks it idle.
    fn next_job(&mut self, service: u16, instance: u16) -> Result<(), SimError> {
        loop {
            let Some(next) = self.instances[service as usize]
                .get_mut(instance as usize)
                .and_then(|inst| inst.next_queued())
            else {
                return Ok(());
            };
            let job = self.job(next);
            let (reply, waited_us) = (job.reply, self.now_us - job.enqueued_us);
            let cfg = &self.config.services[service as usize];
            // Whether the caller still waits is asked only where the service would drop it.
            let wanted = !cfg.honor_timeout || self.reply_wanted(reply);
            match cfg.fate_of_queued(waited_us, wanted) {
                QueuedFate::Start => return self.start_job(next),
                QueuedFate::Dropped => self.drop_job(next),
                QueuedFate::Shed => {
                    self.drop_job(next);
                    self.service_failed(service, reply, Outcome::Shed)?;
                }
            }
        }
    }

    /// Frees a queued job without running it.
    fn drop_job(&mut self, id: Key) {
        self.jobs.remove(id);
    }

    /// Aborts every job of an instance (it crashed): callers get an error at once.
    pub(super) fn abort_jobs(&mut self, service: u16, instance: u16) -> Result<(), SimError> {
        let aborted: Vec<Key> = self
            .jobs
            .iter()
            .filter(|(_, job)| job.service == service && job.instance == instance)
            .map(|(id, _)| id)
            .collect();
        for id in aborted {
            if !self.job_is(id) {
                continue; // ended while an earlier one was aborted
            }
            self.abandon_query(id);
            let job = self.jobs.remove(id).expect("a live job");
            if let Some(cache) = job.filling {
                self.release_fill_waiters(cache, job.key)?;
            }
            self.service_failed(service, job.reply, Outcome::Error)?;
        }
        Ok(())
    }

    // ---- datastores ----

    fn submit_query(&mut self, job: Key, datastore: u16, query: u16) -> Result<(), SimError> {
        let d = datastore as usize;
        let cfg = &self.config.datastores[d];
        match self.datastores[d].submit_query(datastore, cfg, job, query, &mut ctx!(self)) {
            Submitted::Refused => self.job_failed(job),
            Submitted::Running(query) | Submitted::Queued(query) => {
                self.job_mut(job).query = Some((datastore, query));
                Ok(())
            }
        }
    }

    /// After a datastore's queries or config changed: its statement timeouts and wake-up.
    pub(super) fn settle_datastore(&mut self, datastore: u16) {
        let d = datastore as usize;
        self.datastores[d].settle(datastore, &self.config.datastores[d], &mut ctx!(self));
    }

    pub(super) fn on_datastore_wake(
        &mut self,
        datastore: u16,
        generation: u32,
    ) -> Result<(), SimError> {
        let d = datastore as usize;
        let mut finished = std::mem::take(&mut self.finished);
        let cfg = &self.config.datastores[d];
        if !self.datastores[d].on_wake(datastore, cfg, generation, &mut finished, &mut ctx!(self)) {
            self.finished = finished;
            return Ok(());
        }
        let mut result = Ok(());
        for &job in &finished {
            if self.job_is(job) {
                result = self.advance_job(job);
                if result.is_err() {
                    break;
                }
            }
        }
        self.finished = finished;
        result
    }

    pub(super) fn on_statement_timeout(
        &mut self,
        datastore: u16,
        query: Key,
    ) -> Result<(), SimError> {
        if !self.datastores[datastore as usize].is_running(query) {
            // It finished or was killed already (timeouts are armed when a query starts).
            return Ok(());
        }
        self.kill_and_fail(datastore, &[query])
    }

    /// An operator kills the live queries of a datastore (of one kind, or all): each caller gets
    /// an error, as with a statement timeout.
    pub(super) fn kill_queries(
        &mut self,
        datastore: u16,
        kind: Option<u16>,
    ) -> Result<(), SimError> {
        let queries = self.datastores[datastore as usize].live_queries(kind);
        self.kill_and_fail(datastore, &queries)
    }

    /// Kills these queries of a datastore, those still live, and fails their callers.
    fn kill_and_fail(&mut self, datastore: u16, queries: &[Key]) -> Result<(), SimError> {
        let d = datastore as usize;
        let cfg = &self.config.datastores[d];
        let owners = self.datastores[d].kill_queries(datastore, cfg, queries, &mut ctx!(self));
        for job in owners {
            if self.job_is(job) {
                self.job_failed(job)?;
            }
        }
        Ok(())
    }

    /// The caller stopped waiting for its query (timeout or crash): see [`Datastore::abandon`].
    ///
    /// [`Datastore::abandon`]: crate::model::datastore::Datastore::abandon
    pub(super) fn abandon_query(&mut self, job: Key) {
        let Some((datastore, query)) = self.job_mut(job).query.take() else {
            return;
        };
        let d = datastore as usize;
        let cfg = &self.config.datastores[d];
        self.datastores[d].abandon(datastore, cfg, query, &mut ctx!(self));
    }

    // ---- memory ----

    /// Memory of an instance now, MB.
    pub(super) fn instance_memory_mb(&self, service: u16, instance: u16) -> f64 {
        let inst = &self.instances[service as usize][instance as usize];
        self.config.services[service as usize]
            .memory
            .wanted_mb(inst.work_memory.mb(), inst.connections)
    }

    /// Records peak memory and crashes the instance if it is over its limit; returns whether it
    /// crashed.
    pub(super) fn check_memory(&mut self, service: u16, instance: u16) -> bool {
        let wanted_mb = self.instance_memory_mb(service, instance);
        let memory = self.config.services[service as usize]
            .memory
            .verdict(wanted_mb);
        self.components.memory_peaks.record(service, memory.held_mb);
        if memory.out_of_memory {
            // Out of memory. Answering the crashed work's callers may hit a run limit: that
            // error is kept and returned by the event loop after this event.
            if let Err(err) = self.crash_instance(service, instance, Restart::Auto) {
                self.deferred_error.get_or_insert(err);
            }
            return true;
        }
        false
    }
}
