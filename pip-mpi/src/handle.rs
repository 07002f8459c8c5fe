//! The values of `mpi.h`'s constants, for the Rust side. They must match the header exactly;
//! the test `header_values_match` in `tests/header.rs` compiles a C program that prints the
//! header's values and compares them with these.

use std::ffi::c_int;

/// `MPI_Comm` and the other handle types are ints (indices into the rank's tables).
pub type Handle = c_int;

pub const MPI_COMM_NULL: Handle = 0;
pub const MPI_COMM_WORLD: Handle = 1;
pub const MPI_COMM_SELF: Handle = 2;

pub const MPI_GROUP_NULL: Handle = 0;
pub const MPI_GROUP_EMPTY: Handle = 1;

pub const MPI_REQUEST_NULL: Handle = 0;
pub const MPI_MESSAGE_NULL: Handle = 0;
pub const MPI_MESSAGE_NO_PROC: Handle = 1;
pub const MPI_WIN_NULL: Handle = 0;
pub const MPI_INFO_NULL: Handle = 0;
pub const MPI_INFO_ENV: Handle = 1;

pub const MPI_ERRHANDLER_NULL: Handle = 0;
pub const MPI_ERRORS_ARE_FATAL: Handle = 1;
pub const MPI_ERRORS_RETURN: Handle = 2;

pub const MPI_DATATYPE_NULL: Handle = 0;
/// The number of predefined datatypes (handles `1..=PREDEFINED_TYPES`).
pub const PREDEFINED_TYPES: Handle = 38;

pub const MPI_OP_NULL: Handle = 0;
pub const MPI_MAX: Handle = 1;
pub const MPI_MIN: Handle = 2;
pub const MPI_SUM: Handle = 3;
pub const MPI_PROD: Handle = 4;
pub const MPI_LAND: Handle = 5;
pub const MPI_BAND: Handle = 6;
pub const MPI_LOR: Handle = 7;
pub const MPI_BOR: Handle = 8;
pub const MPI_LXOR: Handle = 9;
pub const MPI_BXOR: Handle = 10;
pub const MPI_MINLOC: Handle = 11;
pub const MPI_MAXLOC: Handle = 12;
pub const MPI_REPLACE: Handle = 13;
pub const MPI_NO_OP: Handle = 14;

pub const MPI_PROC_NULL: c_int = -1;
pub const MPI_ANY_SOURCE: c_int = -2;
pub const MPI_ROOT: c_int = -3;
pub const MPI_ANY_TAG: c_int = -1;
pub const MPI_UNDEFINED: c_int = -32766;

/// `MPI_IN_PLACE`: `(void *)-1`.
pub const MPI_IN_PLACE: usize = usize::MAX;
/// `MPI_STATUS_IGNORE` and `MPI_STATUSES_IGNORE`: `(MPI_Status *)1`.
pub const MPI_STATUS_IGNORE: usize = 1;
/// `MPI_UNWEIGHTED`: `(int *)2`.
pub const MPI_UNWEIGHTED: usize = 2;
/// `MPI_WEIGHTS_EMPTY`: `(int *)3`.
pub const MPI_WEIGHTS_EMPTY: usize = 3;

pub const MPI_MAX_PROCESSOR_NAME: usize = 256;
pub const MPI_MAX_ERROR_STRING: usize = 512;
pub const MPI_MAX_LIBRARY_VERSION_STRING: usize = 8192;
pub const MPI_MAX_OBJECT_NAME: usize = 128;
pub const MPI_BSEND_OVERHEAD: c_int = 64;

pub const MPI_THREAD_SINGLE: c_int = 0;
pub const MPI_THREAD_FUNNELED: c_int = 1;
pub const MPI_THREAD_SERIALIZED: c_int = 2;
pub const MPI_THREAD_MULTIPLE: c_int = 3;

pub const MPI_IDENT: c_int = 0;
pub const MPI_CONGRUENT: c_int = 1;
pub const MPI_SIMILAR: c_int = 2;
pub const MPI_UNEQUAL: c_int = 3;

pub const MPI_GRAPH: c_int = 1;
pub const MPI_CART: c_int = 2;
pub const MPI_DIST_GRAPH: c_int = 3;

pub const MPI_KEYVAL_INVALID: c_int = -1;
pub const MPI_TAG_UB: c_int = 1;
pub const MPI_HOST: c_int = 2;
pub const MPI_IO: c_int = 3;
pub const MPI_WTIME_IS_GLOBAL: c_int = 4;
pub const MPI_UNIVERSE_SIZE: c_int = 5;
pub const MPI_APPNUM: c_int = 6;
pub const MPI_WIN_BASE: c_int = 10;
pub const MPI_WIN_SIZE: c_int = 11;
pub const MPI_WIN_DISP_UNIT: c_int = 12;
pub const MPI_WIN_CREATE_FLAVOR: c_int = 13;
pub const MPI_WIN_MODEL: c_int = 14;
pub const MPI_WIN_FLAVOR_CREATE: c_int = 1;
pub const MPI_WIN_FLAVOR_ALLOCATE: c_int = 2;
pub const MPI_WIN_FLAVOR_DYNAMIC: c_int = 3;
pub const MPI_WIN_SEPARATE: c_int = 1;
pub const MPI_WIN_UNIFIED: c_int = 2;

pub const MPI_LOCK_EXCLUSIVE: c_int = 1;
pub const MPI_LOCK_SHARED: c_int = 2;
pub const MPI_MODE_NOCHECK: c_int = 1024;
pub const MPI_MODE_NOSTORE: c_int = 2048;
pub const MPI_MODE_NOPUT: c_int = 4096;
pub const MPI_MODE_NOPRECEDE: c_int = 8192;
pub const MPI_MODE_NOSUCCEED: c_int = 16384;

/// `MPI_Status`, laid out as in `mpi.h`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct MpiStatus {
    pub MPI_SOURCE: c_int,
    pub MPI_TAG: c_int,
    pub MPI_ERROR: c_int,
    /// Non-zero when the request was cancelled (`MPI_Test_cancelled`).
    pub cancelled: c_int,
    /// The received size in bytes (`MPI_Get_count` divides it by the datatype's size).
    pub count: i64,
}

impl MpiStatus {
    /// The status of an operation with `MPI_PROC_NULL` (and of an empty wait): source
    /// `MPI_PROC_NULL`, tag `MPI_ANY_TAG`, count 0.
    pub const EMPTY: MpiStatus = MpiStatus {
        MPI_SOURCE: MPI_PROC_NULL,
        MPI_TAG: MPI_ANY_TAG,
        MPI_ERROR: 0,
        cancelled: 0,
        count: 0,
    };

    /// Writes `self` to `out` unless `out` is null or `MPI_STATUS_IGNORE`.
    ///
    /// # Safety
    ///
    /// `out` is null, `MPI_STATUS_IGNORE`, or valid for a write of an `MPI_Status`.
    pub unsafe fn write_to(&self, out: *mut MpiStatus) {
        if !out.is_null() && out as usize != MPI_STATUS_IGNORE {
            // SAFETY: the caller guarantees a valid status pointer.
            unsafe { out.write(*self) };
        }
    }
}
