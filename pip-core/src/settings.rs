//! The `PIP_*` environment variables: one parser for on/off values and one for sizes, so that
//! every variable of pip-core, pip-exec and pip-comm accepts the same spellings and refuses a
//! bad value with the same kind of message (naming the variable, the value, and what is
//! expected) instead of ignoring it.
//!
//! * **On/off**: `1`, `yes`, `true` or `on` mean on; `0`, `no`, `false` or `off` mean off (any
//!   case, surrounding blanks ignored). An empty value counts as unset.
//! * **Sizes** ([`parse_bytes`], the one unit rule): a whole number with an optional `k`, `m`,
//!   `g` or `t` suffix (powers of 1024; any case; surrounding blanks ignored); **a plain number
//!   is bytes**. Two variables keep PiP's documented exception, a plain number in KiB:
//!   `PIP_STACKSIZE` (pip-core, pip-exec) and `PIP_STACKSZ` (libpip); they read their value
//!   with [`Plain::KiB`], and their docs say so. Counts such as `PIP_WAIT_SPIN` use the same
//!   rule (`20k` is 20480).
//!
//! In a task the variables are read from the task's own environment
//! ([`env_var_os`](crate::env_var_os)), elsewhere from the process's.

use crate::error::{Error, Result};
use std::ffi::OsString;

/// What a size given as a plain number (without a suffix) counts: [`Plain::Bytes`] by the rule,
/// [`Plain::KiB`] only for the variables PiP documents in KiB (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plain {
    /// Bytes.
    Bytes,
    /// KiB (PiP's rule for `PIP_STACKSIZE`).
    KiB,
}

/// Parses the on/off value `value` of variable `name`.
///
/// ```
/// use pip_core::settings::parse_flag;
/// assert_eq!(parse_flag("PIP_X", " Yes ").unwrap(), true);
/// assert_eq!(parse_flag("PIP_X", "0").unwrap(), false);
/// let e = parse_flag("PIP_X", "xyz").unwrap_err().to_string();
/// assert!(e.contains("PIP_X=xyz") && e.contains("0, no, false or off"), "{e}");
/// ```
pub fn parse_flag(name: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Ok(true),
        "0" | "no" | "false" | "off" => Ok(false),
        _ => Err(Error::InvalidArgument(format!(
            "{name}={value}: not an on/off value (on: 1, yes, true or on; off: 0, no, false or off)"
        ))),
    }
}

/// Parses a size by the one rule: `4096`, `8192k`, `8m` or `1g` (powers of 1024; a plain
/// number is bytes). `None` when it is not a size or does not fit in a `usize`.
///
/// ```
/// use pip_core::settings::parse_bytes;
/// assert_eq!(parse_bytes("4096"), Some(4096));
/// assert_eq!(parse_bytes(" 16K "), Some(16 << 10));
/// assert_eq!(parse_bytes("2m"), Some(2 << 20));
/// assert_eq!(parse_bytes("k"), None);
/// assert_eq!(parse_bytes("-1"), None);
/// ```
pub fn parse_bytes(s: &str) -> Option<usize> {
    parse_size_in(s, Plain::Bytes)
}

/// Parses a size such as `8388608`, `8192k`, `8m` or `1g`; a plain number counts `plain`
/// (bytes by the rule, see [`parse_bytes`]; KiB for the variables that are the exception).
/// `None` when it is not a size or does not fit in a `usize`.
///
/// ```
/// use pip_core::settings::{parse_size_in, Plain};
/// assert_eq!(parse_size_in("16m", Plain::Bytes), Some(16 << 20));
/// assert_eq!(parse_size_in("64", Plain::KiB), Some(64 << 10));
/// assert_eq!(parse_size_in("64", Plain::Bytes), Some(64));
/// assert_eq!(parse_size_in("-1", Plain::Bytes), None);
/// assert_eq!(parse_size_in("abc", Plain::Bytes), None);
/// ```
pub fn parse_size_in(s: &str, plain: Plain) -> Option<usize> {
    let s = s.trim();
    let plain_shift = match plain {
        Plain::Bytes => 0,
        Plain::KiB => 10,
    };
    let (num, shift) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 10),
        (i, 'm' | 'M') => (&s[..i], 20),
        (i, 'g' | 'G') => (&s[..i], 30),
        (i, 't' | 'T') => (&s[..i], 40),
        _ => (s, plain_shift),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<usize>().ok()?.checked_mul(1usize << shift)
}

/// Parses the size `value` of variable `name` (see [`parse_size_in`]), with an error that says
/// what is expected.
///
/// ```
/// use pip_core::settings::{parse_size, Plain};
/// assert_eq!(parse_size("PIP_X", "2k", Plain::Bytes).unwrap(), 2048);
/// let e = parse_size("PIP_STACKSIZE", "abc", Plain::KiB).unwrap_err().to_string();
/// assert!(e.contains("PIP_STACKSIZE=abc") && e.contains("KiB"), "{e}");
/// ```
pub fn parse_size(name: &str, value: &str, plain: Plain) -> Result<usize> {
    parse_size_in(value, plain).ok_or_else(|| {
        let unit = match plain {
            Plain::Bytes => "bytes",
            Plain::KiB => "KiB",
        };
        Error::InvalidArgument(format!(
            "{name}={value}: not a size (a whole number with an optional k, m, g or t suffix, powers of 1024; a plain number is {unit}), e.g. {name}=16m"
        ))
    })
}

/// The variable's value as text; `None` when unset or empty, an error when not UTF-8.
pub fn text(name: &str) -> Result<Option<String>> {
    let Some(v) = crate::env_var_os(name) else {
        return Ok(None);
    };
    match v.into_string() {
        Ok(s) if s.trim().is_empty() => Ok(None),
        Ok(s) => Ok(Some(s)),
        Err(v) => Err(not_utf8(name, v)),
    }
}

fn not_utf8(name: &str, v: OsString) -> Error {
    Error::InvalidArgument(format!("{name}={}: not valid UTF-8", v.to_string_lossy()))
}

/// Reads the on/off variable `name`: `None` when unset (or empty).
pub fn flag(name: &str) -> Result<Option<bool>> {
    text(name)?.map(|v| parse_flag(name, &v)).transpose()
}

/// Reads the size variable `name`: `None` when unset (or empty).
pub fn size(name: &str, plain: Plain) -> Result<Option<usize>> {
    text(name)?.map(|v| parse_size(name, &v, plain)).transpose()
}
