//! Load balancing: which instance of which service receives an attempt.

use crate::rng::Rng;
use crate::scenario::BalancePolicy;

/// Where a client's requests enter the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// A service directly (its instances in turn).
    Service(u16),
    /// A load balancer.
    Balancer(u16),
}

/// A service instance, by service index and instance number.
pub type InstanceRef = (u16, u16);

/// A load balancer's run-time state: its instances flattened from its backends.
#[derive(Clone, Debug)]
pub struct Balancer {
    /// Every instance behind it.
    pub instances: Vec<InstanceRef>,
    /// Choice policy.
    pub policy: BalancePolicy,
    /// Next instance for round robin.
    pub cursor: usize,
}

impl Balancer {
    /// Picks an instance; `outstanding` reports the queued plus in-service count of one.
    pub fn pick(&mut self, rng: &mut Rng, outstanding: impl Fn(InstanceRef) -> u32) -> InstanceRef {
        match self.policy {
            BalancePolicy::RoundRobin => {
                let chosen = self.instances[self.cursor];
                self.cursor = (self.cursor + 1) % self.instances.len();
                chosen
            }
            BalancePolicy::Random => {
                self.instances[rng.below(self.instances.len() as u64) as usize]
            }
            BalancePolicy::LeastOutstanding => *self
                .instances
                .iter()
                .min_by_key(|&&i| outstanding(i))
                .expect("a balancer has instances"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_cycles_and_least_outstanding_prefers_idle() {
        let mut rng = Rng::new(1);
        let mut lb = Balancer {
            instances: vec![(0, 0), (1, 0), (1, 1)],
            policy: BalancePolicy::RoundRobin,
            cursor: 0,
        };
        let picks: Vec<_> = (0..4).map(|_| lb.pick(&mut rng, |_| 0)).collect();
        assert_eq!(picks, vec![(0, 0), (1, 0), (1, 1), (0, 0)]);
        lb.policy = BalancePolicy::LeastOutstanding;
        assert_eq!(
            lb.pick(&mut rng, |i| if i == (1, 0) { 0 } else { 5 }),
            (1, 0)
        );
    }
}
