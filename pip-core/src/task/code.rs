//! How the value a task's entry returns becomes its exit code; used by
//! [`task_main!`](crate::task_main) and [`task_function!`](crate::task_function).
//!
//! `()` is 0, an `i32` is itself, `Ok(())` is 0 and an `Err` is 1 after printing the error to
//! stderr: its `Display` text and then each of its sources on a `caused by:` line, when the error
//! type implements [`std::error::Error`] (or dereferences to one, as `Box<dyn Error>` and
//! `anyhow::Error` do); its `Display` text when it has one; its `Debug` form otherwise. Any
//! other type that implements [`TaskResult`] gives the code of [`TaskResult::into_code`].
//!
//! The choice is made where the macro is expanded, on the entry's concrete return type: the
//! macros call `(&&&&&Returned::new(value)).task_code()` with the traits below in scope, and
//! method resolution takes the impl with the most references that applies (one trait per rung,
//! each implemented for one more reference than the next).

use super::TaskResult;
use std::cell::Cell;
use std::error::Error;
use std::fmt::{Debug, Display};
use std::ops::Deref;

/// The value a task's entry returned, waiting to become an exit code.
pub struct Returned<R>(Cell<Option<R>>);

impl<R> Returned<R> {
    /// Wraps the entry's return value.
    pub fn new(value: R) -> Returned<R> {
        Returned(Cell::new(Some(value)))
    }

    fn take(&self) -> R {
        // Each `task_code` below is called once, on a fresh `Returned`.
        self.0
            .take()
            .expect("a task's return value is turned into an exit code once")
    }
}

/// Prints `Error: <text>`, then `  caused by: <text>` for each source, as one write.
pub fn print_error<E: Error + ?Sized>(error: &E) {
    let mut text = format!("Error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    eprintln!("{text}");
}

/// Rung 4: an error type that implements [`std::error::Error`].
pub trait ViaError {
    /// The exit code (printing the error, if any).
    fn task_code(&self) -> i32;
}

impl<E: Error> ViaError for &&&&Returned<Result<(), E>> {
    fn task_code(&self) -> i32 {
        match self.take() {
            Ok(()) => 0,
            Err(e) => {
                print_error(&e);
                1
            }
        }
    }
}

/// Rung 3: an error type that dereferences to a [`std::error::Error`] (`Box<dyn Error>`,
/// `Box<dyn Error + Send + Sync>`, `anyhow::Error`).
pub trait ViaDerefError {
    /// The exit code (printing the error, if any).
    fn task_code(&self) -> i32;
}

impl<E> ViaDerefError for &&&Returned<Result<(), E>>
where
    E: Deref,
    E::Target: Error,
{
    fn task_code(&self) -> i32 {
        match self.take() {
            Ok(()) => 0,
            Err(e) => {
                print_error(&*e);
                1
            }
        }
    }
}

/// Rung 2: an error type with only a `Display` text (`String`, `&str`).
pub trait ViaDisplay {
    /// The exit code (printing the error, if any).
    fn task_code(&self) -> i32;
}

impl<E: Display> ViaDisplay for &&Returned<Result<(), E>> {
    fn task_code(&self) -> i32 {
        match self.take() {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("Error: {e}");
                1
            }
        }
    }
}

/// Rung 1: an error type with only a `Debug` form.
pub trait ViaDebug {
    /// The exit code (printing the error, if any).
    fn task_code(&self) -> i32;
}

impl<E: Debug> ViaDebug for &Returned<Result<(), E>> {
    fn task_code(&self) -> i32 {
        match self.take() {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("Error: {e:?}");
                1
            }
        }
    }
}

/// Rung 0: anything else that implements [`TaskResult`] (`()`, `i32`).
pub trait ViaTaskResult {
    /// The exit code.
    fn task_code(&self) -> i32;
}

impl<R: TaskResult> ViaTaskResult for Returned<R> {
    fn task_code(&self) -> i32 {
        self.take().into_code()
    }
}

/// The exit code of a task entry's return value `$value` (see the module's documentation).
#[doc(hidden)]
#[macro_export]
macro_rules! __task_code {
    ($value:expr) => {{
        #[allow(unused_imports)]
        use $crate::task_code::{
            ViaDebug as _, ViaDerefError as _, ViaDisplay as _, ViaError as _, ViaTaskResult as _,
        };
        #[allow(clippy::needless_borrow)]
        let code = (&&&&&$crate::task_code::Returned::new($value)).task_code();
        code
    }};
}

#[cfg(test)]
mod tests {
    use std::fmt;

    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("inner")
        }
    }
    impl std::error::Error for Inner {}

    #[derive(Debug)]
    struct DebugOnly;

    #[test]
    fn every_return_type_gives_its_code() {
        assert_eq!(crate::__task_code!(()), 0);
        assert_eq!(crate::__task_code!(7), 7);
        assert_eq!(crate::__task_code!(Ok::<(), Inner>(())), 0);
        assert_eq!(crate::__task_code!(Err::<(), _>(Inner)), 1);
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Inner);
        assert_eq!(crate::__task_code!(Err::<(), _>(boxed)), 1);
        assert_eq!(crate::__task_code!(Err::<(), _>(String::from("text"))), 1);
        assert_eq!(crate::__task_code!(Err::<(), _>(DebugOnly)), 1);
    }
}
