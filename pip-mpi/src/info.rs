//! Info objects: small tables of string keys and values that programs pass as hints.
//!
//! The library takes no hint from them (every function that takes an `MPI_Info` only checks
//! that it is a valid one, see [`check`]); they exist so that programs that make and fill them
//! run. A rank's info objects are handles from 2 up in its table. `MPI_INFO_ENV` (handle 1) is
//! predefined and read-only: it answers `host` (the machine's name) and `maxprocs` (the number
//! of ranks in `MPI_COMM_WORLD`).

use crate::comm::{give, out};
use crate::error::MPI_ERR_INFO_VALUE;
use crate::error::{call, fail, Result, MPI_ERR_ARG, MPI_ERR_INFO, MPI_ERR_INFO_KEY};
use crate::handle::{Handle, MPI_INFO_ENV, MPI_INFO_NULL};
use crate::state::Table;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr};

/// `MPI_MAX_INFO_KEY`: the longest key.
pub const MAX_INFO_KEY: usize = 255;
/// `MPI_MAX_INFO_VAL`: the longest value.
pub const MAX_INFO_VAL: usize = 1024;

/// The entries of one info object, in the order they were first set.
type Entries = Vec<(String, String)>;

thread_local! {
    static INFOS: RefCell<Table<Entries>> = const { RefCell::new(Table::new(2)) };
}

/// Fails unless `h` is `MPI_INFO_NULL`, `MPI_INFO_ENV` or a live info object of this rank
/// (for the functions that take an `MPI_Info` argument).
pub fn check(h: Handle) -> Result<()> {
    if h == MPI_INFO_NULL || h == MPI_INFO_ENV {
        return Ok(());
    }
    if INFOS.with(|t| t.borrow().get(h).is_some()) {
        Ok(())
    } else {
        fail(
            MPI_ERR_INFO,
            format!("{h} is not an info object of this rank"),
        )
    }
}

/// Drops every info object; called by `MPI_Finalize`.
pub fn finalize() {
    let all = INFOS.with(|t| std::mem::replace(&mut *t.borrow_mut(), Table::new(2)));
    drop(all);
}

/// Fails unless `h` is an info object the program made (`MPI_INFO_ENV` is read-only).
fn writable(h: Handle) -> Result<()> {
    crate::state::require_running()?;
    match h {
        MPI_INFO_ENV => fail(MPI_ERR_INFO, "MPI_INFO_ENV is read-only"),
        MPI_INFO_NULL => fail(MPI_ERR_INFO, "the info object is MPI_INFO_NULL"),
        _ => check(h),
    }
}

/// Reads a C string argument no longer than `max` bytes.
///
/// # Safety
///
/// `p` is null or a NUL-terminated string.
unsafe fn text(p: *const c_char, max: usize, class: c_int, what: &str) -> Result<String> {
    if p.is_null() {
        return fail(MPI_ERR_ARG, format!("{what} is a null pointer"));
    }
    // SAFETY: the caller guarantees a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    if s.len() > max {
        return fail(
            class,
            format!("the {what} is {} bytes long, more than {max}", s.len()),
        );
    }
    Ok(s)
}

/// The value of `key` in info object `h`.
fn lookup(h: Handle, key: &str) -> Result<Option<String>> {
    crate::state::require_running()?;
    if h == MPI_INFO_ENV {
        return Ok(match key {
            "host" => Some(crate::env::host_name()),
            "maxprocs" => Some(
                crate::comm::get(crate::handle::MPI_COMM_WORLD)?
                    .size()
                    .to_string(),
            ),
            _ => None,
        });
    }
    if h == MPI_INFO_NULL {
        return fail(MPI_ERR_INFO, "the info object is MPI_INFO_NULL");
    }
    check(h)?;
    Ok(INFOS.with(|t| {
        t.borrow()
            .get(h)
            .and_then(|e| e.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    }))
}

/// `MPI_Info_create`: a new, empty info object.
#[no_mangle]
pub unsafe extern "C" fn MPI_Info_create(info: *mut Handle) -> c_int {
    call("MPI_Info_create", || {
        crate::state::require_running()?;
        out(info)?;
        give(INFOS.with(|t| t.borrow_mut().insert(Vec::new())), info)
    })
}

/// `MPI_Info_set`: sets `key` to `value` (replacing an earlier value).
#[no_mangle]
pub unsafe extern "C" fn MPI_Info_set(
    info: Handle,
    key: *const c_char,
    value: *const c_char,
) -> c_int {
    call("MPI_Info_set", || {
        writable(info)?;
        // SAFETY: MPI requires NUL-terminated strings.
        let (k, v) = unsafe {
            (
                text(key, MAX_INFO_KEY, MPI_ERR_INFO_KEY, "key")?,
                text(value, MAX_INFO_VAL, MPI_ERR_INFO_VALUE, "value")?,
            )
        };
        if k.is_empty() {
            return fail(MPI_ERR_INFO_KEY, "the key is empty");
        }
        INFOS.with(|t| {
            let mut t = t.borrow_mut();
            let e = t.get_mut(info).expect("checked by writable");
            match e.iter_mut().find(|(old, _)| *old == k) {
                Some(entry) => entry.1 = v,
                None => e.push((k, v)),
            }
        });
        Ok(())
    })
}

/// `MPI_Info_get`: the value of `key` (at most `valuelen` characters, then a NUL, so `value`
/// needs `valuelen + 1` bytes); `flag` says whether the key is set.
#[no_mangle]
pub unsafe extern "C" fn MPI_Info_get(
    info: Handle,
    key: *const c_char,
    valuelen: c_int,
    value: *mut c_char,
    flag: *mut c_int,
) -> c_int {
    call("MPI_Info_get", || {
        // SAFETY: MPI requires a NUL-terminated key.
        let k = unsafe { text(key, MAX_INFO_KEY, MPI_ERR_INFO_KEY, "key")? };
        let room = crate::state::count(valuelen, MPI_ERR_ARG, "valuelen")?;
        let flag = out(flag)?;
        let found = lookup(info, &k)?;
        if let Some(v) = &found {
            let value = out(value)?;
            let n = v.len().min(room);
            // SAFETY: MPI requires `valuelen + 1` writable bytes at `value` (checked non-null).
            unsafe {
                std::ptr::copy_nonoverlapping(v.as_ptr().cast::<c_char>(), value, n);
                *value.add(n) = 0;
            }
        }
        // SAFETY: checked non-null; the caller passes a valid int pointer.
        unsafe { *flag = c_int::from(found.is_some()) };
        Ok(())
    })
}

/// `MPI_Info_free`: frees the info object and sets the handle to `MPI_INFO_NULL`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Info_free(info: *mut Handle) -> c_int {
    call("MPI_Info_free", || {
        let p = out(info)?;
        // SAFETY: checked non-null; the caller passes a valid handle pointer.
        let h = unsafe { *p };
        writable(h)?;
        INFOS.with(|t| t.borrow_mut().remove(h));
        give(MPI_INFO_NULL, p)
    })
}
