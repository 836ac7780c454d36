//! The load-balancing mechanism: its compiled config, and which instance receives a request
//! (round robin, least outstanding, random, or sticky by client), skipping instances that
//! readiness probes took out of rotation; and the same choice for a service addressed directly.

use crate::model::service::Instance;
use crate::rng::Rng;
use crate::scenario::BalancePolicy;
use crate::scenario::schema::LoadBalancerSpec;

/// A compiled load balancer.
#[derive(Clone, Debug)]
pub struct BalancerCfg {
    /// Services whose instances it spreads over, in order.
    pub services: Vec<u16>,
    /// Choice policy.
    pub policy: BalancePolicy,
    /// Sticky by client.
    pub sticky: bool,
}

impl BalancerCfg {
    /// Compiles a validated balancer over `services` (indices, in order: its backends, through
    /// any balancers they name).
    pub fn compile(spec: &LoadBalancerSpec, services: Vec<u16>) -> Self {
        BalancerCfg {
            services,
            policy: spec.policy,
            sticky: spec.sticky,
        }
    }

    /// The instance of its services that receives a request (`sticky`: the client's id, used if
    /// the balancer is sticky), or `None` when none is in rotation. An instance is in rotation
    /// while it is ready and up: a balancer skips a crashed, restarting or stopped instance, as a
    /// Kubernetes Service drops a pod whose container is not running. `instances` are every
    /// service's, `cursor` is this balancer's round-robin position.
    pub fn pick(
        &self,
        instances: &[Vec<Instance>],
        cursor: &mut usize,
        sticky: Option<u64>,
        rng: &mut Rng,
    ) -> Option<InstanceRef> {
        let sticky = if self.sticky { sticky } else { None };
        let len = self
            .services
            .iter()
            .map(|&s| instances[s as usize].len())
            .sum();
        // Candidate k: the balancer's services' instances, one service after the other.
        let candidate = |mut k: usize| {
            for &s in &self.services {
                let of_service = &instances[s as usize];
                if let Some(inst) = of_service.get(k) {
                    return Candidate {
                        instance: (s, k as u16),
                        ready: inst.ready && inst.up,
                        outstanding: inst.outstanding(),
                    };
                }
                k -= of_service.len();
            }
            unreachable!("candidate {k} beyond the balancer's instances")
        };
        pick(len, candidate, self.policy, cursor, sticky, rng)
    }
}

/// Which of a directly addressed service's `count` instances (at least one) receives a request:
/// the client's by hash when it has a sticky id, otherwise each in turn.
pub fn pick_direct(count: usize, cursor: &mut usize, sticky: Option<u64>) -> usize {
    match sticky {
        Some(id) => home(id, count),
        None => take_turn(cursor, count),
    }
}

/// The instance among `count` (at least one) that a sticky client with `id` hashes to.
pub fn home(id: u64, count: usize) -> usize {
    (sticky_hash(id) % count as u64) as usize
}

/// A service instance, by service index and instance number.
pub type InstanceRef = (u16, u16);

/// What the balancer knows of one candidate instance.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    /// The instance.
    pub instance: InstanceRef,
    /// Whether it is in rotation (readiness).
    pub ready: bool,
    /// Requests queued or in service on it.
    pub outstanding: u32,
}

/// A 64-bit mix of a client id, for sticky sessions.
pub fn sticky_hash(id: u64) -> u64 {
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Round robin over `n` places: the place whose turn it is, and the cursor moved past it. A
/// cursor is beyond `n` only when instances were removed since: only then is a division needed
/// (the slowest step of a balancer's loop).
pub fn take_turn(cursor: &mut usize, n: usize) -> usize {
    let i = if *cursor < n { *cursor } else { *cursor % n };
    *cursor = if i + 1 == n { 0 } else { i + 1 };
    i
}

/// Picks an instance among the `len` candidates that `candidate(k)` describes (k in `0..len`),
/// or `None` when none is in rotation. `cursor` is the balancer's round-robin position;
/// `sticky_id` pins a client to a home instance by hashing over all candidates, ready or not (as
/// IP-hash stickiness does), and sends it to the next candidate in rotation while its home is
/// out. Candidates are looked up as needed rather than listed first: this
/// runs once per request.
pub fn pick(
    len: usize,
    candidate: impl Fn(usize) -> Candidate,
    policy: BalancePolicy,
    cursor: &mut usize,
    sticky_id: Option<u64>,
    rng: &mut Rng,
) -> Option<InstanceRef> {
    if len == 0 {
        return None;
    }
    if let Some(id) = sticky_id {
        // The client's home if it is in rotation, else the next one that is (as a consistent
        // hash moves a down host's clients on and brings them back when it returns).
        let first = home(id, len);
        return (0..len)
            .map(|k| candidate((first + k) % len))
            .find(|c| c.ready)
            .map(|c| c.instance);
    }
    let all = || (0..len).map(&candidate);
    match policy {
        BalancePolicy::RoundRobin => {
            for _ in 0..len {
                let c = candidate(take_turn(cursor, len));
                if c.ready {
                    return Some(c.instance);
                }
            }
            None
        }
        BalancePolicy::Random => {
            let ready = all().filter(|c| c.ready).count();
            if ready == 0 {
                return None;
            }
            let nth = rng.below(ready as u64) as usize;
            all().filter(|c| c.ready).nth(nth).map(|c| c.instance)
        }
        BalancePolicy::LeastOutstanding => all()
            .filter(|c| c.ready)
            .min_by_key(|c| c.outstanding)
            .map(|c| c.instance),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pick` over a list of candidates.
    fn pick_in(
        candidates: &[Candidate],
        policy: BalancePolicy,
        cursor: &mut usize,
        sticky_id: Option<u64>,
        rng: &mut Rng,
    ) -> Option<InstanceRef> {
        pick(
            candidates.len(),
            |k| candidates[k],
            policy,
            cursor,
            sticky_id,
            rng,
        )
    }

    fn candidates() -> Vec<Candidate> {
        vec![
            Candidate {
                instance: (0, 0),
                ready: true,
                outstanding: 5,
            },
            Candidate {
                instance: (1, 0),
                ready: false,
                outstanding: 0,
            },
            Candidate {
                instance: (1, 1),
                ready: true,
                outstanding: 2,
            },
        ]
    }

    #[test]
    fn a_balancer_spreads_over_its_services_instances_and_skips_unready_ones() {
        let mut rng = Rng::new(1);
        // Services 0 (two instances), 1 (one, not in the balancer) and 2 (two, one unready).
        let mut instances = vec![
            vec![Instance::new(); 2],
            vec![Instance::new()],
            vec![Instance::new(); 2],
        ];
        instances[2][0].ready = false;
        instances[0][1].busy = 3;
        let spec = LoadBalancerSpec {
            backends: vec![],
            policy: BalancePolicy::RoundRobin,
            sticky: false,
        };
        let lb = BalancerCfg::compile(&spec, vec![0, 2]);
        let mut cursor = 0;
        let picks: Vec<_> = (0..6)
            .map(|_| lb.pick(&instances, &mut cursor, None, &mut rng).unwrap())
            .collect();
        assert_eq!(picks, [(0, 0), (0, 1), (2, 1), (0, 0), (0, 1), (2, 1)]);
        let least = BalancerCfg {
            policy: BalancePolicy::LeastOutstanding,
            ..lb.clone()
        };
        assert_eq!(
            least.pick(&instances, &mut cursor, None, &mut rng),
            Some((0, 0))
        );
        // A sticky id counts only where the balancer is sticky.
        let sticky = BalancerCfg {
            sticky: true,
            ..lb.clone()
        };
        let id = (0..100)
            .find(|&id| home(id, 4) == 1)
            .expect("some id hashes to the second candidate");
        for _ in 0..3 {
            assert_eq!(
                sticky.pick(&instances, &mut cursor, Some(id), &mut rng),
                Some((0, 1))
            );
        }
        // A service addressed directly: in turn, or by the client's hash.
        let mut direct = 0;
        let turns: Vec<_> = (0..4).map(|_| pick_direct(3, &mut direct, None)).collect();
        assert_eq!(turns, [0, 1, 2, 0]);
        assert_eq!(pick_direct(3, &mut direct, Some(id)), home(id, 3));
    }

    #[test]
    fn round_robin_skips_instances_out_of_rotation() {
        let mut rng = Rng::new(1);
        let mut cursor = 0;
        let picks: Vec<_> = (0..4)
            .map(|_| {
                pick_in(
                    &candidates(),
                    BalancePolicy::RoundRobin,
                    &mut cursor,
                    None,
                    &mut rng,
                )
                .unwrap()
            })
            .collect();
        assert_eq!(picks, vec![(0, 0), (1, 1), (0, 0), (1, 1)]);
    }

    #[test]
    fn least_outstanding_prefers_the_idlest_ready_instance() {
        let mut rng = Rng::new(1);
        let picked = pick_in(
            &candidates(),
            BalancePolicy::LeastOutstanding,
            &mut 0,
            None,
            &mut rng,
        );
        assert_eq!(picked, Some((1, 1)));
    }

    #[test]
    fn sticky_clients_stay_put_and_move_on_only_while_their_instance_is_out_of_rotation() {
        let mut rng = Rng::new(1);
        let mut candidates = candidates();
        let pick_for = |candidates: &[Candidate], id: u64, rng: &mut Rng| {
            pick_in(candidates, BalancePolicy::RoundRobin, &mut 0, Some(id), rng)
        };
        // Each id has a home among all three candidates; while its home (1, 0) is out of
        // rotation, its clients go to the next ready candidate, (1, 1).
        let homeless = (0..100)
            .find(|&id| home(id, 3) == 1)
            .expect("some id hashes to the unready candidate");
        for _ in 0..5 {
            assert_eq!(pick_for(&candidates, homeless, &mut rng), Some((1, 1)));
        }
        let spread: std::collections::BTreeSet<_> = (0..100)
            .map(|id| pick_for(&candidates, id, &mut rng))
            .collect();
        assert_eq!(spread.len(), 2, "ids spread over the ready instances only");
        // Back in rotation, the instance gets its own clients back.
        candidates[1].ready = true;
        assert_eq!(pick_for(&candidates, homeless, &mut rng), Some((1, 0)));
        let spread: std::collections::BTreeSet<_> = (0..100)
            .map(|id| pick_for(&candidates, id, &mut rng))
            .collect();
        assert_eq!(spread.len(), 3, "ids spread over every instance");
    }

    #[test]
    fn a_balancer_skips_instances_that_are_down_until_they_are_back() {
        let mut rng = Rng::new(1);
        let mut instances = vec![vec![Instance::new(); 3]];
        let spec = LoadBalancerSpec {
            backends: vec![],
            policy: BalancePolicy::RoundRobin,
            sticky: false,
        };
        let lb = BalancerCfg::compile(&spec, vec![0]);
        let mut cursor = 0;
        let mut picks = |instances: &[Vec<Instance>], n: usize| -> Vec<InstanceRef> {
            (0..n)
                .map(|_| lb.pick(instances, &mut cursor, None, &mut rng).unwrap())
                .collect()
        };
        // Down (crashed, restarting or stopped) while still "ready": no readiness probe has
        // looked yet, but the balancer's own view of the instance leaves it out.
        instances[0][1].up = false;
        assert_eq!(picks(&instances, 4), [(0, 0), (0, 2), (0, 0), (0, 2)]);
        instances[0][1].up = true;
        assert_eq!(picks(&instances, 3), [(0, 0), (0, 1), (0, 2)]);
        for instance in &mut instances[0] {
            instance.up = false;
        }
        assert_eq!(lb.pick(&instances, &mut cursor, None, &mut rng), None);
    }

    #[test]
    fn no_ready_instance_means_no_pick() {
        let mut rng = Rng::new(1);
        let none = [Candidate {
            instance: (0, 0),
            ready: false,
            outstanding: 0,
        }];
        assert_eq!(
            pick_in(&none, BalancePolicy::Random, &mut 0, None, &mut rng),
            None
        );
    }
}
