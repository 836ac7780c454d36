//! The persistent-connection mechanism (devices, browser tabs, WebSocket clients): each client's
//! state machine (waiting → connecting → connected, back to waiting when a connect fails or the
//! connection drops), its reconnect backoff and giving up, its heartbeats, and the address it
//! hashes to for sticky balancing. The event loop sends its connect and heartbeat requests.

use crate::model::client::RetryPolicy;
use crate::sim::{Ctx, Event};
use crate::time::TimeUs;

/// Where a connection client stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceState {
    /// Not connected; a (re)connect is scheduled (or none, if it gave up).
    Waiting,
    /// Connect requests are in flight.
    Connecting,
    /// Connected to its instance.
    Connected,
}

/// How a population's clients connect and reconnect (compiled from its client spec).
#[derive(Clone, Copy, Debug)]
pub struct Reconnect<'a> {
    /// Backoff between attempts.
    pub retry: &'a RetryPolicy,
    /// Whether a dropped client tries again at all.
    pub reconnect: bool,
    /// Offline this long, a client stops trying (0 = never).
    pub give_up_after_us: TimeUs,
}

/// What a connect request's end means for its client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectStep {
    /// For an earlier connect, or the client has moved on: nothing.
    Stale,
    /// It failed: the connect fails (the caller drops it).
    Failed,
    /// Other connect requests are still outstanding.
    Pending,
    /// The last one succeeded: the client may now connect to its instance.
    Answered,
}

/// One client of a connections population.
#[derive(Clone, Copy, Debug)]
pub struct Device {
    /// Where it stands.
    pub state: DeviceState,
    /// The instance it is (or is getting) connected to: (service, instance).
    pub instance: (u16, u16),
    /// Bumps on every state change, so stale events and replies are dropped.
    pub epoch: u32,
    /// Consecutive failed connects (drives the reconnect backoff).
    pub failures: u32,
    /// Connect requests still outstanding.
    pub pending: u32,
    /// The last reconnect delay, µs (for decorrelated jitter).
    pub last_delay_us: TimeUs,
    /// Since when it has been without a connection (from its first connect attempt or its last
    /// drop), while it has none.
    pub offline_since_us: Option<TimeUs>,
}

impl Device {
    /// A client that has not connected yet.
    pub fn new() -> Self {
        Device {
            state: DeviceState::Waiting,
            instance: (0, 0),
            epoch: 0,
            failures: 0,
            pending: 0,
            last_delay_us: 0,
            offline_since_us: None,
        }
    }

    /// Its connect timer (armed at `epoch`) fired at `now_us`: starts connecting with
    /// `connect_requests` requests and returns the new epoch, or `None` if the timer is stale.
    pub fn start_connecting(
        &mut self,
        epoch: u32,
        connect_requests: u32,
        now_us: TimeUs,
    ) -> Option<u32> {
        if self.epoch != epoch || self.state != DeviceState::Waiting {
            return None;
        }
        self.epoch = epoch.wrapping_add(1);
        self.state = DeviceState::Connecting;
        self.pending = connect_requests;
        self.offline_since_us.get_or_insert(now_us);
        Some(self.epoch)
    }

    /// One of its connect requests (sent at `epoch`) ended, successfully or not.
    pub fn connect_request_ended(&mut self, epoch: u32, ok: bool) -> ConnectStep {
        if self.epoch != epoch || self.state != DeviceState::Connecting {
            return ConnectStep::Stale;
        }
        if !ok {
            return ConnectStep::Failed;
        }
        self.pending -= 1;
        if self.pending > 0 {
            ConnectStep::Pending
        } else {
            ConnectStep::Answered
        }
    }

    /// It is connected to its instance: back online.
    pub fn connected(&mut self) {
        self.state = DeviceState::Connected;
        self.failures = 0;
        self.offline_since_us = None;
    }

    /// Whether a heartbeat armed at `epoch` is still its own.
    pub fn heartbeat_due(&self, epoch: u32) -> bool {
        self.epoch == epoch && self.state == DeviceState::Connected
    }

    /// Its connection (or connect) at `epoch` ends: it waits, and unless it gave up, arms its
    /// reconnect after the backoff. Returns the instance it was connected to, if it was (its
    /// connection count goes down), or `None` if nothing changed.
    pub(crate) fn drop_connection(
        &mut self,
        client: u16,
        device: u32,
        epoch: u32,
        how: Reconnect,
        ctx: &mut Ctx,
    ) -> Option<Dropped> {
        if self.epoch != epoch || self.state == DeviceState::Waiting {
            return None;
        }
        let was_connected = self.state == DeviceState::Connected;
        let failures = self.failures + 1;
        let delay_us = how.retry.delay_us(failures, self.last_delay_us, ctx.rng);
        self.state = DeviceState::Waiting;
        self.failures = failures;
        self.last_delay_us = delay_us;
        self.epoch = epoch.wrapping_add(1);
        let offline_since_us = *self.offline_since_us.get_or_insert(ctx.now_us);
        // A user who has been without a connection for long enough closes the app.
        let gave_up =
            how.give_up_after_us > 0 && ctx.now_us - offline_since_us >= how.give_up_after_us;
        if how.reconnect && !gave_up {
            let epoch = self.epoch;
            ctx.queue.push(
                ctx.now_us + delay_us.max(1),
                Event::Connect {
                    client,
                    device,
                    epoch,
                },
            );
        }
        Some(Dropped {
            from: was_connected.then_some(self.instance),
        })
    }
}

impl Default for Device {
    fn default() -> Self {
        Self::new()
    }
}

/// A connection that ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// The instance it was connected to (none: it was still connecting).
    pub from: Option<(u16, u16)>,
}

/// The id a client hashes to for sticky balancing: clients behind one address (an office's NAT,
/// `sticky_groups` addresses per population; 0 = one each) hash as one.
pub fn sticky_id(client: u16, device: u32, sticky_groups: u32) -> u64 {
    let address = match sticky_groups {
        0 => device,
        groups => device % groups,
    };
    ((client as u64) << 32) | address as u64
}

/// Arms a connected client's heartbeats every `period_us` (0 = none): the first at a random
/// point of the first period, so a population that connected together does not beat together.
pub(crate) fn arm_first_heartbeat(
    client: u16,
    device: u32,
    epoch: u32,
    period_us: TimeUs,
    ctx: &mut Ctx,
) {
    if period_us > 0 {
        let first_us = ctx.rng.below(period_us) + 1;
        ctx.queue.push(
            ctx.now_us + first_us,
            Event::Heartbeat {
                client,
                device,
                epoch,
            },
        );
    }
}

/// A heartbeat fired: arms the next one a period later (0 = none).
pub(crate) fn arm_next_heartbeat(
    client: u16,
    device: u32,
    epoch: u32,
    period_us: TimeUs,
    ctx: &mut Ctx,
) {
    if period_us > 0 {
        ctx.queue.push_after(
            ctx.now_us,
            period_us,
            Event::Heartbeat {
                client,
                device,
                epoch,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Backoff, Jitter};

    fn retry() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            backoff: Backoff::Exponential,
            base_us: 1_000_000,
            cap_us: 8_000_000,
            jitter: Jitter::None,
        }
    }

    #[test]
    fn a_device_connects_drops_backs_off_and_gives_up() {
        let retry = retry();
        let how = Reconnect {
            retry: &retry,
            reconnect: true,
            give_up_after_us: 10_000_000,
        };
        let mut alone = crate::sim::Alone::new(1);
        let mut ctx = alone.ctx();
        let mut d = Device::new();
        let epoch = d.start_connecting(0, 2, 0).expect("its timer");
        assert_eq!(d.start_connecting(0, 2, 0), None, "a stale timer");
        assert_eq!(d.connect_request_ended(epoch, true), ConnectStep::Pending);
        assert_eq!(d.connect_request_ended(epoch, true), ConnectStep::Answered);
        d.instance = (1, 2);
        d.connected();
        assert!(d.heartbeat_due(epoch));
        // The connection drops: it was on (1, 2), and it reconnects after the backoff.
        ctx.now_us = 5_000_000;
        let dropped = d.drop_connection(0, 7, epoch, how, &mut ctx);
        assert_eq!(dropped, Some(Dropped { from: Some((1, 2)) }));
        assert!(!d.heartbeat_due(epoch));
        assert_eq!(d.drop_connection(0, 7, epoch, how, &mut ctx), None, "once");
        let mut reconnects = Vec::new();
        while let Some((at_us, Event::Connect { epoch, .. })) = ctx.queue.pop() {
            reconnects.push(at_us - ctx.now_us);
            ctx.now_us = at_us;
            let epoch = d.start_connecting(epoch, 1, at_us).expect("its timer");
            assert_eq!(d.connect_request_ended(epoch, false), ConnectStep::Failed);
            let dropped = d.drop_connection(0, 7, epoch, how, &mut ctx);
            assert_eq!(dropped, Some(Dropped { from: None }));
        }
        // 1, 2, 4, 8 s apart (capped), until it has been offline 10 s since the drop at 5 s.
        assert_eq!(reconnects, [1_000_000, 2_000_000, 4_000_000, 8_000_000]);
        assert_eq!(d.state, DeviceState::Waiting);
    }

    #[test]
    fn clients_behind_one_address_share_a_sticky_id() {
        assert_eq!(sticky_id(1, 5, 0), (1 << 32) | 5);
        assert_eq!(sticky_id(1, 5, 4), sticky_id(1, 1, 4));
        assert_ne!(sticky_id(1, 5, 4), sticky_id(2, 5, 4));
    }
}
