use super::*;

fn word(k: u32, code: u32) -> u64 {
    (u64::from(k) << 32) | u64::from(code)
}

#[test]
fn mismatches_are_named_from_the_flag_and_the_shape() {
    let mine = shape(Kind::Allreduce, 0, 4, 8, 1);
    let same = (4, 8, 1);
    assert!(mismatch(1, word(3, mine.code), same, &mine, true).is_none());
    assert!(matches!(
        mismatch(1, word(3, mine.code | FAILED), same, &mine, true),
        Some(Error::CollectivePeer { rank: 1 })
    ));
    let bcast = shape(Kind::Bcast, 0, 4, 8, 0);
    assert!(matches!(
        mismatch(2, word(3, bcast.code), same, &mine, true),
        Some(Error::CollectiveNameMismatch {
            what: "the collective",
            ours: "all_reduce",
            theirs: "broadcast",
            ..
        })
    ));
    let rooted = shape(Kind::Bcast, 1, 4, 8, 0);
    assert!(matches!(
        mismatch(2, word(3, rooted.code), (4, 8, 0), &bcast, true),
        Some(Error::CollectiveMismatch {
            what: "the root",
            ours: 0,
            theirs: 1,
            ..
        })
    ));
    assert!(matches!(
        mismatch(1, word(3, mine.code), (5, 8, 1), &mine, true),
        Some(Error::CollectiveMismatch {
            what: "the element count",
            ours: 4,
            theirs: 5,
            ..
        })
    ));
    // Counts not compared, unless the peer took the general path.
    assert!(mismatch(1, word(3, mine.code), (5, 8, 1), &mine, false).is_none());
    assert!(mismatch(1, word(3, mine.code | LARGE), (5, 8, 1), &mine, false).is_some());
    assert!(matches!(
        mismatch(1, word(3, mine.code), (4, 8, 2), &mine, true),
        Some(Error::CollectiveNameMismatch {
            what: "the operation",
            ..
        })
    ));
    assert!(matches!(
        mismatch(1, word(3, barrier_shape().code), (0, 0, 0), &mine, true),
        Some(Error::CollectiveNameMismatch {
            theirs: "barrier",
            ..
        })
    ));
}

#[test]
fn the_path_depends_on_the_staged_bytes() {
    let out = crate::run(2, |world| {
        let cap = crate::coll_lines::capacity(2);
        (
            fits(&world, 8, cap),
            fits(&world, 8, cap + 1),
            fits(&world, 32, 8),
        )
    })
    .unwrap();
    assert!(out.iter().all(|&f| f == (true, false, false)));
}
