//! The system view: the scenario's components as an SVG diagram, coloured by what their callers
//! feel (failing, saturated, down, healthy), with queue fill and request rates on the links. It
//! scales to fit its box; on a narrow screen requests flow top to bottom instead of left to right.

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
        push(name, "balancer", 2);
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
    let links = cascade::scenario::graph::calls(file)
        .into_iter()
        .filter_map(|(from, to)| {
            Some(Link {
                from: index(from)?,
                to: index(to)?,
            })
        })
        .collect();
    (nodes, links)
}

/// Live state of a component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Working normally.
    Healthy,
    /// At capacity (queues growing, CPU pinned).
    Saturated,
    /// Up, but a large share of what it is asked ends in failure.
    Failing,
    /// Not serving.
    Down,
    /// Nothing to judge.
    Neutral,
}

impl Health {
    /// Its name, as the style sheet and the tests know it.
    fn name(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Saturated => "saturated",
            Health::Failing => "failing",
            Health::Down => "down",
            Health::Neutral => "neutral",
        }
    }
}

/// The share of failures above which a component is shown failing.
const FAILING_SHARE: f64 = 0.25;

/// `failed` out of `asked` per second, 0 when less than one failure a second.
fn failing_share(failed: f64, asked: f64) -> f64 {
    if failed < 1.0 || asked <= 0.0 {
        0.0
    } else {
        (failed / asked).min(1.0)
    }
}

fn last(metrics: &Metrics, series: &str) -> Option<f64> {
    metrics.series(series).and_then(|v| v.last().copied())
}

/// What became of a population's requests, per second (`outcome` is a run-wide series name:
/// `success_rps`…): its own series where the scenario has several populations, else the run's.
fn population_rate(file: &ScenarioFile, metrics: &Metrics, client: &str, outcome: &str) -> f64 {
    if file.clients.len() > 1 {
        of(metrics, client, outcome)
    } else {
        last(metrics, outcome)
    }
    .unwrap_or(0.0)
}

/// The latest value of `<component>.<metric>` (one function for every such lookup: each
/// `format!` written out at a call site costs the page's module bytes).
#[inline(never)]
fn of(metrics: &Metrics, component: &str, metric: &str) -> Option<f64> {
    let mut name = String::with_capacity(component.len() + 1 + metric.len());
    name.push_str(component);
    name.push('.');
    name.push_str(metric);
    last(metrics, &name)
}

/// State and one line of figures for a node, from the latest window.
pub fn status(file: &ScenarioFile, metrics: &Metrics, node: &Node) -> (Health, String) {
    let name = node.name.as_str();
    match node.kind {
        "service" => {
            let spec = &file.services[name];
            let healthy =
                of(metrics, name, "healthy_instances_count").unwrap_or(spec.instances as f64);
            let busy = of(metrics, name, "busy_workers_count").unwrap_or(0.0);
            let queue = of(metrics, name, "queue_depth_req").unwrap_or(0.0);
            let memory = of(metrics, name, "memory_mb").unwrap_or(0.0);
            let arrivals = of(metrics, name, "arrivals_rps").unwrap_or(0.0);
            let failed = of(metrics, name, "failed_rps").unwrap_or(0.0);
            let failing = failing_share(failed, arrivals);
            let capacity = (spec.workers * spec.instances.max(1)) as f64;
            if spec.instances == 0 && healthy < 0.5 {
                // Not deployed, or a deploy's instances not yet in service: nothing to judge.
                return (Health::Neutral, "none in service".to_string());
            }
            let health = if healthy < 0.5 {
                Health::Down
            } else if failing >= FAILING_SHARE {
                Health::Failing
            } else if queue > capacity || (busy >= capacity && queue > 0.0) {
                Health::Saturated
            } else {
                Health::Healthy
            };
            let mut text = format!("{healthy:.0}/{} up · queue {queue:.0}", spec.instances);
            if failing > 0.0 {
                text.push_str(&format!(" · {:.0}% fail", failing * 100.0));
            } else if spec.memory_limit_mb > 0.0 || memory > 0.0 {
                text.push_str(&format!(" · {memory:.0} MB"));
            }
            (health, text)
        }
        "datastore" => {
            let cpu = of(metrics, name, "cpu_pct").unwrap_or(0.0);
            let running = of(metrics, name, "running_queries_count").unwrap_or(0.0);
            let health = if cpu >= 95.0 {
                Health::Saturated
            } else {
                Health::Healthy
            };
            (health, format!("CPU {cpu:.0}% · {running:.0} running"))
        }
        "cache" | "HTTP cache" => {
            let hits = of(metrics, name, "hit_ratio").unwrap_or(0.0);
            (Health::Neutral, format!("hits {:.0}%", hits * 100.0))
        }
        "clients" => {
            let spec = &file.clients[name];
            if spec.kind == ClientKind::Connections {
                let connected = of(metrics, name, "connected_count").unwrap_or(0.0);
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
                // With several populations each has its own outcome series.
                let rate = |outcome: &str| population_rate(file, metrics, name, outcome);
                let failed = rate("error_rps") + rate("timeout_rps") + rate("shed_rps");
                let ended = failed + rate("success_rps");
                let failing = failing_share(failed, ended);
                let health = if failing >= FAILING_SHARE {
                    Health::Failing
                } else {
                    Health::Neutral
                };
                let text = if failing > 0.0 {
                    format!("{ended:.0}/s · {:.0}% fail", failing * 100.0)
                } else {
                    format!("{ended:.0}/s")
                };
                (health, text)
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
    /// Whether playback runs: requests move along the links only then (time stands still
    /// otherwise, and a still picture costs the page no repaint per frame).
    #[prop_or_default]
    pub playing: bool,
    /// What to highlight instead of the current beat's parts (a lesson's answer; nothing in a
    /// drill, where the story is hidden).
    #[prop_or_default]
    pub highlight: Option<Vec<String>>,
}

impl PartialEq for TopologyProps {
    fn eq(&self, other: &Self) -> bool {
        self.frame == other.frame
            && self.playing == other.playing
            && self.highlight == other.highlight
            && Rc::ptr_eq(&self.session, &other.session)
    }
}

const NODE_W: f64 = 188.0;
const NODE_H: f64 = 50.0;
const GAP_ALONG: f64 = 84.0;
const GAP_ACROSS: f64 = 22.0;

/// One drawing of the diagram: `vertical` lays the columns out as rows (requests flow down).
fn diagram(view: &View, vertical: bool) -> Html {
    let View {
        nodes,
        links,
        states,
        rates,
        flows,
        lit_nodes,
        lit_links,
        description,
    } = view;
    let layers = nodes.iter().map(|n| n.column).max().map_or(1, |c| c + 1);
    // Top to bottom (a phone), a layer wider than two nodes wraps onto more rows, so the
    // diagram keeps a legible scale instead of shrinking to its widest layer.
    let per_row = if vertical { 2 } else { usize::MAX };
    let count = |c: usize| nodes.iter().filter(|n| n.column == c).count();
    // Rows before each layer, along the flow.
    let mut first_row = vec![0usize; layers + 1];
    for c in 0..layers {
        first_row[c + 1] = first_row[c] + count(c).div_ceil(per_row).max(1);
    }
    let rows = first_row[layers] as f64;
    let widest = (0..layers)
        .map(|c| count(c).min(per_row))
        .max()
        .unwrap_or(1) as f64;
    // Along the flow: layers; across it: the nodes of a layer, centred.
    let (step_along, step_across) = if vertical {
        (NODE_H + GAP_ALONG * 0.6, NODE_W + GAP_ACROSS)
    } else {
        (NODE_W + GAP_ALONG, NODE_H + GAP_ACROSS)
    };
    let gap_across = step_across - if vertical { NODE_W } else { NODE_H };
    let extent_across = widest * step_across - gap_across;
    let extent_along = rows * step_along - (step_along - if vertical { NODE_H } else { NODE_W });
    let (width, height) = if vertical {
        (extent_across + 8.0, extent_along + 8.0)
    } else {
        (extent_along + 8.0, extent_across + 8.0)
    };
    let position = |n: &Node| {
        let (sub_row, slot) = (n.row / per_row, n.row % per_row);
        let in_row = (count(n.column) - sub_row * per_row).min(per_row) as f64;
        let offset = (extent_across - (in_row * step_across - gap_across)) / 2.0;
        let along = 4.0 + (first_row[n.column] + sub_row) as f64 * step_along;
        let across = 4.0 + offset + slot as f64 * step_across;
        if vertical {
            (across, along)
        } else {
            (along, across)
        }
    };
    let drawn_nodes: Vec<Html> = nodes
        .iter()
        .zip(states)
        .zip(lit_nodes)
        .map(|((n, (health, text)), lit)| {
            let (x, y) = position(n);
            let state = health.name();
            html! {
                <g class={classes!("node", state, lit.then_some("lit"))} data-node={n.name.clone()} data-state={state}>
                    <rect x={x.to_string()} y={y.to_string()} width={NODE_W.to_string()} height={NODE_H.to_string()} rx="8" />
                    <text x={(x + 10.0).to_string()} y={(y + 20.0).to_string()} class="node-name">{ n.name.clone() }<tspan class="node-kind">{ format!(" · {}", n.kind) }</tspan></text>
                    <text x={(x + 10.0).to_string()} y={(y + 39.0).to_string()} class="node-figures">{ text }</text>
                </g>
            }
        })
        .collect();
    let drawn_links: Vec<Html> = links
        .iter()
        .zip(rates)
        .zip(flows)
        .zip(lit_links)
        .map(|(((l, label), flows), lit)| {
            let (fx, fy) = position(&nodes[l.from]);
            let (tx, ty) = position(&nodes[l.to]);
            let (x1, y1, x2, y2) = if vertical {
                (fx + NODE_W / 2.0, fy + NODE_H, tx + NODE_W / 2.0, ty)
            } else {
                (fx + NODE_W, fy + NODE_H / 2.0, tx, ty + NODE_H / 2.0)
            };
            // The label sits beside the link's far end, so labels of links fanning out of one
            // node do not cover each other.
            let (lx, ly) = if vertical {
                (x2 + 6.0, y2 - 8.0)
            } else {
                (x2 - 8.0, y2 - 5.0)
            };
            // Moving marks, one lane per outcome side by side: a mark's spacing shrinks with the
            // rate (as its fourth root, so 1/s and 10,000/s both read), its colour is the outcome.
            let shown: Vec<&(&str, f64)> = flows.iter().filter(|(_, rate)| *rate >= 0.2).collect();
            let lanes = shown.len() as f64;
            let marks = shown.iter().enumerate().map(|(k, (outcome, rate))| {
                let shift = (k as f64 - (lanes - 1.0) / 2.0) * 4.0;
                let (dx, dy) = if vertical { (shift, 0.0) } else { (0.0, shift) };
                let spacing = (64.0 / rate.sqrt().sqrt()).clamp(9.0, 64.0);
                let style = format!(
                    "--spacing:{spacing:.0}px;stroke-dasharray:0 {spacing:.0};animation-duration:{:.2}s",
                    spacing / 60.0
                );
                html! {
                    <line class={classes!("flow", *outcome)} x1={(x1 + dx).to_string()} y1={(y1 + dy).to_string()} x2={(x2 + dx).to_string()} y2={(y2 + dy).to_string()} {style} />
                }
            });
            html! {
                <g class={classes!("link", lit.then_some("lit"))} data-link={format!("{}->{}", nodes[l.from].name, nodes[l.to].name)}>
                    <line x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} marker-end={if vertical { "url(#arrow-v)" } else { "url(#arrow)" }} />
                    { for marks }
                    <text x={lx.to_string()} y={ly.to_string()} class={if vertical { "link-rate" } else { "link-rate end" }}>{ label.clone() }</text>
                </g>
            }
        })
        .collect();
    html! {
        <svg class={classes!(if vertical { "vertical" } else { "horizontal" }, lit_nodes.iter().chain(lit_links).any(|l| *l).then_some("focused"))} viewBox={format!("0 0 {width:.0} {height:.0}")} style={format!("max-width: {width:.0}px")} role="img" aria-label={description.clone()}>
            <defs>
                <marker id={if vertical { "arrow-v" } else { "arrow" }} viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                </marker>
            </defs>
            { for drawn_links }
            { for drawn_nodes }
        </svg>
    }
}

/// What both drawings of the diagram show, worked out once per frame.
struct View {
    nodes: Vec<Node>,
    links: Vec<Link>,
    /// Per node: its state and its line of figures.
    states: Vec<(Health, String)>,
    /// Per link: the request rate into its target ("535/s"), or nothing.
    rates: Vec<String>,
    /// Per link: what its requests end in, per second.
    flows: Vec<Vec<(&'static str, f64)>>,
    /// Per node, then per link: whether the current beat is about it.
    lit_nodes: Vec<bool>,
    lit_links: Vec<bool>,
    /// The diagram in words, for its accessible name.
    description: String,
}

/// Requests arriving at a node per second and how many of them fail, where the run measures
/// them: a service's own series, a datastore's queries, a balancer's backends together.
fn inflow(metrics: &Metrics, nodes: &[Node], links: &[Link], node: usize) -> Option<(f64, f64)> {
    let name = &nodes[node].name;
    match nodes[node].kind {
        "service" => Some((
            of(metrics, name, "arrivals_rps")?,
            of(metrics, name, "failed_rps").unwrap_or(0.0),
        )),
        "datastore" => Some((of(metrics, name, "queries_rps")?, 0.0)),
        "balancer" => links
            .iter()
            .filter(|l| l.from == node)
            .map(|l| inflow(metrics, nodes, links, l.to))
            .try_fold((0.0, 0.0), |(a, f), x| x.map(|(xa, xf)| (a + xa, f + xf))),
        _ => None,
    }
}

/// What the requests along `link` end in, per second, by outcome (`success`, `error`,
/// `timeout`, `shed`): from a population of clients, what became of its requests (its own series
/// where there are several, the run's where it is the only one); elsewhere what the target
/// receives and fails, where the link is the target's only way in (a shared target's series
/// cannot say which caller a request came from).
fn flows(
    file: &ScenarioFile,
    metrics: &Metrics,
    nodes: &[Node],
    links: &[Link],
    link: &Link,
) -> Vec<(&'static str, f64)> {
    const OUTCOMES: [(&str, &str); 4] = [
        ("success", "success_rps"),
        ("error", "error_rps"),
        ("timeout", "timeout_rps"),
        ("shed", "shed_rps"),
    ];
    let from = &nodes[link.from];
    if from.kind == "clients" {
        return OUTCOMES
            .iter()
            .map(|(outcome, series)| (*outcome, population_rate(file, metrics, &from.name, series)))
            .collect();
    }
    if links.iter().filter(|l| l.to == link.to).count() != 1 {
        return Vec::new();
    }
    match inflow(metrics, nodes, links, link.to) {
        Some((arrivals, failed)) => vec![
            ("success", (arrivals - failed).max(0.0)),
            ("error", failed.min(arrivals)),
        ],
        None => Vec::new(),
    }
}

impl View {
    fn new(file: &ScenarioFile, metrics: &Metrics, highlight: &[String]) -> View {
        let (nodes, links) = layout(file);
        let states: Vec<(Health, String)> =
            nodes.iter().map(|n| status(file, metrics, n)).collect();
        let rates = links
            .iter()
            .map(|l| {
                let target = &nodes[l.to];
                let rate = match target.kind {
                    "service" => of(metrics, &target.name, "arrivals_rps"),
                    "datastore" => of(metrics, &target.name, "queries_rps"),
                    _ => None,
                };
                rate.map(|r| format!("{r:.0}/s")).unwrap_or_default()
            })
            .collect();
        let flows = links
            .iter()
            .map(|l| flows(file, metrics, &nodes, &links, l))
            .collect();
        let lit = |name: &str| highlight.iter().any(|h| h.trim() == name);
        let lit_nodes = nodes.iter().map(|n| lit(&n.name)).collect();
        let lit_links = links
            .iter()
            .map(|l| {
                highlight.iter().any(|h| {
                    h.split_once("->").is_some_and(|(from, to)| {
                        from.trim() == nodes[l.from].name && to.trim() == nodes[l.to].name
                    })
                })
            })
            .collect();
        let described: Vec<String> = nodes
            .iter()
            .zip(&states)
            .map(|(n, (health, text))| {
                let state = if *health == Health::Neutral {
                    ""
                } else {
                    health.name()
                };
                format!("{} ({}) {state} {text}", n.name, n.kind)
            })
            .collect();
        let mut description = format!("System diagram: {}", described.join("; "));
        if !highlight.is_empty() {
            description.push_str(&format!(". This moment is about: {}", highlight.join(", ")));
        }
        View {
            nodes,
            links,
            states,
            rates,
            flows,
            lit_nodes,
            lit_links,
            description,
        }
    }
}

/// The diagram, in both orientations (the style sheet shows the one that fits the screen).
#[component]
pub fn Topology(props: &TopologyProps) -> Html {
    let session = props.session.borrow();
    let file = session.file_now();
    let beats = session.beats_in_order();
    let now = session.shown_us();
    let highlight = match &props.highlight {
        Some(h) => h.as_slice(),
        None => beats
            .iter()
            .rev()
            .find(|b| cascade::time::s_to_us(b.at_s) <= now)
            .map(|b| b.highlight.as_slice())
            .unwrap_or_default(),
    };
    let view = View::new(&file, session.run.shown(), highlight);
    html! {
        <figure class={classes!("topology", (!props.playing).then_some("still"))}>
            <figcaption>
                { "The system now" }
                <span class="flow-legend" aria-hidden="true">
                    { "Requests: " }
                    <span class="dot success"></span>{ "succeeded " }
                    <span class="dot error"></span>{ "failed " }
                    <span class="dot timeout"></span>{ "timed out " }
                    <span class="dot shed"></span>{ "shed" }
                </span>
            </figcaption>
            { diagram(&view, false) }
            { diagram(&view, true) }
        </figure>
    }
}
