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
    /// Services (each a set of identical instances), by name.
    #[serde(default)]
    pub services: BTreeMap<String, ServiceSpec>,
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

/// A population of clients sending requests.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// Component the requests go to (a load balancer or a service).
    pub target: String,
    /// Endpoint of the target service the requests call.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Arrival process of new requests.
    #[serde(default = "default_arrival")]
    pub arrival: Arrival,
    /// New requests per second (before any `rate_changes`).
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

/// What one endpoint costs a worker.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// Time a worker spends on one request.
    pub service_time: Duration,
    /// Probability that a served request ends in an error response.
    #[serde(default)]
    pub error_probability: f64,
}

/// An action on the timeline.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The target's instances refuse new requests at once but finish the work they hold.
    StopAccepting,
    /// The target's instances accept requests again.
    Resume,
}

/// Something that happens at a moment of the replay.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TimelineEvent {
    /// When, in seconds.
    pub at_s: f64,
    /// What happens.
    pub action: Action,
    /// The component it happens to: `service` or `service#instance` (instances count from 0).
    pub target: String,
    /// A short label for the timeline marker.
    #[serde(default)]
    pub label: String,
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
    pub set: BTreeMap<String, toml::Value>,
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
