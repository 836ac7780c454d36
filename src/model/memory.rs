//! The instance-memory mechanism: what an instance holds (its idle base, the work in service and
//! its open connections), its limit (the allocation that would pass it fails, and the instance
//! crashes out of memory), and the peak a metrics window reports.

use crate::scenario::schema::ServiceSpec;

/// A service's compiled memory parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryCfg {
    /// Held while idle, MB.
    pub base_mb: f64,
    /// Crash above this, MB (0 = no limit).
    pub limit_mb: f64,
    /// Held per open client connection, MB.
    pub per_connection_mb: f64,
}

impl MemoryCfg {
    /// Compiles a validated service's memory parameters.
    pub fn compile(spec: &ServiceSpec) -> Self {
        MemoryCfg {
            base_mb: spec.memory_base_mb,
            limit_mb: spec.memory_limit_mb,
            per_connection_mb: spec.memory_per_connection_mb,
        }
    }

    /// What an instance holding `work_mb` for its work in service with `connections` open
    /// would need, MB (it may be over the limit: see [`MemoryCfg::verdict`]).
    pub fn wanted_mb(&self, work_mb: f64, connections: u32) -> f64 {
        self.base_mb + work_mb + connections as f64 * self.per_connection_mb
    }

    /// What an instance that wants `wanted_mb` holds, and whether it is out of memory: the
    /// allocation that would pass the limit fails, so it never holds more than the limit.
    pub fn verdict(&self, wanted_mb: f64) -> Memory {
        if self.limit_mb > 0.0 && wanted_mb > self.limit_mb {
            Memory {
                held_mb: self.limit_mb,
                out_of_memory: true,
            }
        } else {
            Memory {
                held_mb: wanted_mb,
                out_of_memory: false,
            }
        }
    }
}

/// An instance's memory after an allocation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Memory {
    /// Held, MB (never above the limit).
    pub held_mb: f64,
    /// The allocation failed: the instance crashes.
    pub out_of_memory: bool,
}

/// The memory of one instance's work in service (base and connections come from the config
/// and the connection count).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WorkMemory {
    work_mb: f64,
}

impl WorkMemory {
    /// Held by work in service, MB.
    pub fn mb(&self) -> f64 {
        self.work_mb
    }

    /// A job starts and holds `mb` while it runs.
    pub fn allocate(&mut self, mb: f64) {
        self.work_mb += mb;
    }

    /// A job that held `mb` ends.
    pub fn free(&mut self, mb: f64) {
        self.work_mb = (self.work_mb - mb).max(0.0);
    }

    /// The instance crashed or restarted: its work is gone.
    pub fn clear(&mut self) {
        self.work_mb = 0.0;
    }
}

/// The largest memory each service's instances held in the current window, MB.
#[derive(Clone, Debug, Default)]
pub struct Peaks {
    mb: Vec<f64>,
}

impl Peaks {
    /// Peaks for services whose idle memory is `base_mb` each: a window starts at that.
    pub fn new(base_mb: impl Iterator<Item = f64>) -> Self {
        Peaks {
            mb: base_mb.collect(),
        }
    }

    /// Service `service` held `held_mb` on one instance.
    pub fn record(&mut self, service: u16, held_mb: f64) {
        let peak = &mut self.mb[service as usize];
        *peak = peak.max(held_mb);
    }

    /// The window's peak for `service`, given what its instances hold as it closes; the next
    /// window starts from that.
    pub fn close_window(&mut self, service: u16, held_now_mb: f64) -> f64 {
        let peak = &mut self.mb[service as usize];
        let value = peak.max(held_now_mb);
        *peak = held_now_mb;
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: MemoryCfg = MemoryCfg {
        base_mb: 1_000.0,
        limit_mb: 3_072.0,
        per_connection_mb: 0.5,
    };

    #[test]
    fn an_instance_holds_base_work_and_connections_up_to_its_limit() {
        let mut work = WorkMemory::default();
        work.allocate(1_500.0);
        work.allocate(500.0);
        work.free(500.0);
        let wanted = POD.wanted_mb(work.mb(), 1_000);
        assert_eq!(wanted, 3_000.0);
        assert!(!POD.verdict(wanted).out_of_memory);
        // The allocation that would pass the limit fails: held stays at the limit.
        work.allocate(200.0);
        let over = POD.verdict(POD.wanted_mb(work.mb(), 1_000));
        assert_eq!((over.held_mb, over.out_of_memory), (3_072.0, true));
        work.clear();
        assert_eq!(work.mb(), 0.0);
        let unlimited = MemoryCfg {
            limit_mb: 0.0,
            ..POD
        };
        assert!(!unlimited.verdict(1e9).out_of_memory);
    }

    #[test]
    fn a_window_reports_its_peak_then_starts_from_what_is_held() {
        let mut peaks = Peaks::new([1_000.0, 200.0].into_iter());
        peaks.record(0, 2_500.0);
        peaks.record(0, 1_800.0);
        assert_eq!(peaks.close_window(0, 1_200.0), 2_500.0);
        assert_eq!(peaks.close_window(0, 1_100.0), 1_200.0);
        assert_eq!(peaks.close_window(1, 150.0), 200.0);
    }
}
