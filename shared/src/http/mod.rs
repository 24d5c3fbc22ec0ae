//! The HTTP shape of the API, independent of how requests arrive (Lambda event
//! or the local server): the request handlers see, their response, and the one
//! function that turns a raw request into a response.

mod request;
mod response;

pub use request::{parse_query, ApiRequest, API_BODY_BYTES, INVENTORY_BODY_BYTES, MAX_BODY_BYTES, PUBLIC_BODY_BYTES};
pub use response::{ApiResponse, FileBody, REQUEST_ID_HEADER};
