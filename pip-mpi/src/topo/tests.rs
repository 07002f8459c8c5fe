use super::*;

fn dims(nnodes: c_int, given: &[c_int]) -> Result<Vec<c_int>> {
    let mut d = given.to_vec();
    dims_create(nnodes, &mut d).map(|()| d)
}

#[test]
fn dims_create_balances_and_respects_given_entries() {
    assert_eq!(dims(12, &[0, 0]).unwrap(), [4, 3]);
    assert_eq!(dims(16, &[0, 0]).unwrap(), [4, 4]);
    assert_eq!(dims(7, &[0, 0]).unwrap(), [7, 1]);
    assert_eq!(dims(24, &[0, 0, 0]).unwrap(), [4, 3, 2]);
    assert_eq!(dims(60, &[0, 0, 0]).unwrap(), [5, 4, 3]);
    assert_eq!(dims(1, &[0, 0]).unwrap(), [1, 1]);
    assert_eq!(dims(72, &[0, 0]).unwrap(), [9, 8]);
    assert_eq!(dims(32, &[0, 0, 0]).unwrap(), [4, 4, 2]);
    assert_eq!(dims(36, &[0, 0, 0]).unwrap(), [4, 3, 3]);
    assert_eq!(dims(1 << 20, &[0; 10]).unwrap(), [4; 10]);
    assert_eq!(
        dims(2_147_483_646, &[0, 0])
            .unwrap()
            .iter()
            .product::<c_int>(),
        2_147_483_646
    );
    assert_eq!(dims(1, &[0; 100]).unwrap(), [1; 100]);
    assert_eq!(dims(1 << 12, &[0; 5]).unwrap(), [8, 8, 4, 4, 4]);
    assert_eq!(dims(12, &[0, 3, 0]).unwrap(), [2, 3, 2]);
    assert_eq!(dims(6, &[2, 3]).unwrap(), [2, 3]);
    assert_eq!(dims(12, &[5, 0]).unwrap_err().class, MPI_ERR_DIMS);
    assert_eq!(dims(6, &[2, 2]).unwrap_err().class, MPI_ERR_DIMS);
    assert_eq!(dims(6, &[-1, 0]).unwrap_err().class, MPI_ERR_DIMS);
    assert_eq!(dims(0, &[0]).unwrap_err().class, MPI_ERR_ARG);
}

#[test]
fn coordinates_are_row_major_and_wrap_where_periodic() {
    let d = [2, 3];
    assert_eq!(coords_of(&d, 0), [0, 0]);
    assert_eq!(coords_of(&d, 4), [1, 1]);
    assert_eq!(coords_of(&d, 5), [1, 2]);
    for r in 0..6 {
        assert_eq!(rank_of(&d, &[false, false], &coords_of(&d, r)).unwrap(), r);
    }
    assert_eq!(rank_of(&d, &[true, true], &[-1, 3]).unwrap(), 3);
    assert_eq!(
        rank_of(&d, &[false, true], &[2, 0]).unwrap_err().class,
        MPI_ERR_RANK
    );
    assert_eq!(coords_of(&[], 0), Vec::<c_int>::new());
    assert_eq!(rank_of(&[], &[], &[]).unwrap(), 0);
}
