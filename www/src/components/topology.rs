//! The system view: the scenario's components as an SVG diagram, coloured by their live state
//! (healthy, saturated, down), with queue fill and request rates on the links.

use crate::state::Session;
use cascade::metrics::Metrics;
use cascade::scenario::{ClientKind, ScenarioFile, Step};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// A component in the diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Its name.
    pub name: String,
    /// Its kind, as shown.
    pub kind: &'static str,
    /// Column (left to right, in the direction requests flow).
    pub column: usize,
    /// Row within the column.
    pub row: usize,
}

/// A link between two components (by index).
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// From.
    pub from: usize,
    /// To.
    pub to: usize,
}

fn step_links<'a>(steps: &'a [Step]) -> impl Iterator<Item = &'a str> + 'a {
    steps.iter().filter_map(|s| match s {
        Step::Call { target, .. } => Some(target.as_str()),
        Step::Query { datastore, .. } => Some(datastore.as_str()),
        Step::Cached { cache, .. } => Some(cache.as_str()),
        Step::Work { .. } => None,
    })
}

/// Lays the components out in columns: clients, HTTP caches, load balancers, services (deeper
/// callees further right), then caches, datastores and dependencies.
pub fn layout(file: &ScenarioFile) -> (Vec<Node>, Vec<Link>) {
    let mut nodes: Vec<Node> = Vec::new();
    let mut push = |name: &str, kind: &'static str, column: usize| {
        nodes.push(Node {
            name: name.to_string(),
            kind,
            column,
            row: 0,
        });
    };
    for name in file.clients.keys() {
        push(name, "clients", 0);
    }
    for name in file.http_caches.keys() {
        push(name, "HTTP cache", 1);
    }
    for name in file.load_balancers.keys() {
        push(name, "load balancer", 2);
    }
    // Service depth: one more than any service that calls it (directly or through a balancer).
    let names: Vec<&String> = file.services.keys().collect();
    let mut depth = vec![0usize; names.len()];
    for _ in 0..names.len() {
        for (i, service) in file.services.values().enumerate() {
            let mut steps: Vec<&Step> = service.middleware.iter().collect();
            for e in service.endpoints.values() {
                steps.extend(e.steps.iter());
            }
            for step in steps {
                if let Step::Call { target, .. } = step {
                    for callee in cascade::scenario::reachable_services(file, target) {
                        if let Some(j) = names.iter().position(|n| **n == callee) {
                            depth[j] = depth[j].max(depth[i] + 1);
                        }
                    }
                }
            }
        }
    }
    let service_columns = depth.iter().max().map_or(0, |d| d + 1);
    for (i, name) in names.iter().enumerate() {
        push(name, "service", 3 + depth[i]);
    }
    let last = 3 + service_columns;
    for name in file.caches.keys() {
        push(name, "cache", last);
    }
    for name in file.datastores.keys() {
        push(name, "datastore", last);
    }
    for name in file.dependencies.keys() {
        push(name, "dependency", last);
    }
    // Compact the columns that are empty, then number the rows.
    let mut used: Vec<usize> = nodes.iter().map(|n| n.column).collect();
    cascade::small_sort::sort(&mut used);
    used.dedup();
    let mut rows = vec![0usize; used.len()];
    for node in &mut nodes {
        node.column = used.iter().position(|&c| c == node.column).unwrap_or(0);
        node.row = rows[node.column];
        rows[node.column] += 1;
    }
    let index = |name: &str| nodes.iter().position(|n| n.name == name);
    let mut links = Vec::new();
    let mut link = |from: &str, to: &str| {
        if let (Some(from), Some(to)) = (index(from), index(to))
            && !links.contains(&Link { from, to })
        {
            links.push(Link { from, to });
        }
    };
    for (name, c) in &file.clients {
        link(name, &c.target);
    }
    for (name, h) in &file.http_caches {
        link(name, &h.backend);
    }
    for (name, lb) in &file.load_balancers {
        for backend in &lb.backends {
            link(name, backend);
        }
    }
    for (name, service) in &file.services {
        for target in step_links(&service.middleware) {
            link(name, target);
        }
        for endpoint in service.endpoints.values() {
            for target in step_links(&endpoint.steps) {
                link(name, target);
            }
        }
    }
    (nodes, links)
}

/// Live state of a component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Working normally.
    Healthy,
    /// At capacity (queues growing, CPU pinned).
    Saturated,
    /// Not serving.
    Down,
    /// Nothing to judge.
    Neutral,
}

fn last(metrics: &Metrics, series: &str) -> Option<f64> {
    metrics.series(series).and_then(|v| v.last().copied())
}

/// State and one line of figures for a node, from the latest window.
pub fn status(file: &ScenarioFile, metrics: &Metrics, node: &Node) -> (Health, String) {
    let name = node.name.as_str();
    match node.kind {
        "service" => {
            let spec = &file.services[name];
            let healthy = last(metrics, &format!("{name}.healthy_instances_count"))
                .unwrap_or(spec.instances as f64);
            let busy = last(metrics, &format!("{name}.busy_workers_count")).unwrap_or(0.0);
            let queue = last(metrics, &format!("{name}.queue_depth_req")).unwrap_or(0.0);
            let memory = last(metrics, &format!("{name}.memory_mb")).unwrap_or(0.0);
            let capacity = (spec.workers * spec.instances.max(1)) as f64;
            let health = if spec.instances > 0 && healthy < 0.5 {
                Health::Down
            } else if queue > capacity || (busy >= capacity && queue > 0.0) {
                Health::Saturated
            } else {
                Health::Healthy
            };
            let mut text = format!("{healthy:.0}/{} up · queue {queue:.0}", spec.instances);
            if spec.memory_limit_mb > 0.0 || memory > 0.0 {
                text.push_str(&format!(" · {memory:.0} MB"));
            }
            (health, text)
        }
        "datastore" => {
            let cpu = last(metrics, &format!("{name}.cpu_pct")).unwrap_or(0.0);
            let running = last(metrics, &format!("{name}.running_queries_count")).unwrap_or(0.0);
            let health = if cpu >= 95.0 {
                Health::Saturated
            } else {
                Health::Healthy
            };
            (health, format!("CPU {cpu:.0}% · {running:.0} running"))
        }
        "cache" | "HTTP cache" => {
            let hits = last(metrics, &format!("{name}.hit_ratio")).unwrap_or(0.0);
            (Health::Neutral, format!("hits {:.0}%", hits * 100.0))
        }
        "clients" => {
            let spec = &file.clients[name];
            if spec.kind == ClientKind::Connections {
                let connected = last(metrics, &format!("{name}.connected_count")).unwrap_or(0.0);
                let health = if connected < 0.5 * spec.population as f64 {
                    Health::Saturated
                } else {
                    Health::Neutral
                };
                (
                    health,
                    format!("{connected:.0}/{} connected", spec.population),
                )
            } else {
                (Health::Neutral, format!("{} rps base", spec.rate_rps))
            }
        }
        _ => (Health::Neutral, String::new()),
    }
}

/// Props of [`Topology`].
#[derive(Properties, Clone)]
pub struct TopologyProps {
    /// The open scenario.
    pub session: Rc<RefCell<Session>>,
    /// Changes whenever the run may have advanced.
    pub frame: u64,
}

impl PartialEq for TopologyProps {
    fn eq(&self, other: &Self) -> bool {
        self.frame == other.frame && Rc::ptr_eq(&self.session, &other.session)
    }
}

const NODE_W: f64 = 168.0;
const NODE_H: f64 = 50.0;
const COL_GAP: f64 = 70.0;
const ROW_GAP: f64 = 22.0;

/// The diagram.
#[component]
pub fn Topology(props: &TopologyProps) -> Html {
    let session = props.session.borrow();
    let file = session.file_now();
    let file = &*file;
    let metrics = session.run.shown();
    let (nodes, links) = layout(file);
    let columns = nodes.iter().map(|n| n.column).max().map_or(1, |c| c + 1);
    let rows = (0..columns)
        .map(|c| nodes.iter().filter(|n| n.column == c).count())
        .max()
        .unwrap_or(1);
    let width = columns as f64 * (NODE_W + COL_GAP) - COL_GAP + 8.0;
    let height = rows as f64 * (NODE_H + ROW_GAP) - ROW_GAP + 8.0;
    let position = |n: &Node| {
        let in_column = nodes.iter().filter(|m| m.column == n.column).count() as f64;
        let offset = (height - 8.0 - (in_column * (NODE_H + ROW_GAP) - ROW_GAP)) / 2.0;
        (
            4.0 + n.column as f64 * (NODE_W + COL_GAP),
            4.0 + offset + n.row as f64 * (NODE_H + ROW_GAP),
        )
    };
    let rate_into = |target: &Node| -> Option<f64> {
        match target.kind {
            "service" => last(metrics, &format!("{}.arrivals_rps", target.name)),
            "datastore" => last(metrics, &format!("{}.queries_rps", target.name)),
            _ => None,
        }
    };
    let mut description = Vec::new();
    let drawn_nodes: Vec<Html> = nodes
        .iter()
        .map(|n| {
            let (x, y) = position(n);
            let (health, text) = status(file, metrics, n);
            let class = match health {
                Health::Healthy => "node healthy",
                Health::Saturated => "node saturated",
                Health::Down => "node down",
                Health::Neutral => "node neutral",
            };
            let state = match health {
                Health::Healthy => "healthy",
                Health::Saturated => "saturated",
                Health::Down => "down",
                Health::Neutral => "",
            };
            description.push(format!("{} ({}) {state} {text}", n.name, n.kind));
            html! {
                <g class={class}>
                    <rect x={x.to_string()} y={y.to_string()} width={NODE_W.to_string()} height={NODE_H.to_string()} rx="8" />
                    <text x={(x + 10.0).to_string()} y={(y + 20.0).to_string()} class="node-name">{ format!("{} · {}", n.name, n.kind) }</text>
                    <text x={(x + 10.0).to_string()} y={(y + 39.0).to_string()} class="node-figures">{ text }</text>
                </g>
            }
        })
        .collect();
    let drawn_links: Vec<Html> = links
        .iter()
        .map(|l| {
            let (fx, fy) = position(&nodes[l.from]);
            let (tx, ty) = position(&nodes[l.to]);
            let (x1, y1, x2, y2) = (fx + NODE_W, fy + NODE_H / 2.0, tx, ty + NODE_H / 2.0);
            let label = rate_into(&nodes[l.to]).map(|r| format!("{r:.0}/s")).unwrap_or_default();
            html! {
                <g class="link">
                    <line x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} marker-end="url(#arrow)" />
                    <text x={((x1 + x2) / 2.0).to_string()} y={((y1 + y2) / 2.0 - 4.0).to_string()} class="link-rate">{ label }</text>
                </g>
            }
        })
        .collect();
    html! {
        <figure class="topology">
            <figcaption>{ "The system now" }</figcaption>
            <div class="topology-scroll">
                <svg viewBox={format!("0 0 {width:.0} {height:.0}")} width={format!("{width:.0}")} role="img" aria-label={format!("System diagram: {}", description.join("; "))}>
                    <defs>
                        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                        </marker>
                    </defs>
                    { for drawn_links }
                    { for drawn_nodes }
                </svg>
            </div>
        </figure>
    }
}
