use super::*;

#[test]
fn capacity_shrinks_with_the_world_and_regions_keep_their_lines() {
    assert_eq!(capacity(1), 2048);
    assert_eq!(capacity(16), 2048);
    assert_eq!(capacity(64), 512);
    assert_eq!(capacity(128), 256);
    assert_eq!(capacity(4096), 256);
    for n in [1, 2, 3, 7, 100, 4096] {
        assert_eq!(stride(n) % 128, 0);
        assert!(stride(n) >= DATA_AT + capacity(n));
    }
    const { assert!(DATA_AT <= 32, "a small payload shares the flag line") };
}

#[test]
fn collective_numbers_compare_across_the_wrap() {
    assert!(at_least(5, 5));
    assert!(at_least(6, 5));
    assert!(!at_least(4, 5));
    assert!(at_least(1, u32::MAX));
    assert!(!at_least(u32::MAX, 1));
    assert!(at_least(0, 0));
}

#[cfg(not(loom))]
#[test]
fn pool_entries_are_taken_reset_and_given_back() {
    let pool = Pool::default();
    let world = pool.lines(0, 4);
    assert_eq!(world.data(0, 0) as usize % 16, 0);
    assert_eq!(
        world.data(3, 1) as usize - world.data(0, 0) as usize,
        (3 * REGIONS as usize + 1) * stride(4)
    );
    assert_eq!(world.data(2, 5), world.data(2, 5 + REGIONS));
    let mut taken: Vec<usize> = (1..POOL).map(|_| pool.take(2, 4).unwrap()).collect();
    assert_eq!(pool.take(2, 4), None, "the pool is full");
    taken.sort_unstable();
    assert_eq!(taken, (1..POOL).collect::<Vec<_>>());
    let lines = pool.lines(5, 4);
    lines.head(1, 1).publish(9, 3);
    assert_eq!(seq_of(lines.head(1, 1).word(false)), 9);
    pool.give_back(5);
    assert_eq!(pool.take(2, 4), None, "one user still holds entry 5");
    pool.give_back(5);
    assert_eq!(pool.take(2, 4), Some(5));
    assert_eq!(pool.lines(5, 4).head(1, 1).word(false), 0, "flags reset");
    // SAFETY: nobody uses the pool any more.
    unsafe { pool.free(4) };
}

#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// What a rank does in one collective of the model.
    #[derive(Clone, Copy)]
    enum Op {
        /// Everyone writes and reads everyone (an all-reduce, an all-gather, a barrier).
        All,
        /// Rank 0 writes, the other reads (a broadcast from 0).
        FromZero,
    }

    /// Waits (spinning, as loom wants) until rank `r`'s flag of collective `k` reaches `k`.
    fn wait(lines: &Lines, r: u32, k: u32) -> u64 {
        loop {
            let w = lines.head(r, k).word(false);
            if at_least(seq_of(w), k) {
                return w;
            }
            loom::thread::yield_now();
        }
    }

    /// One rank of two running `ops` as collectives 1, 2, ...: the protocol's steps, with the
    /// shape's count standing for the payload's value and the head's cell for its bytes.
    fn rank(lines: Lines, me: u32, ops: &[Op]) {
        let other = 1 - me;
        for (i, op) in ops.iter().enumerate() {
            let k = i as u32 + 1;
            // Step 1 (REGIONS is 2 under loom).
            wait(&lines, other, k + 1 - REGIONS);
            let writes = matches!(op, Op::All) || me == 0;
            let reads = matches!(op, Op::All) || me == 1;
            let head = lines.head(me, k);
            if writes {
                // Step 2.
                head.contents.with_mut(|_| ());
                head.set_shape((100 * k + me) as usize, 4, 0);
            }
            // Step 3.
            head.publish(k, 7);
            if reads {
                // Step 4: exactly collective k, with its payload.
                let w = wait(&lines, other, k);
                assert_eq!(seq_of(w), k);
                let theirs = lines.head(other, k);
                theirs.contents.with(|_| ());
                assert_eq!(theirs.shape().0, u64::from(100 * k + other));
            }
        }
    }

    fn model(ops: &'static [Op]) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(move || {
            let pool = Arc::new(Pool::default());
            let lines = pool.lines(0, 2);
            let t = {
                let pool = pool.clone();
                loom::thread::spawn(move || {
                    let lines = pool.lines(0, 2);
                    rank(lines, 1, ops);
                })
            };
            rank(lines, 0, ops);
            t.join().unwrap();
            // SAFETY: both ranks are done.
            unsafe { pool.free(2) };
        });
    }

    /// Rooted collectives back to back: the root may run ahead of its reader by one
    /// collective, never onto a region the reader still reads.
    #[test]
    fn loom_lines_rooted_collectives_reuse_regions_safely() {
        model(&[Op::FromZero, Op::FromZero, Op::FromZero]);
    }

    /// Rooted and all-to-all collectives mixed.
    #[test]
    fn loom_lines_mixed_collectives_reuse_regions_safely() {
        model(&[Op::All, Op::FromZero, Op::All]);
    }
}
