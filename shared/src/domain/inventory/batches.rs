//! `list_instances_batch`: how the run of a script would split its target
//! hosts into batches. The SDK says only automatic batching is supported
//! (`batch_strategy` `AUTO_BATCH`).
//!
//! The rule: a canary ramp of 1, 2, 4 and 8 hosts, then batches of
//! [`limits::BATCH_HOSTS`] (10) hosts, so a bad script stops on few hosts
//! (success rate) before it reaches many. When the ramp would need more than
//! [`limits::EXECUTE_BATCHES`] (20) batches, there is no ramp: the hosts are
//! spread evenly over as few batches of at most 10 as hold them (200 hosts:
//! 20 batches of 10). Every plan it makes is one `execute_script` accepts.

use crate::limits;

/// The size of each batch for `hosts` hosts, in order.
pub fn auto_batch_sizes(hosts: usize) -> Vec<usize> {
    let per_batch = limits::BATCH_HOSTS.max;
    let mut ramp = Vec::new();
    let mut left = hosts;
    let mut next = 1;
    while left > 0 {
        let size = next.min(per_batch).min(left);
        ramp.push(size);
        left -= size;
        next = (next * 2).min(per_batch);
    }
    if ramp.len() <= limits::EXECUTE_BATCHES.max {
        return ramp;
    }
    let batches = hosts.div_ceil(per_batch);
    (0..batches).map(|n| hosts / batches + usize::from(n < hosts % batches)).collect()
}

/// `items` split by [`auto_batch_sizes`].
pub fn split<T>(items: Vec<T>) -> Vec<Vec<T>> {
    let mut rest = items.into_iter();
    auto_batch_sizes(rest.len()).into_iter().map(|size| rest.by_ref().take(size).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_runs_ramp_up_and_large_ones_fill_batches() {
        assert_eq!(auto_batch_sizes(1), vec![1]);
        assert_eq!(auto_batch_sizes(5), vec![1, 2, 2]);
        assert_eq!(auto_batch_sizes(25), vec![1, 2, 4, 8, 10]);
        assert_eq!(auto_batch_sizes(175), [vec![1, 2, 4, 8], vec![10; 16]].concat());
        assert_eq!(auto_batch_sizes(176), [vec![10; 14], vec![9; 4]].concat());
        assert_eq!(auto_batch_sizes(200), vec![10; 20]);
        for hosts in 1..=limits::TICKET_HOSTS {
            let sizes = auto_batch_sizes(hosts);
            assert_eq!(sizes.iter().sum::<usize>(), hosts);
            assert!(sizes.len() <= limits::EXECUTE_BATCHES.max && sizes.iter().all(|s| (1..=10).contains(s)));
        }
        assert_eq!(split(vec![1, 2, 3, 4]), vec![vec![1], vec![2, 3], vec![4]]);
    }
}
