//! Unit tests of the datatype logic: the constructors' blocks and bounds (compared with what C
//! lays out and with MPICH's and Open MPI's answers), packing round trips, and the counts
//! `MPI_Get_count`/`MPI_Get_elements` report.

use super::derived::{contiguous, dup, hindexed, hvector, resized, scale, structure};
use super::queries::{count_in, elements_in};
use super::*;

// Handles of mpi.h's predefined types.
const MPI_CHAR: Handle = 1;
const MPI_INT: Handle = 8;
const MPI_DOUBLE: Handle = 15;
const MPI_LONG_DOUBLE: Handle = 16;
const MPI_DOUBLE_INT: Handle = 34;
const MPI_SHORT_INT: Handle = 37;

fn t(h: Handle) -> Rc<Datatype> {
    get(h).unwrap()
}

/// (lb, extent, true lb, true extent, size) of `d`.
fn shape(d: &Datatype) -> (isize, isize, isize, isize, usize) {
    (d.lb, d.extent, d.true_lb, d.true_ub - d.true_lb, d.size)
}

fn vector(count: usize, blocklength: usize, stride: i32, old: &Datatype) -> Datatype {
    hvector(
        count,
        blocklength,
        scale(&[stride], old.extent).unwrap()[0],
        old,
    )
    .unwrap()
}

fn indexed(lengths: &[usize], disps: &[i32], old: &Datatype) -> Datatype {
    hindexed(lengths, &scale(disps, old.extent).unwrap(), old).unwrap()
}

#[test]
fn predefined_pairs_have_the_layout_of_their_c_structs() {
    assert_eq!(t(MPI_LONG_DOUBLE).name, "MPI_LONG_DOUBLE");
    assert_eq!(t(MPI_SHORT_INT).name, "MPI_SHORT_INT");
    let di = t(MPI_DOUBLE_INT);
    assert_eq!(shape(&di), (0, 16, 0, 12, 12));
    let si = t(MPI_SHORT_INT);
    assert_eq!(shape(&si), (0, 8, 0, 8, 6));
    assert_eq!(si.blocks, vec![(0, 2), (4, 4)]);
    assert_eq!(t(MPI_INT).name, "MPI_INT");
    assert!(t(MPI_INT).is_contiguous());
}

#[test]
fn the_fast_paths_size_table_agrees_with_the_full_datatypes() {
    // Every predefined handle, and the numbers around them.
    for h in -1..=40 {
        let full = get(h)
            .ok()
            .filter(|d| d.is_contiguous() && d.size > 0)
            .map(|d| d.size);
        assert_eq!(contiguous_predefined_size(h), full, "handle {h}");
    }
    assert_eq!(contiguous_predefined_size(MPI_DOUBLE), Some(8));
    assert_eq!(contiguous_predefined_size(MPI_DOUBLE_INT), None);
}

#[test]
fn contiguous_of_a_basic_type_is_one_run() {
    let c = contiguous(1000, &t(MPI_INT)).unwrap();
    assert_eq!(c.blocks, vec![(0, 4000)]);
    assert!(c.is_contiguous());
    assert_eq!(shape(&c), (0, 4000, 0, 4000, 4000));
    assert_eq!(c.basic, Some((Basic::I32, 1000)));
    assert_eq!(c.elements, vec![(4, 1000)]);
    assert!(!c.committed);
    let empty = contiguous(0, &t(MPI_INT)).unwrap();
    assert_eq!(shape(&empty), (0, 0, 0, 0, 0));
    assert!(empty.is_contiguous());
}

#[test]
fn vector_blocks_and_bounds() {
    // A column of a 4x5 matrix of doubles.
    let col = vector(4, 1, 5, &t(MPI_DOUBLE));
    assert_eq!(col.blocks, vec![(0, 8), (40, 8), (80, 8), (120, 8)]);
    assert_eq!(shape(&col), (0, 128, 0, 128, 32));
    assert!(!col.is_contiguous());
    // Stride equal to the block length: contiguous.
    let dense = vector(3, 2, 2, &t(MPI_INT));
    assert_eq!(dense.blocks, vec![(0, 24)]);
    assert!(dense.is_contiguous());
    // A negative stride (MPICH and Open MPI: lb -32, extent 40).
    let back = vector(3, 2, -4, &t(MPI_INT));
    assert_eq!(shape(&back), (-32, 40, -32, 40, 24));
    assert_eq!(back.blocks, vec![(0, 8), (-16, 8), (-32, 8)]);
    // Overlapping blocks (stride 1 < block length 2).
    let overlap = vector(3, 2, 1, &t(MPI_INT));
    assert_eq!(shape(&overlap), (0, 16, 0, 16, 24));
    assert_eq!(overlap.blocks, vec![(0, 8), (4, 8), (8, 8)]);
    assert_eq!(shape(&vector(0, 2, 1, &t(MPI_INT))), (0, 0, 0, 0, 0));
}

#[test]
fn indexed_with_negative_and_empty_blocks() {
    let x = indexed(&[2, 1], &[5, -3], &t(MPI_INT));
    assert_eq!(shape(&x), (-12, 40, -12, 40, 12));
    assert_eq!(x.blocks, vec![(20, 8), (-12, 4)]);
    let none = indexed(&[0, 0], &[5, -3], &t(MPI_INT));
    assert_eq!(shape(&none), (0, 0, 0, 0, 0));
    // An empty block does not count for the bounds.
    let one = indexed(&[0, 1], &[5, 2], &t(MPI_INT));
    assert_eq!(shape(&one), (8, 4, 8, 4, 4));
    let block = hindexed(&[2, 2], &[0, 16], &t(MPI_INT)).unwrap();
    assert_eq!(block.blocks, vec![(0, 8), (16, 8)]);
}

#[test]
fn structs_are_padded_as_c_pads_them() {
    let (i, d, c) = (t(MPI_INT), t(MPI_DOUBLE), t(MPI_CHAR));
    let dc = structure(&[1, 1], &[0, 8], &[&d, &c]).unwrap();
    assert_eq!(shape(&dc), (0, 16, 0, 9, 9));
    assert_eq!(dc.basic, None);
    assert_eq!(dc.elements, vec![(8, 1), (1, 1)]);
    // struct { int; double; char[3]; } as x86-64 lays it out.
    let idc = structure(&[1, 1, 3], &[0, 8, 16], &[&i, &d, &c]).unwrap();
    assert_eq!(shape(&idc), (0, 24, 0, 19, 15));
    assert_eq!(idc.blocks, vec![(0, 4), (8, 11)]);
    // The answers of MPICH and Open MPI for unusual layouts.
    let s =
        |disps: &[isize], types: &[&Datatype]| shape(&structure(&[1, 1], disps, types).unwrap());
    assert_eq!(s(&[4, 8], &[&i, &d]), (4, 16, 4, 12, 12));
    assert_eq!(s(&[-8, 0], &[&d, &c]), (-8, 16, -8, 9, 9));
    assert_eq!(s(&[0, 16], &[&t(MPI_LONG_DOUBLE), &c]), (0, 32, 0, 17, 17));
    assert_eq!(s(&[0, 12], &[&t(MPI_DOUBLE_INT), &c]), (0, 16, 0, 13, 13));
    assert_eq!(s(&[0, 8], &[&t(MPI_SHORT_INT), &c]), (0, 12, 0, 9, 7));
    assert_eq!(s(&[1, 5], &[&c, &i]), (1, 8, 1, 8, 5));
}

#[test]
fn resized_bounds_are_kept_without_padding() {
    let (i, d, c) = (t(MPI_INT), t(MPI_DOUBLE), t(MPI_CHAR));
    let r = resized(&i, -4, 12).unwrap();
    assert_eq!(shape(&r), (-4, 12, 0, 4, 4));
    assert!(r.explicit_bounds && !r.is_contiguous());
    let two = contiguous(2, &resized(&i, 2, 3).unwrap()).unwrap();
    assert_eq!(shape(&two), (2, 6, 0, 7, 8));
    assert_eq!(two.blocks, vec![(0, 4), (3, 4)]);
    // Only the explicit bounds count in a struct (MPI 3.1 4.1.7; Open MPI agrees).
    let s = structure(&[1, 1], &[0, 16], &[&r, &d]).unwrap();
    assert_eq!(shape(&s), (-4, 12, 0, 24, 12));
    let s = structure(&[1, 1], &[0, 16], &[&d, &r]).unwrap();
    assert_eq!(shape(&s), (12, 12, 0, 20, 12));
    let rd = resized(&d, 0, 4).unwrap();
    assert_eq!(
        shape(&structure(&[1, 1], &[0, 4], &[&rd, &c]).unwrap()),
        (0, 4, 0, 8, 9)
    );
    // A resized struct with the C extent is what an array of structs needs.
    let dc = structure(&[1, 1], &[0, 8], &[&d, &c]).unwrap();
    assert_eq!(resized(&dc, 0, 16).unwrap().extent, 16);
}

#[test]
fn nested_types_follow_their_parts_bounds() {
    let (d, c) = (t(MPI_DOUBLE), t(MPI_CHAR));
    let dc = structure(&[1, 1], &[0, 8], &[&d, &c]).unwrap();
    assert_eq!(shape(&contiguous(2, &dc).unwrap()), (0, 32, 0, 25, 18));
    assert_eq!(
        shape(&hvector(2, 1, -24, &dc).unwrap()),
        (-24, 40, -24, 33, 18)
    );
    let vc = vector(2, 1, 2, &c);
    assert_eq!(shape(&vc), (0, 3, 0, 3, 2));
    let s = structure(&[1, 1], &[0, 4], &[&t(MPI_INT), &vc]).unwrap();
    assert_eq!(shape(&s), (0, 8, 0, 7, 6));
    // A 2x2 sub-block of a 4x4 matrix of ints (rows of 16 bytes), resized to step by two
    // columns, and two of them side by side.
    let row = contiguous(2, &t(MPI_INT)).unwrap();
    let sub = resized(&vector(2, 1, 2, &row), 0, 8).unwrap();
    assert_eq!(sub.blocks, vec![(0, 8), (16, 8)]);
    assert_eq!(shape(&sub), (0, 8, 0, 24, 16));
    let two = contiguous(2, &sub).unwrap();
    assert_eq!(two.blocks, vec![(0, 8), (16, 8), (8, 8), (24, 8)]);
    assert_eq!(shape(&two), (0, 16, 0, 32, 32));
    assert_eq!(two.basic, Some((Basic::I32, 8)));
}

#[test]
fn dup_keeps_the_layout_and_drops_the_name() {
    let di = t(MPI_DOUBLE_INT);
    let d = dup(&di);
    assert_eq!(shape(&d), shape(&di));
    assert!(d.committed && !d.predefined);
    assert_eq!(d.name, "");
}

/// Packs `count` elements of `ty` from `src`, unpacks them into a zeroed copy, and returns it
/// with the packed bytes.
fn round_trip(ty: &Datatype, count: usize, src: &[u8], at: usize) -> (Vec<u8>, Vec<u8>) {
    let mut packed = Vec::new();
    // SAFETY: the tests size `src` to hold every block of every element from `at`.
    unsafe { pack(ty, count, src.as_ptr().add(at), &mut packed) };
    assert_eq!(packed.len(), ty.size * count);
    let mut into = vec![0u8; packed.len()];
    // SAFETY: `into` has room for the packed bytes and is apart from `src`.
    let wrote = unsafe { pack_into(ty, count, src.as_ptr().add(at), &mut into) };
    assert_eq!(wrote, packed.len());
    assert_eq!(into, packed);
    let mut back = vec![0u8; src.len()];
    // SAFETY: `back` is as large as `src`, which holds every block.
    unsafe { unpack(ty, &packed, back.as_mut_ptr().add(at)) };
    (packed, back)
}

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 1) as u8).collect()
}

#[test]
fn pack_and_unpack_a_matrix_column() {
    let d = t(MPI_DOUBLE);
    let col = vector(4, 1, 5, &d);
    let m = bytes(4 * 5 * 8);
    let (packed, back) = round_trip(&col, 1, &m, 0);
    for r in 0..4 {
        assert_eq!(packed[r * 8..r * 8 + 8], m[r * 40..r * 40 + 8]);
        assert_eq!(back[r * 40..r * 40 + 8], m[r * 40..r * 40 + 8]);
        assert!(back[r * 40 + 8..r * 40 + 40].iter().all(|&b| b == 0));
    }
    // Two columns in a row: the column type resized to one double.
    let cols = resized(&col, 0, 8).unwrap();
    let (packed, _) = round_trip(&cols, 2, &m, 0);
    assert_eq!(packed[32..40], m[8..16]);
}

#[test]
fn pack_and_unpack_negative_displacements_and_structs() {
    let back = vector(3, 2, -4, &t(MPI_INT));
    let buf = bytes(64);
    let (packed, out) = round_trip(&back, 1, &buf, 32);
    assert_eq!(packed[..8], buf[32..40]);
    assert_eq!(packed[16..24], buf[0..8]);
    assert_eq!(out[0..8], buf[0..8]);
    let (i, d, c) = (t(MPI_INT), t(MPI_DOUBLE), t(MPI_CHAR));
    let s = structure(&[1, 1, 3], &[0, 8, 16], &[&i, &d, &c]).unwrap();
    let arr = bytes(24 * 3);
    let (packed, out) = round_trip(&s, 3, &arr, 0);
    assert_eq!(packed.len(), 45);
    for e in 0..3 {
        let b = e * 24;
        assert_eq!(out[b..b + 4], arr[b..b + 4]);
        assert_eq!(out[b + 8..b + 19], arr[b + 8..b + 19]);
        assert!(out[b + 4..b + 8]
            .iter()
            .chain(&out[b + 19..b + 24])
            .all(|&x| x == 0));
    }
}

#[test]
fn unpack_of_a_partial_element_writes_what_there_is() {
    let col = vector(3, 1, 2, &t(MPI_INT));
    let mut out = vec![0u8; 40];
    // SAFETY: `out` holds two elements (extent 20) of the column.
    unsafe { unpack(&col, &[9u8; 18], out.as_mut_ptr()) };
    assert_eq!(out[..4], [9; 4]);
    assert_eq!(out[8..12], [9; 4]);
    assert_eq!(out[16..20], [9; 4]);
    // The second element: one whole block (merged with the first element's last) and half
    // of the next.
    assert_eq!(out[20..24], [9; 4]);
    assert_eq!(out[24..28], [0; 4]);
    assert_eq!(out[28..30], [9, 9]);
    assert!(out[30..].iter().all(|&b| b == 0));
}

#[test]
fn counts_and_elements_of_received_bytes() {
    let (i, d, c) = (t(MPI_INT), t(MPI_DOUBLE), t(MPI_CHAR));
    let s = structure(&[1, 1, 3], &[0, 8, 16], &[&i, &d, &c]).unwrap();
    // What MPICH and Open MPI report for these byte counts.
    for (b, count, elems) in [
        (15, Some(1), Some(5)),
        (30, Some(2), Some(10)),
        (4, None, Some(1)),
    ] {
        assert_eq!(
            (count_in(&s, b), elements_in(&s, b)),
            (count, elems),
            "{b} bytes"
        );
    }
    for (b, elems) in [(12, Some(2)), (13, Some(3)), (14, Some(4)), (0, Some(0))] {
        assert_eq!(elements_in(&s, b), elems, "{b} bytes");
    }
    // Ending inside a basic element.
    assert_eq!(elements_in(&s, 2), None);
    assert_eq!(elements_in(&s, 17), None);
    assert_eq!(count_in(&i, 7), None);
    assert_eq!(elements_in(&i, 7), None);
    assert_eq!(count_in(&t(MPI_DOUBLE_INT), 12), Some(1));
    assert_eq!(elements_in(&t(MPI_DOUBLE_INT), 24), Some(4));
    let empty = contiguous(0, &i).unwrap();
    assert_eq!(
        (count_in(&empty, 0), elements_in(&empty, 0)),
        (Some(0), Some(0))
    );
}

#[test]
fn null_buffers_need_absolute_addresses() {
    let i = t(MPI_INT);
    assert_eq!(
        check_data(std::ptr::null::<u8>(), &i, 1, "buf")
            .unwrap_err()
            .class,
        crate::error::MPI_ERR_BUFFER
    );
    assert!(check_data(std::ptr::null::<u8>(), &i, 0, "buf").is_ok());
    let x = 5i32;
    let abs = hindexed(&[1], &[&x as *const i32 as isize], &i).unwrap();
    assert!(check_data(std::ptr::null::<u8>(), &abs, 1, "buf").is_ok());
    let mut packed = Vec::new();
    // SAFETY: the type's one block is `x`'s address, relative to MPI_BOTTOM (0).
    unsafe { pack(&abs, 1, std::ptr::null(), &mut packed) };
    assert_eq!(packed, 5i32.to_ne_bytes());
}

#[test]
fn pack_steps_advance_the_position_and_refuse_to_overflow() {
    use super::packing::{pack_step, unpack_step};
    let i = t(MPI_INT);
    let src = [1i32, 2, 3, 4];
    let mut out = [0u8; 24];
    let room = out.len();
    // SAFETY: `src` holds 4 ints and `out` 24 bytes, apart.
    let at = unsafe { pack_step(&i, 2, src.as_ptr().cast(), out.as_mut_ptr(), room, 4) }.unwrap();
    assert_eq!(at, 12);
    // SAFETY: as above.
    let e =
        unsafe { pack_step(&i, 4, src.as_ptr().cast(), out.as_mut_ptr(), room, at) }.unwrap_err();
    assert_eq!(e.class, crate::error::MPI_ERR_TRUNCATE);
    assert!(e.message.contains("12 left"), "{}", e.message);
    let mut back = [0i32; 4];
    // SAFETY: `out` holds 24 bytes and `back` 4 ints, apart.
    let end =
        unsafe { unpack_step(&i, 2, out.as_ptr(), room, 4, back.as_mut_ptr().cast()) }.unwrap();
    assert_eq!((end, back), (12, [1, 2, 0, 0]));
    // SAFETY: as above; the step fails before reading.
    let e =
        unsafe { unpack_step(&i, 4, out.as_ptr(), 12, 4, back.as_mut_ptr().cast()) }.unwrap_err();
    assert_eq!(e.class, crate::error::MPI_ERR_TRUNCATE);
    // A null buffer is MPI_BOTTOM: right only with absolute addresses.
    // SAFETY: the step fails before reading.
    let e = unsafe { pack_step(&i, 1, std::ptr::null(), out.as_mut_ptr(), room, 0) }.unwrap_err();
    assert_eq!(e.class, crate::error::MPI_ERR_BUFFER);
    let mut target = 0i32;
    let abs = hindexed(&[1], &[&mut target as *mut i32 as isize], &i).unwrap();
    // SAFETY: the type's one block is `target`, at its absolute address; `out` holds 24 bytes.
    let end = unsafe { unpack_step(&abs, 1, out.as_ptr(), room, 8, std::ptr::null_mut()) }.unwrap();
    assert_eq!((end, target), (12, 2));
}

/// Random nested datatypes against a model that lists the bytes of a type map one by one.
mod model {
    use super::*;
    use proptest::prelude::*;

    /// How a random type was made (the model's side of the constructors).
    #[derive(Debug, Clone)]
    enum Shape {
        Basic(Handle),
        Contiguous(usize, Box<Shape>),
        Vector(usize, usize, i32, Box<Shape>),
        Hindexed(Vec<(usize, isize)>, Box<Shape>),
        Struct(Vec<(usize, isize, Shape)>),
        Resized(isize, isize, Box<Shape>),
    }

    fn shapes() -> impl Strategy<Value = Shape> {
        let basic = prop::sample::select(vec![1, 6, 8, 15, 34, 37]).prop_map(Shape::Basic);
        basic.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                (0..4usize, inner.clone()).prop_map(|(n, t)| Shape::Contiguous(n, Box::new(t))),
                (0..4usize, 0..3usize, -3..4i32, inner.clone())
                    .prop_map(|(n, b, s, t)| Shape::Vector(n, b, s, Box::new(t))),
                (
                    prop::collection::vec((0..3usize, -40..40isize), 0..4),
                    inner.clone()
                )
                    .prop_map(|(blocks, t)| Shape::Hindexed(blocks, Box::new(t))),
                prop::collection::vec((0..3usize, -40..40isize, inner.clone()), 1..4)
                    .prop_map(Shape::Struct),
                (-8..8isize, 0..24isize, inner).prop_map(|(lb, e, t)| Shape::Resized(
                    lb,
                    e,
                    Box::new(t)
                )),
            ]
        })
    }

    /// Appends the bytes `one` of `n` copies, `extent` apart, starting at `disp`.
    fn copies(out: &mut Vec<isize>, one: &[isize], disp: isize, n: usize, extent: isize) {
        for k in 0..n as isize {
            out.extend(one.iter().map(|x| x + disp + k * extent));
        }
    }

    /// The datatype of `s` and the byte offsets of its type map, in order.
    fn make(s: &Shape) -> (Datatype, Vec<isize>) {
        match s {
            Shape::Basic(h) => {
                let t = (*get(*h).unwrap()).clone();
                let bytes = t
                    .blocks
                    .iter()
                    .flat_map(|&(o, l)| o..o + l as isize)
                    .collect();
                (t, bytes)
            }
            Shape::Contiguous(n, old) => {
                let (o, ob) = make(old);
                let bytes = (0..*n as isize)
                    .flat_map(|k| ob.iter().map(move |b| b + k * o.extent))
                    .collect();
                (contiguous(*n, &o).unwrap(), bytes)
            }
            Shape::Vector(n, b, stride, old) => {
                let (o, ob) = make(old);
                let mut bytes = Vec::new();
                for i in 0..*n as isize {
                    copies(
                        &mut bytes,
                        &ob,
                        i * *stride as isize * o.extent,
                        *b,
                        o.extent,
                    );
                }
                (vector(*n, *b, *stride, &o), bytes)
            }
            Shape::Hindexed(blocks, old) => {
                let (o, ob) = make(old);
                let mut bytes = Vec::new();
                for &(b, d) in blocks {
                    copies(&mut bytes, &ob, d, b, o.extent);
                }
                let (lens, disps): (Vec<usize>, Vec<isize>) = blocks.iter().copied().unzip();
                (hindexed(&lens, &disps, &o).unwrap(), bytes)
            }
            Shape::Struct(members) => {
                let made: Vec<(Datatype, Vec<isize>)> =
                    members.iter().map(|m| make(&m.2)).collect();
                let mut bytes = Vec::new();
                for ((b, d, _), (o, ob)) in members.iter().zip(&made) {
                    copies(&mut bytes, ob, *d, *b, o.extent);
                }
                let lens: Vec<usize> = members.iter().map(|m| m.0).collect();
                let disps: Vec<isize> = members.iter().map(|m| m.1).collect();
                let types: Vec<&Datatype> = made.iter().map(|m| &m.0).collect();
                (structure(&lens, &disps, &types).unwrap(), bytes)
            }
            Shape::Resized(lb, extent, old) => {
                let (o, ob) = make(old);
                (resized(&o, *lb, *extent).unwrap(), ob)
            }
        }
    }

    proptest! {
        #[test]
        fn blocks_pack_and_unpack_follow_the_type_map(shape in shapes(), count in 0..4usize) {
            let (t, bytes) = make(&shape);
            // One element: the blocks are the type map's bytes, merged and never adjacent.
            let from_blocks: Vec<isize> = t.blocks.iter().flat_map(|&(o, l)| o..o + l as isize).collect();
            prop_assert_eq!(&from_blocks, &bytes);
            prop_assert!(t.blocks.windows(2).all(|w| w[0].0 + w[0].1 as isize != w[1].0));
            prop_assert!(t.blocks.iter().all(|b| b.1 > 0));
            prop_assert_eq!(t.size, bytes.len());
            let elements: usize = t.elements.iter().map(|e| e.0 * e.1).sum();
            prop_assert_eq!(elements, t.size);
            prop_assert_eq!(t.true_lb, bytes.iter().copied().min().unwrap_or(0));
            prop_assert_eq!(t.true_ub, bytes.iter().map(|b| b + 1).max().unwrap_or(0));
            if !t.explicit_bounds && t.size > 0 {
                prop_assert!(t.lb <= t.true_lb && t.ub() >= t.true_ub, "{:?}", t);
            }
            if t.is_contiguous() {
                prop_assert!(bytes.iter().enumerate().all(|(i, &b)| b == i as isize));
            }
            // `count` elements: pack gathers the model's bytes, unpack puts them back.
            let all: Vec<isize> = (0..count as isize)
                .flat_map(|i| bytes.iter().map(move |b| b + i * t.extent))
                .collect();
            let lo = all.iter().copied().min().unwrap_or(0).min(0);
            let hi = all.iter().copied().max().unwrap_or(0).max(0) + 1;
            let src: Vec<u8> = (lo..hi).map(|i| (i.rem_euclid(251)) as u8).collect();
            let base = (-lo) as usize;
            let (packed, back) = round_trip(&t, count, &src, base);
            let want: Vec<u8> = all.iter().map(|&b| src[(b - lo) as usize]).collect();
            prop_assert_eq!(&packed, &want);
            for (i, (&s, &b)) in src.iter().zip(&back).enumerate() {
                let covered = all.contains(&(i as isize + lo));
                prop_assert_eq!(b, if covered { s } else { 0 }, "byte {}", i as isize + lo);
            }
        }
    }
}

#[test]
fn types_with_too_many_runs_are_refused_before_memory_fills() {
    let i = t(MPI_INT);
    let e = hvector(1 << 30, 1, 8, &i).unwrap_err();
    assert_eq!(e.class, crate::error::MPI_ERR_UNSUPPORTED_OPERATION);
    let col = vector(1 << 12, 1, 2, &i);
    let e = contiguous(1 << 13, &col).unwrap_err();
    assert!(e.message.contains("separate runs"), "{}", e.message);
    // Dense types stay one run however many copies they hold.
    let big = contiguous(1 << 30, &contiguous(4, &i).unwrap()).unwrap();
    assert_eq!(big.blocks, vec![(0, 1 << 34)]);
}
