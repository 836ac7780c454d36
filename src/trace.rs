//! The running hash of the processed event trace: equal hashes mean equal runs.
//!
//! Each processed event folds its time, kind and identifiers into a 64-bit FNV-1a style hash.
//! Two runs of the same scenario, fixes and seed must end with the same hash, natively and in wasm.

/// The 64-bit FNV-1a hash of some bytes: the checksum of a precompiled scenario file, computed
/// when the page is built and checked when the page fetches the file.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(FNV_OFFSET, |h, &b| (h ^ b as u64).wrapping_mul(FNV_PRIME))
}

/// A running 64-bit hash over the processed events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceHash(u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
/// Odd 64-bit multipliers, one per word of an event (time, kind, three identifiers).
const WORD_KEYS: [u64; 5] = [
    0x9E37_79B9_7F4A_7C15,
    0xC2B2_AE3D_27D4_EB4F,
    0x1656_67B1_9E37_79F9,
    0xD6E8_FEB8_6659_FD93,
    0xFF51_AFD7_ED55_8CCD,
];

impl Default for TraceHash {
    fn default() -> Self {
        TraceHash(FNV_OFFSET)
    }
}

impl TraceHash {
    /// Folds one event (time, kind and up to three identifiers) into the hash.
    #[inline(always)]
    pub fn record(&mut self, time_us: u64, kind: u8, ids: [u64; 3]) {
        // Each word is spread by a multiplier of its own (independent multiplies, so they run
        // side by side), the event folded into the running hash FNV-1a style, then a
        // multiply-xorshift spreads the high bits. Only the last step depends on the previous
        // event: one multiply in the chain per event instead of five.
        let event = time_us.wrapping_mul(WORD_KEYS[0])
            ^ (kind as u64).wrapping_mul(WORD_KEYS[1])
            ^ ids[0].wrapping_mul(WORD_KEYS[2])
            ^ ids[1].wrapping_mul(WORD_KEYS[3])
            ^ ids[2].wrapping_mul(WORD_KEYS[4]);
        let mut h = (self.0 ^ event).wrapping_mul(FNV_PRIME);
        h ^= h >> 29;
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

    #[test]
    fn the_same_value_in_another_field_changes_the_hash() {
        // Every word has its own multiplier: moving a value between fields, or swapping two
        // identifiers, gives another hash.
        let one = |time_us: u64, kind: u8, ids: [u64; 3]| {
            let mut h = TraceHash::default();
            h.record(time_us, kind, ids);
            h
        };
        let events = [
            one(5, 1, [7, 0, 0]),
            one(7, 1, [5, 0, 0]),
            one(5, 1, [0, 7, 0]),
            one(5, 1, [0, 0, 7]),
            one(5, 7, [1, 0, 0]),
            one(5, 1, [7, 1, 0]),
            one(5, 1, [1, 7, 0]),
        ];
        for (i, a) in events.iter().enumerate() {
            for b in &events[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
