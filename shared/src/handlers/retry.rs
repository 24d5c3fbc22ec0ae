//! Read-modify-write against version-checked records: try, and when another
//! writer got in between, start over from a fresh read so the change is always
//! judged against the latest state.

use std::future::Future;

use crate::error::ApiError;
use crate::ports::StoreError;

/// How many times a change is tried when other writers keep winning.
const WRITE_ATTEMPTS: usize = 10;

/// Runs `attempt` until its conditional write lands (`Ok(Some(value))`), the
/// attempt fails for good (`Err`), or it lost the race (`Ok(None)`) too often.
pub async fn until_written<T, F, Fut>(what: &str, mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ApiError>>,
{
    for _ in 0..WRITE_ATTEMPTS {
        if let Some(value) = attempt().await? {
            return Ok(value);
        }
    }
    Err(ApiError::Conflict(format!("{what} is being changed by others; try again")))
}

/// A conditional write's outcome as `until_written` wants it: written, or lost the race.
pub fn landed<T>(result: Result<(), StoreError>, value: T) -> Result<Option<T>, ApiError> {
    match result {
        Ok(()) => Ok(Some(value)),
        Err(StoreError::ConditionFailed) => Ok(None),
        Err(other) => Err(other.into()),
    }
}
