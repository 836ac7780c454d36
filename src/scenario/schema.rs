//! The scenario file format: serde structs read from TOML, every field with a default and a unit.
//!
//! Unknown fields are refused (`deny_unknown_fields`). Components are tables keyed by their name
//! (`[services.api]`), so a parameter's path in the file (`services.api.workers`) is also the path
//! that fixes and `--set` patch.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole scenario file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Who, what, when and where the story comes from.
    pub scenario: Meta,
    /// Client populations, by name.
    #[serde(default)]
    pub clients: BTreeMap<String, ClientSpec>,
    /// Load balancers, by name.
    #[serde(default)]
    pub load_balancers: BTreeMap<String, LoadBalancerSpec>,
    /// HTTP cache tiers (Varnish-like), by name.
    #[serde(default)]
    pub http_caches: BTreeMap<String, HttpCacheSpec>,
    /// Services (each a set of identical instances), by name.
    #[serde(default)]
    pub services: BTreeMap<String, ServiceSpec>,
    /// Look-aside caches used by services' endpoints, by name.
    #[serde(default)]
    pub caches: BTreeMap<String, CacheSpec>,
    /// Datastores (database CPU shared by running queries), by name.
    #[serde(default)]
    pub datastores: BTreeMap<String, DatastoreSpec>,
    /// Third-party dependencies called synchronously, by name.
    #[serde(default)]
    pub dependencies: BTreeMap<String, DependencySpec>,
    /// Health probes (liveness, readiness, proxies' health checks), by name.
    #[serde(default)]
    pub probes: BTreeMap<String, ProbeSpec>,
    /// Deploys gated by readiness, started by `deploy` timeline actions, by name.
    #[serde(default)]
    pub deploys: BTreeMap<String, DeploySpec>,
    /// What happens when, as it happened (crashes, recoveries, operator actions).
    #[serde(default)]
    pub timeline: Vec<TimelineEvent>,
    /// The story a trainee steps through.
    #[serde(default)]
    pub beats: Vec<Beat>,
    /// Named fixes: each a patch of parameters.
    #[serde(default)]
    pub fixes: BTreeMap<String, Fix>,
    /// Checks that the tests and `cascade check` run.
    #[serde(default)]
    pub expectations: Vec<Expectation>,
    /// Prediction questions: the replay pauses at a beat and asks what happens next.
    #[serde(default)]
    pub questions: Vec<Question>,
    /// The on-call drill: what paged, and what the on-call engineer could do.
    #[serde(default)]
    pub drill: Drill,
    /// Key parameters a reader can change without editing the file: the player's "What if"
    /// panel (the browser form of `--set`).
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    /// The stability map: which declared parameters it sweeps, and what counts as collapse.
    #[serde(default)]
    pub sweep: SweepSpec,
}

/// The stability map's suggested axes (`cascade sweep` with no `--param`, the browser's map)
/// and what counts as a collapse for this outage.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// One or two declared parameters' paths: the map's x axis, then its y axis (none: the
    /// first two parameters).
    #[serde(default)]
    pub axes: Vec<String>,
    /// A run collapses when it has not recovered by its end, or (when above 0) when its outage
    /// lasts at least this long, s: for an outage that operators ended, "it did not recover
    /// on its own before they acted".
    #[serde(default)]
    pub collapse_outage_s: f64,
}

/// A key parameter, its label and the range a reader may move it over.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// The parameter path, as `--set` and fixes name it (`clients.users.rate_rps`); a number.
    pub path: String,
    /// What it is, in a few words ("Requests per second").
    pub label: String,
    /// Its unit, as shown after the value ("req/s"); may be empty.
    #[serde(default)]
    pub unit: String,
    /// The lowest value offered.
    pub min: f64,
    /// The highest value offered.
    pub max: f64,
    /// The step between values offered (0: a hundredth of the range; whole numbers for an
    /// integer parameter).
    #[serde(default)]
    pub step: f64,
}

/// Scenario metadata.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Stable identifier, kebab-case; also the file name without `.toml`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Organisation whose outage this is (or "Cascade Lab" for a generic one).
    #[serde(default)]
    pub organisation: String,
    /// Date of the outage, `YYYY-MM-DD`, or empty.
    #[serde(default)]
    pub date: String,
    /// Public URL of the source postmortem, or empty.
    #[serde(default)]
    pub source_url: String,
    /// A summary in our own words.
    #[serde(default)]
    pub summary: String,
    /// Wall-clock time at the start of the replay, as the postmortem gives it (`15:34 UTC`).
    #[serde(default)]
    pub started_at: String,
    /// How long the documented incident lasted, in seconds (0 = not a documented incident).
    #[serde(default)]
    pub incident_duration_s: f64,
    /// How long the replay runs, in seconds of virtual time.
    pub duration_s: f64,
    /// Width of one metrics window, in milliseconds.
    #[serde(default = "default_window_ms")]
    pub window_ms: f64,
    /// Seed used when none is given.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Series a viewer should watch first (names as in the CLI's JSON `series`).
    #[serde(default)]
    pub key_series: Vec<String>,
    /// A chart title for some series, in the scenario's own terms (`"db.cpu_pct" = "Postgres
    /// CPU"`); a series without one is named from its component and metric.
    #[serde(default)]
    pub series_labels: BTreeMap<String, String>,
    /// Where the scenario sits in a course: the gallery lists primers first.
    #[serde(default)]
    pub difficulty: Difficulty,
    /// What a trainee should take away: one or two learning objectives.
    #[serde(default)]
    pub objectives: Vec<String>,
}

/// How much a scenario asks of a newcomer.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Difficulty {
    /// One mechanism, a few components: start here.
    Primer,
    /// A documented outage with one loop.
    #[default]
    Intermediate,
    /// Several mechanisms feeding each other, or a long incident with many operator actions.
    Advanced,
}

impl Difficulty {
    /// Its name, as written in the file and shown in the gallery.
    pub fn name(self) -> &'static str {
        match self {
            Difficulty::Primer => "primer",
            Difficulty::Intermediate => "intermediate",
            Difficulty::Advanced => "advanced",
        }
    }
}

fn default_window_ms() -> f64 {
    1_000.0
}
fn default_seed() -> u64 {
    1
}

/// How new requests arrive.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    /// Exponential gaps between arrivals (open loop).
    Poisson,
    /// Evenly spaced arrivals (open loop).
    Uniform,
}

/// How long a client waits before a retry.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// Retry at once.
    None,
    /// Always `backoff_base_ms`.
    Constant,
    /// `backoff_base_ms × 2^(retry-1)`, at most `backoff_cap_ms`.
    Exponential,
}

/// How the backoff delay is randomised.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// The computed delay as it is.
    None,
    /// Uniform in [0, delay].
    Full,
    /// delay/2 plus uniform in [0, delay/2].
    Equal,
    /// Uniform in [base, 3 × previous delay], at most the cap.
    Decorrelated,
}

/// What kind of client population this is.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// Independent requests arriving at `rate_rps` (open loop), each retried by the retry policy.
    Requests,
    /// `population` clients that each hold a persistent connection to one instance: they connect
    /// (sending `connect_requests` requests to `connect_endpoint`), send a request to `endpoint`
    /// every `heartbeat_period_s`, and reconnect after a backoff delay when the connection drops.
    Connections,
}

/// A population of clients sending requests.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// Open-loop requests or persistent connections.
    #[serde(default = "default_client_kind")]
    pub kind: ClientKind,
    /// Component the requests go to (an HTTP cache, a load balancer or a service).
    pub target: String,
    /// Endpoint of the target service the requests call.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Arrival process of new requests.
    #[serde(default = "default_arrival")]
    pub arrival: Arrival,
    /// New requests per second (before any `rate_changes`); for connections, unused.
    #[serde(default)]
    pub rate_rps: f64,
    /// Rate changes over time.
    #[serde(default)]
    pub rate_changes: Vec<RateChange>,
    /// How long one attempt waits for its response, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: f64,
    /// Retries after a failed or timed-out attempt (0 = no retries).
    #[serde(default)]
    pub max_retries: u32,
    /// Delay policy between attempts.
    #[serde(default = "default_backoff")]
    pub backoff: Backoff,
    /// First backoff delay, in milliseconds.
    #[serde(default = "default_backoff_base_ms")]
    pub backoff_base_ms: f64,
    /// Longest backoff delay, in milliseconds.
    #[serde(default = "default_backoff_cap_ms")]
    pub backoff_cap_ms: f64,
    /// Randomisation of the backoff delay.
    #[serde(default = "default_jitter")]
    pub jitter: Jitter,
    /// Retry budget: retries allowed per 100 new requests (0 = no budget).
    #[serde(default)]
    pub retry_budget_percent: f64,
    /// Retry budget: most retries saved up for a burst.
    #[serde(default = "default_retry_budget_burst")]
    pub retry_budget_burst: f64,
    /// Circuit breaker: attempts whose outcomes it weighs (0 = no breaker).
    #[serde(default)]
    pub breaker_window: u32,
    /// Circuit breaker: share of failed attempts in a full window that opens it, percent.
    #[serde(default = "default_breaker_failure_percent")]
    pub breaker_failure_percent: f64,
    /// Circuit breaker: how long it fails attempts at once before a trial, in milliseconds.
    #[serde(default = "default_breaker_open_ms")]
    pub breaker_open_ms: f64,
    /// Distinct keys the requests ask for (API tokens, URLs), drawn uniformly.
    #[serde(default = "default_one")]
    pub keys: u32,
    /// Distinct users sending the requests, drawn uniformly (matters to HTTP cache keys).
    #[serde(default = "default_one")]
    pub users: u32,
    /// Connections: how many clients.
    #[serde(default)]
    pub population: u32,
    /// Connections: the endpoint a (re)connecting client calls.
    #[serde(default = "default_connect_endpoint")]
    pub connect_endpoint: String,
    /// Connections: requests one (re)connect sends; all must succeed.
    #[serde(default = "default_one")]
    pub connect_requests: u32,
    /// Connections: seconds between a connected client's requests to `endpoint` (0 = none).
    #[serde(default)]
    pub heartbeat_period_s: f64,
    /// Connections: seconds over which the clients first connect (spread uniformly).
    #[serde(default)]
    pub connect_spread_s: f64,
    /// Connections: the clients share this many source addresses (client `d` uses address
    /// `d mod sticky_groups`), so a sticky load balancer sends each group to one instance
    /// (0 = every client has its own).
    #[serde(default)]
    pub sticky_groups: u32,
    /// Connections: a request that fails or times out drops the connection.
    #[serde(default = "default_true")]
    pub drop_on_failure: bool,
    /// Connections: whether clients reconnect at all after a drop.
    #[serde(default = "default_true")]
    pub reconnect: bool,
    /// Connections: a user who has been without a connection this long (failed connects
    /// included) closes the app and stops reconnecting (0 = never gives up).
    #[serde(default)]
    pub give_up_after_s: f64,
}

fn default_client_kind() -> ClientKind {
    ClientKind::Requests
}
fn default_one() -> u32 {
    1
}
fn default_connect_endpoint() -> String {
    "connect".to_string()
}

fn default_endpoint() -> String {
    "default".to_string()
}
fn default_arrival() -> Arrival {
    Arrival::Poisson
}
fn default_timeout_ms() -> f64 {
    1_000.0
}
fn default_backoff() -> Backoff {
    Backoff::None
}
fn default_backoff_base_ms() -> f64 {
    100.0
}
fn default_backoff_cap_ms() -> f64 {
    10_000.0
}
fn default_jitter() -> Jitter {
    Jitter::None
}
fn default_retry_budget_burst() -> f64 {
    10.0
}
fn default_breaker_failure_percent() -> f64 {
    50.0
}
fn default_breaker_open_ms() -> f64 {
    5_000.0
}
fn default_adaptive_limit_min() -> f64 {
    1.0
}
fn default_adaptive_limit_decrease() -> f64 {
    0.9
}

/// A change of a client population's arrival rate at a moment.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateChange {
    /// When the new rate applies, in seconds.
    pub at_s: f64,
    /// The new rate, in requests per second.
    pub rate_rps: f64,
}

/// How a load balancer picks a backend instance.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BalancePolicy {
    /// Each instance in turn.
    RoundRobin,
    /// The instance with the fewest requests queued or in service (first on ties).
    LeastOutstanding,
    /// Uniformly at random.
    Random,
}

/// A load balancer in front of the instances of one or more services.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerSpec {
    /// Services whose instances receive traffic.
    pub backends: Vec<String>,
    /// Choice of instance.
    #[serde(default = "default_policy")]
    pub policy: BalancePolicy,
    /// Sticky sessions: a connection client always goes to the same instance (by a hash of its
    /// id over all instances, healthy or not), whatever `policy` says.
    #[serde(default)]
    pub sticky: bool,
}

fn default_policy() -> BalancePolicy {
    BalancePolicy::RoundRobin
}

/// A random duration.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "distribution", rename_all = "snake_case", deny_unknown_fields)]
pub enum Duration {
    /// Always `ms`.
    Constant {
        /// The duration, in milliseconds.
        ms: f64,
    },
    /// Exponential with mean `mean_ms`.
    Exponential {
        /// Mean, in milliseconds.
        mean_ms: f64,
    },
    /// Uniform between `min_ms` and `max_ms`.
    Uniform {
        /// Shortest, in milliseconds.
        min_ms: f64,
        /// Longest, in milliseconds.
        max_ms: f64,
    },
    /// Log-normal with the given median and 99th percentile.
    Lognormal {
        /// Median, in milliseconds.
        median_ms: f64,
        /// 99th percentile, in milliseconds.
        p99_ms: f64,
    },
}

/// A service: identical instances, each with a worker pool fed by a bounded FIFO queue.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Number of instances.
    #[serde(default = "default_instances")]
    pub instances: u32,
    /// Requests one instance serves at once.
    #[serde(default = "default_workers")]
    pub workers: u32,
    /// Most requests one instance holds, queued plus (if `queue_counts_in_flight`) in service;
    /// arrivals beyond it are shed.
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: u32,
    /// Whether requests in service count against `queue_capacity`.
    #[serde(default = "default_true")]
    pub queue_counts_in_flight: bool,
    /// Whether a queued request whose caller already gave up is dropped instead of served.
    #[serde(default)]
    pub honor_timeout: bool,
    /// Load shedding: a request that waited longer than this in the queue is shed when a worker
    /// picks it up, in milliseconds (0 = never).
    #[serde(default)]
    pub max_queue_wait_ms: f64,
    /// Adaptive concurrency limit: the latency an admitted request may take before each
    /// instance's limit is cut, in milliseconds (0 = no adaptive limit).
    #[serde(default)]
    pub adaptive_limit_target_ms: f64,
    /// Adaptive concurrency limit: the lowest limit per instance.
    #[serde(default = "default_adaptive_limit_min")]
    pub adaptive_limit_min: f64,
    /// Adaptive concurrency limit: the factor a slow or failed request applies to the limit.
    #[serde(default = "default_adaptive_limit_decrease")]
    pub adaptive_limit_decrease: f64,
    /// Steps run before every endpoint whose `middleware` is true (health checks included).
    #[serde(default)]
    pub middleware: Vec<Step>,
    /// Memory of an idle instance, MB.
    #[serde(default)]
    pub memory_base_mb: f64,
    /// Memory an instance may use before it crashes, MB (0 = no limit).
    #[serde(default)]
    pub memory_limit_mb: f64,
    /// Memory per open client connection, MB.
    #[serde(default)]
    pub memory_per_connection_mb: f64,
    /// Whether a crashed instance is restarted automatically.
    #[serde(default = "default_true")]
    pub auto_restart: bool,
    /// Seconds from a crash (or a restart) until the instance takes requests again.
    #[serde(default = "default_restart_delay_s")]
    pub restart_delay_s: f64,
    /// A request sent to an instance that is down gets no answer at all, as from a machine
    /// that is switched off, so its caller waits for its own time-out; otherwise it is refused
    /// at once, as by a running host whose process is down. Balancers skip down instances, so
    /// this matters to callers that address the service by name.
    #[serde(default)]
    pub silent_when_down: bool,
    /// Endpoints by name; a request names one.
    pub endpoints: BTreeMap<String, EndpointSpec>,
}

fn default_instances() -> u32 {
    1
}
fn default_workers() -> u32 {
    8
}
fn default_queue_capacity() -> u32 {
    1_000
}
fn default_true() -> bool {
    true
}
fn default_restart_delay_s() -> f64 {
    10.0
}
fn zero_duration() -> Duration {
    Duration::Constant { ms: 0.0 }
}

/// What one request to an endpoint does and costs.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// Worker time spent on one request before its `steps`.
    #[serde(default = "zero_duration")]
    pub service_time: Duration,
    /// Further steps, in order: work, datastore queries, calls, cache look-ups.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Probability that a served request ends in an error response.
    #[serde(default)]
    pub error_probability: f64,
    /// Memory held while the request is in service, MB.
    #[serde(default)]
    pub memory_mb: f64,
    /// Rows the request materialises in memory (before `max_rows`).
    #[serde(default)]
    pub rows: u64,
    /// Memory per materialised row, KB.
    #[serde(default)]
    pub row_kb: f64,
    /// Worker time per materialised row, µs.
    #[serde(default)]
    pub work_per_row_us: f64,
    /// Pagination: the most rows one request returns (0 = unlimited).
    #[serde(default)]
    pub max_rows: u64,
    /// Kill switch: the endpoint answers at once with an empty success, doing nothing.
    #[serde(default)]
    pub disabled: bool,
    /// Whether the service's middleware runs before this endpoint.
    #[serde(default = "default_true")]
    pub middleware: bool,
}

/// One step of an endpoint (or of the middleware).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// The worker computes for a while.
    Work {
        /// How long.
        time: Duration,
    },
    /// A datastore query; the worker waits for it. A failed query fails the request.
    Query {
        /// The datastore.
        datastore: String,
        /// The query, by name in the datastore's `queries`.
        query: String,
        /// Client-side timeout, ms (0 = wait for ever).
        #[serde(default)]
        timeout_ms: f64,
    },
    /// A call to a dependency, service or load balancer; the worker waits for it, unless `wait`
    /// is false (fire and forget: it is sent and the worker goes on at once).
    Call {
        /// The component called.
        target: String,
        /// Endpoint on the target service (ignored for dependencies).
        #[serde(default = "default_endpoint")]
        endpoint: String,
        /// Timeout, ms (0 = wait for ever).
        #[serde(default)]
        timeout_ms: f64,
        /// Whether the worker waits for the answer.
        #[serde(default = "default_true")]
        wait: bool,
        /// Memory the caller holds while it waits for the answer, MB (the pending request and
        /// what it keeps for the reply), on top of the endpoint's `memory_mb`; none for a call
        /// it does not wait for.
        #[serde(default)]
        memory_mb: f64,
    },
    /// A look-aside cache: on a hit the next `miss_steps` steps are skipped; on a miss they run
    /// and, if they succeed, fill the cache for the request's key.
    Cached {
        /// The cache.
        cache: String,
        /// How many of the following steps fetch the value on a miss.
        miss_steps: u32,
    },
}

/// A look-aside cache shared by the services that use it, keyed by the request's key.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    /// How long a filled key stays fresh, seconds.
    pub ttl_s: f64,
    /// Request coalescing: while one request fills a key, others missing it wait for that fill.
    #[serde(default)]
    pub single_flight: bool,
    /// Keys that are fresh at the start (the first `warm_keys` keys).
    #[serde(default)]
    pub warm_keys: u32,
    /// Distinct values cached: the request's key modulo `keys` (0 = the request's key as is;
    /// 1 = one shared value, such as a configuration blob).
    #[serde(default)]
    pub keys: u32,
    /// Spreads expiries: each fill lives `ttl_s × (1 − ttl_jitter × u)` for a uniform `u` in
    /// [0, 1), so keys filled together do not all expire together (0 = exactly `ttl_s`).
    #[serde(default)]
    pub ttl_jitter: f64,
}

/// An HTTP cache tier in front of a backend (Varnish-like).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpCacheSpec {
    /// Where misses go (a load balancer or a service).
    pub backend: String,
    /// How long a successful response is kept, seconds.
    pub ttl_s: f64,
    /// How long an error response is kept, seconds (0 = errors are not cached).
    #[serde(default)]
    pub error_ttl_s: f64,
    /// Whether the user is part of the cache key (one entry per user and key).
    #[serde(default)]
    pub key_includes_user: bool,
    /// The most entries kept; when full, new responses are not stored.
    #[serde(default = "default_capacity_objects")]
    pub capacity_objects: u32,
}

fn default_capacity_objects() -> u32 {
    100_000
}

/// A datastore: CPU cores shared equally by the running queries (processor sharing).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatastoreSpec {
    /// CPU cores.
    #[serde(default = "default_cores")]
    pub cores: u32,
    /// Queries that may run at once; others wait in the queue.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Queries that may wait; beyond it a query fails at once.
    #[serde(default = "default_db_queue")]
    pub queue_capacity: u32,
    /// The datastore kills a query that ran longer than this, ms (0 = never): running time only,
    /// counted from when the query gets a connection and starts.
    #[serde(default)]
    pub statement_timeout_ms: f64,
    /// Whether the database cancels a running query whose caller has gone (timed out or
    /// crashed), as one that checks on its clients does; by default it runs on. A query still
    /// waiting for a connection always goes with its caller.
    #[serde(default)]
    pub cancel_abandoned_queries: bool,
    /// Queries by name: CPU time each costs when it runs alone.
    pub queries: BTreeMap<String, QuerySpec>,
}

fn default_cores() -> u32 {
    4
}
fn default_max_connections() -> u32 {
    100
}
fn default_db_queue() -> u32 {
    10_000
}

/// One kind of query.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    /// CPU time of one execution.
    pub cost: Duration,
}

/// A third-party dependency: a latency and a failure rate, no capacity of ours.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DependencySpec {
    /// Time until it answers.
    pub latency: Duration,
    /// Probability that it answers with an error.
    #[serde(default)]
    pub error_probability: f64,
}

/// What repeated probe failures do.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProbeEffect {
    /// Nothing (the probe only adds load, like a proxy's health check).
    None,
    /// Liveness: the instance is restarted.
    Restart,
    /// Readiness: the instance leaves the load balancers' rotation until it passes again.
    Eject,
}

/// A health probe sent to every instance of a service.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    /// The service probed.
    pub target: String,
    /// The endpoint the probe calls.
    #[serde(default = "default_health_endpoint")]
    pub endpoint: String,
    /// Milliseconds between probes from one prober to one instance.
    pub period_ms: f64,
    /// A probe not answered within this fails, ms.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: f64,
    /// How many probers each probe every instance (for example one per proxy).
    #[serde(default = "default_one")]
    pub probers: u32,
    /// Consecutive failures that trigger the effect.
    #[serde(default = "default_failure_threshold")]
    pub failure_threshold: u32,
    /// What the failures do.
    #[serde(default = "default_probe_effect")]
    pub effect: ProbeEffect,
    /// The probe is answered by the process itself, without a worker, the queue or the
    /// middleware (it fails only while the instance is down).
    #[serde(default)]
    pub decoupled: bool,
}

fn default_health_endpoint() -> String {
    "health".to_string()
}
fn default_failure_threshold() -> u32 {
    3
}
fn default_probe_effect() -> ProbeEffect {
    ProbeEffect::None
}

/// An action on the timeline.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The target's instances refuse new requests at once but finish the work they hold.
    StopAccepting,
    /// The target's instances accept requests again.
    Resume,
    /// The target's instances crash: their work and connections are lost; they come back after
    /// `restart_delay_s` only if `auto_restart`.
    Crash,
    /// An operator restarts the target's instances: like a crash, but they always come back.
    Restart,
    /// An operator stops the target's instances for good (until a later `restart` or `start`).
    Stop,
    /// An operator starts the target's instances that are down (a process that died and does
    /// not restart by itself, or one stopped): they come back after `restart_delay_s`. Instances
    /// that are up are left alone, so a start recorded in an outage does nothing in a run where
    /// the servers never went down.
    Start,
    /// Parameters change (a deploy, a feature flag, a rollback, scaling, blocking a version):
    /// the `set` patch is applied to the running system.
    Set,
    /// A deploy (the target names one of `deploys`) starts: its new instances boot, and it goes
    /// live when all of them have passed a readiness check, or rolls back at its deadline.
    Deploy,
    /// An operator kills the queries in a datastore (target `datastore`, or `datastore#query`
    /// for one kind): running and waiting ones end at once and their callers get an error.
    KillQueries,
}

impl Action {
    /// Its name, as written in a scenario file.
    pub fn name(self) -> &'static str {
        match self {
            Action::StopAccepting => "stop_accepting",
            Action::Resume => "resume",
            Action::Crash => "crash",
            Action::Restart => "restart",
            Action::Stop => "stop",
            Action::Start => "start",
            Action::Set => "set",
            Action::Deploy => "deploy",
            Action::KillQueries => "kill_queries",
        }
    }
}

/// A deploy controller: brings up the new build's instances beside the running ones and puts
/// them in the load balancer only once every one has passed a readiness check; if that has not
/// happened by the deadline, it removes them again (an automatic rollback to the last build that
/// was healthy) and, if it has retries left, tries again later.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeploySpec {
    /// The service holding the new build (0 instances until deployed).
    pub service: String,
    /// The service running the current build, which the new one replaces.
    pub replaces: String,
    /// The load balancer whose backends switch from `replaces` to `service`.
    pub balancer: String,
    /// Instances of the new build.
    pub instances: u32,
    /// How long the new instances have to pass readiness before the deploy rolls back, in
    /// seconds.
    pub deadline_s: f64,
    /// Attempts after a rollback.
    #[serde(default)]
    pub retries: u32,
    /// The wait between a rollback and the next attempt, in seconds.
    #[serde(default)]
    pub retry_after_s: f64,
}

/// Something that happens at a moment of the replay.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TimelineEvent {
    /// When, in seconds.
    pub at_s: f64,
    /// What happens.
    pub action: Action,
    /// The component it happens to: `service` or `service#instance` (instances count from 0);
    /// a deploy's name for `deploy`; `datastore` or `datastore#query` for `kill_queries`; empty
    /// for `set`.
    #[serde(default)]
    pub target: String,
    /// For `set`: parameter paths and their new values, as in a fix.
    #[serde(default)]
    pub set: BTreeMap<String, crate::scenario::Value>,
    /// A short label for the timeline marker.
    #[serde(default)]
    pub label: String,
}

impl TimelineEvent {
    /// The target split at its `#`: the component, and what follows (an instance number, or a
    /// datastore's query), if anything.
    pub fn target_parts(&self) -> (&str, Option<&str>) {
        match self.target.split_once('#') {
            Some((component, part)) => (component, Some(part)),
            None => (&self.target, None),
        }
    }
}

/// One step of the story.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Beat {
    /// When, in seconds.
    pub at_s: f64,
    /// A short title.
    pub title: String,
    /// What is happening, in our own words.
    pub caption: String,
    /// The series to look at now.
    #[serde(default)]
    pub watch: String,
    /// The part of the system this beat is about: component names and links `from->to` (a link
    /// is a call the diagram draws). The system view highlights them while the beat is current.
    #[serde(default)]
    pub highlight: Vec<String>,
}

/// A named fix: a patch of parameters with what it cures and what it costs.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    /// One line: what the fix changes.
    pub description: String,
    /// One line: what it does not cure, or what it costs.
    #[serde(default)]
    pub tradeoff: String,
    /// Parameter paths and their new values.
    pub set: BTreeMap<String, crate::scenario::Value>,
}

/// How a series is reduced over a time range.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    /// Arithmetic mean of the windows.
    Mean,
    /// Largest window value.
    Max,
    /// Smallest window value.
    Min,
    /// Sum of the window values.
    Sum,
}

/// A check on a run: a statistic of a series over a time range, against bounds.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// What the check means, in a few words.
    pub name: String,
    /// Fixes applied for this run.
    #[serde(default)]
    pub fixes: Vec<String>,
    /// Seeds to run; the check must hold for each.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Series name, as in the CLI's JSON `series`.
    pub series: String,
    /// Start of the range, in seconds.
    #[serde(default)]
    pub from_s: f64,
    /// End of the range, in seconds (default: the scenario's duration).
    #[serde(default = "default_to_s")]
    pub to_s: f64,
    /// The statistic.
    #[serde(default = "default_stat")]
    pub stat: Stat,
    /// The statistic must be at least this.
    #[serde(default = "default_at_least")]
    pub at_least: f64,
    /// The statistic must be at most this.
    #[serde(default = "default_at_most")]
    pub at_most: f64,
}

fn default_seeds() -> Vec<u64> {
    vec![1, 2, 3]
}
/// Marker for "to the end of the run" (serialised as a finite number so patches round-trip).
pub const END_OF_RUN_S: f64 = -1.0;
fn default_to_s() -> f64 {
    END_OF_RUN_S
}
fn default_stat() -> Stat {
    Stat::Mean
}
fn default_at_least() -> f64 {
    f64::MIN
}
fn default_at_most() -> f64 {
    f64::MAX
}

/// A prediction question, asked when a beat becomes current; the answer and the mechanism
/// behind it are shown when the replay reaches `reveal_s`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The beat (index into `beats`) at which the replay pauses and asks.
    pub beat: u32,
    /// The question, in our own words.
    pub prompt: String,
    /// The choices offered (for a sketch question, the curves' labels).
    pub choices: Vec<String>,
    /// The right choice (index into `choices`).
    pub answer: u32,
    /// For a sketch question: one curve per choice, each a few values from 0 (bottom) to 1 (top).
    #[serde(default)]
    pub curves: Vec<Vec<f64>>,
    /// When the answer is shown, in seconds (the replay plays on until then).
    pub reveal_s: f64,
    /// Why: the mechanism that gives the answer.
    pub explanation: String,
    /// The series that shows the answer.
    #[serde(default)]
    pub watch: String,
    /// The part of the system the answer is about (as a beat's `highlight`).
    #[serde(default)]
    pub highlight: Vec<String>,
}

/// The on-call drill: the story is hidden, alerts page the trainee, and the runbook's actions
/// fork the run at the moment they are taken.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Drill {
    /// What the on-call engineer knows at the start (shown instead of the story).
    #[serde(default)]
    pub brief: String,
    /// How close (relative) the documented actions at the documented moments come to the
    /// documented run's customer impact.
    #[serde(default = "default_impact_tolerance")]
    pub impact_tolerance: f64,
    /// Alert rules.
    #[serde(default)]
    pub alerts: Vec<Alert>,
    /// What the trainee can do.
    #[serde(default)]
    pub runbook: Vec<RunbookAction>,
}

impl Default for Drill {
    fn default() -> Self {
        Drill {
            brief: String::new(),
            impact_tolerance: default_impact_tolerance(),
            alerts: Vec::new(),
            runbook: Vec::new(),
        }
    }
}

fn default_impact_tolerance() -> f64 {
    0.25
}

/// An alert rule: a series above (or below) a threshold for a while.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// What the page says.
    pub name: String,
    /// The series watched.
    pub series: String,
    /// Fires when the series stays above this.
    #[serde(default = "default_at_most")]
    pub above: f64,
    /// Fires when the series stays below this.
    #[serde(default = "default_at_least")]
    pub below: f64,
    /// How long the condition must hold, in seconds.
    #[serde(default)]
    pub for_s: f64,
}

/// One action of the drill's runbook: a fix, operator actions the incident recorded, or
/// operator actions it offered; it takes effect `delay_s` after the trainee takes it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunbookAction {
    /// Its id (in permalinks and `cascade drill --action`).
    pub name: String,
    /// What the button says.
    pub title: String,
    /// From the decision to its effect, in seconds.
    #[serde(default)]
    pub delay_s: f64,
    /// A fix of the scenario.
    #[serde(default)]
    pub fix: String,
    /// The timeline entries (indices) that were this action in the incident: in a drill they
    /// happen only if the trainee takes it, shifted to when it takes effect.
    #[serde(default)]
    pub timeline: Vec<u32>,
    /// Operator actions the incident offered but nobody took (times relative to its effect).
    #[serde(default)]
    pub steps: Vec<TimelineEvent>,
}
