//! Keeping sled's panics inside the store. sled 0.34 panics on some damaged files instead of
//! returning an error (a truncated log: "tried to serialize Uninitialized", in recovery at open
//! and in page reads after it). Every call into sled goes through [`guarded`], which turns a
//! panic on the calling thread into an `Err` carrying sled's message, captured instead of
//! printed, so the caller reports a damaged store with the recovery instead of crashing.
//!
//! Owns the process panic hook's capture mode only while a guarded call runs on this thread;
//! every other panic is printed by the previous hook exactly as before. It must never be used to
//! carry on with a store that panicked: the caller reports the store as damaged and stops.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// `Some` while a guarded call runs on this thread: the captured panic message, if any.
    static CAPTURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let captured = CAPTURE.with(|c| {
                let mut c = c.borrow_mut();
                match c.as_mut() {
                    Some(slot) => {
                        let place = info
                            .location()
                            .map(|l| format!(" at {}:{}", l.file(), l.line()))
                            .unwrap_or_default();
                        *slot = format!("{}{place}", payload_text(info.payload()));
                        true
                    }
                    None => false,
                }
            });
            if !captured {
                previous(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Runs `f`; a panic inside it becomes `Err(message)` (sled's message and where it panicked).
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    let outer = CAPTURE.with(|c| c.borrow_mut().replace(String::new()));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    let message = CAPTURE.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
    result.map_err(|payload| {
        message
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| payload_text(payload.as_ref()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        assert_eq!(guarded(|| 7), Ok(7));
        let err =
            guarded(|| -> u8 { panic!("tried to serialize Uninitialized") }).expect_err("panicked");
        assert!(
            err.starts_with("tried to serialize Uninitialized at "),
            "{err}"
        );
        assert!(err.contains("sled_guard.rs"), "{err}");
        // Nested guards keep their own messages; the outer call still succeeds.
        let outer = guarded(|| guarded(|| -> u8 { panic!("inner {}", 1) }));
        assert!(outer.is_ok_and(|inner| inner.is_err_and(|e| e.starts_with("inner 1"))));
    }
}
