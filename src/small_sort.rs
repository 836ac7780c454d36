//! Stable insertion sort for the short lists the app orders (timeline entries, beats, fixes).
//!
//! std's slice sorts instantiate several large functions (quick, merge and small sorts) per
//! element type and ordering: sixteen call sites cost the web module ~60 KB of code before
//! compression. These lists hold tens of items, where an insertion sort is as fast.

/// Sorts `items` so that no item is `less` than the one before it, keeping equal items in their
/// order. Quadratic: for short lists only.
pub fn sort_by<T>(items: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && less(&items[j], &items[j - 1]) {
            items.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// Sorts `items` by `key`, keeping items with equal keys in their order.
pub fn sort_by_key<T, K: Ord>(items: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(items, |a, b| key(a) < key(b));
}

/// Sorts `items` in their natural order, keeping equal items in their order.
pub fn sort<T: Ord>(items: &mut [T]) {
    sort_by(items, |a, b| a < b);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Same order as std's stable sort, equal keys included (the payload tells them apart).
        #[test]
        fn orders_like_the_standard_stable_sort(items in prop::collection::vec((0u8..8, any::<u16>()), 0..64)) {
            let mut ours = items.clone();
            sort_by_key(&mut ours, |&(key, _)| key);
            let mut std_sorted = items.clone();
            std_sorted.sort_by_key(|&(key, _)| key);
            prop_assert_eq!(ours, std_sorted);
        }

        #[test]
        fn sorts_whole_values(mut items in prop::collection::vec(any::<i32>(), 0..64)) {
            let mut expected = items.clone();
            expected.sort();
            sort(&mut items);
            prop_assert_eq!(items, expected);
        }
    }

    #[test]
    fn a_float_order_keeps_ties_in_place() {
        let mut beats = [(2.0, 'a'), (1.0, 'b'), (2.0, 'c'), (0.5, 'd')];
        sort_by(&mut beats, |a, b| a.0 < b.0);
        assert_eq!(beats, [(0.5, 'd'), (1.0, 'b'), (2.0, 'a'), (2.0, 'c')]);
    }
}
