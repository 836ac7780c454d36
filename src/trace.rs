//! The running hash of the processed event trace: equal hashes mean equal runs.
//!
//! Each processed event folds its time, kind and identifiers into a 64-bit FNV-1a style hash.
//! Two runs of the same scenario, fixes and seed must end with the same hash, natively and in wasm.

/// A running 64-bit hash over the processed events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceHash(u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Default for TraceHash {
    fn default() -> Self {
        TraceHash(FNV_OFFSET)
    }
}

impl TraceHash {
    /// Folds one event (time, kind and up to three identifiers) into the hash.
    #[inline(always)]
    pub fn record(&mut self, time_us: u64, kind: u8, ids: [u64; 3]) {
        let mut h = self.0;
        for word in [time_us, kind as u64, ids[0], ids[1], ids[2]] {
            // FNV-1a over whole words, then a multiply-xorshift to spread high bits.
            h ^= word;
            h = h.wrapping_mul(FNV_PRIME);
            h ^= h >> 29;
        }
        self.0 = h;
    }

    /// The hash so far.
    pub fn value(&self) -> u64 {
        self.0
    }

    /// The hash as 16 lowercase hex digits, as the CLI prints it.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_content_change_the_hash() {
        let mut a = TraceHash::default();
        a.record(1, 1, [1, 0, 0]);
        a.record(2, 1, [2, 0, 0]);
        let mut b = TraceHash::default();
        b.record(2, 1, [2, 0, 0]);
        b.record(1, 1, [1, 0, 0]);
        let mut c = TraceHash::default();
        c.record(1, 1, [1, 0, 0]);
        c.record(2, 1, [2, 0, 0]);
        assert_ne!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.hex().len(), 16);
    }
}
