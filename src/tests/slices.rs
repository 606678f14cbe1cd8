//! How long lists are cut into the slices that each statement of a long batch takes.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::storage::slices::{slice, slices_for, SLICE};

    #[pg_test]
    fn the_longest_list_sets_the_number_of_slices() {
        assert_eq!(slices_for(&[]), 1);
        assert_eq!(slices_for(&[0, 0, 0]), 1);
        assert_eq!(slices_for(&[SLICE, 1, 0]), 1);
        assert_eq!(slices_for(&[SLICE + 1, 1, 0]), 2);
        assert_eq!(slices_for(&[3, 2 * SLICE + 1, SLICE]), 3);
    }

    #[pg_test]
    fn slices_cover_every_item_once_in_order() {
        let items: Vec<usize> = (0..2 * SLICE + 7).collect();
        let mut seen = Vec::new();
        for index in 0..slices_for(&[items.len()]) {
            let part = slice(&items, index);
            assert!(!part.is_empty() && part.len() <= SLICE);
            seen.extend_from_slice(part);
        }
        assert_eq!(seen, items);
        assert!(slice(&items, 3).is_empty());
        assert!(slice(&items, usize::MAX).is_empty());
    }
}
