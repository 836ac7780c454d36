//! The run-time configuration: a validated scenario compiled into indices, samplers and programs.
//!
//! Components are referred to by index (in name order) so the event loop never looks names up.
//! A `set` action or a fix applied mid-run compiles a new `Config`; the state adapts to it.

use crate::model::circuit_breaker::BreakerConfig;
pub use crate::model::client::ClientCfg;
use crate::model::client::RetryPolicy;
pub use crate::model::datastore::DatastoreCfg;
use crate::model::deploy::DeployCfg;
pub use crate::model::http_cache::HttpCacheCfg;
pub use crate::model::load_balancer::BalancerCfg;
pub use crate::model::lookaside_cache::CacheCfg;
pub use crate::model::memory::MemoryCfg;
pub use crate::model::probe::ProbeCfg;
use crate::model::retry_budget::BudgetConfig;
use crate::model::service::Sampler;
pub use crate::model::service::ServiceCfg;
pub use crate::model::timeline::TimelineTarget;
use crate::scenario::{ClientKind, ScenarioFile, Step, reachable_services};
use crate::time::{TimeUs, ms_to_us, s_to_us};

/// Where a request or a call goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A service (its instances in turn).
    Service(u16),
    /// A load balancer.
    Balancer(u16),
    /// An HTTP cache tier.
    HttpCache(u16),
    /// A third-party dependency.
    Dependency(u16),
}

/// Marks a service that has no endpoint of the wanted name (validation rules it out on any path
/// a request can take).
pub const NO_ENDPOINT: u16 = u16::MAX;

/// One operation of an endpoint's program.
#[derive(Clone, Debug)]
pub enum Op {
    /// Hold the worker for a sampled time.
    Work(Sampler),
    /// Run a query and wait for it.
    Query {
        datastore: u16,
        query: u16,
        timeout_us: TimeUs,
    },
    /// Call a component and wait for it; `endpoint_by_service` maps service index → endpoint.
    Call {
        target: Target,
        endpoint_by_service: Vec<u16>,
        timeout_us: TimeUs,
        /// False: fire and forget (sent, not waited for).
        wait: bool,
        /// Memory the caller holds while it waits, MB.
        memory_mb: f64,
    },
    /// Look-aside cache check: on a hit skip `miss_len` ops and the `Fill` after them.
    Cached { cache: u16, miss_len: u16 },
    /// Fill the look-aside cache for the request's key.
    Fill { cache: u16 },
}

/// A compiled endpoint.
#[derive(Clone, Debug)]
pub struct EndpointCfg {
    /// Middleware (if it applies) then the endpoint's own operations.
    pub program: Vec<Op>,
    /// Probability of an error response at the end.
    pub error_probability: f64,
    /// Memory held while in service, MB (rows included).
    pub memory_mb: f64,
}

/// A compiled dependency.
#[derive(Clone, Debug)]
pub struct DependencyCfg {
    /// Latency.
    pub latency: Sampler,
    /// Failure probability.
    pub error_probability: f64,
}

/// Everything the event loop needs to know about the system's parameters.
#[derive(Clone, Debug)]
pub struct Config {
    /// The scenario as currently in force (fixes, overrides and `set` actions applied).
    pub file: ScenarioFile,
    /// The same, as the tree of parameters that changes during the run patch.
    pub tree: crate::scenario::Value,
    /// Client populations.
    pub clients: Vec<ClientCfg>,
    /// Load balancers.
    pub balancers: Vec<BalancerCfg>,
    /// HTTP caches.
    pub http_caches: Vec<HttpCacheCfg>,
    /// Services.
    pub services: Vec<ServiceCfg>,
    /// Look-aside caches.
    pub caches: Vec<CacheCfg>,
    /// Datastores.
    pub datastores: Vec<DatastoreCfg>,
    /// Dependencies.
    pub dependencies: Vec<DependencyCfg>,
    /// Probes.
    pub probes: Vec<ProbeCfg>,
    /// Deploys, in name order.
    pub deploys: Vec<DeployCfg>,
    /// Largest key space of any client (sizes the look-aside caches).
    pub max_keys: u32,
    /// The components with series of their own, in column order.
    pub series_groups: Vec<crate::scenario::series::Group>,
    /// Per timeline entry: what it acts on, resolved to indices.
    pub timeline_targets: Vec<TimelineTarget>,
}

fn position<T>(map: &std::collections::BTreeMap<String, T>, name: &str) -> Option<u16> {
    map.keys().position(|k| k == name).map(|i| i as u16)
}

/// Compiles a validated scenario.
pub fn compile(file: &ScenarioFile, tree: &crate::scenario::Value) -> Config {
    let target = |name: &str| -> Target {
        if let Some(i) = position(&file.services, name) {
            Target::Service(i)
        } else if let Some(i) = position(&file.load_balancers, name) {
            Target::Balancer(i)
        } else if let Some(i) = position(&file.http_caches, name) {
            Target::HttpCache(i)
        } else {
            Target::Dependency(position(&file.dependencies, name).expect("validated reference"))
        }
    };
    let endpoint_by_service = |endpoint: &str| -> Vec<u16> {
        file.services
            .values()
            .map(|s| {
                s.endpoints
                    .keys()
                    .position(|e| e == endpoint)
                    .map_or(NO_ENDPOINT, |i| i as u16)
            })
            .collect()
    };
    let compile_steps = |steps: &[Step]| -> Vec<Op> {
        let mut ops = Vec::new();
        let mut fills: Vec<(usize, u16)> = Vec::new(); // (step index after which to fill, cache)
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Work { time } => ops.push(Op::Work(Sampler::new(time))),
                Step::Query {
                    datastore,
                    query,
                    timeout_ms,
                } => {
                    let ds = position(&file.datastores, datastore).expect("validated reference");
                    let q = position(&file.datastores[datastore].queries, query)
                        .expect("validated reference");
                    ops.push(Op::Query {
                        datastore: ds,
                        query: q,
                        timeout_us: ms_to_us(*timeout_ms),
                    });
                }
                Step::Call {
                    target: name,
                    endpoint,
                    timeout_ms,
                    wait,
                    memory_mb,
                } => ops.push(Op::Call {
                    target: target(name),
                    endpoint_by_service: endpoint_by_service(endpoint),
                    timeout_us: ms_to_us(*timeout_ms),
                    wait: *wait,
                    memory_mb: if *wait { *memory_mb } else { 0.0 },
                }),
                Step::Cached { cache, miss_steps } => {
                    let c = position(&file.caches, cache).expect("validated reference");
                    ops.push(Op::Cached {
                        cache: c,
                        miss_len: *miss_steps as u16,
                    });
                    fills.push((i + *miss_steps as usize, c));
                }
            }
            while let Some(&(after, cache)) = fills.last() {
                if after != i {
                    break;
                }
                ops.push(Op::Fill { cache });
                fills.pop();
            }
        }
        ops
    };

    let services = file
        .services
        .iter()
        .map(|(name, spec)| {
            let middleware = compile_steps(&spec.middleware);
            let endpoints = spec
                .endpoints
                .values()
                .map(|e| {
                    let rows = if e.max_rows > 0 {
                        e.rows.min(e.max_rows)
                    } else {
                        e.rows
                    };
                    let mut program = if e.middleware {
                        middleware.clone()
                    } else {
                        Vec::new()
                    };
                    if !e.disabled {
                        program.push(Op::Work(Sampler::new(&e.service_time)));
                        if rows > 0 && e.work_per_row_us > 0.0 {
                            let us = (rows as f64 * e.work_per_row_us).round() as TimeUs;
                            program.push(Op::Work(Sampler::Constant(us)));
                        }
                        program.extend(compile_steps(&e.steps));
                    }
                    EndpointCfg {
                        program,
                        error_probability: if e.disabled { 0.0 } else { e.error_probability },
                        memory_mb: if e.disabled {
                            0.0
                        } else {
                            e.memory_mb + rows as f64 * e.row_kb / 1024.0
                        },
                    }
                })
                .collect();
            ServiceCfg::compile(name, spec, endpoints)
        })
        .collect();

    let clients = file
        .clients
        .iter()
        .map(|(name, c)| {
            let mut rate_changes: Vec<(TimeUs, f64)> = c
                .rate_changes
                .iter()
                .map(|r| (s_to_us(r.at_s), r.rate_rps))
                .collect();
            crate::small_sort::sort_by_key(&mut rate_changes, |r| r.0);
            ClientCfg {
                name: name.clone(),
                kind: c.kind,
                target: target(&c.target),
                endpoint_by_service: endpoint_by_service(&c.endpoint),
                connect_endpoint_by_service: endpoint_by_service(&c.connect_endpoint),
                arrival: c.arrival,
                rate_rps: c.rate_rps,
                rate_changes,
                timeout_us: ms_to_us(c.timeout_ms),
                retry: RetryPolicy {
                    max_retries: c.max_retries,
                    backoff: c.backoff,
                    base_us: ms_to_us(c.backoff_base_ms),
                    cap_us: ms_to_us(c.backoff_cap_ms),
                    jitter: c.jitter,
                },
                budget: BudgetConfig {
                    percent: c.retry_budget_percent,
                    burst: c.retry_budget_burst,
                },
                breaker: BreakerConfig {
                    window: c.breaker_window,
                    failure_percent: c.breaker_failure_percent,
                    open_us: ms_to_us(c.breaker_open_ms),
                },
                keys: c.keys,
                users: c.users,
                population: if c.kind == ClientKind::Connections {
                    c.population
                } else {
                    0
                },
                connect_requests: c.connect_requests,
                heartbeat_us: s_to_us(c.heartbeat_period_s),
                connect_spread_us: s_to_us(c.connect_spread_s),
                sticky_groups: c.sticky_groups,
                drop_on_failure: c.drop_on_failure,
                reconnect: c.reconnect,
                give_up_after_us: s_to_us(c.give_up_after_s),
            }
        })
        .collect();

    let balancers = file
        .load_balancers
        .iter()
        .map(|(name, lb)| {
            let services = reachable_services(file, name)
                .iter()
                .map(|s| position(&file.services, s).expect("validated reference"))
                .collect();
            BalancerCfg::compile(lb, services)
        })
        .collect();

    let http_caches = file
        .http_caches
        .values()
        .map(|h| HttpCacheCfg::compile(h, target(&h.backend)))
        .collect();

    let caches = file.caches.values().map(CacheCfg::compile).collect();

    let datastores = file
        .datastores
        .values()
        .map(DatastoreCfg::compile)
        .collect();

    let dependencies = file
        .dependencies
        .values()
        .map(|d| DependencyCfg {
            latency: Sampler::new(&d.latency),
            error_probability: d.error_probability,
        })
        .collect();

    let probes = file
        .probes
        .values()
        .map(|p| {
            let service = position(&file.services, &p.target).expect("validated reference");
            let endpoint = file.services[&p.target]
                .endpoints
                .keys()
                .position(|e| *e == p.endpoint)
                .map_or(NO_ENDPOINT, |i| i as u16);
            ProbeCfg::compile(p, service, endpoint)
        })
        .collect();

    let deploys = file
        .deploys
        .values()
        .map(|d| {
            let service = position(&file.services, &d.service).expect("validated reference");
            DeployCfg::compile(d, service)
        })
        .collect();

    Config {
        series_groups: crate::scenario::series::groups(file)
            .into_iter()
            .map(|(_, group)| group)
            .collect(),
        timeline_targets: file
            .timeline
            .iter()
            .map(|event| TimelineTarget::resolve(file, event))
            .collect(),
        file: file.clone(),
        tree: tree.clone(),
        max_keys: file.clients.values().map(|c| c.keys).max().unwrap_or(1),
        clients,
        balancers,
        http_caches,
        services,
        caches,
        datastores,
        dependencies,
        probes,
        deploys,
    }
}
