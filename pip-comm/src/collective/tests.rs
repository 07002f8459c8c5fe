use super::*;

#[test]
fn plans_count_their_readers() {
    for kind in [
        Kind::Bcast,
        Kind::Reduce,
        Kind::Allreduce,
        Kind::Gather,
        Kind::Scan,
        Kind::Exscan,
    ] {
        for n in 1..6u32 {
            for root in 0..n {
                for large in [false, true] {
                    let plan = Plan { kind, root, large };
                    let total: u32 = (0..n).map(|r| plan.readers(n, r)).sum();
                    let reads: u32 = (0..n)
                        .map(|q| (0..n).filter(|&r| plan.reads_slot(q, r)).count() as u32)
                        .sum();
                    assert_eq!(total, reads);
                    // Everyone but the leader reads the leader.
                    if !matches!(kind, Kind::Scan | Kind::Exscan) || n > 0 {
                        assert_eq!(plan.readers(n, 0), n - 1, "{kind:?} {n} {root}");
                    }
                }
            }
        }
    }
}

#[test]
fn layouts_are_checked() {
    assert!(check_layout("recv", &[1, 2], &[0, 1], 2, 3).is_ok());
    assert!(matches!(
        check_layout("recv", &[1, 2], &[0, 2], 2, 3),
        Err(Error::CollectiveBuffer {
            needed: 4,
            len: 3,
            ..
        })
    ));
    assert!(check_layout("recv", &[1], &[0], 2, 3).is_err());
}
