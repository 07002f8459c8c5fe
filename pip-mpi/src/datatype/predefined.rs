//! The predefined datatypes of `mpi.h` (handles `1..=PREDEFINED_TYPES`), with the sizes and
//! layouts of the C types on this platform (x86-64 and aarch64 Linux, LP64).

use super::Datatype;
use crate::error::Result;
use crate::handle::Handle;
use std::cell::RefCell;
use std::rc::Rc;

/// The kind of a predefined element, for reductions and accumulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basic {
    /// C `char`: an integer for MPI's bitwise and arithmetic operations on `MPI_CHAR`.
    Char,
    /// `signed char`, `int8_t`.
    I8,
    /// `unsigned char`, `uint8_t`.
    U8,
    /// `MPI_BYTE`: bitwise operations only.
    Byte,
    /// `wchar_t` (a signed 32-bit integer here).
    WChar,
    /// `short`, `int16_t`.
    I16,
    /// `unsigned short`, `uint16_t`.
    U16,
    /// `int`, `int32_t`.
    I32,
    /// `unsigned`, `uint32_t`.
    U32,
    /// `long`, `long long`, `int64_t`, `MPI_Aint`, `MPI_Offset`, `MPI_Count`.
    I64,
    /// `unsigned long`, `unsigned long long`, `uint64_t`.
    U64,
    /// `float`.
    F32,
    /// `double`.
    F64,
    /// `long double` (x87 extended precision, 16 bytes with padding).
    LongDouble,
    /// `_Bool`.
    Bool,
    /// `float _Complex`.
    ComplexF32,
    /// `double _Complex`.
    ComplexF64,
    /// `long double _Complex`.
    ComplexLongDouble,
    /// `MPI_PACKED`.
    Packed,
    /// `struct { float; int; }` (`MPI_FLOAT_INT`, for MINLOC/MAXLOC).
    FloatInt,
    /// `struct { double; int; }`.
    DoubleInt,
    /// `struct { long; int; }`.
    LongInt,
    /// `struct { int; int; }`.
    TwoInt,
    /// `struct { short; int; }`.
    ShortInt,
    /// `struct { long double; int; }`.
    LongDoubleInt,
}

impl Basic {
    /// The C alignment of this type (of its largest member for the pair types).
    pub fn align(self) -> usize {
        use Basic::*;
        match self {
            Char | I8 | U8 | Byte | Bool | Packed => 1,
            I16 | U16 => 2,
            WChar | I32 | U32 | F32 | ComplexF32 | FloatInt | TwoInt | ShortInt => 4,
            I64 | U64 | F64 | ComplexF64 | DoubleInt | LongInt => 8,
            LongDouble | ComplexLongDouble | LongDoubleInt => 16,
        }
    }

    /// The basic elements of one element of this type, as [`Datatype::elements`] lists them:
    /// a pair type is two (MPI defines `MPI_DOUBLE_INT` as a struct of a double and an int).
    fn elements(self, size: usize) -> Vec<(usize, usize)> {
        use Basic::*;
        match self {
            FloatInt | TwoInt => vec![(4, 2)],
            DoubleInt | LongInt => vec![(8, 1), (4, 1)],
            ShortInt => vec![(2, 1), (4, 1)],
            LongDoubleInt => vec![(16, 1), (4, 1)],
            _ => vec![(size, 1)],
        }
    }
}

/// One row of [`TABLE`]: (name, kind, blocks, size, extent).
type Row = (&'static str, Basic, &'static [(isize, usize)], usize, isize);

/// (name, kind, blocks, size, extent) of each predefined handle, in handle order from 1.
const TABLE: [Row; 38] = {
    use Basic::*;
    [
        ("MPI_CHAR", Char, &[(0, 1)], 1, 1),
        ("MPI_SIGNED_CHAR", I8, &[(0, 1)], 1, 1),
        ("MPI_UNSIGNED_CHAR", U8, &[(0, 1)], 1, 1),
        ("MPI_BYTE", Byte, &[(0, 1)], 1, 1),
        ("MPI_WCHAR", WChar, &[(0, 4)], 4, 4),
        ("MPI_SHORT", I16, &[(0, 2)], 2, 2),
        ("MPI_UNSIGNED_SHORT", U16, &[(0, 2)], 2, 2),
        ("MPI_INT", I32, &[(0, 4)], 4, 4),
        ("MPI_UNSIGNED", U32, &[(0, 4)], 4, 4),
        ("MPI_LONG", I64, &[(0, 8)], 8, 8),
        ("MPI_UNSIGNED_LONG", U64, &[(0, 8)], 8, 8),
        ("MPI_LONG_LONG_INT", I64, &[(0, 8)], 8, 8),
        ("MPI_UNSIGNED_LONG_LONG", U64, &[(0, 8)], 8, 8),
        ("MPI_FLOAT", F32, &[(0, 4)], 4, 4),
        ("MPI_DOUBLE", F64, &[(0, 8)], 8, 8),
        ("MPI_LONG_DOUBLE", LongDouble, &[(0, 16)], 16, 16),
        ("MPI_INT8_T", I8, &[(0, 1)], 1, 1),
        ("MPI_INT16_T", I16, &[(0, 2)], 2, 2),
        ("MPI_INT32_T", I32, &[(0, 4)], 4, 4),
        ("MPI_INT64_T", I64, &[(0, 8)], 8, 8),
        ("MPI_UINT8_T", U8, &[(0, 1)], 1, 1),
        ("MPI_UINT16_T", U16, &[(0, 2)], 2, 2),
        ("MPI_UINT32_T", U32, &[(0, 4)], 4, 4),
        ("MPI_UINT64_T", U64, &[(0, 8)], 8, 8),
        ("MPI_C_BOOL", Bool, &[(0, 1)], 1, 1),
        ("MPI_C_COMPLEX", ComplexF32, &[(0, 8)], 8, 8),
        ("MPI_C_DOUBLE_COMPLEX", ComplexF64, &[(0, 16)], 16, 16),
        (
            "MPI_C_LONG_DOUBLE_COMPLEX",
            ComplexLongDouble,
            &[(0, 32)],
            32,
            32,
        ),
        ("MPI_AINT", I64, &[(0, 8)], 8, 8),
        ("MPI_OFFSET", I64, &[(0, 8)], 8, 8),
        ("MPI_COUNT", I64, &[(0, 8)], 8, 8),
        ("MPI_PACKED", Packed, &[(0, 1)], 1, 1),
        ("MPI_FLOAT_INT", FloatInt, &[(0, 8)], 8, 8),
        ("MPI_DOUBLE_INT", DoubleInt, &[(0, 12)], 12, 16),
        ("MPI_LONG_INT", LongInt, &[(0, 12)], 12, 16),
        ("MPI_2INT", TwoInt, &[(0, 8)], 8, 8),
        ("MPI_SHORT_INT", ShortInt, &[(0, 2), (4, 4)], 6, 8),
        ("MPI_LONG_DOUBLE_INT", LongDoubleInt, &[(0, 20)], 20, 32),
    ]
};

/// The datatype of one row of [`TABLE`].
fn make(
    name: &str,
    basic: Basic,
    blocks: &[(isize, usize)],
    size: usize,
    extent: isize,
) -> Datatype {
    let (first, last) = (blocks[0], blocks[blocks.len() - 1]);
    Datatype {
        blocks: blocks.to_vec(),
        size,
        lb: 0,
        extent,
        basic: Some((basic, 1)),
        true_lb: first.0,
        true_ub: last.0 + last.1 as isize,
        explicit_bounds: false,
        align: basic.align(),
        elements: basic.elements(size),
        predefined: true,
        committed: true,
        name: name.to_string(),
    }
}

thread_local! {
    /// The rank's predefined types (a rank may rename them with `MPI_Type_set_name`).
    static TYPES: RefCell<Vec<Rc<Datatype>>> = RefCell::new(
        TABLE
            .iter()
            .map(|&(name, basic, blocks, size, extent)| Rc::new(make(name, basic, blocks, size, extent)))
            .collect(),
    );
}

fn index(h: Handle) -> Option<usize> {
    usize::try_from(h)
        .ok()?
        .checked_sub(1)
        .filter(|&i| i < TABLE.len())
}

/// The size of predefined type `h` if `count` elements of it are one run of `count * size`
/// bytes (every predefined type but the pairs with padding), else `None`. The fast path of the
/// point-to-point calls: it reads the constant table, not the rank's, and takes no reference.
pub fn contiguous_size(h: Handle) -> Option<usize> {
    let size = CONTIGUOUS[index(h)?];
    (size != 0).then_some(size)
}

/// For each row of [`TABLE`], its size when its elements are one run of bytes (one block at
/// offset 0 as long as the type, extent equal to size), else 0; worked out at compile time.
const CONTIGUOUS: [usize; TABLE.len()] = {
    let mut out = [0; TABLE.len()];
    let mut i = 0;
    while i < TABLE.len() {
        let (_, _, blocks, size, extent) = TABLE[i];
        if extent == size as isize && blocks.len() == 1 && blocks[0].0 == 0 && blocks[0].1 == size {
            out[i] = size;
        }
        i += 1;
    }
    out
};

/// The predefined datatype of handle `h`, if `h` is one.
pub fn get(h: Handle) -> Option<Rc<Datatype>> {
    let i = index(h)?;
    TYPES.with(|t| t.borrow().get(i).cloned())
}

/// Gives the predefined type `h` a new name (`MPI_Type_set_name`), for this rank.
pub fn rename(h: Handle, name: String) -> Result<()> {
    let Some(i) = index(h) else {
        return crate::error::fail(
            crate::error::MPI_ERR_TYPE,
            format!("{h} is not a predefined datatype"),
        );
    };
    TYPES.with(|t| {
        let mut t = t.borrow_mut();
        let mut renamed = (*t[i]).clone();
        renamed.name = name;
        t[i] = Rc::new(renamed);
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic_align(name: &str) -> usize {
        TABLE.iter().find(|r| r.0 == name).unwrap().1.align()
    }

    #[test]
    fn the_table_matches_the_header_count() {
        assert_eq!(TABLE.len(), crate::handle::PREDEFINED_TYPES as usize);
        for (name, basic, blocks, size, extent) in TABLE {
            let counted: usize = basic.elements(size).iter().map(|e| e.0 * e.1).sum();
            assert_eq!(counted, size, "{name}");
            let sum: usize = blocks.iter().map(|b| b.1).sum();
            assert_eq!(sum, size, "{name}");
            assert!(extent >= size as isize, "{name}");
            assert_eq!(extent as usize % basic_align(name), 0, "{name}");
        }
    }
}
