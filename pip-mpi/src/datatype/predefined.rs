//! The predefined datatypes of `mpi.h` (handles `1..=PREDEFINED_TYPES`), with the sizes and
//! layouts of the C types on this platform (x86-64 and aarch64 Linux, LP64).

use super::Datatype;
use crate::handle::Handle;
use std::rc::Rc;

/// The kind of a predefined element, for reductions and accumulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basic {
    /// C `char`: an integer for MPI's bitwise and arithmetic operations on `MPI_CHAR`.
    Char,
    I8,
    U8,
    /// `MPI_BYTE`: bitwise operations only.
    Byte,
    /// `wchar_t` (a signed 32-bit integer here).
    WChar,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
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

/// (name, kind, blocks, size, extent) of each predefined handle, in handle order from 1.
const TABLE: [(&str, Basic, &[(isize, usize)], usize, isize); 38] = {
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
        ("MPI_C_FLOAT_COMPLEX", ComplexF32, &[(0, 8)], 8, 8),
        ("MPI_C_DOUBLE_COMPLEX", ComplexF64, &[(0, 16)], 16, 16),
        ("MPI_C_LONG_DOUBLE_COMPLEX", ComplexLongDouble, &[(0, 32)], 32, 32),
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

thread_local! {
    static TYPES: Vec<Rc<Datatype>> = TABLE
        .iter()
        .map(|&(name, basic, blocks, size, extent)| {
            Rc::new(Datatype {
                blocks: blocks.to_vec(),
                size,
                lb: 0,
                extent,
                basic: Some((basic, 1)),
                predefined: true,
                committed: true,
                name: name.to_string(),
            })
        })
        .collect();
}

/// The predefined datatype of handle `h`, if `h` is one.
pub fn get(h: Handle) -> Option<Rc<Datatype>> {
    let i = usize::try_from(h).ok()?.checked_sub(1)?;
    TYPES.with(|t| t.get(i).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_matches_the_header_count() {
        assert_eq!(TABLE.len(), crate::handle::PREDEFINED_TYPES as usize);
        for (name, _, blocks, size, extent) in TABLE {
            let sum: usize = blocks.iter().map(|b| b.1).sum();
            assert_eq!(sum, size, "{name}");
            assert!(extent >= size as isize, "{name}");
        }
    }
}
