use super::*;
use crate::handle::*;

/// Handles of the predefined datatypes used here (see datatype/predefined.rs's table).
const CHAR: Handle = 1;
const BYTE: Handle = 4;
const INT: Handle = 8;
const UNSIGNED: Handle = 9;
const FLOAT: Handle = 14;
const DOUBLE: Handle = 15;
const LONG_DOUBLE: Handle = 16;
const C_BOOL: Handle = 25;
const DOUBLE_COMPLEX: Handle = 27;
const DOUBLE_INT: Handle = 34;
const TWO_INT: Handle = 36;
const SHORT_INT: Handle = 37;

fn t(h: Handle) -> std::rc::Rc<Datatype> {
    datatype::get(h).unwrap()
}

fn run<T: Copy>(op: Handle, dt: Handle, a: &[T], b: &mut [T]) {
    let d = t(dt);
    check(op, &d).unwrap();
    let n = std::mem::size_of_val(a) / d.extent as usize;
    // SAFETY: both slices hold `n` elements of `d`.
    unsafe { apply(op, &d, n, a.as_ptr().cast(), b.as_mut_ptr().cast()).unwrap() };
}

#[test]
fn integer_operations() {
    let mut b = [5i32, -3, 0b1100];
    run(MPI_SUM, INT, &[1, 2, 3], &mut b);
    assert_eq!(b, [6, -1, 15]);
    let mut b = [5i32, -3, 7];
    run(MPI_MAX, INT, &[1, 2, 9], &mut b);
    assert_eq!(b, [5, 2, 9]);
    let mut b = [0b1100u32, 0, 1];
    run(MPI_BXOR, UNSIGNED, &[0b1010, 0, 1], &mut b);
    assert_eq!(b, [0b0110, 0, 0]);
    let mut b = [0u32, 2, 0];
    run(MPI_LOR, UNSIGNED, &[0, 0, 7], &mut b);
    assert_eq!(b, [0, 1, 1]);
    let mut b = [100i8 as u8];
    run(MPI_SUM, CHAR, &[100i8 as u8], &mut b);
    assert_eq!(b[0] as i8, -56);
}

#[test]
fn float_complex_and_bool_operations() {
    let mut b = [2.0f64, 3.0];
    run(MPI_PROD, DOUBLE, &[1.5, -1.0], &mut b);
    assert_eq!(b, [3.0, -3.0]);
    let mut b = [1.0f32];
    run(MPI_MIN, FLOAT, &[0.5], &mut b);
    assert_eq!(b, [0.5]);
    // (1 + 2i)(3 + 4i) = -5 + 10i
    let mut b = [3.0f64, 4.0];
    run(MPI_PROD, DOUBLE_COMPLEX, &[1.0, 2.0], &mut b);
    assert_eq!(b, [-5.0, 10.0]);
    let mut b = [1u8, 0, 1];
    run(MPI_LXOR, C_BOOL, &[1u8, 0, 0], &mut b);
    assert_eq!(b, [0, 0, 1]);
}

#[test]
fn location_operations_on_padded_pairs() {
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct DI(f64, i32);
    let a = [DI(1.0, 3), DI(5.0, 1), DI(2.0, 4)];
    let mut b = [DI(2.0, 0), DI(5.0, 0), DI(1.0, 2)];
    run(MPI_MINLOC, DOUBLE_INT, &a, &mut b);
    assert_eq!(b, [DI(1.0, 3), DI(5.0, 0), DI(1.0, 2)]);
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct SI(i16, i32);
    let mut b = [SI(2, 0), SI(-1, 9)];
    run(MPI_MAXLOC, SHORT_INT, &[SI(1, 3), SI(4, 1)], &mut b);
    assert_eq!(b, [SI(2, 0), SI(4, 1)]);
    let mut b = [7i32, 2, 7, 1];
    run(MPI_MAXLOC, TWO_INT, &[7, 1, 6, 0], &mut b);
    assert_eq!(b, [7, 1, 7, 1]);
}

#[test]
fn replace_and_no_op() {
    let mut b = [1.0f64, 2.0];
    run(MPI_NO_OP, DOUBLE, &[9.0, 9.0], &mut b);
    assert_eq!(b, [1.0, 2.0]);
    run(MPI_REPLACE, DOUBLE, &[9.0, 8.0], &mut b);
    assert_eq!(b, [9.0, 8.0]);
}

#[test]
fn undefined_pairings_are_op_errors() {
    for (op, dt) in [
        (MPI_SUM, BYTE),
        (MPI_BAND, DOUBLE),
        (MPI_MINLOC, INT),
        (MPI_SUM, TWO_INT),
        (MPI_MAX, DOUBLE_COMPLEX),
        (MPI_SUM, C_BOOL),
        (MPI_SUM, LONG_DOUBLE),
        (MPI_OP_NULL, INT),
        (99, INT),
    ] {
        let e = check(op, &t(dt)).unwrap_err();
        assert_eq!(e.class, MPI_ERR_OP, "op {op} on type {dt}");
    }
    assert!(check(MPI_REPLACE, &t(LONG_DOUBLE)).is_ok());
    assert!(check(MPI_BAND, &t(BYTE)).is_ok());
    let e = check(MPI_SUM, &t(LONG_DOUBLE)).unwrap_err();
    assert!(e.message.contains("long double"), "{}", e.message);
}
